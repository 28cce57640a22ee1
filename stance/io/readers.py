"""Read article collections: JSONL, JSON arrays, CSV, Parquet, directories of .txt / .html /
.jsonl files, or JSONL on standard input (``-``).

Every input record comes out exactly once, either as an :class:`Article` or as an
:class:`InputError` with its source file, line and reason, so that the scorer can account for
all of them. Paths that cannot be read and unknown formats raise :class:`InputPathError` at once.

The formats are registered in :data:`INPUT_FORMATS` (one :class:`Format` each: suffixes and the
function that yields a file's raw records), which both engines read with: a new format is one
entry there plus its reading function.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, BinaryIO, Protocol, TypeVar

MAX_CHARS = 1_000_000
ID_FROM: tuple[str, ...] = ("field", "line")
"""Where an article's id comes from: its ``id`` field, or its file and line (``file:line``)."""
PARQUET_BATCH_ROWS = 1024  # rows per Parquet batch read
KNOWN_FIELDS = ("id", "title", "outlet", "date", "url")
RawRecord = tuple[str, int, Any]  # (source, line, the parsed object or an InputError), before validation
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
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


def check_paths(paths: list[str], *, text_column: str = "text", id_column: str = "id", id_from: str | None = None) -> list[str]:
    """Fail fast: every path must exist and be readable, with a known format; a CSV or Parquet file
    must have the text column and a chosen id column, and the ``id`` column too where ids come from a field
    (``id_from="field"``; None: not checked), rather than send every row to the errors file."""
    if not paths:
        raise InputPathError("no input given")
    for p in paths:
        if p == "-":
            continue
        path = Path(p)
        if not path.exists():
            raise InputPathError(f"{p}: no such file or directory")
        if path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputPathError(
                    f"{p}: unknown format {path.suffix or '(no suffix)'}; expected one of {', '.join(sorted(SUFFIXES))}"
                )
            try:
                with open(path, "rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise InputPathError(f"{p}: cannot read ({exc.strerror})") from None
            fmt = input_format(path)
            if fmt is not None and fmt.columns is not None:
                _check_columns(path, fmt.columns(path), text_column, id_column, id_needed=id_from == "field")
    return paths


def unread_in_folders(paths: Iterable[str]) -> dict[str, dict[str, int]]:
    """Files inside the folders given that a folder scan does not read, counted by suffix per folder
    (hidden files left out), so that a command can say so instead of losing them silently; a folder with
    no readable file at all is refused.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("An article."); _ = (folder / "b.pdf").write_bytes(b"%PDF")
        >>> unread_in_folders([str(folder)])[str(folder)]
        {'.pdf': 1}
    """
    out: dict[str, dict[str, int]] = {}
    for p in paths:
        folder = Path(p)
        if p == "-" or not folder.is_dir():
            continue
        files = folder_files(folder)
        if not any(f.suffix.lower() in FOLDER_SUFFIXES for f in files):
            others = sum(1 for f in files if not _hidden(f, folder))
            raise InputPathError(
                f"{p}: no {' / '.join(sorted(FOLDER_SUFFIXES))} file in this folder"
                + (f" ({others} other files; give CSV, JSON and Parquet files as inputs of their own)" if others else "")
            )
        skipped = sorted(
            f.suffix.lower() or "(no suffix)" for f in files if f.suffix.lower() not in FOLDER_SUFFIXES and not _hidden(f, folder)
        )
        if skipped:
            out[p] = {suffix: skipped.count(suffix) for suffix in dict.fromkeys(skipped)}
    return out


def folder_files(folder: Path, exclude: Collection[Path] = ()) -> list[Path]:
    """Every file under a folder given as input, in name order (those with a suffix of
    :data:`FOLDER_SUFFIXES` are read, the others counted by :func:`unread_in_folders`), following linked
    folders (once each). ``exclude``: resolved files or folders left out, such as a run's own output written
    inside an input folder. A folder inside that cannot be listed stops the run before it starts
    (:class:`InputPathError`), rather than lose its files silently."""
    found: list[Path] = []
    visited: set[str] = set()

    def refuse(exc: OSError) -> None:
        raise InputPathError(f"{exc.filename}: cannot read this folder ({exc.strerror})")

    for top, dirs, names in os.walk(folder, onerror=refuse, followlinks=True):
        real = os.path.realpath(top)
        if real in visited:  # a link back up the tree
            dirs[:] = []
            continue
        visited.add(real)
        found += [Path(top, name) for name in names if Path(top, name).is_file()]
    return sorted(f for f in found if not (exclude and _inside(f.resolve(), exclude)))


def _inside(path: Path, places: Collection[Path]) -> bool:
    return any(path == place or place in path.parents for place in places)


def files_read(paths: Iterable[str], exclude: Collection[Path] = ()) -> list[Path]:
    """The files :func:`iter_inputs` reads for ``paths``, in its order (standard input left out): what a
    resumed run checks has not changed since the run began.

    Example:
        >>> files_read(["examples/articles.jsonl"])
        [PosixPath('examples/articles.jsonl')]
    """
    out: list[Path] = []
    for p in paths:
        if p == "-":
            continue
        path = Path(p)
        if path.is_dir():  # hidden files (.ipynb_checkpoints/, macOS ._ files) are not articles
            out += [f for f in folder_files(path, exclude) if f.suffix.lower() in FOLDER_SUFFIXES and not _hidden(f, path)]
        else:
            out.append(path)
    return out


def is_hidden(relative: str | PurePath) -> bool:
    """Whether a path inside an input folder is hidden (a part of it starts with ``.``): never read as
    input, by either engine.

    Example:
        >>> is_hidden(".ipynb_checkpoints/a.jsonl"), is_hidden("day1/a.jsonl")
        (True, False)
    """
    return any(part.startswith(".") for part in PurePath(relative).parts)


def _hidden(path: Path, folder: Path) -> bool:
    return is_hidden(path.relative_to(folder))


def _check_columns(path: Path, names: list[str], text_column: str, id_column: str, id_needed: bool = False) -> None:
    missing = [c for c in (text_column, id_column if id_column != "id" or id_needed else None) if c and c not in names]
    if missing and names:
        raise InputPathError(
            f"{path}: no column {', '.join(map(repr, missing))}; columns found: {', '.join(map(repr, names))} "
            "(choose with --text-column / --id-column" + (", or --id-from line to number the rows)" if id_needed else ")")
        )


def check_id_from(id_from: str) -> None:
    """A ValueError unless ``id_from`` is one of :data:`ID_FROM`.

    Example:
        >>> check_id_from("row")
        Traceback (most recent call last):
        ...
        ValueError: id_from must be 'field' or 'line', not 'row'
    """
    if id_from not in ID_FROM:
        raise ValueError(f"id_from must be 'field' or 'line', not {id_from!r}")


def check_outlet_from(outlet_from: str | None) -> None:
    """A ValueError unless ``outlet_from`` is None or ``"parent"`` (a file's folder name is its outlet)."""
    if outlet_from not in (None, "parent"):
        raise ValueError(f"outlet_from must be 'parent' or None, not {outlet_from!r}")


def iter_inputs(
    paths: list[str],
    *,
    id_from: str = "field",
    max_chars: int = MAX_CHARS,
    encoding: str = "utf-8",
    text_column: str = "text",
    id_column: str = "id",
    meta: dict[str, str] | None = None,
    drop_fields: Collection[str] = (),
    outlet_from: str | None = None,
    exclude: Collection[Path] = (),
) -> Iterator[Article | InputError]:
    """Every record of every input, in a stable order (directories sorted by name). ``exclude``: resolved
    files or folders inside input folders that are not read (the run's own output and errors file).
    ``drop_fields``: input fields left out (a page's HTML, which every sentence row would otherwise carry);
    not ``id``, ``text`` or ``title``.

    Example:
        >>> for item in iter_inputs(["examples/articles.jsonl"]):  # doctest: +SKIP
        ...     print(item.id)
    """
    check_id_from(id_from)
    check_encoding(encoding)
    check_outlet_from(outlet_from)
    columns = {"text": text_column, "id": id_column}
    check_drop_fields(drop_fields, text_column, id_column)
    seen: set[str] = set()
    for p in check_paths(paths, text_column=text_column, id_column=id_column, id_from=id_from):
        for label, (source, line, obj) in _iter_path(p, id_from, encoding=encoding, columns=columns, exclude=exclude):
            if isinstance(obj, dict):
                if outlet_from == "parent" and Path(source).suffix.lower() in _WHOLE_FILE_SUFFIXES:
                    obj.setdefault("outlet", Path(source).parent.name)
                obj = {**(meta or {}), **obj}  # the record's own fields win over --meta
                for name in drop_fields:
                    obj.pop(name, None)
            yield _validate((source, line, obj), seen, max_chars, id_from, label)


def check_drop_fields(names: Collection[str], text_column: str = "text", id_column: str = "id") -> tuple[str, ...]:
    """``names`` as a tuple if each may be left out of the input (``--drop-field``); ValueError for the fields an
    article needs.

    Example:
        >>> check_drop_fields(["html"])
        ('html',)
    """
    if needed := sorted(set(names) & {"id", "text", "title", text_column, id_column}):
        raise ValueError(f"--drop-field cannot drop {', '.join(needed)}: the article needs it")
    return tuple(names)


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it (for .txt and .html files); ValueError otherwise."""
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    return encoding


def _iter_path(
    p: str,
    id_from: str,
    root: Path | None = None,
    encoding: str = "utf-8",
    columns: dict[str, str] | None = None,
    exclude: Collection[Path] = (),
) -> Iterator[tuple[str, RawRecord]]:
    """Records of one input, each with its file's label for fallback ids (``file:line``: the path inside the
    folder given, so that ``a/x.jsonl`` and ``b/x.jsonl`` stay apart, or the file's name); ``root``: the folder
    it was found in (a .txt or .html file's id is then its path relative to that folder, without suffix:
    ``herald/0001`` and ``ledger/0001`` stay apart); ``encoding``: of .txt, .html and CSV files (JSON and
    Parquet are UTF-8 by definition); ``columns``: the CSV / Parquet columns holding ``text`` and ``id``.
    A file in a folder that cannot be read is an error record, not the end of the run."""
    if p == "-":
        yield from (("<stdin>", r) for r in jsonl_lines(sys.stdin.buffer, "<stdin>"))
        return
    path = Path(p)
    if path.is_dir():
        for f in files_read([p], exclude):
            yield from _iter_path(str(f), id_from, root=path, encoding=encoding, columns=columns)
        return
    label = path.relative_to(root).as_posix() if root is not None else path.name
    # check_paths has refused unknown suffixes of regular files; anything else (a named pipe, say) is read as HTML, as it always was
    fmt = input_format(path) or INPUT_FORMATS["html"]
    records = fmt.read(path, str(path), doc_id=_file_id(path, root) if fmt.whole_file else "", encoding=encoding)
    line = 0
    try:
        for source, line, obj in _renamed(records, columns) if fmt.columns is not None else records:
            yield label, (source, line, obj)
    except OSError as exc:  # a file given itself was checked up front; one found in a folder may not be readable
        yield label, (str(path), line + 1, InputError(str(path), line + 1, None, f"cannot read ({exc.strerror or exc})"))


def _file_id(path: Path, root: Path | None) -> str:
    """The id of a .txt or .html article: its path relative to the folder given, without suffix
    (``herald/0001``), or its name without suffix when the file itself was given."""
    return path.relative_to(root).with_suffix("").as_posix() if root is not None else path.stem


def jsonl_lines(fh: Iterable[bytes], source: str) -> Iterator[RawRecord]:
    """``(source, line number, object or InputError)`` for each non-blank line of a JSONL file opened in binary mode.

    Example:
        >>> list(jsonl_lines(io.BytesIO(b'{"text": "a"}\\n'), "x.jsonl"))
        [('x.jsonl', 1, {'text': 'a'})]
    """
    for lineno, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")  # a byte-order mark (Windows tools) is no error
        except UnicodeDecodeError as exc:
            yield source, lineno, InputError(source, lineno, None, f"invalid UTF-8 at byte {exc.start}")
            continue
        try:
            yield source, lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield source, lineno, InputError(source, lineno, None, f"malformed JSON ({json_error(exc)})")


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


def read_jsonl(path: str | Path) -> Iterator[RawRecord]:
    """``(source, line number, object or InputError)`` for each non-blank line of a JSONL file, read as
    ``stance score`` reads one: UTF-8 (a byte-order mark dropped), or UTF-16 where the file starts with
    its mark; bytes that are not UTF-8 and malformed JSON come as an :class:`InputError` for the line,
    never replaced or skipped.

    Example:
        >>> next(read_jsonl("examples/articles.jsonl"))[1]
        1
    """
    return _read_jsonl(Path(path), str(path))


def _opened(file: Path | BinaryIO) -> Any:
    """A context giving the binary file: ``file`` opened when it is a path, else ``file`` itself (its
    opener closes it)."""
    return open(file, "rb") if isinstance(file, Path) else nullcontext(file)


def _read_jsonl(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    """JSONL in UTF-8; a file that starts with a UTF-16 byte-order mark (PowerShell's ``>``, Notepad's
    "Unicode") is read as UTF-16, not reported line by line as bytes that are not UTF-8."""
    if isinstance(file, Path):
        with open(file, "rb") as fh:
            utf16 = fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
            fh.seek(0)
            if utf16:
                text = io.TextIOWrapper(fh, encoding="utf-16", newline="")
                yield from jsonl_lines((line.encode("utf-8") for line in text), source)
            else:
                yield from jsonl_lines(fh, source)
    else:
        yield from jsonl_lines(binary_lines(file), source)


def _read_json_array(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    with _opened(file) as fh:
        raw = fh.read()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputPathError(f"{source}: not a readable JSON array ({exc})") from None
    if not isinstance(data, list):
        raise InputPathError(f"{source}: a .json input must hold an array of articles (use .jsonl for one per line)")
    for i, obj in enumerate(data, start=1):
        yield source, i, obj


def _read_csv(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    """Rows of a CSV file in ``encoding`` (UTF-8 with or without a byte-order mark by default), each with the
    file line it starts on. What cannot be one row under the header is an error record, never a silent guess:
    a row with more or fewer fields than the header (an unquoted comma), bytes not in the encoding, a quote
    that is never closed (the rest of the file) or a stray quote (strict CSV); the rows after it are read."""
    csv.field_size_limit(sys.maxsize)
    with _opened(file) as raw:
        text = io.TextIOWrapper(raw, encoding=_sig(encoding), errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=True)
        header = next(reader, None)
        start = reader.line_num + 1
        while header is not None:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield (
                    source,
                    start,
                    InputError(source, start, None, f"not CSV from line {start} to {reader.line_num}: {_csv_problem(exc)}"),
                )
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            if not fields:  # a blank line, as csv.DictReader skips it
                continue
            if len(fields) != len(header):
                reason = f"{len(fields)} fields where the header has {len(header)} (a comma in an unquoted field?)"
                yield source, line, InputError(source, line, None, reason)
            elif any(SURROGATE.search(v) for v in fields):
                reason = f"bytes that are not {_encoding_name(encoding)}{_hint(encoding)}"
                yield source, line, InputError(source, line, None, reason)
            else:
                yield source, line, dict(zip(header, fields, strict=True))


def _csv_problem(exc: csv.Error) -> str:
    """csv's own message, with what it usually means."""
    message = str(exc)
    if "unexpected end of data" in message:
        return "a quote opened and never closed: the rest of the file was read as one field"
    return f"{message} (a quote inside an unquoted field?)"


def _csv_columns(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh), [])


def _sig(encoding: str) -> str:
    """UTF-8 read so that a leading byte-order mark (Excel's "CSV UTF-8", Notepad) is dropped."""
    return "utf-8-sig" if _encoding_name(encoding) == "UTF-8" else encoding


def _encoding_name(encoding: str) -> str:
    return "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") else encoding


def _hint(encoding: str) -> str:
    return " (an archive in Latin-1 or cp1252? try --encoding cp1252)" if _encoding_name(encoding) == "UTF-8" else ""


def _read_parquet(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(file)
    except Exception as exc:  # noqa: BLE001  (pyarrow raises several types for a broken file)
        raise InputPathError(f"{source}: not a readable Parquet file ({exc})") from None
    row = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for obj in batch.to_pylist():
            row += 1
            yield source, row, obj


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path).names
    except Exception as exc:  # noqa: BLE001  (pyarrow raises several types for a broken file)
        raise InputPathError(f"{path}: not a readable Parquet file ({exc})") from None


def _renamed(rows: Iterator[RawRecord], columns: dict[str, str] | None) -> Iterator[RawRecord]:
    """Tabular rows with their text and id columns renamed to ``text`` and ``id`` (check_paths has
    made sure the file has them)."""
    columns = columns or {}
    text_column, id_column = columns.get("text", "text"), columns.get("id", "id")
    for source, line, obj in rows:
        if text_column != "text":
            obj["text"] = obj.pop(text_column)
        if id_column != "id":
            obj["id"] = obj.pop(id_column)
        yield source, line, obj


def _decode(file: Path | BinaryIO, source: str, doc_id: str, encoding: str) -> str | InputError:
    with _opened(file) as fh:
        raw = fh.read()
    try:
        return raw.decode(_sig(encoding))
    except UnicodeDecodeError as exc:
        return InputError(source, 1, doc_id, f"invalid {_encoding_name(encoding)} at byte {exc.start}{_hint(encoding)}")


def _read_text_file(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    text = _decode(file, source, doc_id, encoding)
    if isinstance(text, InputError):
        yield source, 1, text
        return
    title, body = split_title(text)
    yield source, 1, {"id": doc_id, "text": body, **({"title": title} if title else {})}


TITLE_MIN_WORDS = 4  # a shorter first line is more likely a site name or section label than a headline
TITLE_MAX_WORDS = 30


def split_title(text: str) -> tuple[str | None, str]:
    """``(title, body)`` of a plain-text article: its first line is the title when a blank line
    follows it and it is clearly not something else (a date, a byline, a site name of fewer than
    four words, a sentence ending in a full stop). Otherwise ``(None, text)``.

    Example:
        >>> split_title("Ottawa's Dairy Cartel Must Finally Fall\\n\\nThe quota system ...")
        ("Ottawa's Dairy Cartel Must Finally Fall", 'The quota system ...')
        >>> split_title("March 3, 2025\\n\\nThe quota system ...")[0] is None
        True
    """
    from stance.pipeline.sentences import is_boilerplate_line

    lines = text.lstrip("\ufeff").split("\n", 2)
    if len(lines) < 3 or lines[1].strip() or not lines[0].strip() or not lines[2].strip():
        return None, text
    first = lines[0].strip()
    words = len(first.split())
    if not TITLE_MIN_WORDS <= words <= TITLE_MAX_WORDS or first.endswith(".") or is_boilerplate_line(first):
        return None, text
    return first, lines[2]


def _read_html_file(file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8") -> Iterator[RawRecord]:
    html = _decode(file, source, doc_id, encoding)
    if isinstance(html, InputError):
        yield source, 1, html
        return
    text, title, meta = html_article(html)
    if not text:
        yield source, 1, InputError(source, 1, doc_id, "no article text found in the HTML")
        return
    yield source, 1, {"id": doc_id, "text": text, "title": title, **meta}


def html_to_text(html: str) -> tuple[str, str | None]:
    """The article text and title of an HTML page, with trafilatura (boilerplate removed).

    Example:
        >>> html_to_text("<html><body><article><p>Moscow said no.</p></article></body></html>")[0]  # doctest: +SKIP
        'Moscow said no.'
    """
    text, title, _ = html_article(html)
    return text, title


HTML_METADATA = {"date": "date", "author": "author", "sitename": "site_name"}  # trafilatura's name -> record field


def html_article(html: str) -> tuple[str, str | None, dict[str, str]]:
    """Text, title and metadata (``date``, ``author``, ``site_name``, where the page has them) of an
    HTML page, with trafilatura.

    Example:
        >>> html_article(page)[2]  # doctest: +SKIP
        {'date': '2025-03-04', 'author': 'Jane Doe', 'site_name': 'The Harbour Ledger'}
    """
    try:
        import trafilatura
    except ImportError as exc:
        raise InputPathError("reading .html needs trafilatura (pip install trafilatura)") from exc
    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True) or ""
    # Dates from the page's markup only (meta tags, <time>, ...): the extensive search also guesses from
    # the text, and made "Copyright 2025" in a footer the date 2025-01-01, which then led a monthly table.
    meta = trafilatura.extract_metadata(html, extensive=False)
    if meta is None:
        return text, None, {}
    fields = {field: getattr(meta, attr, None) for attr, field in HTML_METADATA.items()}
    return text, meta.title, {k: str(v) for k, v in fields.items() if v}


class Reader(Protocol):
    """What a :class:`Format` reads a file with: the raw records of one file, in order. ``file`` is a
    local path or an open binary file (the Ray engine opens URIs with pyarrow); ``source`` names it
    in the records; ``doc_id``: the id of a whole-file article; ``encoding``: of .txt / .html text."""

    def __call__(
        self, file: Path | BinaryIO, source: str, *, doc_id: str = "", encoding: str = "utf-8"
    ) -> Iterator[RawRecord]: ...


@dataclass(frozen=True)
class Format:
    """One input format: its ``name``, file ``suffixes`` (lower case, with the dot) and the ``read``
    function that yields a file's raw records (see :class:`Reader`). ``in_folders``: read when found
    in a folder given as input (by the local reader); ``needs_id``: its records must carry an id (no
    ``file:line`` fallback); ``columns``: for formats with named columns, the function that lists a
    file's columns (checked before reading; ``--text-column`` / ``--id-column`` are renamed to
    ``text`` / ``id``); ``whole_file``: a file is one article (its id is its path, ``--outlet-from
    parent`` applies).

    Example:
        >>> INPUT_FORMATS["jsonl"].suffixes
        ('.jsonl', '.ndjson')
        >>> next(INPUT_FORMATS["jsonl"].read(io.BytesIO(b'{"text": "a"}\\n'), "x.jsonl"))
        ('x.jsonl', 1, {'text': 'a'})
    """

    name: str
    suffixes: tuple[str, ...]
    read: Reader
    in_folders: bool = False
    needs_id: bool = False
    columns: Callable[[Path], list[str]] | None = None
    whole_file: bool = False

    def __post_init__(self) -> None:
        if not self.suffixes or any(not s.startswith(".") or s != s.lower() for s in self.suffixes):
            raise ValueError(f"format {self.name!r}: suffixes must be lower case and start with a dot, not {self.suffixes!r}")


# A plain dict of entries, the project's one registry pattern (splitters, backends, input formats, dataset
# converters): adding a component is one entry here. Not spaCy's `catalogue`: nothing is plugged in from other
# packages (no entry points), and a dict reads in one place.
INPUT_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jsonl", (".jsonl", ".ndjson"), _read_jsonl, in_folders=True),
        Format("json", (".json",), _read_json_array, needs_id=True),
        Format("csv", (".csv",), _read_csv, needs_id=True, columns=_csv_columns),
        Format("parquet", (".parquet",), _read_parquet, needs_id=True, columns=_parquet_columns),
        Format("txt", (".txt",), _read_text_file, in_folders=True, whole_file=True),
        Format("html", (".html", ".htm"), _read_html_file, in_folders=True, whole_file=True),
    )
}
_BY_SUFFIX = {s: f for f in INPUT_FORMATS.values() for s in f.suffixes}
SUFFIXES = set(_BY_SUFFIX)  # every input suffix the reader knows
FOLDER_SUFFIXES = {
    s for f in INPUT_FORMATS.values() if f.in_folders for s in f.suffixes
}  # those read inside a folder given as input
TABULAR = {s for f in INPUT_FORMATS.values() if f.needs_id for s in f.suffixes}
_WHOLE_FILE_SUFFIXES = frozenset(s for f in INPUT_FORMATS.values() if f.whole_file for s in f.suffixes)


def input_format(path: str | Path) -> Format | None:
    """The :class:`Format` of an input file by its suffix (in any case), or None for an unknown one.

    Example:
        >>> input_format("news/2025.NDJSON").name
        'jsonl'
        >>> input_format("notes.md") is None
        True
    """
    return _BY_SUFFIX.get(Path(path).suffix.lower())


_T = TypeVar("_T")


def chunked(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily: one list in memory at a time.

    Example:
        >>> list(chunked(range(5), 2))
        [[0, 1], [2, 3], [4]]
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def validate_record(
    obj: Any, seen: set[str], *, max_chars: int = MAX_CHARS, source: str = "", line: int = 0, id_from: str = "field"
) -> Article | InputError:
    """The checks ``stance score`` makes on one input record (for callers with records in hand,
    such as the HTTP service and the Ray engine): an :class:`Article`, or an :class:`InputError`
    saying why not. ``seen`` collects the ids so far (duplicates are errors); ``obj`` may itself be
    an :class:`InputError` (a line that could not be parsed), which is returned as it is.

    Example:
        >>> validate_record({"id": "a1", "text": "Moscow said no."}, set()).id
        'a1'
        >>> validate_record({"id": "a2", "text": " "}, set()).reason
        "missing or empty 'text'"
    """
    check_id_from(id_from)
    return _validate((source, line, obj), seen, max_chars, id_from)


def _validate(
    item: tuple[str, int, Any], seen: set[str], max_chars: int, id_from: str = "field", label: str | None = None
) -> Article | InputError:
    """``label``: the file's name in fallback ids (``file:line``); its path inside the folder given, when found in one."""
    source, line, obj = item
    if isinstance(obj, InputError):
        return obj
    if not isinstance(obj, dict):
        return InputError(source, line, None, f"expected a JSON object, got {type(obj).__name__}")
    fallback_id = f"{label or Path(source).name}:{line}"
    raw_id = obj.get("id") if id_from == "field" else None
    doc_id = None if raw_id is None or raw_id == "" else str(raw_id)
    if id_from == "line":
        doc_id = fallback_id
    if doc_id is None:
        if Path(source).suffix.lower() in TABULAR:
            return InputError(source, line, None, "missing 'id' (tabular input needs an id column, or use --id-from line)")
        doc_id = fallback_id
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        return InputError(source, line, doc_id, f"'text' is not a string (got {type(text).__name__})")
    if text is None or not text.strip():
        return InputError(source, line, doc_id, "missing or empty 'text'")
    title = obj.get("title")
    if title is not None and not isinstance(title, str):
        return InputError(source, line, doc_id, f"'title' is not a string (got {type(title).__name__})")
    title = title.strip() if title and title.strip() else None  # the title row's offsets are into this stripped title
    size = len(text) + len(title or "")
    if size > max_chars:
        what = "title and text have" if title else "text has"
        return InputError(source, line, doc_id, f"{what} {size:,} characters, over the limit of {max_chars:,} (--max-chars)")
    for field_name, value in (("text", text), ("title", title or "")):
        if m := _CONTROL.search(value):
            return InputError(
                source, line, doc_id, f"{field_name} contains a control character (U+{ord(m.group()):04X}) at {m.start()}"
            )
        if m := SURROGATE.search(value):
            return InputError(
                source,
                line,
                doc_id,
                f"{field_name} contains half a character (U+{ord(m.group()):04X}) at {m.start()}: an emoji cut in two, "
                "or bytes that are not in the file's encoding",
            )
    if doc_id in seen:
        return InputError(source, line, doc_id, f"duplicate id {doc_id!r}")
    seen.add(doc_id)
    meta = {k: v for k, v in obj.items() if k not in ("id", "text", "title")}
    return Article(id=doc_id, text=text, title=title, meta=meta, source=source, line=line)
