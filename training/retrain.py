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

The pieces live beside this module, one job each: :mod:`training.new_labels` (reading the new labels, the
split by article, the sentences already in an evaluation set), :mod:`training.replay` (the base's data: replay
pool and sample, evaluation and tuning sets, what the new version passes on) and :mod:`training.device_head`
(new device labels). This module holds the options, their checks and the numbered steps of :func:`retrain`.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stance.labels.format import LabelRecord, write_label_file
from training.config import DataSpec, TrainConfig, write_training_data
from training.data import annotated_for_user_devices, describe
from training.device_head import grow_device_head
from training.gate import GateReport
from training.new_labels import article_of, drop_sentences_in, public_devices, read_new, split_by_article
from training.replay import (
    HELDOUT_STEM,
    TRAIN_STEM,
    carry,
    data_sources,
    descendant_sets,
    load_sets,
    replace_relabelled,
    replay_pool,
    replay_sample,
    tuning_sets,
)
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
    new_records = read_new(options.new, known)
    added = tuple(dict.fromkeys([*options.add_devices, *(d.label for r in new_records for d in r.devices)]))
    added = tuple(d for d in added if d not in base.config.device_labels)
    new_records = annotated_for_user_devices(new_records, [*public_devices(base.config, taxonomy), *added])
    out.mkdir(parents=True, exist_ok=True)  # only now: a label file refused leaves no empty output folder
    clock.lap("load_new")

    # 2. Replay data and fixed evaluation sets; the new labels split so that no sentence is on both sides
    sources = data_sources(base_dir, options, config)
    pool = replay_pool(sources, options, seed, taxonomy, known)
    fixed_specs = tuple(DataSpec(path=p) for p in options.eval) or sources.dev
    fixed = load_sets(fixed_specs, sources, taxonomy, seed, known)
    tuning = tuning_sets(sources, fixed, taxonomy, seed, known, own_eval=bool(options.eval))
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
    replay = replay_sample(pool, pool_keys, sources, options, len(train_new), seed, heldout)
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
    train_file = _save_records(train_new, data_dir, TRAIN_STEM)
    heldout_file = _save_records(heldout, data_dir, HELDOUT_STEM)
    inherited_train = tuple(carry(s, base_dir, data_dir) for s in descendant_sets(sources.base_train, sources.train))
    inherited_dev = tuple(carry(s, base_dir, data_dir) for s in descendant_sets(sources.base_dev, sources.dev))
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
        "new_articles_heldout": len({article_of(r) for r in heldout}),
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
def check_gate_size(records: list[LabelRecord], heldout: list[LabelRecord], options: RetrainOptions) -> None:
    """ValueError before any training when the held-out new labels are too few for the gate to pass,
    saying how many labels it needs and that ``--preset small`` exists.

    Example:
        >>> check_gate_size(records, heldout, RetrainOptions(new=("x.jsonl",), output_dir="out"))  # doctest: +SKIP
    """
    need = MIN_GATE_ARTICLES[options.require_significant]
    held_docs = len({article_of(r) for r in heldout})
    if held_docs >= need:
        return
    docs = len({article_of(r) for r in records})
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
