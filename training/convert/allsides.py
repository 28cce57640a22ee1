"""AllSides news articles (../shared/data/allsides/articles.parquet): real, unlabelled news.

Three uses, one article-level split (a hash of the article id, so it never changes):
``heldout`` (10% of articles: the real device test set; never in any training or transfer data),
``dev`` (5%: device thresholds and early stopping) and ``train`` (the rest).

``convert(data_dir, split)`` yields the project's own device annotations of real sentences
(standoff files in training/data/real_devices/: article id, sentence offsets, a hash of the
sentence, span offsets and labels, the annotator); the text is read from the parquet file, and a
sentence whose hash no longer matches stops the run.

Each record's ``meta["chosen_by"]`` says how its sentence was sampled, where that was recorded: the
standoff line's own ``chosen_by`` (written by ``training.device_annotation collect``), else
``chosen_by.jsonl.gz`` beside the labels (rounds 5-13). ``model``: where a model of the time found a
device; ``cue_word``; ``model_or_cue_word``: a round of both whose per-sentence record was not kept.
Rounds that never used a model have no entry. The false-alarm limit of training's step 6 reads only
sentences not chosen by a model (``chosen_by_model``).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from training.convert.splits import sha256_percent

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "real_devices"
SAMPLING_FILE = LABELS_DIR / "chosen_by.jsonl.gz"
MODEL_CHOSEN = frozenset({"model", "model_or_cue_word"})
logger = logging.getLogger("stance.train")


def chosen_by_model(meta: Mapping) -> bool:
    """Whether a record's sentence was (or may have been) sampled where a model found a device: such
    sentences are rich in that model's false alarms, not a fair sample of device-free text.

    Example:
        >>> chosen_by_model({"chosen_by": "model"}), chosen_by_model({"chosen_by": "cue_word"}), chosen_by_model({})
        (True, False, False)
    """
    return meta.get("chosen_by") in MODEL_CHOSEN


@lru_cache(maxsize=1)
def sampling_reasons(path: Path = SAMPLING_FILE) -> dict[tuple[str, int, int], str]:
    """(article id, sentence start, end) -> how the sentence was sampled, from ``chosen_by.jsonl.gz``
    (one JSON array per sentence: ``[doc_id, start, end, round, reason, device or null]``)."""
    if not path.exists():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return {(row[0], row[1], row[2]): row[4] for row in map(json.loads, fh) if row}


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


def read_standoff(
    path: Path, texts: dict[str, str], reasons: Mapping[tuple[str, int, int], str] | None = None
) -> Iterator[LabelRecord]:
    """Records of one standoff file, each with how its sentence was sampled where ``reasons`` (default:
    ``sampling_reasons()``) records it; raises ValueError when a sentence's hash does not match."""
    reasons = sampling_reasons() if reasons is None else reasons
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            text = sentence_text(obj, texts, f"{path}:{n}")
            devices = tuple(DeviceLabel(s, e, label) for s, e, label in obj["spans"])
            meta = {"annotator": obj.get("annotator", ""), "sentence_start": obj["start"]}
            reason = obj.get("chosen_by") or reasons.get((obj["doc_id"], obj["start"], obj["end"]))
            if reason:
                meta["chosen_by"] = reason
            yield LabelRecord(
                text=text,
                devices=devices,
                device_labels=FIXED_DEVICES,
                source="allsides",
                doc_id=obj["doc_id"],
                meta=meta,
            )


def label_files(labels: Sequence[str]) -> list[Path]:
    """The standoff files that ``labels`` names: each entry a folder (its ``*.jsonl``), a file or a glob.
    A relative entry is read from the working directory where it matches there, else from the project's
    root (like ``data_dir``). Raises ValueError for an entry that matches no file.

    Example:
        >>> [p.name for p in label_files(["training/data/real_devices/train_ann_a.jsonl"])]  # doctest: +SKIP
        ['train_ann_a.jsonl']
    """
    from stance.resources import project_paths

    files: list[Path] = []
    for entry in labels:
        found: list[Path] = []
        for path in map(Path.absolute, project_paths(entry)):
            if path.exists():  # the first place that has it, even where it holds no file
                found = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
                break
            if found := sorted(p for p in map(Path, glob.glob(str(path))) if p.is_file()):
                break
        if not found:
            raise ValueError(f"allsides labels: {entry!r} names no standoff file (a folder of .jsonl files, a file or a glob)")
        files += [p for p in found if p not in files]
    return files


def convert(data_dir: Path, split: str = "train", labels: Sequence[str] = ()) -> Iterator[LabelRecord]:
    """Device-labelled real sentences of one split (``train``, ``dev`` or ``heldout``), from the standoff
    files ``labels`` names (:func:`label_files`; default: every file in ``training/data/real_devices/``)."""
    if split not in ("train", "dev", "heldout"):
        raise ValueError(f"allsides splits are train, dev and heldout, not {split!r}")
    texts = article_texts(str(data_dir))
    if labels:
        paths = label_files(labels)
        logger.info("allsides:%s device labels from %d standoff files named by %s", split, len(paths), ", ".join(labels))
    else:
        paths = sorted(LABELS_DIR.glob("*.jsonl"))
        # Named in the log because the default follows the imported `training` package, not the working
        # directory: a run started from another checkout with an installed `stance` reads this one's labels.
        logger.info("allsides:%s device labels from %d standoff files in %s", split, len(paths), LABELS_DIR)
        here = Path.cwd() / "training" / "data" / "real_devices"
        if here.is_dir() and here.resolve() != LABELS_DIR.resolve():
            logger.warning(
                "the device labels come from %s (the imported `training` package), not from %s: to train on this "
                "checkout's labels name them in the data spec (labels: [training/data/real_devices]) or run "
                "`python -m stance train ...` inside it",
                LABELS_DIR,
                here,
            )
    for path in paths:
        for record in read_standoff(path, texts):
            if article_split(record.doc_id) == split:
                yield record
