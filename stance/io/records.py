"""What reading input yields, shared by every reading module: an :class:`Article` to score, or an
:class:`InputError` that says why a record was not scored; :data:`RawRecord`, a record as its format reads
it, before the checks; :class:`InputPathError`, an input that cannot be read at all; and :data:`SURROGATE`,
half a character, which no record may hold. Types only, no reading: :mod:`stance.io.formats` and
:mod:`stance.io.readers` both build on them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RawRecord = tuple[str, int, Any]  # (source, line, the parsed object or an InputError), before validation
SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a character: a cut emoji in JSON, or bytes not in the encoding


class InputPathError(ValueError):
    """An input path that cannot be read, or a format the scorer does not know."""


@dataclass(frozen=True)
class Article:
    """One article to score. ``meta``: every other input field, carried through to the output."""

    id: str
    text: str
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class InputError:
    """An input record that was not scored, and why."""

    source: str
    line: int
    id: str | None
    reason: str
