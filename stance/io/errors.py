"""The errors file of a run (``OUT.errors.jsonl``, or ``--errors``): one JSON object per input record that
was not scored, ``{"source", "line", "id", "reason"}`` (:data:`ERROR_FIELDS`), in input order. Both engines
of ``stance score`` (local and Ray) write it here, so that their errors files are byte for byte alike, and
``stance predict-stance --on-error skip`` writes its lines with :func:`error_line`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stance.io.atomic import atomic_path
from stance.io.records import InputError

ERROR_FIELDS = ("source", "line", "id", "reason")


def error_row(error: InputError) -> dict[str, Any]:
    """One line of the errors file, as a dict with the keys of :data:`ERROR_FIELDS`.

    Example:
        >>> error_row(InputError("in.jsonl", 4, None, "malformed JSON (Expecting value at column 1)"))
        {'source': 'in.jsonl', 'line': 4, 'id': None, 'reason': 'malformed JSON (Expecting value at column 1)'}
    """
    if not isinstance(error, InputError):
        raise ValueError(f"error_row takes an InputError, not {type(error).__name__}")
    return {name: getattr(error, name) for name in ERROR_FIELDS}


def error_line(error: InputError) -> str:
    """One line of the errors file (JSON, UTF-8 unescaped, with its newline).

    Example:
        >>> error_line(InputError("in.jsonl", 2, "a1", "duplicate id 'a1'"))
        '{"source": "in.jsonl", "line": 2, "id": "a1", "reason": "duplicate id \\'a1\\'"}\\n'
    """
    return json.dumps(error_row(error), ensure_ascii=False) + "\n"


def write_errors(errors: Iterable[InputError], path: str | Path) -> None:
    """Write ``errors`` in the given order as an errors file (JSONL, UTF-8 unescaped), atomically.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "scores.errors.jsonl"
        >>> write_errors([InputError("in.jsonl", 2, "a1", "duplicate id 'a1'")], out)
        >>> out.read_text()
        '{"source": "in.jsonl", "line": 2, "id": "a1", "reason": "duplicate id \\'a1\\'"}\\n'
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for error in errors:
            fh.write(error_line(error))


def merge_error_files(parts: Sequence[str | Path], out: str | Path) -> None:
    """Concatenate errors files (the shards of a run, in input order) into ``out``, atomically.

    Example:
        >>> merge_error_files(["parts/errors-00000.jsonl", "parts/errors-00001.jsonl"], "scores.errors.jsonl")  # doctest: +SKIP
    """
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, fh)
