"""Where the shipped configuration files and models live.

In a source checkout they are ``configs/`` and ``stance/models/``; a wheel carries a copy of
``configs/`` inside the package as ``stance/_configs/`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / "models"


def config_path(name: str) -> Path:
    """Path of a shipped config file such as ``actors.yaml`` or ``devices.yaml``.

    Example:
        >>> config_path("devices.yaml").name
        'devices.yaml'
    """
    for candidate in (PACKAGE_DIR / "_configs" / name, PACKAGE_DIR.parent / "configs" / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shipped config {name!r} not found (looked in stance/_configs and configs/)")
