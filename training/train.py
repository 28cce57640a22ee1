"""Train a stance + framing-device model from a YAML config.

    python -m training.train configs/default.yaml [--output-dir DIR] [--resume]
    stance train configs/default.yaml            # the same

Steps: 1. read the config; 2. load and map the data mix; 3. (optional) label the training
targets with a teacher; 4. build the model on its base encoder; 5. train with the transformers
Trainer, evaluating on the dev sets every epoch (early stopping, best checkpoint kept);
6. tune the device thresholds on the dev sets; 7. save the model, its card and the metrics.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback, TrainingArguments, set_seed

from stance.labels.format import LabelRecord
from stance.labels.taxonomy import Taxonomy
from stance.model.config import StanceConfig
from stance.model.modeling import StanceModel
from stance.model.network import StanceNetwork
from stance.store.card import write_card
from stance.store.model_files import STANCE_BRANCH_WEIGHTS, temperature_scaled
from training.config import TrainConfig, write_training_data
from training.convert.allsides import text_hash
from training.data import build_features, describe, load_records, load_sets, one_target_per_record
from training.distill_features import attach as attach_features
from training.distill_features import load_all as load_features
from training.evaluate import calibrate_stance, evaluate_raw, headline, predict_raw, retune_thresholds
from training.silver_devices import add_silver_devices
from training.trainer import (
    Collator,
    EpochEarlyStopping,
    JsonLogCallback,
    PeriodicSaveCallback,
    StanceTrainer,
    TimeBudgetCallback,
)

logger = logging.getLogger("stance.train")


def continued_model(config: TrainConfig, taxonomy: Taxonomy, feature_size: int) -> StanceModel:
    """The trained model ``config.init_from`` names, set up to train on with this config's losses: a second
    phase (e.g. the devices weighted up after a stance-heavy first phase). ValueError where its device labels,
    stance pooling, target encoding or maximum length are not this config's. A feature projection it
    carries is dropped when this phase has no teacher features (inference never uses it), and a new one is
    made where it has none and this phase has them; with ``stance_branch``, a model without a branch gets one
    copied from its last layer, and a model with one is refused without it.

    Example:
        >>> continued_model(TrainConfig(init_from="runs/v/model"), Taxonomy.load(), 0)  # doctest: +SKIP
    """
    model = StanceModel.from_pretrained(config.init_from, device=training_device())
    network, where = model.network, f"init_from {config.init_from!r}"
    wanted = {
        "device_labels": list(taxonomy.names),
        "internal_device_labels": list(taxonomy.internal),
        "stance_pooling": config.stance_pooling,
        "one_target_per_pass": config.one_target_per_pass,
        "max_seq_length": config.max_seq_length,
    }
    if differ := [
        f"{k}: {getattr(network.config, k, None)!r}, this run {v!r}"
        for k, v in wanted.items()
        if getattr(network.config, k, None) != v
    ]:
        raise ValueError(f"{where} does not fit this run's config: " + "; ".join(differ))
    if feature_size and network.feature_projection is None:  # a new projection onto this run's teacher features
        network.feature_projection = torch.nn.Linear(network.encoder.config.hidden_size, feature_size)
        network.config.teacher_feature_size = feature_size
    if feature_size and feature_size != getattr(network.config, "teacher_feature_size", 0):
        raise ValueError(
            f"{where} has a feature projection {network.config.teacher_feature_size} wide, not {feature_size} for this run's teacher features"
        )
    if not feature_size and network.feature_projection is not None:
        network.feature_projection = None
        network.config.teacher_feature_size = 0
    for key, value in loss_settings(config, feature_size).items():
        setattr(network.config, key, value)
    if any(getattr(network.config, k, None) != v for k, v in head_settings(config).items()):
        if config.train_only_stance_branch:  # a new device head would stay untrained
            shape = {k: getattr(network.config, k, None) for k in head_settings(config)}
            raise ValueError(f"{where}: train_only_stance_branch keeps its device head; give its shape {shape}")
        network = with_new_device_head(network, config)
        model = StanceModel(network, model.tokenizer, name=model.name, device=training_device())
    if network.stance_layer is not None and not config.stance_branch:
        raise ValueError(f"{where} has a stance branch; this run's config needs stance_branch: true to continue it")
    if config.stance_branch and network.stance_layer is None:
        network.start_stance_branch()
    trained = (
        DEVICE_HEAD_PARTS if config.train_only_device_head else STANCE_BRANCH_PARTS if config.train_only_stance_branch else None
    )
    if trained:
        for name, parameter in network.named_parameters():
            parameter.requires_grad = name.startswith(trained)
    return model


DEVICE_HEAD_PARTS = ("device_head.", "device_hidden.", "device_layer_weights")
STANCE_BRANCH_PARTS = (STANCE_BRANCH_WEIGHTS, "stance_head.", "feature_projection.")


def head_settings(config: TrainConfig) -> dict[str, Any]:
    """The device head's shape from a training config (saved in the model's config).

    Example:
        >>> head_settings(TrainConfig())
        {'device_head_layers': 1, 'device_head_hidden': 0}
    """
    return {"device_head_layers": config.device_head_layers, "device_head_hidden": config.device_head_hidden}


def with_new_device_head(network: StanceNetwork, config: TrainConfig) -> StanceNetwork:
    """A copy of ``network`` whose device head has the shape ``config`` asks for, newly initialised; the
    encoder and the stance head keep their weights (a second phase that trains a new device head)."""
    fresh = StanceNetwork(StanceConfig.from_dict(network.config.to_dict() | head_settings(config)))
    kept = {k: v for k, v in network.state_dict().items() if not k.startswith(DEVICE_HEAD_PARTS)}
    missing, unexpected = fresh.load_state_dict(kept, strict=False)
    if unexpected or any(not k.startswith(DEVICE_HEAD_PARTS) for k in missing):
        raise ValueError(f"the weights do not fit the new device head: unexpected {unexpected[:5]}, missing {missing[:5]}")
    return fresh


def loss_settings(config: TrainConfig, feature_size: int) -> dict[str, Any]:
    """The network's loss settings from a training config (saved in the model's config), for a new model
    and for one a second phase continues from alike.

    Example:
        >>> loss_settings(TrainConfig(), 0)["distill_weight"]  # no teacher, no distillation
        0.0
    """
    return {
        "stance_loss_weight": config.stance_loss_weight,
        "device_loss_weight": config.device_loss_weight,
        "device_loss_reduction": config.device_loss_reduction,
        "distill_weight": config.distill_weight if config.distill_from else 0.0,
        "feature_distill_weight": config.feature_distill_weight if feature_size else 0.0,
    }


def train(config: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Run a whole training; returns the final metrics (also written to the output directory).

    Example:
        >>> train(TrainConfig.from_yaml("configs/default.yaml", output_dir="runs/try"))  # doctest: +SKIP
    """
    # 1. Set-up
    started = time.perf_counter()
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    set_seed(config.seed)
    taxonomy = Taxonomy.load()
    (out / "config.json").write_text(json.dumps(_asdict(config), indent=2))

    # 2. Data
    train_sets = load_sets(config.train, config.data_dir, taxonomy, config.seed)
    dev_sets = load_sets(config.dev, config.data_dir, taxonomy, config.seed)
    summary = {"train": describe(train_sets, config.train), "dev": describe(dev_sets)}
    train_records = [r for recs in train_sets.values() for r in recs]
    logger.info("training on %d sentences from %s", len(train_records), ", ".join(train_sets))

    # 3. Teacher: soft stance labels on the training targets and on the transfer set
    if config.distill_from:
        transfer = load_sets(config.transfer, config.data_dir, taxonomy, config.seed)
        summary["transfer"] = describe(transfer, config.transfer)
        train_records += [r for recs in transfer.values() for r in recs]
        if config.distill_from.endswith((".jsonl", ".jsonl.gz")):
            train_records = add_cached_teacher_probs(train_records, config.distill_from, min_found=0.9)
        else:
            train_records = add_teacher_probs(
                train_records, StanceModel.from_pretrained(config.distill_from, device=training_device())
            )
        train_records = soften(train_records, config.distill_temperature)
        if config.transfer_devices:  # a device teacher's spans on the transfer sentences
            train_records, n = add_silver_devices(
                train_records, config.transfer_devices, negative_share=config.transfer_devices_negative_share
            )
            summary["transfer_devices"] = {"transfer_devices": {"sentences": n, "targets": 0}}
            logger.info("silver device labels on %d transfer sentences", n)
    elif config.transfer or config.transfer_devices:
        raise ValueError("'transfer' data and 'transfer_devices' need 'distill_from' (a teacher model)")
    feature_size = 0
    if config.distill_features:  # a teacher's stance-head features (python -m training.distill_features)
        features, feature_size = load_features(config.distill_features)
        train_records, n = attach_features(train_records, features)
        summary["distill_features"] = {"distill_features": {"sentences": 0, "targets": n}}
        logger.info("teacher features (%d wide) for %d training targets", feature_size, n)

    # 4. Model: a new one on the base encoder, or a trained one to continue from
    model = (
        continued_model(config, taxonomy, feature_size)
        if config.init_from
        else StanceModel.from_base(
            config.base_model,
            taxonomy.names,
            internal_device_labels=taxonomy.internal,
            stance_pooling=config.stance_pooling,
            teacher_feature_size=feature_size,
            max_seq_length=config.max_seq_length,
            one_target_per_pass=config.one_target_per_pass,
            stance_branch=config.stance_branch,
            **loss_settings(config, feature_size),
            **head_settings(config),
            device=training_device(),
        )
    )
    if config.one_target_per_pass:  # the dev sets are scored per target by predict_raw, reading the saved flag
        train_records = one_target_per_record(train_records)
    (out / "data_summary.json").write_text(json.dumps(summary, indent=2))

    # 5. Training: one run, or one member per data seed averaged into one model
    model = fit_members(model, train_records, dev_sets, config, out, resume=resume, name=config.base_model)
    train_seconds = time.perf_counter() - started

    # 6. Thresholds and final dev metrics
    dev_metrics = tune_on_dev(model, dev_sets, config)

    # 7. Save
    model_dir = out / "model"
    result = {
        "headline": headline(dev_metrics),
        "datasets": dev_metrics,
        "train_seconds": train_seconds,
        "train_data": {**summary["train"], **summary.get("transfer", {}), **summary.get("transfer_devices", {})},
        "base_model": config.base_model,
        "distilled_from": config.distill_from or None,
        "teacher": teacher_summary(config.distill_from),
        "continued_from": continued_summary(config.init_from),
        "config": _asdict(config),
    }
    save_model(model, model_dir, result, config)
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    if config.teacher_probs_for:  # this model is a teacher: cache its probabilities for students
        records = [r for spec in config.teacher_probs_for for r in load_records(spec, config.data_dir, taxonomy, config.seed)]
        export_teacher_probs(model, records, out / "teacher_probs.jsonl.gz")
    logger.info("done in %.0f s: %s", train_seconds, json.dumps(result["headline"]))
    return result


def save_model(model: StanceModel, model_dir: Path, evaluation: dict[str, Any], config: TrainConfig) -> None:
    """Step 7: save a trained ``model`` as a model directory: weights (``config.save_dtype``), its
    ``evaluation.json``, the ``training.json`` that `stance retrain` replays and gates on, and the card.

    Example:
        >>> save_model(model, Path("runs/default/model"), {"headline": headline(metrics)}, config)  # doctest: +SKIP
    """
    model.save_pretrained(model_dir, dtype=getattr(torch, config.save_dtype))
    (model_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
    write_training_data(model_dir, config.train, config.dev, config.data_dir)
    write_card(model_dir)


def tune_on_dev(
    model: StanceModel,
    dev_sets: dict[str, list[LabelRecord]],
    config: TrainConfig,
    *,
    also_tune_on: list[list[LabelRecord]] | None = None,
) -> dict[str, dict]:
    """Step 6: fit the device thresholds and the stance temperature of a trained ``model`` on the dev
    sets (as ``config`` says; stored in the model's config); returns the dev metrics. Also `stance retrain`'s
    step after training: a temperature the model brings (its base's) is refitted from temperature 1;
    ``also_tune_on``: records that tune thresholds too (:func:`training.evaluate.retune_thresholds`).

    Example:
        >>> metrics = tune_on_dev(model, {"newsmtsc:dev_rw": records}, config)  # doctest: +SKIP
    """
    if config.calibrate_stance and dev_sets:
        model.config.stance_temperature = 1.0  # calibrate_stance fits from the network's own probabilities
    raws = {name: predict_raw(model, recs) for name, recs in dev_sets.items()}
    extra = [predict_raw(model, recs) for recs in also_tune_on or []] if config.tune_thresholds else []
    if config.tune_thresholds and (raws or extra):
        retune_thresholds(model, list(raws.values()), config.max_flagged_share, also_tune_on=extra)
    if config.calibrate_stance and raws:
        logger.info("stance temperature %.2f", calibrate_stance(list(raws.values()), model, config.stance_calibration))
    return {name: evaluate_raw(raw, model) for name, raw in raws.items()}


def fit(
    model: StanceModel,
    train_records: list[LabelRecord],
    dev_sets: dict[str, list[LabelRecord]],
    config: TrainConfig,
    out: str | Path,
    *,
    resume: bool = False,
    name: str = "",
    save_checkpoints: bool = True,
    seed: int | None = None,
) -> StanceModel:
    """Train ``model`` on ``train_records`` with the transformers Trainer (the one training loop that
    ``train`` and ``training.retrain`` share): the config's epochs, learning rates, batch size, warm-up,
    bf16, seed (``seed`` overrides it) and time budget; with ``dev_sets``, evaluation after every epoch, early stopping and the
    best checkpoint kept. Logs go to ``out/log.jsonl``, checkpoints to ``out/checkpoints``.

    Example:
        >>> trained = fit(StanceModel.from_pretrained("default"), records, {}, config, "runs/x")  # doctest: +SKIP
    """
    if not train_records:
        raise ValueError("no training records")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed = config.seed if seed is None else seed
    set_seed(seed)
    features = build_features(train_records, model.tokenizer, model.config.device_labels, config.max_seq_length)
    save = "epoch" if save_checkpoints else "no"
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        warmup_steps=config.warmup,
        weight_decay=config.weight_decay,
        seed=seed,
        bf16=config.bf16,
        use_cpu=not torch.cuda.is_available(),
        eval_strategy="epoch" if dev_sets else "no",
        save_strategy=save,
        save_total_limit=2,
        load_best_model_at_end=bool(dev_sets) and save_checkpoints,
        metric_for_best_model=f"eval_{config.early_stopping_metric}" if dev_sets else None,
        greater_is_better=True,
        logging_steps=config.logging_steps,
        report_to=[],
        remove_unused_columns=False,
        **_length_grouping(),
        dataloader_num_workers=0,
    )
    callbacks: list[TrainerCallback] = [JsonLogCallback(out / "log.jsonl")]
    if dev_sets and save_checkpoints:
        callbacks.append(EpochEarlyStopping(early_stopping_patience=config.early_stopping_patience))
    if config.max_train_minutes:
        callbacks.append(TimeBudgetCallback(config.max_train_minutes))
    if config.save_every_minutes and save_checkpoints:
        callbacks.append(PeriodicSaveCallback(config.save_every_minutes))
    trainer = StanceTrainer(
        model=model.network,
        args=args,
        train_dataset=features,
        eval_dataset=features[:1] if dev_sets else None,  # unused: evaluate() reads dev_sets
        data_collator=Collator(model.tokenizer.pad_token_id),
        processing_class=model.tokenizer,
        callbacks=callbacks,
        dev_sets=dev_sets,
        head_learning_rate=config.head_learning_rate,
    )
    checkpoints = out / "checkpoints"
    trainer.train(resume_from_checkpoint=resume if resume and any(checkpoints.glob("checkpoint-*")) else None)
    return StanceModel(trainer.network, model.tokenizer, name=name or model.name, device=training_device())


MEMBER_FILE = "member.safetensors"


def fit_members(
    model: StanceModel,
    train_records: list[LabelRecord],
    dev_sets: dict[str, list[LabelRecord]],
    config: TrainConfig,
    out: Path,
    *,
    resume: bool = False,
    name: str = "",
) -> StanceModel:
    """Step 5. Without ``config.data_seeds``, one ``fit``. With them, one ``fit`` per seed (the seed
    of the data order and dropout), each from the same initial weights, and the members' weights
    averaged into ``model``: a uniform model soup (Wortsman et al., 2022), one model as fast as one
    member. A finished member's weights are kept in ``out/member-SEED/member.safetensors`` and read
    back, not retrained, when the run is started again.

    Example:
        >>> soup = fit_members(model, records, dev_sets, TrainConfig(data_seeds=(43, 44)), Path("runs/x"))  # doctest: +SKIP
    """
    if not config.data_seeds:
        return fit(model, train_records, dev_sets, config, out, resume=resume, name=name)
    from safetensors.torch import load_file, save_file

    initial = {k: v.detach().clone() for k, v in model.network.state_dict().items()}
    members = []
    for seed in config.data_seeds:
        path = out / f"member-{seed}" / MEMBER_FILE
        if path.exists():
            logger.info("member %d: reading its finished weights from %s", seed, path)
            members.append(load_file(str(path)))
            continue
        model.network.load_state_dict(initial)
        trained = fit(model, train_records, dev_sets, config, path.parent, resume=resume, name=name, seed=seed)
        weights = {k: v.detach().float().cpu().clone() for k, v in trained.network.state_dict().items()}
        save_file(weights, str(path))
        members.append(weights)
    model.network.load_state_dict(average_weights(members))
    return model


def average_weights(members: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several state dicts with the same keys (integer buffers taken
    from the first).

    Example:
        >>> average_weights([{"w": torch.tensor([1.0])}, {"w": torch.tensor([3.0])}])["w"]
        tensor([2.])
    """
    if not members:
        raise ValueError("no members to average")
    keys = set(members[0])
    for i, m in enumerate(members[1:], 1):
        if set(m) != keys:
            raise ValueError(f"member {i} has other weights than member 0: {sorted(keys ^ set(m))[:5]}")
    return {
        k: torch.stack([m[k].float() for m in members]).mean(0) if members[0][k].is_floating_point() else members[0][k]
        for k in members[0]
    }


def add_teacher_probs(records: list[LabelRecord], teacher: StanceModel) -> list[LabelRecord]:
    """Attach the teacher's stance probabilities (meta ``teacher_probs``, one row per target; a
    target the teacher's encoding cut off gets none, an all-zero row). A teacher saved with
    ``one_target_per_pass`` encodes each target alone."""
    with_targets = [r for r in records if r.targets]
    raw = predict_raw(teacher, with_targets, batch_size=128)
    for r, enc, probs in zip(with_targets, raw.encoded, raw.stance):
        r.meta["teacher_probs"] = [
            [float(x) for x in probs[slot]] if slot is not None else [0.0] * len(teacher.stance_labels)
            for slot in enc.target_slots
        ]
    return records


def soften(records: list[LabelRecord], temperature: float) -> list[LabelRecord]:
    """Teacher probabilities raised to 1/T and renormalised (T > 1 softer, T < 1 sharper)."""
    if temperature <= 0:
        raise ValueError(f"distill_temperature must be positive, got {temperature}")
    if temperature == 1.0:
        return records
    for r in records:
        if "teacher_probs" in r.meta:  # all-zero rows (targets the teacher's encoding cut off) stay zero
            r.meta["teacher_probs"] = temperature_scaled(r.meta["teacher_probs"], temperature).tolist()
    return records


def teacher_summary(distill_from: str) -> dict[str, Any] | None:
    """Base model and dev metrics of the teacher (from its run's metrics.json), for the model card."""
    if not distill_from:
        return None
    path = Path(distill_from).parent / "metrics.json"  # the teacher's run directory holds both
    if not path.exists():
        return {"source": distill_from}
    metrics = json.loads(path.read_text())
    return {"source": distill_from, "base_model": metrics.get("base_model"), "headline": metrics.get("headline")}


def continued_summary(init_from: str) -> dict[str, Any] | None:
    """The model a second phase continued from: its path, dev headline and training data (from its
    ``evaluation.json``), so that the card names all the data the weights have seen."""
    if not init_from:
        return None
    path = Path(init_from) / "evaluation.json"
    ev = json.loads(path.read_text()) if path.exists() else {}
    return {"source": init_from, "headline": ev.get("headline"), "train_data": ev.get("train_data") or {}}


def export_teacher_probs(teacher: StanceModel, records: list[LabelRecord], path: str | Path) -> int:
    """Write a teacher's stance probabilities for the records' targets as JSONL, gzipped when the
    name ends in ``.gz`` (a cache that ``distill_from: FILE`` reads instead of running the teacher).
    Each line holds a hash of the sentence, not its text, so the file can be committed. Returns lines written."""
    records = add_teacher_probs([r for r in records if r.targets], teacher)
    with _open_text(path, "w") as fh:
        for r in records:
            spans = [[t.start, t.end] for t in r.targets]
            probs = [[round(x, 4) for x in row] for row in r.meta["teacher_probs"]]
            fh.write(json.dumps({"hash": text_hash(r.text), "targets": spans, "probs": probs}) + "\n")
    return len(records)


def add_cached_teacher_probs(records: list[LabelRecord], path: str | Path, *, min_found: float = 0.0) -> list[LabelRecord]:
    """Attach teacher probabilities from a file written by :func:`export_teacher_probs` (lines keyed
    by a hash of the sentence, or by its ``text`` in older files); records missing from it keep gold labels only.
    ``min_found``: ValueError when a smaller share of the file's entries finds its sentence among ``records``
    (the data under the file changed, and the soft labels would be lost without a word); 0 where ``records``
    are a sample (a retrain's replay).

    Example:
        >>> add_cached_teacher_probs(records, "training/data/teacher/newsmtsc_train.jsonl.gz", min_found=0.9)  # doctest: +SKIP
    """
    cache = {}
    with _open_text(path, "r") as fh:
        for line in fh:
            obj = json.loads(line)
            key = obj["hash"] if "hash" in obj else text_hash(obj["text"])
            cache[(key, tuple(map(tuple, obj["targets"])))] = obj["probs"]
    hits, found = 0, set()
    for r in records:
        if "teacher_probs" in r.meta:  # already labelled (the transfer set)
            continue
        key = (text_hash(r.text), tuple((t.start, t.end) for t in r.targets))
        probs = cache.get(key)
        if probs is not None:
            r.meta["teacher_probs"] = probs
            hits += 1
            found.add(key)
    logger.info("teacher probabilities for %d of %d sentences with targets", hits, sum(1 for r in records if r.targets))
    if cache and len(found) < min_found * len(cache):
        raise ValueError(
            f"{path}: only {len(found)} of its {len(cache)} sentences are in the training data (at least {min_found:.0%} "
            "expected): the data it was written for has changed; write it again from the teacher (teacher_probs_for)"
        )
    return records


def _open_text(path: str | Path, mode: str):
    import gzip

    return gzip.open(path, mode + "t", encoding="utf-8") if str(path).endswith(".gz") else open(path, mode, encoding="utf-8")


def _length_grouping() -> dict[str, Any]:
    """Batches of similar length: ``train_sampling_strategy`` in newer transformers, ``group_by_length`` before."""
    from dataclasses import fields

    names = {f.name for f in fields(TrainingArguments)}
    return {"train_sampling_strategy": "group_by_length"} if "train_sampling_strategy" in names else {"group_by_length": True}


def training_device() -> str:
    """ "cuda" where a GPU is there, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def _asdict(config: TrainConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(config)


def main(argv: list[str] | None = None) -> None:
    """``python -m training.train CONFIG [--output-dir DIR] [--resume]``: ``stance train`` itself (one
    command, with its checks and messages), for where the ``stance`` script is not on the PATH."""
    import sys

    import typer

    from stance.cli.main import app

    command = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    command(sys.argv[1:] if argv is None else argv, prog_name="python -m training.train")


if __name__ == "__main__":
    main()
