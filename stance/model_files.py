"""Where a model name points, and the version hash of a model directory; light (no torch), so
that the main process of `stance score --workers N`, `stance compare` and run.json can use them.

Example:
    >>> Path(resolve_model("default")).name
    'default'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from stance.resources import MODELS_DIR


def resolve_model(name_or_path: str | Path) -> str:
    """``default`` (or any name under stance/models/) -> shipped directory; ``active`` -> the model
    registry's active version (the shipped ``default`` when none is active); a registry version id
    -> its model directory (see stance.registry); else path or hub id."""
    if str(name_or_path) and "/" not in str(name_or_path) and not Path(str(name_or_path)).exists():
        from stance.registry import resolve_registry_name

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


def model_version(path: str | Path | None) -> str | None:
    """A short hash of a model directory's config and first megabyte of weights: the version that
    ``stance score`` records in run.json and ``stance serve`` reports (None without files).

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
    head = b""
    if weights.exists():
        with open(weights, "rb") as fh:
            head = fh.read(1_000_000)
    return hashlib.sha256(config_file.read_bytes() + head).hexdigest()[:12]
