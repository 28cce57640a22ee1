"""`StanceConfig`: what a saved model's ``config.json`` holds (the encoder's own config, both
label sets, decoding settings).

Kept apart from :mod:`stance.model.network` so that loading a model for an exported backend
(OpenVINO, ONNX) reads its labels without importing the PyTorch network code.

Example:
    >>> StanceConfig(device_labels=["loaded_language"]).stance_labels
    ['negative', 'neutral', 'positive']
"""

from __future__ import annotations

from typing import Any

from transformers import AutoConfig, PretrainedConfig

from stance.labels.format import STANCE_LABELS
from stance.store.model_files import InferenceSettings

# What the stance head reads for each target: "markers" = its [TGT] and [/TGT] states and [CLS];
# "attention" adds a summary of the sentence weighted by the target's own attention over its tokens.
STANCE_POOLINGS = ("markers", "attention")


def check_stance_pooling(value: str) -> str:
    """``value`` if it names a stance pooling, else a ValueError naming the choices.

    Example:
        >>> check_stance_pooling("attention")
        'attention'
    """
    if value not in STANCE_POOLINGS:
        raise ValueError(f"stance_pooling must be one of {', '.join(STANCE_POOLINGS)}, not {value!r}")
    return value


def check_device_head(layers: int, hidden: int, encoder: dict[str, Any]) -> int:
    """``layers`` if the device head can read that many of the encoder's last layers through a hidden
    layer ``hidden`` wide, else a ValueError.

    Example:
        >>> check_device_head(3, 0, {"num_hidden_layers": 6})
        3
        >>> check_device_head(8, 0, {"num_hidden_layers": 6})
        Traceback (most recent call last):
        ...
        ValueError: device_head_layers must be between 1 and 6 (the encoder's layers), not 8
    """
    most = encoder.get("num_hidden_layers", layers)
    if not isinstance(layers, int) or not 1 <= layers <= most:
        raise ValueError(f"device_head_layers must be between 1 and {most} (the encoder's layers), not {layers!r}")
    if not isinstance(hidden, int) or hidden < 0:
        raise ValueError(f"device_head_hidden must be a width of 0 or more, not {hidden!r}")
    return layers


class StanceConfig(PretrainedConfig):
    """Configuration: the encoder's own config plus both label sets and decoding settings."""

    model_type = "stance"

    def __init__(
        self,
        encoder: dict[str, Any] | None = None,
        stance_labels: list[str] | None = None,
        device_labels: list[str] | None = None,
        internal_device_labels: list[str] | None = None,
        device_thresholds: dict[str, float] | None = None,
        device_min_scores: dict[str, float] | None = None,
        stance_loss_weight: float = 1.0,
        device_loss_weight: float = 1.0,
        head_dropout: float = 0.1,
        device_loss_reduction: str = "token",
        max_seq_length: int = InferenceSettings.max_seq_length,
        stance_temperature: float = 1.0,
        stance_pooling: str = "markers",
        teacher_feature_size: int = 0,
        feature_distill_weight: float = 0.0,
        device_head_layers: int = 1,
        device_head_hidden: int = 0,
        stance_branch: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.stance_labels = list(stance_labels or STANCE_LABELS)
        self.device_labels = list(device_labels or [])
        self.internal_device_labels = list(internal_device_labels or [])
        self.device_thresholds = dict(device_thresholds or {})
        self.device_min_scores = dict(device_min_scores or {})  # a decoded span scored lower is dropped (tuned on dev)
        self.stance_loss_weight = stance_loss_weight
        self.device_loss_weight = device_loss_weight
        self.head_dropout = head_dropout
        self.device_loss_reduction = device_loss_reduction
        self.max_seq_length = max_seq_length
        self.stance_temperature = stance_temperature  # calibration, fitted on the dev sets (InferenceSettings.calibrate)
        self.stance_pooling = check_stance_pooling(stance_pooling)
        # training only: the width of a teacher's stance-head features matched through a projection
        self.teacher_feature_size = teacher_feature_size
        self.feature_distill_weight = feature_distill_weight
        # what the device head reads: a learned mix of the encoder's last N layers (1: the last only),
        # through a hidden layer of this width (0: none, one linear map)
        self.device_head_layers = check_device_head(device_head_layers, device_head_hidden, self.encoder)
        self.device_head_hidden = device_head_hidden
        # the stance head reads its own copy of the encoder's last layer, run at the targets' markers only
        if not isinstance(stance_branch, bool):
            raise ValueError(f"stance_branch must be true or false, not {stance_branch!r}")
        if stance_branch and self.stance_pooling != "markers":  # its summary would read the shared last layer
            raise ValueError("stance_branch works with stance_pooling 'markers' only")
        self.stance_branch = stance_branch

    @property
    def encoder_config(self) -> PretrainedConfig:
        """The encoder's own config (``encoder``, with its ``model_type``); ValueError where it is missing,
        as in the config of a base encoder loaded as a stance model.

        Example:
            >>> StanceConfig().encoder_config
            Traceback (most recent call last):
            ...
            ValueError: this config has no 'encoder' with a model_type: not the config of a stance model
        """
        config = dict(self.encoder)
        if "model_type" not in config:
            raise ValueError("this config has no 'encoder' with a model_type: not the config of a stance model")
        return AutoConfig.for_model(config.pop("model_type"), **config)


AutoConfig.register("stance", StanceConfig, exist_ok=True)
