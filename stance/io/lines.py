"""Low-level line and JSON decoding of files: :func:`utf8_lines` (UTF-8 lines, a line that is not UTF-8
raising :class:`NotUtf8Error`), :func:`json_objects` (JSONL that must be well formed: label files, ``stance
compare`` input, doccano exports), :func:`json_error` (what is wrong with a JSON text, and where) and
:func:`binary_lines` (the lines of a binary file that has only ``read``). Nothing here knows articles:
scoring input, where a bad line becomes an error record instead, is read by :mod:`stance.io.formats`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def json_error(exc: json.JSONDecodeError) -> str:
    """What is wrong with a JSON text and where: "Unterminated string starting at column 10" (the
    message itself may end in "at": the position is added once, not as "at at column").

    Example:
        >>> import json
        >>> try:
        ...     json.loads('{"text": "oops}')
        ... except json.JSONDecodeError as exc:
        ...     print(json_error(exc))
        Unterminated string starting at column 10
    """
    where = f"column {exc.colno}" if exc.lineno == 1 else f"line {exc.lineno}, column {exc.colno}"
    return f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"


class NotUtf8Error(ValueError):
    """A line of a file that must be UTF-8 is not: its file, line and what was found."""

    def __init__(self, path: str | Path, lineno: int, detail: str):
        super().__init__(f"{path}:{lineno}: {detail}")
        self.lineno, self.detail = lineno, detail


def utf8_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file, a byte-order mark (Excel's, Notepad's) dropped; a line that
    is not UTF-8 raises :class:`NotUtf8Error` naming the file and line.

    Example:
        >>> next(utf8_lines("examples/articles.jsonl"))[0]
        1
    """
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                detail = f"not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1}): save the file as UTF-8"
                raise NotUtf8Error(path, lineno, detail) from None
            yield lineno, line


def json_objects(path: str | Path, error: type[ValueError] = ValueError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file that must be well formed
    (``stance compare`` input, label files, doccano exports), unlike scoring input, whose bad lines become
    error records. A line that is not a JSON object raises ``error`` naming the file and line.

    Example:
        >>> next(json_objects("examples/articles.jsonl"))[0]
        1
    """
    try:
        for lineno, line in utf8_lines(path):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{lineno}: not valid JSON ({json_error(exc)})") from None
            if not isinstance(obj, dict):
                raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj
    except NotUtf8Error as exc:
        raise error(str(exc)) from None


def binary_lines(handle: Any, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Lines (with their newline) of a binary file that has ``read`` but maybe no ``readline`` (a
    pyarrow file, as the Ray engine opens URIs): the lines that iterating over ``open(path, "rb")`` gives.

    Example:
        >>> import io
        >>> list(binary_lines(io.BytesIO(b'{"a": 1}\\n{"a": 2}'), chunk=4))
        [b'{"a": 1}\\n', b'{"a": 2}']
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 byte, not {chunk}")
    buffer = b""
    while data := handle.read(chunk):
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if buffer:
        yield buffer
