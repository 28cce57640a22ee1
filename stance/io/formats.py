"""The input formats and how each is read: JSONL (also on standard input), JSON arrays, CSV, Parquet,
.txt and .html files. Each is registered in :data:`INPUT_FORMATS` as a :class:`Format` (its suffixes, the
function that yields a file's raw records, how it is read), with the suffix tables (:data:`SUFFIXES`,
:data:`FOLDER_SUFFIXES`, :data:`TABULAR`) and :func:`input_format`; a new format is one entry there plus its
reading function. A reading function yields a file's records in order, a line that cannot be read as an
:class:`~stance.io.records.InputError` in its place; walking paths and folders and checking the records is
:mod:`stance.io.readers`' job.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from stance.io.lines import binary_lines, json_error
from stance.io.records import InputError, InputPathError, RawRecord

PARQUET_BATCH_ROWS = 1024  # rows per Parquet batch read
MIN_HTML_WORDS, MIN_HTML_CHARS = 4, 20  # less article text in a page: no article found (characters: Chinese has no spaces)


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
    """Rows of a CSV file in ``encoding`` (UTF-8 with or without a byte-order mark by default; a list such as
    ``utf-8,cp1252`` reads a field the first cannot read in the next that can, :func:`_in_fallback`), each with the
    file line it starts on. What cannot be one row under the header is an error record, never a silent guess:
    a row with more or fewer fields than the header (an unquoted comma), bytes not in the encoding, a quote
    that is never closed (the rest of the file) or a stray quote (strict CSV); the rows after it are read."""
    csv.field_size_limit(sys.maxsize)
    names = encoding_names(encoding)
    with _opened(file) as raw:
        text = io.TextIOWrapper(raw, encoding=_sig(names[0]), errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=True)
        header = next(reader, None)
        start = reader.line_num + 1
        if header is not None:
            read_header = [_in_fallback(name, names) for name in header]
            if any(name is None for name in read_header):
                reason = f"the header has bytes that are not {_tried(names)}{_hint(encoding)}: no row can be read"
                yield source, 1, InputError(source, 1, None, reason)
                return
            header = [name for name in read_header if name is not None]
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
            read = [_in_fallback(v, names) for v in fields]
            if len(fields) != len(header):
                reason = f"{len(fields)} fields where the header has {len(header)} (a comma in an unquoted field?)"
                yield source, line, InputError(source, line, None, reason)
            elif any(v is None for v in read):
                reason = f"bytes that are not {_tried(names)}{_hint(encoding)}"
                yield source, line, InputError(source, line, None, reason)
            else:
                yield source, line, dict(zip(header, read, strict=True))


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
    return "utf-8-sig" if _encoding_name(encoding) == "UTF-8" else encoding.strip()


def _encoding_name(encoding: str) -> str:
    return "UTF-8" if encoding.strip().lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") else encoding.strip()


def _hint(encoding: str) -> str:
    if _encoding_name(encoding) != "UTF-8":  # a list, or another encoding: the user chose it
        return ""
    return " (an archive in Latin-1 or cp1252? try --encoding utf-8,cp1252: what is not UTF-8 is then read as cp1252)"


def encoding_names(encoding: str) -> list[str]:
    """The encodings of an ``--encoding`` value: one, or a comma-separated list, the first read first (spaces and
    empty names left out).

    Example:
        >>> encoding_names("utf-8, cp1252,")
        ['utf-8', 'cp1252']
    """
    return [name.strip() for name in encoding.split(",") if name.strip()]


def _tried(names: list[str]) -> str:
    return " or ".join(_encoding_name(name) for name in names)


_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes the first encoding could not read, kept by errors="surrogateescape"


def _in_fallback(value: str, names: list[str]) -> str | None:
    """``value`` read in ``names[0]`` with the bytes it could not read kept as escapes (errors="surrogateescape"),
    read again with the later ``names``; None where none reads it. Where the first encoding read characters of three
    bytes or more (UTF-8's curly quotes, "’"), the value is UTF-8 with stray bytes: each run of them is read in the
    first later encoding that takes it. Otherwise the whole value is read in the first that takes it: in cp1252 text a
    capital accented letter before a curly quote ("CAFÉ”") is a valid two-byte UTF-8 character by accident."""
    if not _ESCAPED.search(value):
        return value
    if any(ord(ch) >= 0x800 and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in value):
        parts: list[str] = []
        at = 0
        for run in _ESCAPED.finditer(value):
            read = _first_reading(run.group().encode("ascii", "surrogateescape"), names[1:])
            if read is None:
                return None
            parts += [value[at : run.start()], read]
            at = run.end()
        return "".join([*parts, value[at:]])
    first = "utf-8" if _encoding_name(names[0]) == "UTF-8" else names[0]  # not utf-8-sig: it would add a mark
    return _first_reading(value.encode(first, "surrogateescape"), names[1:])


def _first_reading(raw: bytes, names: list[str]) -> str | None:
    for name in names:
        try:
            return raw.decode(_sig(name))
        except UnicodeDecodeError:
            continue
    return None


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


def _decode(file: Path | BinaryIO, source: str, doc_id: str, encoding: str) -> str | InputError:
    """A whole file's text in ``encoding`` (a list: the bytes the first cannot read in the next that can), or an
    error record."""
    with _opened(file) as fh:
        raw = fh.read()
    names = encoding_names(encoding)
    try:
        return raw.decode(_sig(names[0]))
    except UnicodeDecodeError as exc:
        text = _in_fallback(raw.decode(_sig(names[0]), errors="surrogateescape"), names) if len(names) > 1 else None
        if text is not None:
            return text
        return InputError(source, 1, doc_id, f"invalid {_tried(names)} at byte {exc.start}{_hint(encoding)}")


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
    from stance.pipeline.boilerplate import is_boilerplate_line

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
    if len(text.split()) < MIN_HTML_WORDS and len(text) < MIN_HTML_CHARS:  # "Home": what is left of a page of links
        reason = (
            f"only {len(text.split())} word(s) of article text found in the HTML ({text[:60]!r}): navigation or an empty page?"
        )
        yield source, 1, InputError(source, 1, doc_id, reason)
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
WHOLE_FILE_SUFFIXES = frozenset(s for f in INPUT_FORMATS.values() if f.whole_file for s in f.suffixes)


def input_format(path: str | Path) -> Format | None:
    """The :class:`Format` of an input file by its suffix (in any case), or None for an unknown one.

    Example:
        >>> input_format("news/2025.NDJSON").name
        'jsonl'
        >>> input_format("notes.md") is None
        True
    """
    return _BY_SUFFIX.get(Path(path).suffix.lower())
