"""Where the shipped configuration files and models live, and how many CPUs this process may use.

In a source checkout they are ``configs/`` and ``stance/models/``; a wheel carries a copy of
``configs/`` inside the package as ``stance/_configs/`` (see pyproject.toml).
"""

from __future__ import annotations

import os
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


def cache_dir(kind: str) -> Path:
    """The folder stance caches ``kind`` in (unpacked base weights, exported graphs, transfer sets):
    ``$STANCE_CACHE/<kind>``, by default ``~/.cache/stance/<kind>``.

    Example:
        >>> cache_dir("openvino").name
        'openvino'
    """
    return Path(os.environ.get("STANCE_CACHE", Path.home() / ".cache" / "stance")) / kind


def project_paths(path: str | Path) -> tuple[Path, ...]:
    """Where a path the user or a config names may be, in order: as given (from the working directory),
    then, when relative, from the project's root, so that ``../shared/data`` or
    ``training/data/real_devices`` in a config works from any working directory.

    Example:
        >>> [p.name for p in project_paths("configs/default.yaml")]
        ['default.yaml', 'default.yaml']
    """
    given = Path(path)
    return (given,) if given.is_absolute() else (given, (PACKAGE_DIR.parent / given).resolve())


def available_cpus() -> int:
    """CPU cores this process may run on: its CPU affinity (a container or ``taskset`` limit), not the
    host's count, which would oversubscribe each worker.

    Example:
        >>> available_cpus() >= 1
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
