"""The base model's data as a retrain reuses it: what the base was trained and evaluated on (its
training.json, else the config stored in its evaluation.json; a --config's list replaces the base's list of the
same kind: :func:`data_sources`), the replay pool drawn from its training sources, each sentence with its
newest label only (:func:`replay_pool`, :func:`replace_relabelled`), the seeded replay sample
(:func:`replay_sample`), the fixed evaluation sets and the dev sets thresholds are tuned on (:func:`load_sets`,
:func:`tuning_sets`), and the sources and sets the new version passes on (:func:`descendant_sets`, files
copied into it by :func:`carry`).
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from stance.labels.format import LabelRecord
from training.config import DataSpec, TrainConfig, read_training_data
from training.convert import DEFAULT_DATA_DIR
from training.data import load_records
from training.transfer import normalise

if TYPE_CHECKING:  # the options live with the steps that use these pieces (training.retrain imports this module)
    from training.retrain import RetrainOptions


@dataclass(frozen=True)
class _Sources:
    train: tuple[DataSpec, ...]
    dev: tuple[DataSpec, ...]
    data_dir: str
    teacher_probs: str = ""  # the base's cached teacher probabilities (distill_from: FILE.jsonl), if any
    base_dev: tuple[DataSpec, ...] = ()  # the base's own evaluation sets (``dev`` replaces them where a --config gives its own)
    base_train: tuple[DataSpec, ...] = ()  # the base's own training sources (``train`` replaces them likewise)


def data_sources(base_dir: Path, options: RetrainOptions, config: TrainConfig) -> _Sources:
    """Replay sources and fixed evaluation sets: the --config's train/dev lists, else the base
    model's training.json, else the config stored in its evaluation.json (the shipped model: that of
    configs/default.yaml); a --config's list replaces only the base's list of the same kind. The data folder is the
    base's unless the --config gives a train list or a ``data_dir`` of its own (``--data-dir`` overrides both).
    ``base_train`` and ``base_dev``: the base's own lists, whatever the --config says.

    Example:
        >>> sources = data_sources(Path("runs/v1/model"), RetrainOptions(("mine.jsonl",), "out"), TrainConfig())  # doctest: +SKIP
        >>> [spec.name for spec in sources.train][:2]  # doctest: +SKIP
        ['newsmtsc:train_rw', 'transfer_1']
    """
    from training.convert import resolve_data_dir

    base_train, base_dev, base_data_dir = _base_sources(base_dir, config)
    train, dev = config.train or base_train, config.dev or base_dev  # each list replaces the base's only where given
    # the base's lists are read from the base's data folder, unless the config brings its own train list or folder
    own_folder = bool(config.train) or config.data_dir != DEFAULT_DATA_DIR
    data_dir = options.data_dir or (config.data_dir if own_folder else base_data_dir)
    with contextlib.suppress(ValueError):  # a source checkout: relative to the project; else the loader says what is missing
        data_dir = str(resolve_data_dir(data_dir))
    return _Sources(tuple(train), tuple(dev), str(data_dir), _teacher_probs(base_dir), tuple(base_dev), tuple(base_train))


def _base_sources(base_dir: Path, config: TrainConfig) -> tuple[tuple[DataSpec, ...], tuple[DataSpec, ...], str]:
    """(train, dev, data_dir) of the base: its training.json, else the config stored in its evaluation.json."""
    stored = read_training_data(base_dir)
    if stored is not None:
        return tuple(stored.train), tuple(stored.dev), stored.data_dir
    evaluation = base_dir / "evaluation.json"
    raw = json.loads(evaluation.read_text()).get("config") if evaluation.exists() else None
    if not raw:
        return (), (), config.data_dir
    stored_config = TrainConfig.from_dict({k: raw[k] for k in ("train", "dev", "data_dir") if k in raw}, where=str(evaluation))
    return tuple(stored_config.train), tuple(stored_config.dev), stored_config.data_dir


def descendant_sets(base: tuple[DataSpec, ...], own: tuple[DataSpec, ...]) -> tuple[DataSpec, ...]:
    """The training sources or evaluation sets the new version passes on (its training.json ``train`` / ``dev``,
    before its own new labels): the base's own, then those of ``own`` (a --config's list) that the base lacks, by
    name. A --config that replays from or gates on a few sets in one retrain does not take the base's other sets
    away from every later retrain.

    Example:
        >>> base = (DataSpec(source="newsmtsc", split="dev_rw"), DataSpec(source="ptc", split="dev"))
        >>> mine = (DataSpec(source="newsmtsc", split="dev_rw", max_records=60), DataSpec(path="my_dev.jsonl"))
        >>> [spec.name for spec in descendant_sets(base, mine)]
        ['newsmtsc:dev_rw', 'ptc:dev', 'my_dev']
    """
    names = {spec.name for spec in base}
    return base + tuple(spec for spec in own if spec.name not in names)


def _teacher_probs(base_dir: Path) -> str:
    """The base's cached teacher stance probabilities (``distill_from: FILE.jsonl[.gz]`` of the config in its
    evaluation.json), when the file is still there: replayed sentences then keep the soft targets the
    base was trained on. '' otherwise."""
    from stance.resources import project_paths

    evaluation = base_dir / "evaluation.json"
    config = (json.loads(evaluation.read_text()).get("config") or {}) if evaluation.exists() else {}
    source = str(config.get("distill_from") or "")
    if not source.endswith((".jsonl", ".jsonl.gz")):
        return ""
    for candidate in project_paths(source):
        if candidate.is_file():
            return str(candidate.resolve())
    return ""


def replay_pool(sources: _Sources, options: RetrainOptions, seed: int, taxonomy, known: set[str]) -> list[LabelRecord]:
    """Every record replay may draw from: ``--replay`` files, else the base's training sources ([] with --no-replay)."""
    if options.no_replay:
        return []
    specs = tuple(DataSpec(path=p) for p in options.replay) or tuple(replace(s, repeat=1) for s in sources.train)
    if not specs:
        raise ValueError(
            "the base model does not say what it was trained on: give --replay FILE (label-format records to replay) or --no-replay"
        )
    pool: list[LabelRecord] = []
    for spec in specs:
        hint = "Give --data-dir, --replay FILE (label-format records to replay) or --no-replay"
        records = _load(spec, sources, taxonomy, seed, known, "the replay data", hint)
        if _is_retrain_labels(spec):  # a later retrain's labels replace the earlier labels of the same sentences
            pool = replace_relabelled(pool, records)[0]
        pool += records
    return pool


def replace_relabelled(pool: list[LabelRecord], new: list[LabelRecord]) -> tuple[list[LabelRecord], int]:
    """``pool`` less the earlier labels of sentences that ``new`` labels again (a correction: the same normalised
    text, under the same ``doc_id`` where both have one), and how many were taken out: a sentence is trained with
    its newest label only, never beside its old one.

    Example:
        >>> from stance.labels.format import LabelRecord
        >>> old = [LabelRecord.from_dict({"text": "Russia slammed China.", "doc_id": "a"}),
        ...        LabelRecord.from_dict({"text": "Russia slammed China.", "doc_id": "b"})]
        >>> kept, replaced = replace_relabelled(old, [LabelRecord.from_dict({"text": "russia slammed china", "doc_id": "a"})])
        >>> [r.doc_id for r in kept], replaced
        (['b'], 1)
    """
    docs: dict[str, set[str | None]] = {}
    for r in new:
        docs.setdefault(normalise(r.text), set()).add(r.doc_id or None)

    def relabelled(r: LabelRecord) -> bool:
        ids = docs.get(normalise(r.text))
        return ids is not None and (not r.doc_id or None in ids or r.doc_id in ids)

    kept = [r for r in pool if not relabelled(r)]
    return kept, len(pool) - len(kept)


def replay_sample(
    pool: list[LabelRecord],
    pool_keys: list[str],
    sources: _Sources,
    options: RetrainOptions,
    n_new: int,
    seed: int,
    heldout: list[LabelRecord],
) -> list[LabelRecord]:
    """A seeded sample of ``pool`` (``--replay-ratio`` per new training sentence, at most ``--replay-max``), less
    any sentence of the held-out new labels (``pool_keys``: the pool's normalised sentences), with the base's cached
    teacher probabilities where it had them."""
    held = {normalise(r.text) for r in heldout}
    pool = [r for r, key in zip(pool, pool_keys, strict=True) if key not in held]
    size = min(len(pool), options.replay_max, round(options.replay_ratio * n_new))
    sample = random.Random(seed).sample(pool, size) if size < len(pool) else pool
    if sources.teacher_probs and not options.replay:
        from training.train import add_cached_teacher_probs

        sample = add_cached_teacher_probs([replace(r, meta=dict(r.meta)) for r in sample], sources.teacher_probs)
    return sample


def tuning_sets(
    sources: _Sources, fixed: dict[str, list[LabelRecord]], taxonomy, seed: int, known: set[str], *, own_eval: bool
) -> dict[str, list[LabelRecord]]:
    """The dev sets the base's thresholds and temperature were tuned on: its dev sets less the held-out labels of
    earlier retrains (gated on, never tuned on). The same sets as ``fixed`` where no --eval files replace them."""
    specs = tuple(spec for spec in sources.dev if not _is_earlier_heldout(spec))
    if not own_eval:
        return {name: records for name, records in fixed.items() if name in {spec.name for spec in specs}}
    return load_sets(specs, sources, taxonomy, seed, known)


HELDOUT_STEM = "new-heldout"  # a retrain's held-out new labels, saved beside the model as HELDOUT_STEM-<hash>.jsonl
TRAIN_STEM = "new-train"  # and its new training labels, as TRAIN_STEM-<hash>.jsonl


def _is_earlier_heldout(spec: DataSpec) -> bool:
    return bool(spec.path) and Path(spec.path).name.startswith(HELDOUT_STEM + "-")


def _is_retrain_labels(spec: DataSpec) -> bool:
    """A retrain's new training labels (saved beside its model as new-train-<hash>.jsonl)."""
    return bool(spec.path) and Path(spec.path).name.startswith(f"{TRAIN_STEM}-")


def load_sets(
    specs: tuple[DataSpec, ...], sources: _Sources, taxonomy, seed: int, known: set[str]
) -> dict[str, list[LabelRecord]]:
    out = {}
    for spec in specs:
        records = _load(spec, sources, taxonomy, seed, known, "the evaluation set", "Give --data-dir or --eval FILE")
        if records:
            out[spec.name] = records
    return out


def _load(spec: DataSpec, sources: _Sources, taxonomy, seed: int, known: set[str], what: str, hint: str) -> list[LabelRecord]:
    """``spec``'s records from the sources' data folder; a ValueError naming ``what`` it is, the folder and ``hint``."""
    try:
        return load_records(spec, sources.data_dir, taxonomy, seed, extra_devices=known)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load {what} {spec.name} (data dir {sources.data_dir}): {exc}. {hint}") from None


def carry(spec: DataSpec, base_dir: Path, data_dir: Path) -> DataSpec:
    """A file spec that lives in the base model's directory is copied into the new one."""
    if not spec.path:
        return spec
    path = Path(spec.path).resolve()
    if path.is_relative_to(base_dir.resolve()) and path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        target = data_dir / path.name
        if not target.exists():
            shutil.copyfile(path, target)
        return replace(spec, path=str(target))
    return spec
