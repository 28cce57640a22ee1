"""AllSides news articles (../shared/data/allsides/articles.parquet): real, unlabelled news.

Three uses, one article-level split (a hash of the article id, so it never changes):
``heldout`` (10% of articles: the real device test set; never in any training or transfer data),
``dev`` (5%: device thresholds and early stopping) and ``train`` (the rest).

``convert(data_dir, split)`` yields the project's own device annotations of real sentences
(standoff files in training/data/real_devices/: article id, sentence offsets, a hash of the
sentence, span offsets and labels, the annotator); the text is read from the parquet file, and a
sentence whose hash no longer matches stops the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from training.convert.splits import sha256_percent

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "real_devices"


def article_split(doc_id: str) -> str:
    """``heldout``, ``dev`` or ``train`` for an AllSides article id.

    Example:
        >>> article_split("00FTGIZEd6B8zQ4U") in ("heldout", "dev", "train")
        True
    """
    bucket = sha256_percent(f"allsides:{doc_id}")
    return "heldout" if bucket < 10 else "dev" if bucket < 15 else "train"


def text_hash(text: str) -> str:
    """A short hash of a sentence, stored beside its offsets to catch a changed source text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=2)
def article_texts(data_dir: str) -> dict[str, str]:
    """Article id -> text of the AllSides parquet file."""
    import pyarrow.parquet as pq

    path = Path(data_dir) / "allsides" / "articles.parquet"
    if not path.exists():
        raise ValueError(f"AllSides articles not found at {path}; pass the data directory (data_dir / --data-dir)")
    table = pq.read_table(path, columns=["id", "text"])
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))


def sentence_text(obj: dict, texts: dict[str, str], where: str) -> str:
    """The sentence a standoff line points at (``doc_id``, ``start``, ``end``), checked against its
    ``hash``; raises ValueError naming ``where`` when the article is missing or the text changed."""
    doc = texts.get(obj["doc_id"])
    if doc is None:
        raise ValueError(f"{where}: article {obj['doc_id']!r} is not in the AllSides data")
    text = doc[obj["start"] : obj["end"]]
    if text_hash(text) != obj["hash"]:
        raise ValueError(f"{where}: the sentence at {obj['doc_id']}[{obj['start']}:{obj['end']}] no longer matches its hash")
    return text


def read_standoff(path: Path, texts: dict[str, str]) -> Iterator[LabelRecord]:
    """Records of one standoff file; raises ValueError when a sentence's hash does not match."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            text = sentence_text(obj, texts, f"{path}:{n}")
            devices = tuple(DeviceLabel(s, e, label) for s, e, label in obj["spans"])
            yield LabelRecord(
                text=text,
                devices=devices,
                device_labels=FIXED_DEVICES,
                source="allsides",
                doc_id=obj["doc_id"],
                meta={"annotator": obj.get("annotator", ""), "sentence_start": obj["start"]},
            )


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Device-labelled real sentences of one split (``train``, ``dev`` or ``heldout``)."""
    if split not in ("train", "dev", "heldout"):
        raise ValueError(f"allsides splits are train, dev and heldout, not {split!r}")
    texts = article_texts(str(data_dir))
    for path in sorted(LABELS_DIR.glob("*.jsonl")):
        for record in read_standoff(path, texts):
            if article_split(record.doc_id) == split:
                yield record
