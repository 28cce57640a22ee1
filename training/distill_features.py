"""A teacher's stance-head features, for feature distillation (issue 13: "intermediate-layer matching").

    python -m training.distill_features runs/teacher/model --data newsmtsc:train --data transfer:train \
        --out ~/.cache/stance/features/teacher.npz

Soft labels give the student three numbers per target; the layer under them holds the teacher's
whole reading of the target (768 numbers for MPNet). This writes that layer for every target of
the named data (one teacher pass per target where the teacher was trained so), and a training config
that names the file in ``distill_features`` (with ``feature_distill_weight``) makes the student map
its own stance-head layer onto it through a linear projection, a cosine loss beside the others.

The file is an ``.npz``: ``keys`` (a hash of the sentence and the target's offsets in it, so it holds
no text and fits any data read from ../shared/data), ``features`` (float16, one row per key) and
``teacher`` (the teacher's version). It is large (1.5 KB per target), so it stays out of the project:
a cache that a new teacher replaces.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from stance.labels.format import LabelRecord
from stance.model.modeling import StanceModel
from training.convert import DEFAULT_DATA_DIR
from training.convert.allsides import text_hash

logger = logging.getLogger("stance.distill_features")


def feature_key(text: str, start: int, end: int) -> str:
    """Where a target's features are filed: the sentence's hash and the target's offsets.

    Example:
        >>> feature_key("Moscow slammed the plan.", 0, 6)
        'a70ee4491513:0:6'
    """
    return f"{text_hash(text)}:{start}:{end}"


def extract(teacher: StanceModel, records: Sequence[LabelRecord], batch_size: int = 64) -> dict[str, np.ndarray]:
    """The teacher's stance-head features (float16) for every distinct target of ``records``; a
    teacher saved with ``one_target_per_pass`` reads each target in a pass of its own. Targets that the
    teacher's maximum length cuts off get none.

    Example:
        >>> feats = extract(StanceModel.from_pretrained("runs/teacher/model"), records)  # doctest: +SKIP
        >>> next(iter(feats.values())).shape  # doctest: +SKIP
        (768,)
    """
    import torch

    from stance.model.encoding import collate, encode_batch

    one_each = getattr(teacher.config, "one_target_per_pass", False)
    jobs: dict[str, tuple[str, list[tuple[int, int]]]] = {}  # key of the pass -> (text, targets it marks)
    for r in records:
        spans = sorted({(t.start, t.end) for t in r.targets})
        if not spans:
            continue
        if one_each:
            for span in spans:
                jobs.setdefault(feature_key(r.text, *span), (r.text, [span]))
        else:
            jobs.setdefault(feature_key(r.text, 0, 0), (r.text, spans))
    texts = [text for text, _ in jobs.values()]
    encoded = encode_batch(
        teacher.subwords, texts, [spans for _, spans in jobs.values()], max_length=teacher.settings.max_seq_length
    )
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))  # batches of like length
    network = teacher.network.eval()
    out: dict[str, np.ndarray] = {}
    for lo in range(0, len(order), batch_size):
        idx = order[lo : lo + batch_size]
        arrays = collate([encoded[i] for i in idx], pad_id=teacher.subwords.pad_token_id)
        tensors = {k: torch.from_numpy(v).to(teacher.device) for k, v in arrays.items()}
        with torch.no_grad(), torch.autocast(teacher.device_type, dtype=torch.bfloat16, enabled=teacher.bf16):
            features = network(**tensors).stance_features
        if features is None:
            continue
        features = features.float().cpu().numpy().astype(np.float16)
        for b, i in enumerate(idx):
            enc = encoded[i]
            for span, slot in zip(enc.target_spans, enc.target_slots):
                if slot is not None:
                    out[feature_key(texts[i], *span)] = features[b, slot]
    return out


def save(path: str | Path, features: dict[str, np.ndarray], teacher_version: str = "") -> Path:
    """Write features as ``.npz`` (see the module's docstring)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(features)
    matrix = np.stack([features[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float16)
    np.savez(path, keys=np.array(keys), features=matrix.astype(np.float16), teacher=np.array(teacher_version))
    return path


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Read a file written by :func:`save`: key -> feature vector (float16)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ValueError(f"{path}: no such feature file; write it with python -m training.distill_features")
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["features"]))


def load_all(paths: Sequence[str | Path]) -> tuple[dict[str, np.ndarray], int]:
    """The features of several files (:func:`load`) in one map, and their width (0 for none); files of
    different widths (two teachers) are a ValueError.

    Example:
        >>> features, width = load_all(["~/.cache/stance/features/teacher.npz"])  # doctest: +SKIP
    """
    features: dict[str, np.ndarray] = {}
    widths = set()
    for path in paths:
        part = load(path)
        widths |= {len(v) for v in part.values()}
        features.update(part)
    if len(widths) > 1:
        raise ValueError(f"the feature files {', '.join(map(str, paths))} hold features of widths {sorted(widths)}")
    return features, widths.pop() if widths else 0


def attach(records: Sequence[LabelRecord], features: dict[str, np.ndarray]) -> tuple[list[LabelRecord], int]:
    """Records with ``meta["teacher_features"]`` (per target, a vector or None) where the file holds their
    targets; returns them and how many targets got features.

    Example:
        >>> records, n = attach(records, load("~/.cache/stance/features/teacher.npz"))  # doctest: +SKIP
    """
    out, found = [], 0
    for r in records:
        vectors = [features.get(feature_key(r.text, t.start, t.end)) for t in r.targets]
        hits = sum(v is not None for v in vectors)
        found += hits
        out.append(replace(r, meta={**r.meta, "teacher_features": vectors}) if hits else r)
    return out, found


def main(argv: list[str] | None = None) -> None:
    import argparse

    from stance.labels.taxonomy import Taxonomy
    from stance.store.model_files import model_version
    from training.config import DataSpec
    from training.data import load_records

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("teacher", help="the teacher model directory")
    parser.add_argument("--data", action="append", required=True, help="SOURCE:SPLIT whose targets to read, repeatable")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", required=True, help="the .npz to write")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    teacher = StanceModel.from_pretrained(args.teacher, backend="torch")
    records = []
    for item in args.data:
        source, _, split = item.partition(":")
        if not split:
            raise ValueError(f"--data {item!r}: expected SOURCE:SPLIT, e.g. transfer:train")
        records += load_records(DataSpec(source=source, split=split), args.data_dir, Taxonomy.load())
    features = extract(teacher, records, batch_size=args.batch_size)
    path = save(args.out, features, model_version(args.teacher) or "")
    logger.info("%d targets' features (%d wide) written to %s", len(features), len(next(iter(features.values()), [])), path)


if __name__ == "__main__":
    main()
