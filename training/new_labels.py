"""The new labels of a retrain: read and checked (:func:`read_new`), the device labels a user labels
(:func:`public_devices`), the split by article into a training part and a part held out for the gate, with no
sentence on both sides (:func:`split_by_article`), and the new labels less the sentences already in an
evaluation set, with a hint where such a label corrects the set's (:func:`drop_sentences_in`). The steps that
use them are :func:`training.retrain.retrain`'s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Collection, Mapping
from pathlib import Path

from stance.labels.format import LabelRecord, read_label_file
from training.transfer import normalise

logger = logging.getLogger("stance.retrain")


def read_new(paths: tuple[str, ...], known: set[str]) -> list[LabelRecord]:
    from stance.labels.check import validate_label_file

    records: list[LabelRecord] = []
    for path in paths:
        if not Path(path).is_file():
            raise ValueError(f"cannot read the new labels {path}")
        problems = validate_label_file(path, known_devices=known)
        if problems:
            shown = "\n  ".join(str(p) for p in problems[:10])
            more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
            raise ValueError(
                f"{path} has {len(problems)} problem(s) (see `stance labels validate`; new device labels need --add-device):\n  {shown}{more}"
            )
        records += list(read_label_file(path, known_devices=known, require_stance=True))
    if not records:
        raise ValueError("the new label files hold no sentences")
    return records


def public_devices(model_config, taxonomy) -> tuple[str, ...]:
    """The device labels a user labels: the model's labels that are the taxonomy's user devices (the six
    fixed ones and any added to configs/devices.yaml) or that an earlier retrain added; not the PTC technique
    labels and ``propaganda_span`` (trained on PTC only, reported as ``technique``)."""
    return tuple(d for d in model_config.device_labels if d not in taxonomy.ptc_only)


# --------------------------------------------------------------------------- pieces
def split_by_article(
    records: list[LabelRecord], fraction: float, seed: int, *, trained: Collection[str] = frozenset()
) -> tuple[list[LabelRecord], list[LabelRecord]]:
    """(train, held out): a seeded share of the articles is held out. An article is a ``doc_id`` (a sentence
    without one is its own), joined with every article that shares a sentence with it (the same wire story
    under two ids), so that no sentence is on both sides. An article holding a sentence of ``trained`` (the
    normalised sentences the models train on: the replayed data) stays on the training side. ValueError when
    fewer than two articles are left to split.

    Example:
        >>> train, held = split_by_article(records, 0.2, seed=42)  # doctest: +SKIP
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys = [normalise(r.text) for r in records]
    for r, key in zip(records, keys):  # join each article with the sentence keys it holds
        parent[find(article_of(r))] = find("sentence:" + key)
    groups: dict[str, set[str]] = {}
    for r, key in zip(records, keys):
        groups.setdefault(find(article_of(r)), set()).add(key)
    free = sorted(g for g, keys in groups.items() if keys.isdisjoint(trained))
    if len(groups) < 2:
        raise ValueError(
            f"the new labels come from {len(groups)} article(s): at least 2 are needed to hold some out for the gate"
        )
    if not free:
        raise ValueError(
            "every article of the new labels holds a sentence the base model was trained on: none can be held out for the gate"
        )
    random.Random(seed).shuffle(free)
    n_held = min(len(groups) - 1, len(free), max(1, round(fraction * len(groups))))
    held = set(free[:n_held])
    return [r for r in records if find(article_of(r)) not in held], [r for r in records if find(article_of(r)) in held]


def drop_sentences_in(
    records: list[LabelRecord], sets: dict[str, list[LabelRecord]], *, files: Mapping[str, str] | None = None
) -> tuple[list[LabelRecord], int]:
    """The new labels less the sentences already in an evaluation set (a fixed set the gate checks for
    forgetting: training on them would flatter the new model there), and how many were dropped. A dropped
    label that differs from the set's (a correction) is warned about, naming the set's file (``files``: set
    name -> path) and line, which keep gating with the old label, and how to fix it.

    Example:
        >>> drop_sentences_in(records, {"new:heldout-1": earlier_heldout})  # doctest: +SKIP
    """
    where = {normalise(r.text): (name, r) for name, recs in sets.items() for r in recs}
    kept = [r for r in records if normalise(r.text) not in where]
    if dropped := len(records) - len(kept):
        logger.warning("%d new label(s) are sentences of the evaluation sets and are left out of training and the gate", dropped)
    for r in records:
        name, old = where.get(normalise(r.text), ("", None))
        if old is not None and _labels_of(old) != _labels_of(r):
            logger.warning(_correction_hint(r, name, (files or {}).get(name)))
    return kept, dropped


def _labels_of(record: LabelRecord) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A record's labels by the text they cover (offsets differ where a copy of the sentence does)."""
    targets = sorted((normalise(record.text[t.start : t.end]), t.stance or "") for t in record.targets)
    return targets, sorted((normalise(record.text[d.start : d.end]), d.label) for d in record.devices)


def _correction_hint(record: LabelRecord, name: str, path: str | None) -> str:
    head = f"the new label of {record.text!r} corrects its label in the evaluation set {name}"
    if not path:
        return f"{head}, which keeps gating with the old label (a public set, left as it is); neither is trained on"
    line = _line_of(Path(path), normalise(record.text))
    where = f"line {line} of {path}" if line else path
    return (
        f"{head} ({where}), which keeps gating with the old label: this retrain neither trains nor gates on the new one. "
        f"To fix it, correct that line (or delete it, so that a later retrain can train on the sentence), and the same "
        f"line of the copy each retrain makes (model/training_data/{Path(path).name} of the version you retrain from "
        "next), then retrain"
    )


def _line_of(path: Path, key: str) -> int | None:
    """The 1-based line of a label file whose sentence is ``key`` (normalised), or None."""
    with contextlib.suppress(OSError):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                if normalise(json.loads(line).get("text", "")) == key:
                    return number
    return None


def article_of(record: LabelRecord) -> str:
    """The article a label record comes from: its ``doc_id``, else its text (a record without one is its own article)."""
    return record.doc_id or f"text:{record.text}"
