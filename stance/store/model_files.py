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
import os
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
    -> its model directory (see stance.store.registry); else path (``~`` expanded) or hub id. The one
    place a model name is read; :func:`locate_model` also finds a hub id's files and checks them.

    Example:
        >>> resolve_model("~/my-model") == str(Path.home() / "my-model")
        True
    """
    name = os.path.expanduser(str(name_or_path))  # a hub id never starts with "~"
    if name and "/" not in name and not Path(name).exists():
        from stance.store.registry import resolve_registry_name

        registered = resolve_registry_name(name)
        if registered is not None:
            return str(registered)
        if name == "active":
            name = "default"
    candidate = MODELS_DIR / name
    if name and "/" not in name and (candidate / "config.json").exists():
        return str(candidate)
    if name == "default":
        raise ValueError(f"the default model is missing from {candidate}; reinstall the package")
    return name


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


HUB_TIMEOUT_S = 3.0
HUB_FILES = ("*.json", "model.safetensors")
"""What a hub model's snapshot needs: config, tokenizer, evaluation and backends.json files, and the weights."""


def locate_model(name_or_path: str | Path) -> Path:
    """The local directory of a model name, checked to hold a stance model: the directory
    :func:`resolve_model` names, or for a hub id its snapshot in the Hugging Face cache
    (:func:`hub_snapshot`). Every load of a model starts here; ValueError saying what is wrong.

    Example:
        >>> locate_model("default").name
        'default'
    """
    path = Path(resolve_model(name_or_path))
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file; a model is a directory (config.json, model.safetensors, tokenizer.json)")
    directory = path if path.is_dir() else hub_snapshot(str(path))
    check_model_dir(directory)
    return directory


def hub_snapshot(name: str) -> Path:
    """The directory of a Hugging Face hub model's files (:data:`HUB_FILES`) in the hub's cache,
    downloaded where the hub has a newer snapshot. huggingface_hub decides where to look
    (``HF_ENDPOINT``, proxies, ``HF_HUB_OFFLINE``: the cached snapshot only); a hub that does not
    answer within :data:`HUB_TIMEOUT_S` seconds means the cached snapshot too. ValueError saying how
    the name was read when there is none.

    Example:
        >>> hub_snapshot("someone/stance-model")  # doctest: +SKIP
        PosixPath('/home/me/.cache/huggingface/hub/models--someone--stance-model/snapshots/1a2b3c')
    """
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    read_as = (
        f"{name!r} is not a local model directory, not a version of the model registry and not a shipped model "
        "('default', 'active'); it was tried as a Hugging Face hub id"
    )
    revision = None
    if not _hub_offline():
        try:
            revision = HfApi().model_info(name, timeout=HUB_TIMEOUT_S).sha
        except RepositoryNotFoundError as exc:  # the hub answered: no such model (or gated, or private)
            raise ValueError(f"{read_as}, and the hub answered: {_first_line(exc)}") from None
        except ValueError as exc:  # huggingface_hub's check of the id
            raise ValueError(f"{read_as}, but it is not a valid one ({_first_line(exc)})") from None
        except Exception:  # noqa: BLE001 (no answer: the network, a proxy, a timeout) -> the cached snapshot
            revision = None
    try:
        return Path(snapshot_download(name, revision=revision, allow_patterns=list(HUB_FILES), local_files_only=revision is None))
    except Exception as exc:  # noqa: BLE001 (huggingface_hub's errors: not cached, an incomplete snapshot, an invalid id)
        why = "HF_HUB_OFFLINE is set" if _hub_offline() else f"the hub could not be reached (in {HUB_TIMEOUT_S:g} s)"
        raise ValueError(
            f"{read_as}, but {why} and the Hugging Face cache has no complete snapshot of it ({_first_line(exc)})"
        ) from None


def _hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` is set now (huggingface_hub reads it once, when it is imported)."""
    from huggingface_hub import constants

    return constants.is_offline_mode() or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _first_line(exc: Exception) -> str:
    """The exception's class and the first sentence of its message (huggingface_hub's go on about its own arguments)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text.split('. ')[0].rstrip('.')}"


def check_model_dir(path: str | Path) -> None:
    """ValueError naming the file when ``path`` does not hold a stance model: ``config.json`` of a
    stance model (:func:`read_model_config`), weights that safetensors can open (``model.safetensors``)
    and the tokenizer (``tokenizer.json``, read for character offsets).

    Example:
        >>> check_model_dir(resolve_model("default"))
    """
    path = Path(path)
    config = read_model_config(path / "config.json")
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ValueError(f"{path} has no model.safetensors (the weights of a stance model)")
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="numpy") as f:
            shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 (safetensors raises its own SafetensorError, and OSError)
        raise ValueError(f"{weights}: not a readable safetensors file ({exc})") from None
    if problem := weights_problem(shapes, config):
        raise ValueError(f"{weights} does not fit {path / 'config.json'}: {problem}")
    tokenizer = path / "tokenizer.json"
    if not tokenizer.is_file():
        raise ValueError(f"{path} has no tokenizer.json (the model's fast tokenizer, saved with it)")
    try:
        from tokenizers import Tokenizer

        Tokenizer.from_file(str(tokenizer))
    except Exception as exc:  # noqa: BLE001 (tokenizers raises a bare Exception for a file it cannot parse)
        raise ValueError(f"{tokenizer}: not a readable tokenizer file ({exc})") from None


# the weights of a stance branch (``StanceNetwork.stance_layer``; ``stance_branch`` in the model's config)
STANCE_BRANCH_WEIGHTS = "stance_layer."


def weights_problem(shapes: dict[str, list[int]], config: dict[str, Any]) -> str | None:
    """What in a stance model's weights (tensor name -> shape) does not fit its config: the heads' sizes for
    its label sets, the encoder's width, vocabulary and number of layers, a stance branch's weights where the
    config has one (and none where it has not); None where all fit. A check
    that reads no tensor data, so that a model that cannot load is refused before a run writes anything.

    Example:
        >>> config = {"encoder": {"hidden_size": 4}, "device_labels": ["a"], "stance_labels": ["x", "y", "z"]}
        >>> weights_problem({"device_head.weight": [3, 4], "stance_head.3.weight": [3, 4]}, config) is None
        True
        >>> weights_problem({"device_head.weight": [6, 4], "stance_head.3.weight": [3, 4]}, config)
        'device_head.weight is [6, 4], the config asks [3, 4]'
    """
    encoder = config.get("encoder", {})
    hidden = encoder.get("hidden_size")
    device_in = config.get("device_head_hidden") or hidden
    expected = {
        "device_head.weight": [3 * len(config.get("device_labels", [])), device_in],
        "stance_head.3.weight": [len(config.get("stance_labels") or STANCE_LABELS), hidden],
        "encoder.embeddings.word_embeddings.weight": [encoder.get("vocab_size"), hidden],
    }
    for name, want in expected.items():
        if name not in shapes:
            if name.startswith("encoder."):
                continue  # an encoder that names its embeddings otherwise
            return f"it has no {name}"
        if any(w is not None and w != got for w, got in zip(want, shapes[name], strict=False)) or len(want) != len(shapes[name]):
            return f"{name} is {shapes[name]}, the config asks {want}"
    layers = {k.split(".")[3] for k in shapes if k.startswith("encoder.encoder.layer.")}
    if layers and encoder.get("num_hidden_layers") not in (None, len(layers)):
        return f"it has {len(layers)} encoder layers, the config asks {encoder['num_hidden_layers']}"
    branch = any(k.startswith(STANCE_BRANCH_WEIGHTS) for k in shapes)
    if branch != bool(config.get("stance_branch")):  # else the loader would fill a branch at random, or drop one
        return (
            "it has a stance branch's weights, the config no stance_branch"
            if branch
            else "it has no stance branch's weights, the config asks one"
        )
    return None


def read_model_config(path: str | Path) -> dict[str, Any]:
    """A stance model's ``config.json`` as a dict; ValueError naming the file where it is missing,
    not JSON, or the config of another kind of model (a base encoder's: ``model_type`` other than
    ``stance``, or no ``encoder`` with its own ``model_type``).

    Example:
        >>> read_model_config(Path(resolve_model("default")) / "config.json")["model_type"]
        'stance'
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path.parent} is not a stance model directory: it has no config.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("model_type") != "stance":
        found = data.get("model_type") if isinstance(data, dict) else None
        raise ValueError(
            f"{path}: not a stance model config (model_type {found!r}); a base encoder is trained with `stance train`"
        )
    if not isinstance(data.get("encoder"), dict) or "model_type" not in data["encoder"]:
        raise ValueError(f"{path}: 'encoder' (the encoder's own config, with its model_type) is missing")
    if problem := min_scores_problem(data.get("device_min_scores"), data.get("device_labels") or ()):
        raise ValueError(f"{path}: {problem}")
    return data


def min_scores_problem(min_scores: Any, device_labels: Any) -> str | None:
    """What is wrong with a config's ``device_min_scores`` (None when nothing): each key must be one of the model's
    ``device_labels`` (``propaganda_span``, not the reported name ``propaganda``) and each value a number in [0, 1].

    Example:
        >>> min_scores_problem({"propaganda": 0.3}, ["propaganda_span"])
        "device_min_scores: 'propaganda' is not one of the model's device labels (the label of propaganda spans is 'propaganda_span')"
    """
    if min_scores is None:
        return None
    if not isinstance(min_scores, dict):
        return f"device_min_scores must map device labels to minimum scores, got {min_scores!r}"
    for label, value in min_scores.items():
        if label not in device_labels:
            hint = " (the label of propaganda spans is 'propaganda_span')" if label == "propaganda" else ""
            return f"device_min_scores: {label!r} is not one of the model's device labels{hint}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            return f"device_min_scores: {label!r} must be a number from 0 to 1, got {value!r}"
    return None


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


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read in 4 MB blocks (weights in a model's version, data hashes in version.json).

    Example:
        >>> len(file_sha256("README.md"))
        64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    """:func:`file_sha256`, cached (``size`` and ``mtime_ns`` key the cache)."""
    return file_sha256(path)


@dataclass(frozen=True)
class InferenceSettings:
    """What inference needs of a model's ``config.json``: the label sets, the device thresholds and minimum span
    scores, and the maximum length (the full :class:`~stance.model.config.StanceConfig` needs transformers).

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
    device_min_scores: dict[str, float] = field(default_factory=dict)  # per label: spans scored lower are dropped

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
            min_scores=self.device_min_scores,
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
            dict(getattr(config, "device_min_scores", None) or {}),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> InferenceSettings:
        """From a saved model's ``config.json`` (the defaults of StanceConfig where a key is missing)."""
        data = read_model_config(path)
        defaults = cls()
        return cls(
            tuple(data.get("stance_labels") or defaults.stance_labels),
            tuple(data.get("device_labels") or ()),
            tuple(data.get("internal_device_labels") or ()),
            dict(data.get("device_thresholds") or {}),
            int(data.get("max_seq_length", defaults.max_seq_length)),
            float(data.get("stance_temperature", 1.0)),
            dict(data.get("device_min_scores") or {}),
        )
