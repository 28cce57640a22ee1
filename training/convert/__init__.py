"""Converters from public datasets (and the project's own marked-up examples) to the label format.

Each converter module has ``convert(data_dir, split) -> Iterator[LabelRecord]``; ``CONVERTERS``
maps a source name to it. See README: Training data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path

from stance.labels import LabelRecord

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


def get_converter(name: str) -> Callable[[Path, str], Iterator[LabelRecord]]:
    """The ``convert`` function of a source; raises ValueError for an unknown name."""
    if name not in CONVERTERS:
        raise ValueError(f"unknown data source {name!r}; known: {', '.join(sorted(CONVERTERS))}")
    return import_module(CONVERTERS[name]).convert
