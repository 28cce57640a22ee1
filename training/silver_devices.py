"""Silver device labels: a device teacher's spans on the transfer sentences, for the student's device head.

    python -m training.silver_devices configs/silver_devices.yaml

The transfer set (training.transfer) gives the student the stance teacher's reading of real news;
this gives it a device teacher's reading of the same sentences (the accurate configuration is
more precise on devices than the default: BENCHMARKS.md, section 0l).

1. Read the sentences of the transfer files named in the config (text from ../shared/data).
2. Keep those of AllSides *train* articles only (the device dev sentences come from dev articles,
   so dev scores stay honest) and drop every sentence a person or helper labelled by the guide
   (training/data/real_devices*/, as training.device_annotation.labelled_sentences reads them): gold beats silver.
3. Label each with the device teacher at its tuned thresholds (the six fixed devices only).
4. Write standoff: article id, a hash of the sentence, spans relative to the sentence with their
   scores; sentences without a device are written too (they are the negatives).

A training config names the file as ``transfer_devices``; :func:`add_silver_devices` then gives
those transfer sentences device labels, so the device loss applies to them.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stance.io.atomic import atomic_path
from stance.labels.format import DeviceLabel, LabelRecord
from stance.labels.taxonomy import FIXED_DEVICES
from training.config import read_yaml_settings
from training.convert.allsides import article_split, text_hash
from training.device_annotation import labelled_sentences

logger = logging.getLogger("stance.silver_devices")
PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SilverDevicesConfig:
    """What the silver device labels are made of (configs/silver_devices.yaml). Unknown keys are an error."""

    teacher: str = field(default="runs/accurate/model", metadata={"help": "the device teacher's model directory"})
    data_dir: str = field(default="../shared/data", metadata={"help": "where the public datasets live"})
    splits: tuple[str, ...] = field(default=("train",), metadata={"help": "transfer splits whose sentences are labelled"})
    max_sentences: int | None = field(default=None, metadata={"help": "label at most this many (in file order)"})
    batch_size: int = 64
    output: str = field(default="training/data/transfer/allsides_devices.jsonl.gz", metadata={"help": "standoff to write"})

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> SilverDevicesConfig:
        """Read a YAML config.

        Example:
            >>> SilverDevicesConfig.from_yaml("configs/silver_devices.yaml").teacher  # doctest: +SKIP
            'runs/accurate/model'
        """
        raw = read_yaml_settings(path, cls, **overrides)
        if "splits" in raw:
            raw["splits"] = tuple(raw["splits"])
        return cls(**raw)


def silver_sentences(config: SilverDevicesConfig, exclude: set[tuple[str, str]]) -> list[LabelRecord]:
    """Steps 1-2: the transfer sentences of train articles that no one labelled by hand."""
    from training.transfer import convert as transfer_sentences

    out, seen = [], set()
    for split in config.splits:
        for r in transfer_sentences(Path(config.data_dir), split):
            key = (r.doc_id, text_hash(r.text))
            if article_split(r.doc_id) != "train" or key in exclude or key in seen:
                continue
            seen.add(key)
            out.append(r)
            if config.max_sentences and len(out) >= config.max_sentences:
                return out
    return out


def label_devices(teacher, texts: list[str], batch_size: int = 64) -> list[list[list]]:
    """Step 3: per sentence, [start, end, label, score] of the teacher's fixed-device spans."""
    out: list[list[list]] = []
    for lo in range(0, len(texts), 4096):  # in chunks, to log progress on a long run
        for p in teacher.predict(texts[lo : lo + 4096], batch_size=batch_size):
            out.append([[d.start, d.end, d.label, round(float(d.score), 3)] for d in p.devices if d.label in FIXED_DEVICES])
        logger.info("labelled %d of %d sentences", len(out), len(texts))
    return out


def write(records: list[LabelRecord], spans: list[list[list]], path: Path, header: dict[str, Any]) -> None:
    """Step 4: gzipped JSONL, a header line then one line per sentence (no text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, tmp_name=path.with_suffix(".tmp").name) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"header": header}) + "\n")
        for r, s in zip(records, spans):
            fh.write(json.dumps({"doc_id": r.doc_id, "hash": text_hash(r.text), "devices": s}) + "\n")


def read(path: str | Path) -> tuple[tuple[str, ...], dict[tuple[str, str], list[list]]]:
    """The labels a silver file was made for and its spans per (article id, sentence hash)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())["header"]
        spans = {(o["doc_id"], o["hash"]): o["devices"] for o in map(json.loads, fh)}
    return tuple(header["labels"]), spans


def add_silver_devices(
    records: list[LabelRecord], path: str | Path, min_score: float = 0.0, negative_share: float = 1.0
) -> tuple[list[LabelRecord], int]:
    """Give transfer sentences found in the silver file its spans (scored at least ``min_score``)
    and mark them annotated for its labels, so the device loss applies; returns the records and
    how many got silver labels. Other records are left as they are. ``negative_share``: the share of
    the silver sentences without a device that keep their (empty) labels; the rest stay unannotated
    for devices, so that device-free silver does not drown the gold (chosen by the sentence's hash:
    the same sentences in every run).

    Example:
        >>> records, n = add_silver_devices(records, "training/data/transfer/allsides_devices.jsonl.gz")  # doctest: +SKIP
    """
    if not 0.0 <= negative_share <= 1.0:
        raise ValueError(f"negative_share must be between 0 and 1, not {negative_share}")
    labels, silver = read(path)
    out, n = [], 0
    for r in records:
        key = (r.doc_id, text_hash(r.text))
        found = silver.get(key) if r.source == "transfer" else None
        devices = tuple(DeviceLabel(s, e, label) for s, e, label, score in found or () if score >= min_score)
        if found is None or (not devices and int(key[1], 16) % 10_000 >= negative_share * 10_000):
            out.append(r)
            continue
        out.append(replace(r, devices=devices, device_labels=labels))
        n += 1
    return out, n


def build(config: SilverDevicesConfig) -> dict[str, Any]:
    """Steps 1-4; returns the file's header."""
    from stance.model.modeling import StanceModel
    from stance.store.model_files import model_version

    started = time.perf_counter()
    records = silver_sentences(config, labelled_sentences(key=("doc_id", "hash")))
    logger.info("labelling %d sentences", len(records))
    teacher = StanceModel.from_pretrained(config.teacher, backend="torch")
    spans = label_devices(teacher, [r.text for r in records], batch_size=config.batch_size)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {"sentences": len(records), "with_device": sum(1 for s in spans if s)}
    for s in spans:
        for _, _, label, _ in s:
            counts[f"spans:{label}"] = counts.get(f"spans:{label}", 0) + 1
    header = {
        "teacher": config.teacher,
        "teacher_version": model_version(config.teacher),
        "labels": [label for label in FIXED_DEVICES if label in teacher.device_labels],
        "config": asdict(config),
        "counts": counts,
        "seconds": round(seconds, 1),
        "sentences_per_second": round(len(records) / max(seconds, 1e-9), 1),
    }
    output = Path(config.output) if Path(config.output).is_absolute() else PROJECT / config.output
    write(records, spans, output, header)
    return header


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Label the transfer sentences with a device teacher (silver device labels).")
    parser.add_argument("config", help="YAML config, e.g. configs/silver_devices.yaml")
    parser.add_argument("--teacher", help="overrides teacher of the config")
    parser.add_argument("--max-sentences", type=int, help="overrides max_sentences of the config")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = SilverDevicesConfig.from_yaml(args.config, teacher=args.teacher, max_sentences=args.max_sentences)
    print(json.dumps(build(config), indent=2))


if __name__ == "__main__":
    main()
