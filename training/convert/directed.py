"""Directed sentiment (Park, Pan & Joo, Findings of ACL 2021) -> label format, as unlabelled targets.

``directed_sentiment/{train,valid}.txt``: a sentence with two entities in [brackets], then the two
entities and a label about who blames or endorses whom. That label is not the writer's stance
toward an entity, so it is not used: the converter keeps each sentence once with all its
bracketed entities as *targets without stance*. They serve as a transfer set for distillation
(a teacher model labels them; see ``transfer`` in training/config.py).

Entity spans come from an automatic tagger and are sometimes cut short ("[Los Angele]s"): spans
are widened to whole words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import LabelRecord, TargetLabel

SPLITS = ("train", "valid")
_BRACKET = re.compile(r"\[([^\[\]]+)\]")


def parse_sentence(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Text without brackets and the entity spans, widened to whole words.

    Example:
        >>> parse_sentence("[Los Angele]s police met [Smith].")
        ('Los Angeles police met Smith.', [(0, 11), (23, 28)])
    """
    text_parts, spans, pos, length = [], [], 0, 0
    for m in _BRACKET.finditer(marked):
        before = marked[pos : m.start()]
        text_parts.append(before)
        length += len(before)
        spans.append((length, length + len(m.group(1))))
        text_parts.append(m.group(1))
        length += len(m.group(1))
        pos = m.end()
    text_parts.append(marked[pos:])
    text = "".join(text_parts)
    widened = []
    for s, e in spans:
        while s > 0 and text[s - 1].isalnum():
            s -= 1
        while e < len(text) and text[e].isalnum():
            e += 1
        widened.append((s, e))
    return text, widened


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """One record per distinct sentence, its entities as targets without stance."""
    if split not in SPLITS:
        raise ValueError(f"directed_sentiment has splits {SPLITS}, not {split!r}")
    path = Path(data_dir) / "directed_sentiment" / f"{split}.txt"
    merged: dict[str, set[tuple[int, int]]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            marked = line.split("\t", 1)[0]
            text, spans = parse_sentence(marked)
            if len(spans) != 2 or not text.strip():
                raise ValueError(f"{path}:{lineno}: expected a sentence with two [bracketed] entities")
            merged.setdefault(text, set()).update(sp for sp in spans if sp[1] > sp[0])
    for text, unique in merged.items():
        targets = tuple(TargetLabel(s, e) for s, e in sorted(unique))
        doc_id = "ds-" + hashlib.sha1(text.encode()).hexdigest()[:12]
        yield LabelRecord(text=text, targets=targets, device_labels=(), source="directed_sentiment", doc_id=doc_id)
