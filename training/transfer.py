"""The transfer set: real news targets labelled with a teacher's stance probabilities, for distillation.

    python -m training.transfer configs/transfer.yaml      # or: stance train's route, step 2 of 3

1. Read a seeded sample of AllSides articles (training.convert.allsides: ``train`` and ``dev``
   articles only; the held-out articles never enter).
2. Find targets exactly as ``stance score`` does (stance.pipeline.scorer.find_targets: the news splitter,
   the actor registry and NER), so the student learns on the mentions users get.
3. Drop every sentence that also appears in a NewsMTSC dev split (normalised match), so that dev
   scores do not flatter the student.
4. Label every target with the teacher (one pass per target when the teacher was trained so),
   batched by length; probabilities kept, not just the argmax.
5. Write standoff (article id, sentence offsets, a hash of the sentence, target offsets,
   probabilities; no text) to the cache, keyed by the teacher's version and this config, and copy
   it to ``output`` (a file of a few MB that is committed, so that a fresh machine need not run the
   teacher again). ``convert`` (source ``transfer`` in a training config) reads it back.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stance.io.atomic import atomic_path
from stance.labels.format import LabelRecord, TargetLabel
from stance.resources import cache_dir
from training.config import read_yaml_settings
from training.convert.allsides import article_split, article_texts, sentence_text, text_hash

logger = logging.getLogger("stance.transfer")
PROJECT = Path(__file__).resolve().parents[1]
TRANSFER_DIR = PROJECT / "training" / "data" / "transfer"
DEFAULT_OUTPUT = TRANSFER_DIR / "allsides_teacher.jsonl.gz"
# Splits of source ``transfer``: one committed file each (configs/transfer.yaml, configs/transfer_2.yaml).
TRANSFER_SPLITS = {
    "train": DEFAULT_OUTPUT,
    "train2": TRANSFER_DIR / "allsides_teacher_2.jsonl.gz",
    "train3": TRANSFER_DIR / "allsides_teacher_3.jsonl.gz",
    "train4": TRANSFER_DIR / "allsides_teacher_4.jsonl.gz",
}


@dataclass(frozen=True)
class TransferConfig:
    """What the transfer set is made of (configs/transfer.yaml). Unknown keys are an error."""

    teacher: str = field(default="runs/teacher/model", metadata={"help": "the teacher model directory"})
    data_dir: str = field(default="../shared/data", metadata={"help": "where the public datasets live"})
    articles: int = field(default=3000, metadata={"help": "AllSides articles to read (seeded sample of train+dev articles)"})
    skip_articles: int = field(
        default=0, metadata={"help": "articles of the seeded order to pass over first (those an earlier transfer file read)"}
    )
    max_targets: int | None = field(default=None, metadata={"help": "stop after this many targets"})
    max_targets_per_sentence: int = field(
        default=8, metadata={"help": "sentences with more targets are skipped (lists of names)"}
    )
    use_ner: bool = True
    exclude_newsmtsc_dev: bool = field(default=True, metadata={"help": "drop sentences that appear in a NewsMTSC dev split"})
    seed: int = 42
    batch_size: int = 64
    output: str = field(default=str(DEFAULT_OUTPUT.relative_to(PROJECT)), metadata={"help": "standoff file to write (committed)"})
    cache_dir: str = field(default="", metadata={"help": "default: $STANCE_CACHE/transfer or ~/.cache/stance/transfer"})

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TransferConfig:
        """Read a YAML config.

        Example:
            >>> TransferConfig.from_yaml("configs/transfer.yaml").articles  # doctest: +SKIP
            3000
        """
        return cls(**read_yaml_settings(path, cls, **overrides))


def normalise(text: str) -> str:
    """Lower case, letters and digits only: the key for matching sentences across datasets."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def newsmtsc_dev_keys(data_dir: str | Path) -> set[str]:
    """Normalised sentences of the NewsMTSC dev splits."""
    from training.convert import get_converter

    convert = get_converter("newsmtsc")
    return {normalise(r.text) for split in ("dev_rw", "dev_mt") for r in convert(Path(data_dir), split)}


def cache_path(config: TransferConfig, teacher_version: str) -> Path:
    """Where the labels of this config and teacher version are cached (a new teacher, a new file)."""
    key_fields = asdict(config)
    if not config.skip_articles:
        del key_fields["skip_articles"]  # added later: configs without it keep their cache key
    key = json.dumps({**key_fields, "output": "", "cache_dir": "", "teacher_version": teacher_version}, sort_keys=True)
    root = Path(config.cache_dir) if config.cache_dir else cache_dir("transfer")
    return root / f"transfer-{hashlib.sha1(key.encode()).hexdigest()[:16]}.jsonl.gz"


def find_transfer_targets(
    config: TransferConfig, finder=None, exclude: set[str] | None = None
) -> tuple[list[dict], dict[str, int]]:
    """Steps 1-3: sentences with their targets (dicts: doc_id, start, end, text, targets) and counts.
    ``exclude``: normalised sentences to drop (default: the NewsMTSC dev sentences, when the config says so)."""
    import pyarrow.parquet as pq

    from stance.io.records import Article
    from stance.pipeline.actor_registry import ActorRegistry
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.scorer import find_targets
    from stance.pipeline.sentences import get_splitter

    path = Path(config.data_dir) / "allsides" / "articles.parquet"
    if not path.exists():
        raise ValueError(f"AllSides articles not found at {path}; set data_dir")
    rows = [r for r in pq.read_table(path, columns=["id", "title", "text"]).to_pylist() if article_split(r["id"]) != "heldout"]
    random.Random(config.seed).shuffle(rows)
    finder = finder or ActorFinder(ActorRegistry.load(), use_ner=config.use_ner)
    splitter = get_splitter("news")
    if exclude is None:
        exclude = newsmtsc_dev_keys(config.data_dir) if config.exclude_newsmtsc_dev else set()
    out: list[dict] = []
    counts = {"articles": 0, "sentences_with_targets": 0, "dropped_newsmtsc_dev": 0, "dropped_too_many_targets": 0, "targets": 0}
    last = min(config.skip_articles + config.articles, len(rows))
    for lo in range(config.skip_articles, last, 32):
        chunk = rows[lo : min(lo + 32, last)]
        articles = [Article(id=r["id"], text=r["text"]) for r in chunk]  # body only: offsets into `text`
        units, targets, _ = find_targets(articles, splitter, finder)
        counts["articles"] += len(chunk)
        for u, _, sent, mentions in targets:
            if not mentions:
                continue
            if normalise(sent.text) in exclude:
                counts["dropped_newsmtsc_dev"] += 1
                continue
            spans = sorted({(m.start - sent.start, m.end - sent.start) for m in mentions})
            if len(spans) > config.max_targets_per_sentence:
                counts["dropped_too_many_targets"] += 1
                continue
            out.append(
                {"doc_id": chunk[units[u][0]]["id"], "start": sent.start, "end": sent.end, "text": sent.text, "targets": spans}
            )
            counts["sentences_with_targets"] += 1
            counts["targets"] += len(spans)
        if config.max_targets and counts["targets"] >= config.max_targets:
            break
    return out, counts


def label_sentences(teacher, sentences: list[dict], batch_size: int = 64) -> list[dict]:
    """Step 4: each sentence gets ``probs`` (targets x stance labels) from the teacher."""
    from stance.model.encoding import encode_batch
    from training.evaluate import stance_one_target_per_pass

    texts = [s["text"] for s in sentences]
    encoded = encode_batch(teacher.subwords, texts, [s["targets"] for s in sentences], max_length=teacher.settings.max_seq_length)
    if getattr(teacher.config, "one_target_per_pass", False):
        stance = stance_one_target_per_pass(teacher, texts, encoded, batch_size=batch_size)
    else:
        stance = [sp for sp, _ in teacher.run(encoded, batch_size=batch_size)]
    for s, enc, probs in zip(sentences, encoded, stance):
        s["probs"] = [[round(float(x), 4) for x in probs[slot]] if slot is not None else None for slot in enc.target_slots]
    return sentences


def write_standoff(sentences: list[dict], path: Path, header: dict[str, Any]) -> None:
    """Gzipped JSONL: a header line, then one line per sentence (no text: a hash of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, tmp_name=path.with_suffix(".tmp").name) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"header": header}) + "\n")
        for s in sentences:
            keep = [(t, p) for t, p in zip(s["targets"], s["probs"]) if p is not None]
            if keep:
                row = {"doc_id": s["doc_id"], "start": s["start"], "end": s["end"], "hash": text_hash(s["text"])}
                fh.write(json.dumps({**row, "targets": [t for t, _ in keep], "probs": [p for _, p in keep]}) + "\n")


def read_standoff(path: str | Path, data_dir: str | Path) -> Iterator[LabelRecord]:
    """Records of a transfer file: text from the AllSides data, targets without gold stance, the
    teacher's probabilities in ``meta["teacher_probs"]``. Stops on a sentence whose hash differs."""
    texts = article_texts(str(data_dir))
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            obj = json.loads(line)
            if "header" in obj:
                continue
            text = sentence_text(obj, texts, f"{path}:{n}")
            yield LabelRecord(
                text=text,
                targets=tuple(TargetLabel(s, e, None) for s, e in obj["targets"]),
                device_labels=(),  # nothing annotated for devices: no device loss on these sentences
                source="transfer",
                doc_id=obj["doc_id"],
                meta={"teacher_probs": obj["probs"]},
            )


def convert(data_dir: Path, split: str = "train") -> Iterator[LabelRecord]:
    """Source ``transfer``: one committed transfer file per split (``TRANSFER_SPLITS``)."""
    if split not in TRANSFER_SPLITS:
        raise ValueError(f"the transfer set has splits {sorted(TRANSFER_SPLITS)}, not {split!r}")
    path = TRANSFER_SPLITS[split]
    if not path.exists():
        raise ValueError(f"{path} does not exist: run python -m training.transfer with the config that writes it")
    yield from read_standoff(path, data_dir)


def build(config: TransferConfig) -> dict[str, Any]:
    """Steps 1-5, reusing the cache when the same teacher already labelled the same config."""
    from stance.model.modeling import StanceModel
    from stance.store.model_files import model_version

    started = time.perf_counter()
    version = model_version(config.teacher)
    cached = cache_path(config, version or "")
    output = Path(config.output) if Path(config.output).is_absolute() else PROJECT / config.output
    if cached.exists():
        logger.info("transfer labels cached at %s", cached)
    else:
        sentences, found = find_transfer_targets(config)
        logger.info("found %s", found)
        counts: dict[str, float] = dict(found)
        teacher = StanceModel.from_pretrained(config.teacher, backend="torch")
        t = time.perf_counter()
        label_sentences(teacher, sentences, batch_size=config.batch_size)
        counts["label_seconds"] = round(time.perf_counter() - t, 1)
        counts["targets_per_second"] = round(counts["targets"] / max(counts["label_seconds"], 1e-9), 1)
        header = {"teacher": config.teacher, "teacher_version": version, "config": asdict(config), "counts": counts}
        write_standoff(sentences, cached, header)
    if cached.resolve() != output.resolve():
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, output)
    with gzip.open(output, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())["header"]
    header["seconds"] = round(time.perf_counter() - started, 1)
    return header


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Label real news targets with a teacher (the transfer set).")
    parser.add_argument("config", help="YAML transfer config, e.g. configs/transfer.yaml")
    parser.add_argument("--teacher", help="overrides teacher of the config")
    parser.add_argument("--articles", type=int, help="overrides articles of the config")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(json.dumps(build(TransferConfig.from_yaml(args.config, teacher=args.teacher, articles=args.articles)), indent=2))


if __name__ == "__main__":
    main()
