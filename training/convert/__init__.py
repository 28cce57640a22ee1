"""Converters from public datasets (and the project's own marked-up examples) to the label format.

Each converter module has ``convert(data_dir, split) -> Iterator[LabelRecord]``; ``CONVERTERS``
maps a source name to it. See README: Training data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path

from stance.labels.format import LabelRecord

DEFAULT_DATA_DIR = "../shared/data"
"""Where the public datasets live unless a config or ``--data-dir`` says otherwise (see :func:`resolve_data_dir`)."""

# A plain dict of entries, the project's one registry pattern (splitters, backends, input formats, dataset
# converters): adding a component is one entry here. Not spaCy's `catalogue`: nothing is plugged in from other
# packages (no entry points), and a dict reads in one place.
# Module paths, imported when a source is used: a converter's imports load only for its own dataset.
CONVERTERS: dict[str, str] = {
    "newsmtsc": "training.convert.newsmtsc",
    "ptc": "training.convert.ptc",
    "polnear": "training.convert.polnear",
    "szeged": "training.convert.szeged",
    "babe": "training.convert.babe",
    "directed": "training.convert.directed",
    "framing": "training.convert.markup",
    "allsides": "training.convert.allsides",
    "transfer": "training.transfer",
}


def resolve_data_dir(data_dir: str | Path) -> Path:
    """The folder of the public datasets: ``data_dir`` as given when it exists, else (when relative)
    the same path from the project's root, so that the default ``../shared/data`` works from any
    working directory. Raises ValueError naming both places when neither exists.

    Example:
        >>> resolve_data_dir("../shared/data").name  # doctest: +SKIP
        'data'
    """
    from stance.resources import project_paths

    candidates = project_paths(data_dir)
    for path in candidates:
        if path.is_dir():
            return path
    tried = " or ".join(str(p.resolve()) for p in candidates)
    raise ValueError(f"the public datasets were not found at {tried}; pass their folder with --data-dir")


def get_converter(name: str) -> Callable[[Path, str], Iterator[LabelRecord]]:
    """The ``convert`` function of a source; raises ValueError for an unknown name."""
    if name not in CONVERTERS:
        raise ValueError(f"unknown data source {name!r}; known: {', '.join(sorted(CONVERTERS))}")
    return import_module(CONVERTERS[name]).convert
