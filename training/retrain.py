"""Retrain a model on newly labelled sentences without forgetting, and gate the result.

    stance retrain --base active --new new_labels.jsonl --output-dir runs/retrain [--promote]

Steps: 1. load the base model and check the new label files (``stance.labels.check``); 2. split the
new labels by article into a training part and a held-out part; 3. sample a replay set from the
base's own training data (``training.json`` beside the model; for the shipped model its
``evaluation.json`` config, i.e. configs/default.yaml); 4. grow the device head for new device
labels; 5. continue training from the base (training.train.fit: the same Trainer, bf16, time
budget) on new + replay with the retrain config (configs/retrain.yaml: few epochs, small learning
rates), then re-tune the device thresholds and refit the stance temperature on the fixed sets as
training does (training.train.tune_on_dev); 6. save the model with its ``training.json`` (replay
sources and evaluation sets, the new labels included, so that the next retrain replays and gates on
them too; the base's own evaluation sets are kept even where a ``--config`` gated on others); 7. evaluate
base and new on the base's fixed evaluation sets and the held-out new labels and compare them
(``training.gate``), and, where ``promote`` would replace an active version other than the base, the
active version on the same sets too; 8. register the new version in the model registry, active only
with ``promote`` and a passed gate.

New labels replace the replay pool's earlier labels of the same sentences (:func:`replace_relabelled`).

Example:
    >>> result = retrain(RetrainOptions(base="default", new=("new_labels.jsonl",), output_dir="runs/retrain"))  # doctest: +SKIP
    >>> result.gate.passed, result.version  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import shutil
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stance.labels.format import LabelRecord, read_label_file, write_label_file
from training.config import DataSpec, TrainConfig, read_training_data, write_training_data
from training.data import annotated_for_user_devices, describe, load_records
from training.gate import GateReport
from training.transfer import normalise

logger = logging.getLogger("stance.retrain")

NEW_HELDOUT = "new:heldout"
MIN_GATE_ARTICLES = {True: 5, False: 2}
"""Held-out articles of new labels the gate needs: to show a significant improvement (an article-level
bootstrap interval above 0), and to compare at all. Fewer, and the gate cannot pass: checked before training."""
PRESETS: dict[str, dict[str, Any]] = {
    "small": {"require_significant": False, "heldout_fraction": 0.3},
}
"""Named option sets: ``small``, for a first retrain on few labels (under about 200): a larger share held
out and no significance required (the new-label metrics must still improve and no fixed-set metric may drop
beyond the tolerance): weaker evidence, said in the gate report."""


@dataclass(frozen=True)
class RetrainOptions:
    """What ``stance retrain`` does (its options)."""

    new: tuple[str, ...]
    output_dir: str
    base: str = "active"
    config: str | None = field(default=None, metadata={"help": "retrain YAML (TrainConfig keys); default configs/retrain.yaml"})
    replay: tuple[str, ...] = ()  # label files to replay instead of the base's training data
    no_replay: bool = False
    replay_ratio: float = 3.0  # replay sentences per new training sentence
    replay_max: int = 4000
    eval: tuple[str, ...] = ()  # label files evaluated instead of the base's dev sets
    heldout_fraction: float = 0.2
    add_devices: tuple[str, ...] = ()
    tolerance: float = 0.01
    min_improvement: float = 0.0
    require_significant: bool = True
    bootstrap: int = 1000
    seed: int | None = None  # default: the config's seed
    data_dir: str | None = None
    register: bool = True
    promote: bool = False
    registry_root: str | None = None


@dataclass(frozen=True)
class RetrainResult:
    """The new model, the gate's report and what happened to the new version."""

    model_dir: Path
    gate: GateReport
    version: str | None
    promoted: bool
    parent: str
    added_devices: tuple[str, ...]
    counts: dict[str, int]
    seconds: dict[str, float]


def retrain(options: RetrainOptions) -> RetrainResult:
    """Retrain, gate, register (see the module docstring). Raises ValueError on bad input (label
    problems, missing replay data, too few articles to hold some out).

    Example:
        >>> retrain(RetrainOptions(base="active", new=("labels.jsonl",), output_dir="runs/rt", promote=True)).promoted  # doctest: +SKIP
    """
    import torch

    from stance.labels.taxonomy import Taxonomy
    from stance.model.modeling import StanceModel
    from stance.store.model_files import file_sha256, resolve_model
    from stance.store.registry import SHIPPED, ModelRegistry
    from training.evaluate import evaluate_raw, headline, predict_raw
    from training.gate import compare_models
    from training.train import fit, training_device, tune_on_dev

    _check_options(options)
    clock = _Clock()
    out = Path(options.output_dir)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Base model, config, new labels
    base_dir = Path(resolve_model(options.base))
    if not (base_dir / "config.json").is_file():
        raise ValueError(f"base model {options.base!r} is not a local model directory ({base_dir})")
    if base_dir.resolve() == (out / "model").resolve() or (out / "model").resolve() in base_dir.resolve().parents:
        raise ValueError(
            f"the output {out / 'model'} would replace the base model {base_dir} (and the data it was trained on): "
            "give another --output-dir"
        )
    registry = ModelRegistry(options.registry_root)
    active = registry.active() if options.promote else None  # the version a promotion would replace (damaged: said now)
    parent = registry.version_of(base_dir) or (SHIPPED if options.base in ("active", SHIPPED) else str(base_dir))
    config = _retrain_config(options)
    seed = config.seed if options.seed is None else options.seed
    config = replace(config, seed=seed, output_dir=str(out))
    base = StanceModel.from_pretrained(base_dir, device=training_device())
    config = replace(config, max_seq_length=base.config.max_seq_length)
    taxonomy = Taxonomy.load()
    known = set(base.config.device_labels) | set(taxonomy.names) | set(options.add_devices)
    new_records = _read_new(options.new, known)
    added = tuple(dict.fromkeys([*options.add_devices, *(d.label for r in new_records for d in r.devices)]))
    added = tuple(d for d in added if d not in base.config.device_labels)
    new_records = annotated_for_user_devices(new_records, [*public_devices(base.config, taxonomy), *added])
    clock.lap("load_new")

    # 2. Replay data and fixed evaluation sets; the new labels split so that no sentence is on both sides
    sources = _data_sources(base_dir, options, config)
    pool = _replay_pool(sources, options, seed, taxonomy, known)
    fixed_specs = tuple(DataSpec(path=p) for p in options.eval) or sources.dev
    fixed = _load_sets(fixed_specs, sources, taxonomy, seed, known)
    tuning = _tuning_sets(sources, fixed, taxonomy, seed, known, own_eval=bool(options.eval))
    new_records, in_fixed = drop_sentences_in(new_records, fixed, files={s.name: s.path for s in fixed_specs if s.path})
    trained_keys = {normalise(r.text) for r in pool}  # corrected sentences too: the base was trained on them
    pool, replaced = replace_relabelled(pool, new_records)
    if replaced:
        logger.warning(
            "%d earlier label(s) of sentences the new labels label again were replaced in the replay data: "
            "each such sentence is trained with its new label only",
            replaced,
        )
    pool_keys = [normalise(r.text) for r in pool]
    train_new, heldout = split_by_article(new_records, options.heldout_fraction, seed, trained=trained_keys)
    replay = _replay_sample(pool, pool_keys, sources, options, len(train_new), seed, heldout)
    datasets = {**fixed, NEW_HELDOUT: heldout}
    left_out = tuple(spec.name for spec in sources.base_dev if spec.name not in fixed)
    if left_out:
        logger.warning(
            "the gate leaves out %d evaluation set(s) of the base: %s (--eval or the --config's dev: list replaced them)",
            len(left_out),
            ", ".join(left_out),
        )
    check_gate_size(new_records, heldout, options)
    clock.lap("load_replay_and_eval")
    logger.info(
        "retraining on %d new + %d replayed sentences; evaluating on %s", len(train_new), len(replay), ", ".join(datasets)
    )

    # 3. Base predictions (before any change), then the model to train
    base_raw = {name: predict_raw(base, recs) for name, recs in datasets.items()}
    clock.lap("base_eval")
    model = StanceModel.from_pretrained(base_dir, device=training_device())
    if added:
        grow_device_head(model, added)
    trained = fit(model, train_new + replay, {}, config, out, name=str(options.base), save_checkpoints=False)
    clock.lap("train")
    # as `stance train` does, on the dev sets the base was tuned on (added labels' thresholds on the new training
    # labels too): thresholds re-tuned and limited, the stance temperature refitted (the base's was fitted to the base).
    # Not on earlier retrains' held-out labels nor on --eval files, which the gate reads: tuned there, the new model
    # would be flattered against a base that was not
    tune_on_dev(trained, tuning, config, also_tune_on=[train_new] if added else [])
    logger.info("stance temperature %.2f (the base's: %.2f)", trained.config.stance_temperature, base.config.stance_temperature)
    clock.lap("tune_on_dev")

    # 4. Save: the model, its data and training.json
    model_dir = out / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    trained.save_pretrained(model_dir, dtype=getattr(torch, config.save_dtype))
    data_dir = model_dir / "training_data"
    train_file = _save_records(train_new, data_dir, "new-train")
    heldout_file = _save_records(heldout, data_dir, HELDOUT_STEM)
    inherited_train = tuple(_carry(s, base_dir, data_dir) for s in descendant_sets(sources.base_train, sources.train))
    inherited_dev = tuple(_carry(s, base_dir, data_dir) for s in descendant_sets(sources.base_dev, sources.dev))
    write_training_data(
        model_dir,
        inherited_train + (DataSpec(path=str(train_file)),),
        inherited_dev + (DataSpec(path=str(heldout_file)),),
        sources.data_dir,
    )
    clock.lap("save")

    # 5. Evaluate what was saved (bf16 weights), compare, report
    new = StanceModel.from_pretrained(model_dir, device=training_device())
    new_raw = {name: predict_raw(new, recs) for name, recs in datasets.items()}
    clock.lap("new_eval")
    report = compare_models(
        base,
        new,
        datasets,
        new_sets={NEW_HELDOUT},
        tolerance=options.tolerance,
        min_improvement=options.min_improvement,
        require_significant=options.require_significant,
        bootstrap=options.bootstrap,
        seed=seed,
        base_raw=base_raw,
        new_raw=new_raw,
    )
    report = replace(report, left_out=left_out)
    if options.promote and report.passed:
        report = _check_active(report, active, base_dir, new, datasets, new_raw)
        clock.lap("active_eval")
    report.write(out)
    metrics = {name: evaluate_raw(raw, new) for name, raw in new_raw.items()}
    counts = {
        "new_sentences": len(new_records),
        "new_train": len(train_new),
        "new_heldout": len(heldout),
        "replay": len(replay),
        "new_articles_heldout": len({_doc(r) for r in heldout}),
        "new_dropped_in_eval_sets": in_fixed,
        "replay_replaced": replaced,
    }
    hashes = {str(p): file_sha256(p) for p in [*options.new, *options.replay, *options.eval]}
    base_eval = base.evaluation()
    evaluation = {
        "headline": headline(metrics),
        "datasets": metrics,
        "train_seconds": clock.seconds.get("train", 0.0),
        "train_data": describe({"new labels": train_new, "replay": replay}),
        "base_model": base_eval.get("base_model", str(base_dir)),
        "distilled_from": base_eval.get("distilled_from"),
        "teacher": base_eval.get("teacher"),
        "retrained_from": {"model": str(options.base), "path": str(base_dir), "parent": parent, "added_devices": list(added)},
        "gate": report.to_dict(),
        "config": asdict(config),
        "counts": counts,
        "data_sha256": hashes,
    }
    (model_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    _write_card(model_dir, report, parent, added, counts)
    clock.lap("gate")

    # 6. Register (active only with --promote and a passed gate)
    version, promoted = None, False
    if options.register:
        promoted = options.promote and report.passed
        registered = registry.add(
            model_dir,
            parent=parent,
            activate=promoted,
            base=str(options.base),
            config=asdict(config),
            options=asdict(options),
            data_sha256=hashes,
            counts=counts,
            added_devices=list(added),
            metrics=report.metrics("new"),
            gate=report.to_dict(),
        )
        version = registered.id
    clock.lap("register")
    summary = {
        "version": version,
        "promoted": promoted,
        "parent": parent,
        "passed": report.passed,
        "counts": counts,
        "seconds": clock.seconds,
    }
    (out / "retrain.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return RetrainResult(model_dir, report, version, promoted, parent, added, counts, dict(clock.seconds))


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
        parent[find(_doc(r))] = find("sentence:" + key)
    groups: dict[str, set[str]] = {}
    for r, key in zip(records, keys):
        groups.setdefault(find(_doc(r)), set()).add(key)
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
    return [r for r in records if find(_doc(r)) not in held], [r for r in records if find(_doc(r)) in held]


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


def check_gate_size(records: list[LabelRecord], heldout: list[LabelRecord], options: RetrainOptions) -> None:
    """ValueError before any training when the held-out new labels are too few for the gate to pass,
    saying how many labels it needs and that ``--preset small`` exists.

    Example:
        >>> check_gate_size(records, heldout, RetrainOptions(new=("x.jsonl",), output_dir="out"))  # doctest: +SKIP
    """
    need = MIN_GATE_ARTICLES[options.require_significant]
    held_docs = len({_doc(r) for r in heldout})
    if held_docs >= need:
        return
    docs = len({_doc(r) for r in records})
    per_doc = len(records) / max(docs, 1)
    needed_docs = math.ceil(need / options.heldout_fraction)
    needed_labels = math.ceil(needed_docs * per_doc)
    why = "show a significant improvement" if options.require_significant else "compare the models on them"
    small = (
        ""
        if not options.require_significant
        else (
            f", or for a first retrain use --preset small (no significance required, {PRESETS['small']['heldout_fraction']:.0%} held out)"
        )
    )
    raise ValueError(
        f"the gate would see {held_docs} held-out article(s) ({len(heldout)} labels) of the {docs} articles ({len(records)} labels) given; "
        f"it needs at least {need} to {why}: that is about {needed_labels} labels from {needed_docs} articles at "
        f"--heldout-fraction {options.heldout_fraction} (label about {max(needed_labels - len(records), 1)} more){small}"
    )


def grow_device_head(model, labels: tuple[str, ...]) -> None:
    """Add device labels to a model: the device head gets three more output rows (B/I/O) per label,
    the old rows kept, the new ones started from the mean of the old ones (so a new label starts as
    "mostly outside", like the others); the labels join the config (threshold 0.5).

    Example:
        >>> grow_device_head(model, ("attribution_cue",))  # doctest: +SKIP
    """
    import torch
    from torch import nn

    from stance.model.encoding import DEFAULT_DEVICE_THRESHOLD

    network = model.network
    config = network.config
    if dup := [x for x in labels if x in config.device_labels]:
        raise ValueError(f"the model has the device labels {dup} already")
    old = network.device_head
    n_old = len(config.device_labels)
    head = nn.Linear(old.in_features, 3 * (n_old + len(labels)), dtype=old.weight.dtype, device=old.weight.device)
    with torch.no_grad():
        head.weight[: 3 * n_old] = old.weight
        head.bias[: 3 * n_old] = old.bias
        mean_w = old.weight.view(n_old, 3, -1).mean(0)
        mean_b = old.bias.view(n_old, 3).mean(0)
        for i in range(len(labels)):
            rows = slice(3 * (n_old + i), 3 * (n_old + i + 1))
            head.weight[rows] = mean_w
            head.bias[rows] = mean_b
    network.device_head = head
    config.device_labels = [*config.device_labels, *labels]
    config.device_thresholds = {**config.device_thresholds, **{x: DEFAULT_DEVICE_THRESHOLD for x in labels}}


@dataclass(frozen=True)
class _Sources:
    train: tuple[DataSpec, ...]
    dev: tuple[DataSpec, ...]
    data_dir: str
    teacher_probs: str = ""  # the base's cached teacher probabilities (distill_from: FILE.jsonl), if any
    base_dev: tuple[DataSpec, ...] = ()  # the base's own evaluation sets (``dev`` replaces them where a --config gives its own)
    base_train: tuple[DataSpec, ...] = ()  # the base's own training sources (``train`` replaces them likewise)


def _data_sources(base_dir: Path, options: RetrainOptions, config: TrainConfig) -> _Sources:
    """Replay sources and fixed evaluation sets: the --config's train/dev lists, else the base
    model's training.json, else the config stored in its evaluation.json (the shipped model: that of
    configs/default.yaml); a --config's list replaces only the base's list of the same kind. ``base_train`` and
    ``base_dev``: the base's own lists, whatever the --config says."""
    from training.convert import resolve_data_dir

    base_train, base_dev, base_data_dir = _base_sources(base_dir, config)
    train, dev = config.train or base_train, config.dev or base_dev  # each list replaces the base's only where given
    data_dir = options.data_dir or (config.data_dir if config.train or config.dev else base_data_dir)
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


def _replay_pool(sources: _Sources, options: RetrainOptions, seed: int, taxonomy, known: set[str]) -> list[LabelRecord]:
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
        try:
            records = load_records(spec, sources.data_dir, taxonomy, seed, extra_devices=known)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot load the replay data {spec.name} (data dir {sources.data_dir}): {exc}. "
                "Give --data-dir, --replay FILE (label-format records to replay) or --no-replay"
            ) from None
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


def _replay_sample(
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


def _tuning_sets(
    sources: _Sources, fixed: dict[str, list[LabelRecord]], taxonomy, seed: int, known: set[str], *, own_eval: bool
) -> dict[str, list[LabelRecord]]:
    """The dev sets the base's thresholds and temperature were tuned on: its dev sets less the held-out labels of
    earlier retrains (gated on, never tuned on). The same sets as ``fixed`` where no --eval files replace them."""
    specs = tuple(spec for spec in sources.dev if not _is_earlier_heldout(spec))
    if not own_eval:
        return {name: records for name, records in fixed.items() if name in {spec.name for spec in specs}}
    return _load_sets(specs, sources, taxonomy, seed, known)


HELDOUT_STEM = "new-heldout"  # a retrain's held-out new labels, saved beside the model as HELDOUT_STEM-<hash>.jsonl


def _is_earlier_heldout(spec: DataSpec) -> bool:
    return bool(spec.path) and Path(spec.path).name.startswith(HELDOUT_STEM + "-")


def _is_retrain_labels(spec: DataSpec) -> bool:
    """A retrain's new training labels (saved beside its model as new-train-<hash>.jsonl)."""
    return bool(spec.path) and Path(spec.path).name.startswith("new-train-")


def _load_sets(
    specs: tuple[DataSpec, ...], sources: _Sources, taxonomy, seed: int, known: set[str]
) -> dict[str, list[LabelRecord]]:
    out = {}
    for spec in specs:
        try:
            records = load_records(spec, sources.data_dir, taxonomy, seed, extra_devices=known)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot load the evaluation set {spec.name} (data dir {sources.data_dir}): {exc}. Give --data-dir or --eval FILE"
            ) from None
        if records:
            out[spec.name] = records
    return out


def public_devices(model_config, taxonomy) -> tuple[str, ...]:
    """The device labels a user labels: the model's labels that are the taxonomy's user devices (the six
    fixed ones and any added to configs/devices.yaml) or that an earlier retrain added; not the PTC technique
    labels and ``propaganda_span`` (trained on PTC only, reported as ``technique``)."""
    return tuple(d for d in model_config.device_labels if d not in taxonomy.ptc_only)


def _read_new(paths: tuple[str, ...], known: set[str]) -> list[LabelRecord]:
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


def _retrain_config(options: RetrainOptions) -> TrainConfig:
    from stance.resources import config_path

    path = options.config or config_path("retrain.yaml")
    return TrainConfig.from_yaml(path)


def _save_records(records: list[LabelRecord], directory: Path, stem: str) -> Path:
    import hashlib

    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    path = directory / f"{stem}-{hashlib.sha256(text.encode()).hexdigest()[:8]}.jsonl"
    write_label_file(records, path)
    return path


def _carry(spec: DataSpec, base_dir: Path, data_dir: Path) -> DataSpec:
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


def _check_active(report: GateReport, active, base_dir: Path, new, datasets, new_raw) -> GateReport:
    """``report`` with the new model compared with the active version where a promotion would replace one that is
    not the base (``training.gate.check_against``); unchanged otherwise."""
    from stance.model.modeling import StanceModel
    from training.gate import check_against
    from training.train import training_device

    if active is None or active.model_dir.resolve() == base_dir.resolve():
        return report
    logger.info("comparing with the active version %s, which --promote would replace", active.id)
    model = StanceModel.from_pretrained(active.model_dir, device=training_device())
    report = check_against(report, active.id, model, new, datasets, new_raw=new_raw)
    if reason := report.against_reason():
        logger.warning("the gate fails: %s", reason)
    return report


def _write_card(model_dir: Path, report: GateReport, parent: str, added: tuple[str, ...], counts: dict[str, int]) -> None:
    from stance.store.card import write_card

    path = write_card(model_dir)
    extra = [
        "",
        "## Retraining",
        "",
        f"Retrained from `{parent}` on {counts['new_train']} newly labelled sentences (plus {counts['replay']} replayed from "
        f"its training data); {counts['new_heldout']} held out by article for the gate."
        + (f" New device labels: {', '.join(added)}." if added else ""),
        "",
        report.table(),
    ]
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(extra) + "\n", encoding="utf-8")


def _doc(record: LabelRecord) -> str:
    return record.doc_id or f"text:{record.text}"


def _check_options(o: RetrainOptions) -> None:
    if not o.new:
        raise ValueError("give at least one new label file (--new FILE)")
    if not 0 < o.heldout_fraction < 1:
        raise ValueError(f"--heldout-fraction must be between 0 and 1, got {o.heldout_fraction}")
    if o.replay_ratio < 0 or o.replay_max < 0:
        raise ValueError("--replay-ratio and --replay-max must not be negative")
    if o.no_replay and o.replay:
        raise ValueError("--no-replay and --replay FILE contradict each other")
    if o.tolerance < 0:
        raise ValueError(f"--tolerance must not be negative, got {o.tolerance}")
    if o.promote and not o.register:
        raise ValueError("--promote makes the new version active in the registry: it cannot go with --no-register")
    names = [Path(p).stem for p in o.eval]
    if dup := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"two --eval files are named {dup[0]!r}: the gate reports each set by its file name; rename one")


class _Clock:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.last, 2)
        self.seconds["total"] = round(now - self.started, 2)
        self.last = now


def describe_result(result: RetrainResult) -> dict[str, Any]:
    """A JSON-able summary of a retrain (what the CLI prints)."""
    return {
        "model_dir": str(result.model_dir),
        "version": result.version,
        "promoted": result.promoted,
        "parent": result.parent,
        "gate_passed": result.gate.passed,
        "added_devices": list(result.added_devices),
        "counts": result.counts,
        "seconds": result.seconds,
    }
