"""Read article collections: JSONL, JSON arrays, CSV, Parquet, directories of .txt / .html /
.jsonl files, or JSONL on standard input (``-``).

Every input record comes out exactly once, either as an :class:`Article` or as an
:class:`InputError` with its source file, line and reason, so that the scorer can account for
all of them. Paths that cannot be read and unknown formats raise :class:`InputPathError` at once.

This module walks the paths and folders given, reads each file with its format and checks every
record (:func:`validate_record`). The formats are registered in :data:`~stance.io.formats.INPUT_FORMATS`
(one :class:`~stance.io.formats.Format` each: suffixes and the function that yields a file's raw
records), which both engines read with: a new format is one entry there plus its reading function.
The types read are in :mod:`stance.io.records`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any, TypeVar

from stance.io.formats import (
    FOLDER_SUFFIXES,
    INPUT_FORMATS,
    SUFFIXES,
    TABULAR,
    WHOLE_FILE_SUFFIXES,
    encoding_names,
    input_format,
    jsonl_lines,
)
from stance.io.records import SURROGATE, Article, InputError, InputPathError, RawRecord

MAX_CHARS = 1_000_000
ID_FROM: tuple[str, ...] = ("field", "line")
"""Where an article's id comes from: its ``id`` field, or its file and line (``file:line``)."""
KNOWN_FIELDS = ("id", "title", "outlet", "date", "url")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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
    encoding = check_encoding(encoding)
    check_outlet_from(outlet_from)
    columns = {"text": text_column, "id": id_column}
    check_drop_fields(drop_fields, text_column, id_column)
    seen: set[str] = set()
    for p in check_paths(paths, text_column=text_column, id_column=id_column, id_from=id_from):
        for label, (source, line, obj) in _iter_path(p, id_from, encoding=encoding, columns=columns, exclude=exclude):
            if isinstance(obj, dict):
                if outlet_from == "parent" and Path(source).suffix.lower() in WHOLE_FILE_SUFFIXES:
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
    """``encoding`` if Python knows it, or each name of a comma-separated list of them (``utf-8,cp1252``: the bytes
    the first cannot read are read in the next that can; for .txt, .html and .csv files), with spaces and empty
    names left out; ValueError otherwise.

    Example:
        >>> check_encoding("utf-8, cp1252,")
        'utf-8,cp1252'
    """
    import codecs

    names = encoding_names(encoding)
    if not names:
        raise ValueError("--encoding names no encoding (e.g. utf-8, latin-1, cp1252, or a list: utf-8,cp1252)")
    for name in names:
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown text encoding {name!r} (e.g. utf-8, latin-1, cp1252, or a list: utf-8,cp1252)") from None
    return ",".join(names)


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
