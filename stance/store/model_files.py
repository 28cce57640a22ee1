"""Where a model name points, the version hash of a model directory, and what inference needs of its
config; light (no torch, no transformers), so that the main process of `stance score --workers N`,
`stance compare`, run.json and the scoring workers of an exported backend can use them.

Example:
    >>> Path(resolve_model("default")).name
    'default'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from stance.labels.format import STANCE_LABELS
from stance.model.outputs import DevicePrediction, device_predictions
from stance.resources import MODELS_DIR


def resolve_model(name_or_path: str | Path) -> str:
    """``default`` (or any name under stance/models/) -> shipped directory; ``active`` -> the model
    registry's active version (the shipped ``default`` when none is active); a registry version id
    -> its model directory (see stance.store.registry); else path or hub id."""
    if str(name_or_path) and "/" not in str(name_or_path) and not Path(str(name_or_path)).exists():
        from stance.store.registry import resolve_registry_name

        registered = resolve_registry_name(str(name_or_path))
        if registered is not None:
            return str(registered)
        if str(name_or_path) == "active":
            name_or_path = "default"
    candidate = MODELS_DIR / str(name_or_path)
    if str(name_or_path) and "/" not in str(name_or_path) and (candidate / "config.json").exists():
        return str(candidate)
    if str(name_or_path) == "default":
        raise ValueError(f"the default model is missing from {candidate}; reinstall the package")
    return str(name_or_path)


def local_model_dir(name: str | Path) -> Path | None:
    """The local directory a model name points to (see :func:`resolve_model`), or None for a hub id, an
    unknown name or a missing shipped model; without importing torch.

    Example:
        >>> local_model_dir("default").name
        'default'
        >>> local_model_dir("someone/some-hub-model") is None
        True
    """
    try:
        path = Path(resolve_model(name))
    except ValueError:
        return None
    return path if path.is_dir() else None


def temperature_scaled(probs: Any, temperature: float) -> Any:
    """Probabilities at another temperature over the last axis: p ** (1/T) renormalised, which is
    softmax(logits / T) for p = softmax(logits). Rows of zeros (no probabilities) stay zero.

    Example:
        >>> temperature_scaled([[0.8, 0.2]], 2.0).round(3).tolist()
        [[0.667, 0.333]]
    """
    import numpy as np

    if temperature <= 0:
        raise ValueError(f"a temperature must be positive, got {temperature}")
    scaled = np.power(np.asarray(probs, dtype=np.float64), 1.0 / temperature)
    sums = scaled.sum(-1, keepdims=True)
    return np.divide(scaled, sums, out=np.zeros_like(scaled), where=sums > 0)


HUB_HOST = ("huggingface.co", 443)
HUB_TIMEOUT_S = 3.0


def check_hub_name(name: str) -> None:
    """For a resolved model name that is no local directory (so it will be tried as a Hugging Face
    hub id): fail at once, saying how the name was read, when the hub cannot be reached
    (``HF_HUB_OFFLINE`` set, or no connection within a few seconds) instead of waiting on the hub's
    retries. A local directory passes without a check.

    Example:
        >>> check_hub_name(resolve_model("default"))
    """
    import os
    import socket

    if Path(name).is_dir():
        return

    read_as = (
        f"{name!r} is not a local model directory, not a version of the model registry and not a shipped model "
        "('default', 'active'); it was tried as a Hugging Face hub id"
    )
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ValueError(f"{read_as}, but HF_HUB_OFFLINE is set")
    try:
        with socket.create_connection(HUB_HOST, timeout=HUB_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ValueError(
            f"{read_as}, but {HUB_HOST[0]} cannot be reached ({exc.__class__.__name__}); check the name or the network"
        ) from None


def model_version(path: str | Path | None) -> str | None:
    """A short hash of a model directory's config and whole weights file: the version that
    ``stance score`` records in run.json and ``stance serve`` reports (None without files). Hashed once
    per file state (path, size, modification time) in a process: about 0.1 s for the default model.

    Example:
        >>> model_version(resolve_model("default"))  # doctest: +SKIP
        '2dbebcc1226d'
    """
    if not path:
        return None
    model_dir = Path(path)
    config_file = model_dir / "config.json"
    if not config_file.exists():
        return None
    weights = model_dir / "model.safetensors"
    state = weights.stat() if weights.exists() else None
    weights_hash = _file_hash(str(weights.resolve()), state.st_size, state.st_mtime_ns) if state else ""
    return hashlib.sha256(config_file.read_bytes() + weights_hash.encode()).hexdigest()[:12]


@lru_cache(maxsize=16)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, read in 4 MB blocks (``size`` and ``mtime_ns`` key the cache)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class InferenceSettings:
    """What inference needs of a model's ``config.json``: the label sets, the device thresholds
    and the maximum length (the full :class:`~stance.model.config.StanceConfig` needs transformers).

    Example:
        >>> InferenceSettings(device_labels=("doubt", "propaganda_span"), internal_device_labels=("propaganda_span",)).reported_device_labels
        ['doubt']
    """

    stance_labels: tuple[str, ...] = STANCE_LABELS
    device_labels: tuple[str, ...] = ()
    internal_device_labels: tuple[str, ...] = ()
    device_thresholds: dict[str, float] = field(default_factory=dict)
    max_seq_length: int = 256
    stance_temperature: float = 1.0  # fitted on the dev sets after training (calibration); 1 = as the network says

    def calibrate(self, stance_probs: Any) -> Any:
        """Temperature-scaled stance probabilities (see :func:`temperature_scaled`)."""
        if self.stance_temperature == 1.0 or stance_probs.size == 0:
            return stance_probs
        return temperature_scaled(stance_probs, self.stance_temperature).astype(stance_probs.dtype)

    @property
    def reported_device_labels(self) -> list[str]:
        """The device labels a model reports (its internal auxiliary labels left out)."""
        return [x for x in self.device_labels if x not in self.internal_device_labels]

    def decode_devices(self, probs: Any, offsets: Any, text: str) -> tuple[DevicePrediction, ...]:
        """The device spans users get from one sentence's token probabilities (see
        :func:`stance.model.encoding.decode_devices`), as typed and rounded predictions: every reported
        label but PTC's techniques (:func:`~stance.labels.taxonomy.ptc_techniques`) as a device of its own."""
        from stance.labels.taxonomy import ptc_techniques
        from stance.model.encoding import decode_devices

        techniques = ptc_techniques()
        decoded = decode_devices(
            probs,
            offsets,
            text,
            labels=self.device_labels,
            reported=self.reported_device_labels,
            thresholds=self.device_thresholds,
            fixed=[x for x in self.reported_device_labels if x not in techniques],
        )
        return device_predictions(decoded, text)

    @classmethod
    def from_config(cls, config: Any) -> InferenceSettings:
        """From a StanceConfig (or anything with the same attributes)."""
        return cls(
            tuple(config.stance_labels),
            tuple(config.device_labels),
            tuple(config.internal_device_labels),
            dict(config.device_thresholds),
            int(config.max_seq_length),
            float(getattr(config, "stance_temperature", 1.0)),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> InferenceSettings:
        """From a saved model's ``config.json`` (the defaults of StanceConfig where a key is missing)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("model_type") != "stance":
            raise ValueError(f"{path}: not a stance model config (model_type {data.get('model_type')!r})")
        defaults = cls()
        return cls(
            tuple(data.get("stance_labels") or defaults.stance_labels),
            tuple(data.get("device_labels") or ()),
            tuple(data.get("internal_device_labels") or ()),
            dict(data.get("device_thresholds") or {}),
            int(data.get("max_seq_length", defaults.max_seq_length)),
            float(data.get("stance_temperature", 1.0)),
        )
