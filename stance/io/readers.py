"""Read article collections: JSONL, JSON arrays, CSV, Parquet, directories of .txt / .html /
.jsonl files, or JSONL on standard input (``-``).

Every input record comes out exactly once, either as an :class:`Article` or as an
:class:`InputError` with its source file, line and reason, so that the scorer can account for
all of them. Paths that cannot be read and unknown formats raise :class:`InputPathError` at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_CHARS = 1_000_000
TABULAR = {".csv", ".parquet", ".json"}
SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".txt", ".html", ".htm"}
KNOWN_FIELDS = ("id", "title", "outlet", "date", "url")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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

def check_paths(paths: list[str], *, text_column: str = "text", id_column: str = "id") -> list[str]:
    """Fail fast: every path must exist and be readable, with a known format; a CSV or Parquet file
    must have the text column (and a chosen id column)."""
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
                raise InputPathError(f"{p}: unknown format {path.suffix or '(no suffix)'}; expected one of {', '.join(sorted(SUFFIXES))}")
            try:
                with open(path, "rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise InputPathError(f"{p}: cannot read ({exc.strerror})") from None
            if path.suffix.lower() in (".csv", ".parquet"):
                _check_columns(path, text_column, id_column)
    return paths


def _check_columns(path: Path, text_column: str, id_column: str) -> None:
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            names = next(csv.reader(fh), [])
    else:
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise InputPathError(f"{path}: not a readable Parquet file ({exc})") from None
    missing = [c for c in (text_column, id_column if id_column != "id" else None) if c and c not in names]
    if missing and names:
        raise InputPathError(
            f"{path}: no column {', '.join(map(repr, missing))}; columns found: {', '.join(map(repr, names))} "
            "(choose with --text-column / --id-column)"
        )


def iter_inputs(
    paths: list[str],
    *,
    id_from: str = "field",
    max_chars: int = MAX_CHARS,
    encoding: str = "utf-8",
    text_column: str = "text",
    id_column: str = "id",
    meta: dict[str, str] | None = None,
    outlet_from: str | None = None,
) -> Iterator[Article | InputError]:
    """Every record of every input, in a stable order (directories sorted by name).

    Example:
        >>> for item in iter_inputs(["examples/articles.jsonl"]):  # doctest: +SKIP
        ...     print(item.id)
    """
    if id_from not in ("field", "line"):
        raise ValueError("id_from must be 'field' or 'line'")
    check_encoding(encoding)
    if outlet_from not in (None, "parent"):
        raise ValueError(f"outlet_from must be 'parent' or None, not {outlet_from!r}")
    columns = {"text": text_column, "id": id_column}
    seen: set[str] = set()
    for p in check_paths(paths, text_column=text_column, id_column=id_column):
        for source, line, obj in _iter_path(p, id_from, encoding=encoding, columns=columns):
            if isinstance(obj, dict):
                if outlet_from == "parent" and source.endswith((".txt", ".html", ".htm")):
                    obj.setdefault("outlet", Path(source).parent.name)
                obj = {**(meta or {}), **obj}  # the record's own fields win over --meta
            yield _validate((source, line, obj), seen, max_chars, id_from)


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it (for .txt and .html files); ValueError otherwise."""
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    return encoding


def _iter_path(
    p: str, id_from: str, root: Path | None = None, encoding: str = "utf-8", columns: dict[str, str] | None = None
) -> Iterator[tuple[str, int, Any]]:
    """Records of one input; ``root``: the folder it was found in (a file's id is then its path
    relative to that folder, without suffix: ``herald/0001`` and ``ledger/0001`` stay apart);
    ``encoding``: of .txt and .html files (JSON, CSV and Parquet are UTF-8 by definition here);
    ``columns``: the CSV / Parquet columns holding ``text`` and ``id``."""
    if p == "-":
        yield from jsonl_lines(sys.stdin.buffer, "<stdin>")
        return
    path = Path(p)
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in {".txt", ".html", ".htm", ".jsonl", ".ndjson"})
        for f in files:
            yield from _iter_path(str(f), id_from, root=path, encoding=encoding, columns=columns)
        return
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with open(path, "rb") as fh:
            yield from jsonl_lines(fh, str(path))
    elif suffix == ".json":
        yield from _json_array(path)
    elif suffix == ".csv":
        yield from _renamed(_csv_rows(path), columns)
    elif suffix == ".parquet":
        yield from _renamed(_parquet_rows(path), columns)
    elif suffix == ".txt":
        yield str(path), 1, _text_file(path, _file_id(path, root), encoding)
    else:
        yield str(path), 1, _html_file(path, _file_id(path, root), encoding)


def _file_id(path: Path, root: Path | None) -> str:
    """The id of a .txt or .html article: its path relative to the folder given, without suffix
    (``herald/0001``), or its name without suffix when the file itself was given."""
    return path.relative_to(root).with_suffix("").as_posix() if root is not None else path.stem


def jsonl_lines(fh, source: str) -> Iterator[tuple[str, int, Any]]:
    """``(source, line number, object or InputError)`` for each non-blank line of a JSONL file opened in binary mode.

    Example:
        >>> list(jsonl_lines(io.BytesIO(b'{"text": "a"}\\n'), "x.jsonl"))
        [('x.jsonl', 1, {'text': 'a'})]
    """
    for lineno, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield source, lineno, InputError(source, lineno, None, f"invalid UTF-8 at byte {exc.start}")
            continue
        try:
            yield source, lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            yield source, lineno, InputError(source, lineno, None, f"malformed JSON ({json_error(exc)})")


def json_objects(path: str | Path, error: type[ValueError] = ValueError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file that must be well formed
    (``stance compare`` input, label files, doccano exports), unlike scoring input, whose bad lines become
    error records. A line that is not a JSON object raises ``error`` naming the file and line.

    Example:
        >>> next(json_objects("examples/articles.jsonl"))[0]
        1
    """
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _json_array(path: Path) -> Iterator[tuple[str, int, Any]]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputPathError(f"{path}: not a readable JSON array ({exc})") from None
    if not isinstance(data, list):
        raise InputPathError(f"{path}: a .json input must hold an array of articles (use .jsonl for one per line)")
    for i, obj in enumerate(data, start=1):
        yield str(path), i, obj


def _csv_rows(path: Path) -> Iterator[tuple[str, int, Any]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
        reader = csv.DictReader(text)
        row_no = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise InputPathError(f"{path}: invalid UTF-8 near row {row_no + 1} ({exc.reason})") from None
            row_no += 1
            yield str(path), row_no, {k: v for k, v in row.items() if k is not None}


def _parquet_rows(path: Path) -> Iterator[tuple[str, int, Any]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputPathError(f"{path}: not a readable Parquet file ({exc})") from None
    row = 0
    for batch in pf.iter_batches(batch_size=1024):
        for obj in batch.to_pylist():
            row += 1
            yield str(path), row, obj


def _renamed(rows: Iterator[tuple[str, int, Any]], columns: dict[str, str] | None) -> Iterator[tuple[str, int, Any]]:
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


def _decode(path: Path, doc_id: str, encoding: str) -> str | InputError:
    try:
        return path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        hint = " (an archive in Latin-1 or cp1252? try --encoding cp1252)" if name == "UTF-8" else ""
        return InputError(str(path), 1, doc_id, f"invalid {name} at byte {exc.start}{hint}")


def _text_file(path: Path, doc_id: str, encoding: str = "utf-8") -> Any:
    text = _decode(path, doc_id, encoding)
    if isinstance(text, InputError):
        return text
    title, body = split_title(text)
    return {"id": doc_id, "text": body, **({"title": title} if title else {})}


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


def _html_file(path: Path, doc_id: str, encoding: str = "utf-8") -> Any:
    html = _decode(path, doc_id, encoding)
    if isinstance(html, InputError):
        return html
    text, title, meta = html_article(html)
    if not text:
        return InputError(str(path), 1, doc_id, "no article text found in the HTML")
    return {"id": doc_id, "text": text, "title": title, **meta}


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
    meta = trafilatura.extract_metadata(html)
    if meta is None:
        return text, None, {}
    fields = {field: getattr(meta, attr, None) for attr, field in HTML_METADATA.items()}
    return text, meta.title, {k: str(v) for k, v in fields.items() if v}


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
    if id_from not in ("field", "line"):
        raise ValueError("id_from must be 'field' or 'line'")
    return _validate((source, line, obj), seen, max_chars, id_from)


def _validate(item: tuple[str, int, Any], seen: set[str], max_chars: int, id_from: str = "field") -> Article | InputError:
    source, line, obj = item
    if isinstance(obj, InputError):
        return obj
    if not isinstance(obj, dict):
        return InputError(source, line, None, f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id") if id_from == "field" else None
    doc_id = None if raw_id is None or raw_id == "" else str(raw_id)
    if id_from == "line":
        doc_id = f"{Path(source).name}:{line}"
    if doc_id is None:
        if source.endswith((".csv", ".parquet", ".json")):
            return InputError(source, line, None, "missing 'id' (tabular input needs an id column, or use --id-from line)")
        doc_id = f"{Path(source).name}:{line}"
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        return InputError(source, line, doc_id, f"'text' is not a string (got {type(text).__name__})")
    if text is None or not text.strip():
        return InputError(source, line, doc_id, "missing or empty 'text'")
    if len(text) > max_chars:
        return InputError(source, line, doc_id, f"text has {len(text):,} characters, over the limit of {max_chars:,} (--max-chars)")
    if m := _CONTROL.search(text):
        return InputError(source, line, doc_id, f"text contains a control character (U+{ord(m.group()):04X}) at {m.start()}")
    if doc_id in seen:
        return InputError(source, line, doc_id, f"duplicate id {doc_id!r}")
    seen.add(doc_id)
    title = obj.get("title")
    title = title.strip() if isinstance(title, str) and title.strip() else None
    meta = {k: v for k, v in obj.items() if k not in ("id", "text", "title")}
    return Article(id=doc_id, text=text, title=title, meta=meta, source=source, line=line)
