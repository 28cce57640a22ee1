"""README follows the registries: every backend, input suffix, splitter and compare method a registry
holds is named in README.md, so that adding one to a registry without documenting it fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance.analysis.measures import METHODS
from stance.io.readers import SUFFIXES
from stance.model.backends import BACKEND_REGISTRY
from stance.pipeline.sentences import SPLITTERS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "kind, names",
    [
        ("backend", sorted(BACKEND_REGISTRY)),
        ("input suffix", sorted(SUFFIXES)),
        ("sentence splitter", sorted(SPLITTERS)),
        ("compare method", sorted(METHODS)),
    ],
)
def test_every_registered_name_is_documented(kind: str, names: list[str]) -> None:
    missing = [name for name in names if f"`{name}`" not in README and f"`{name.lstrip('.')}`" not in README]
    assert missing == [], f"README.md does not name these ({kind}): {missing}"
