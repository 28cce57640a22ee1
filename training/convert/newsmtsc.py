"""NewsMTSC (Hamborg & Donnay, EACL 2021) -> label format.

Files ``newsmtsc/{train,dev_rw,dev_mt}.jsonl``; polarity 2.0/4.0/6.0 -> negative/neutral/positive.
``doc_id`` is the article part of ``primary_gid`` (``allsides_<story>_<article>``). Targets that
repeat the same span (the data has a few) are kept, so that evaluation counts every target.
NewsMTSC has no device annotation, so its lines carry ``device_labels: []``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from stance.labels.format import LabelRecord, TargetLabel

POLARITY = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}
SPLITS = ("train", "dev_rw", "dev_mt")


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Records of one split.

    Example:
        >>> next(convert(Path("../shared/data"), "dev_rw")).targets[0].stance  # doctest: +SKIP
        'positive'
    """
    if split not in SPLITS:
        raise ValueError(f"NewsMTSC has splits {SPLITS}, not {split!r}")
    path = Path(data_dir) / "newsmtsc" / f"{split}.jsonl"
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield _record(json.loads(line), split)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{lineno}: {exc}") from None


def _record(obj: dict, split: str) -> LabelRecord:
    text = obj["sentence_normalized"]
    targets = []
    for t in obj["targets"]:
        polarity = float(t["polarity"])
        if polarity not in POLARITY:
            raise ValueError(f"unknown polarity {polarity}")
        if text[t["from"] : t["to"]] != t["mention"]:
            raise ValueError(f"mention {t['mention']!r} does not match text[{t['from']}:{t['to']}]")
        targets.append(TargetLabel(t["from"], t["to"], POLARITY[polarity]))
    doc_id = "_".join(obj["primary_gid"].split("_")[:3])
    return LabelRecord(text=text, targets=tuple(targets), device_labels=(), source=f"newsmtsc-{split}", doc_id=doc_id)
