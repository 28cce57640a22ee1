"""The typed training configuration, read from YAML (see configs/default.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from training.convert import DEFAULT_DATA_DIR

CALIBRATION_OBJECTIVES = ("nll", "worst_ece")  # stance_calibration: training.metrics.fit_temperature, fit_temperature_worst_ece


def read_yaml_settings(path: str | Path, config_class: type, **overrides: Any) -> dict[str, Any]:
    """The settings of a YAML config file, ``overrides`` that are not None winning; a setting that is not
    a field of ``config_class`` (a dataclass) is an error. Shared by every config class of training/.

    Example:
        >>> read_yaml_settings("configs/transfer.yaml", TransferConfig, articles=10)["articles"]  # doctest: +SKIP
        10
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    if unknown := sorted(set(raw) - {f.name for f in fields(config_class)}):
        raise ValueError(f"{path}: unknown settings {unknown}")
    return raw


LABELLED_SOURCES = frozenset({"allsides"})  # sources whose labels are the project's standoff files (``labels``)


@dataclass(frozen=True)
class DataSpec:
    """One training or evaluation data source.

    Either ``source`` (a converter name: newsmtsc, ptc, polnear, szeged, babe, framing, allsides) with
    its ``split``, or ``path`` to a file in the project's label format. For ``allsides``, ``labels``
    names the standoff files to read (default: ``training/data/real_devices/``).
    """

    source: str = ""
    split: str = "train"
    path: str = ""
    max_records: int | None = field(default=None, metadata={"help": "keep at most this many sentences (a seeded sample)"})
    only_labelled: bool = field(default=False, metadata={"help": "drop sentences with no target and no device span"})
    repeat: int = field(default=1, metadata={"help": "oversample: use each record this many times per epoch"})
    labels: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "source allsides: the standoff label folders, files or globs to read (default: "
            "training/data/real_devices/ of the imported package), e.g. [training/data/real_devices, "
            "training/data/real_devices_next]"
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.labels, str) or not all(isinstance(x, str) for x in self.labels):
            raise ValueError(f"'labels' is a list of folders, files or globs, not {self.labels!r}")
        object.__setattr__(self, "labels", tuple(self.labels))
        if self.labels and self.source not in LABELLED_SOURCES:
            raise ValueError(
                f"'labels' is read by source {', '.join(sorted(LABELLED_SOURCES))} only, not {self.source or self.path!r}"
            )

    @property
    def name(self) -> str:
        return f"{self.source}:{self.split}" if self.source else Path(self.path).stem


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs. Unknown keys in the YAML are an error."""

    base_model: str = field(default="minilm", metadata={"help": "minilm, mpnet, a local directory or a hub id"})
    init_from: str = field(
        default="",
        metadata={
            "help": "a trained stance model directory to continue from (encoder and heads), a second training phase; "
            "its device labels, pooling and maximum length must be this run's; base_model then names the encoder only in the card"
        },
    )
    output_dir: str = field(default="runs/default", metadata={"help": "checkpoints, logs and the final model"})
    data_dir: str = field(default=DEFAULT_DATA_DIR, metadata={"help": "where the public datasets live"})
    train: tuple[DataSpec, ...] = ()
    dev: tuple[DataSpec, ...] = field(default=(), metadata={"help": "evaluated each epoch; early stopping"})
    transfer: tuple[DataSpec, ...] = field(
        default=(), metadata={"help": "unlabelled targets that the teacher labels (distillation only)"}
    )
    early_stopping_metric: str = field(default="score", metadata={"help": "a key of the dev metrics, higher is better"})
    early_stopping_patience: int = 2
    epochs: float = 3.0
    learning_rate: float = 5e-5
    head_learning_rate: float = field(default=1e-3, metadata={"help": "learning rate of the two heads"})
    batch_size: int = 16
    warmup: float = field(default=0.06, metadata={"help": "share of steps for linear warm-up"})
    weight_decay: float = 0.01
    seed: int = field(default=42, metadata={"help": "seed of the heads' initialisation, the data order and dropout"})
    data_seeds: tuple[int, ...] = field(
        default=(),
        metadata={
            "help": "train one member per seed (data order and dropout; the same initialisation) and average their "
            "weights, a uniform model soup: one model, as fast as one member; empty = one run with `seed`"
        },
    )
    max_seq_length: int = 128
    bf16: bool = True
    stance_loss_weight: float = 1.0
    device_loss_weight: float = 1.0
    device_loss_reduction: str = field(
        default="token",
        metadata={"help": "'token': BIO loss summed over device labels, mean over tokens; 'entry': mean over both"},
    )
    stance_pooling: str = field(
        default="markers",
        metadata={
            "help": "what the stance head reads per target: 'markers' (its two marker states and [CLS]) or "
            "'attention' (those plus the sentence weighted by the target's attention over it)"
        },
    )
    distill_from: str = field(
        default="", metadata={"help": "a teacher model directory, or its teacher_probs.jsonl: distil its stance probabilities"}
    )
    distill_features: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "files of a teacher's stance-head features (python -m training.distill_features): the student "
            "maps its own onto them (feature distillation), weighted by feature_distill_weight"
        },
    )
    feature_distill_weight: float = field(
        default=1.0, metadata={"help": "weight of the feature loss (1 - cosine similarity) where distill_features is set"}
    )
    transfer_devices: str = field(
        default="",
        metadata={
            "help": "silver device labels on the transfer sentences (python -m training.silver_devices): "
            "the device loss then applies to those sentences too"
        },
    )
    transfer_devices_negative_share: float = field(
        default=1.0,
        metadata={"help": "share of the device-free silver sentences that count for the device loss (the rest: none)"},
    )
    teacher_probs_for: tuple[DataSpec, ...] = field(
        default=(),
        metadata={"help": "after training, write this model's stance probabilities on these data (teacher_probs.jsonl)"},
    )
    distill_weight: float = field(default=0.5, metadata={"help": "share of the stance loss taken from the teacher"})
    distill_temperature: float = field(
        default=1.0, metadata={"help": "soften the teacher's probabilities: p ** (1/T), renormalised (1 = as they are)"}
    )
    device_head_layers: int = field(
        default=1,
        metadata={"help": "the device head reads a learned mix of the encoder's last N layers (1: the last only)"},
    )
    device_head_hidden: int = field(
        default=0, metadata={"help": "width of a hidden layer in the device head (0: one linear map)"}
    )
    train_only_device_head: bool = field(
        default=False,
        metadata={
            "help": "with init_from: train the device head alone, the encoder and stance head frozen, so that the "
            "stance of the model continued from stays exactly as it was"
        },
    )
    stance_branch: bool = field(
        default=False,
        metadata={
            "help": "the stance head reads its own copy of the encoder's last layer, run only at the targets' "
            "markers (a new model copies the base's last layer; with init_from, the model's); saved in the model's config"
        },
    )
    train_only_stance_branch: bool = field(
        default=False,
        metadata={
            "help": "with init_from and stance_branch: train the stance branch and the stance head alone, the encoder "
            "and device head frozen, so that the devices of the model continued from stay exactly as they were"
        },
    )
    one_target_per_pass: bool = field(
        default=False,
        metadata={"help": "encode each target in its own pass (a teacher: slower, more accurate); saved in the model's config"},
    )
    tune_thresholds: bool = field(default=True, metadata={"help": "tune per-device span thresholds on the dev data"})
    max_flagged_share: float | None = field(
        default=None,
        metadata={
            "help": "after tuning, raise the six devices' thresholds until at most this share of device-free dev sentences is flagged"
        },
    )
    calibrate_stance: bool = field(
        default=True,
        metadata={"help": "fit a temperature for the stance probabilities on the dev data (saved in the model's config)"},
    )
    stance_calibration: str = field(
        default="nll",
        metadata={
            "help": "the temperature's objective: 'nll' (log-likelihood of the dev sets pooled) or 'worst_ece' "
            "(the largest calibration error of any one dev set)"
        },
    )
    save_dtype: str = field(default="bfloat16", metadata={"help": "dtype of the saved weights"})
    logging_steps: int = 50
    max_train_minutes: float | None = field(
        default=None, metadata={"help": "stop after this much training time, keeping the best checkpoint so far"}
    )
    save_every_minutes: float | None = field(
        default=None,
        metadata={"help": "also save a checkpoint every this many minutes of training, for --resume after a stop mid-epoch"},
    )

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read a YAML config; ``overrides`` (e.g. output_dir) win over the file.

        Example:
            >>> TrainConfig.from_yaml("configs/default.yaml").base_model  # doctest: +SKIP
            'minilm'
        """
        return cls.from_dict(read_yaml_settings(path, cls, **overrides), where=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "config") -> TrainConfig:
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(raw) - known):
            raise ValueError(f"{where}: unknown settings {unknown}")
        values = dict(raw)
        for key in ("train", "dev", "transfer", "teacher_probs_for"):
            values[key] = tuple(_spec(item, f"{where}: {key}[{i}]") for i, item in enumerate(raw.get(key) or ()))
        for group in (("train", "transfer"), ("dev",)):  # each spec's records are kept under its name
            names = [spec.name for key in group for spec in values[key]]
            if repeated := sorted({n for n in names if names.count(n) > 1}):
                raise ValueError(
                    f"{where}: {' and '.join(group)} name {', '.join(map(repr, repeated))} twice: a spec's records are "
                    "kept under its name (source:split, or a file's stem), so one would replace the other; "
                    "merge them into one spec or rename a file"
                )
        values["data_seeds"] = tuple(raw.get("data_seeds") or ())
        values["distill_features"] = tuple(raw.get("distill_features") or ())
        if len(set(values["data_seeds"])) != len(values["data_seeds"]):
            raise ValueError(f"{where}: data_seeds repeats a seed: {list(values['data_seeds'])}")
        if values.get("stance_calibration", "nll") not in CALIBRATION_OBJECTIVES:
            raise ValueError(
                f"{where}: stance_calibration must be one of {CALIBRATION_OBJECTIVES}, not {values['stance_calibration']!r}"
            )
        from stance.model.config import check_stance_pooling  # the model's own check; imported here to keep this module light

        try:
            check_stance_pooling(values.get("stance_pooling", "markers"))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if values.get("train_only_device_head") and not values.get("init_from"):
            raise ValueError(f"{where}: train_only_device_head needs init_from (a trained model whose device head to train)")
        if values.get("train_only_stance_branch") and not (values.get("init_from") and values.get("stance_branch")):
            raise ValueError(f"{where}: train_only_stance_branch needs init_from and stance_branch: true")
        if values.get("train_only_stance_branch") and values.get("train_only_device_head"):
            raise ValueError(f"{where}: train_only_stance_branch and train_only_device_head exclude each other")
        if values.get("train_only_stance_branch") and values.get("tune_thresholds", True):
            raise ValueError(
                f"{where}: train_only_stance_branch keeps the devices as they were: set tune_thresholds: false "
                "(the device thresholds would be tuned again)"
            )
        return cls(**values)


def _spec(item: Any, where: str) -> DataSpec:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a mapping with 'source' or 'path'")
    known = {f.name for f in fields(DataSpec)}
    if unknown := sorted(set(item) - known):
        raise ValueError(f"{where}: unknown keys {unknown}")
    try:
        spec = DataSpec(**{**item, "labels": item.get("labels") or ()})
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    if bool(spec.source) == bool(spec.path):
        raise ValueError(f"{where}: give exactly one of 'source' and 'path'")
    return spec


TRAINING_DATA_FILE = "training.json"


@dataclass(frozen=True)
class TrainingData:
    """The data a model was trained and checked on, stored beside its weights (``training.json``):
    ``stance retrain`` replays a sample of ``train`` and gates on the ``dev`` sets."""

    train: tuple[DataSpec, ...]
    dev: tuple[DataSpec, ...]
    data_dir: str


def write_training_data(model_dir: str | Path, train: tuple[DataSpec, ...], dev: tuple[DataSpec, ...], data_dir: str) -> Path:
    """Write ``training.json`` into a model directory. File specs inside the model directory are stored
    relative to it (so the directory can be copied); other paths and ``data_dir`` absolute.

    Example:
        >>> write_training_data("runs/default/model", config.train, config.dev, config.data_dir)  # doctest: +SKIP
    """
    from dataclasses import asdict, replace

    model_dir = Path(model_dir).resolve()

    def portable(spec: DataSpec) -> dict[str, Any]:
        if spec.path:
            path = Path(spec.path).resolve()
            spec = replace(spec, path=str(path.relative_to(model_dir)) if path.is_relative_to(model_dir) else str(path))
        if spec.labels:  # where this machine found them, so that a retrain reads the same files
            from training.convert.allsides import label_files

            spec = replace(spec, labels=tuple(str(p.resolve()) for p in label_files(spec.labels)))
        return {
            k: v for k, v in asdict(spec).items() if v not in ("", None, ()) and not (k == "repeat" and v == 1) and v is not False
        }

    data = {"train": [portable(s) for s in train], "dev": [portable(s) for s in dev], "data_dir": str(Path(data_dir).resolve())}
    path = model_dir / TRAINING_DATA_FILE
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def read_training_data(model_dir: str | Path) -> TrainingData | None:
    """The ``training.json`` of a model directory (relative file specs resolved against it), or
    None when the directory has none (e.g. the shipped model, trained before it existed).

    Example:
        >>> read_training_data("runs/default/model").dev[0].name  # doctest: +SKIP
        'newsmtsc:dev_rw'
    """
    from dataclasses import replace

    model_dir = Path(model_dir)
    path = model_dir / TRAINING_DATA_FILE
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))

    def spec(item: dict[str, Any], where: str) -> DataSpec:
        s = _spec(item, where)
        return replace(s, path=str(model_dir / s.path)) if s.path and not Path(s.path).is_absolute() else s

    return TrainingData(
        train=tuple(spec(x, f"{path}: train[{i}]") for i, x in enumerate(raw.get("train", []))),
        dev=tuple(spec(x, f"{path}: dev[{i}]") for i, x in enumerate(raw.get("dev", []))),
        data_dir=str(raw.get("data_dir") or DEFAULT_DATA_DIR),
    )
