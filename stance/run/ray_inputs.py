"""The inputs of ``stance score --engine ray``: the input files in the local engine's order
(:func:`list_input_files`: local paths, directories and URIs that pyarrow opens; JSONL and Parquet, the formats
a stream can hold) and the Ray Data read stage, which turns each file into batches of raw records with the
local reader's line numbers and read errors (:func:`read_records`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from stance.io.formats import INPUT_FORMATS
from stance.io.readers import check_paths, folder_files, is_hidden
from stance.io.records import InputPathError

# the input formats (stance.io.formats.INPUT_FORMATS) this engine reads: those a stream can hold
RAY_FORMAT_NAMES = ("jsonl", "parquet")
RAY_FORMATS = {suffix: name for name in RAY_FORMAT_NAMES for suffix in INPUT_FORMATS[name].suffixes}  # suffix -> format name
READ_BLOCK_RECORDS = 1024


@dataclass(frozen=True)
class InputFile:
    """One input file in the run's order: ``index`` (its place), ``source`` (the path or URI as the
    errors file names it) and ``format`` (``jsonl`` or ``parquet``)."""

    index: int
    source: str
    format: str


def list_input_files(inputs: Sequence[str], skipped: list[str] | None = None) -> list[InputFile]:
    """The JSONL and Parquet files of the inputs, in the local engine's order (inputs as given,
    directories recursively by name). Other formats are an :class:`InputPathError`. Inside a
    directory, files that are not input (:func:`is_skipped_file`: hidden files, Spark's ``_SUCCESS``
    and ``.crc`` files) are left out and appended to ``skipped`` when it is given.

    Example:
        >>> [f.source for f in list_input_files(["examples/articles.jsonl"])]
        ['examples/articles.jsonl']
    """
    if not inputs:
        raise InputPathError("no input given")
    sources: list[str] = []
    for p in inputs:
        if p == "-":
            raise InputPathError("the Ray engine cannot read standard input; give files, directories or URIs")
        if "://" in p:
            sources += _list_uri(p, skipped)
            continue
        check_paths([p])
        path = Path(p)
        if path.is_dir():
            files = []
            for f in folder_files(path):
                if not is_skipped_file(f.relative_to(path).as_posix()):
                    files.append(f)
                elif skipped is not None:
                    skipped.append(str(f))
            others = [f for f in files if f.suffix.lower() not in RAY_FORMATS]
            if others:
                raise InputPathError(
                    f"{p}: the Ray engine reads .jsonl, .ndjson and .parquet files; this directory also holds "
                    f"{len(others)} other file(s), e.g. {others[0]} (score those with the local engine)"
                )
            sources += [str(f) for f in files]
        else:
            sources.append(p)
    result = []
    for i, source in enumerate(sources):
        suffix = Path(source.split("://", 1)[-1]).suffix.lower()
        if suffix not in RAY_FORMATS:
            raise InputPathError(f"{source}: the Ray engine reads .jsonl, .ndjson and .parquet, not {suffix or '(no suffix)'}")
        result.append(InputFile(i, source, RAY_FORMATS[suffix]))
    if not result:
        raise InputPathError(f"no .jsonl or .parquet files in {', '.join(inputs)}")
    return result


def is_skipped_file(relative: str) -> bool:
    """Whether a file inside an input directory (``relative``: its path there, ``/``-separated) is not
    input: hidden (a part of the path starts with ``.``, as the local engine leaves out), Spark's
    ``_SUCCESS`` marker or a ``.crc`` checksum.

    Example:
        >>> [is_skipped_file(p) for p in (".DS_Store", "day1/_SUCCESS", "part-0.parquet.crc", "day1/a.jsonl")]
        [True, True, True, False]
    """
    name = relative.rsplit("/", 1)[-1]
    return is_hidden(relative) or name == "_SUCCESS" or name.lower().endswith(".crc")


def _list_uri(uri: str, skipped: list[str] | None = None) -> list[str]:
    from pyarrow import fs

    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputPathError(f"{uri}: cannot open ({exc})") from None
    scheme = uri.split("://", 1)[0]
    if info.type == fs.FileType.NotFound:
        raise InputPathError(f"{uri}: no such file or directory")
    if info.type == fs.FileType.File:
        return [uri]
    infos = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    files = []
    for i in sorted(infos, key=lambda i: i.path):
        if i.type != fs.FileType.File:
            continue
        if not is_skipped_file(i.path[len(path.rstrip("/")) :].lstrip("/")):
            files.append(f"{scheme}://{i.path}")
        elif skipped is not None:
            skipped.append(f"{scheme}://{i.path}")
    return files


def read_records(batch: dict[str, Any], block_records: int = READ_BLOCK_RECORDS) -> Iterator[pa.Table]:
    """Ray Data read stage: the raw records of each file in ``batch`` (columns ``index``,
    ``source``, ``format``), in batches of ``block_records``, with the local reader's line numbers
    and read errors.

    Example:
        >>> next(read_records({"index": [0], "source": ["examples/articles.jsonl"], "format": ["jsonl"]})).num_rows > 0
        True
    """
    from stance.run.predictor import RECORD_SCHEMA

    for index, source, fmt in zip(batch["index"], batch["source"], batch["format"]):
        rows: list[tuple[int, str, int, str | None, str | None]] = []
        for src, line, obj in _file_records(str(source), str(fmt)):
            error = getattr(obj, "reason", None)
            raw = None if error is not None else json.dumps(obj, default=str)
            rows.append(((int(index) << 32) | line, src, line, raw, error))
            if len(rows) >= block_records:
                yield pa.Table.from_arrays([pa.array(c) for c in zip(*rows)], schema=RECORD_SCHEMA)
                rows = []
        if rows:
            yield pa.Table.from_arrays([pa.array(c) for c in zip(*rows)], schema=RECORD_SCHEMA)


def _file_records(source: str, fmt: str) -> Iterator[tuple[str, int, Any]]:
    """The raw records of one input file (a local path or a URI), read by its format's reader."""
    if "://" in source:
        from pyarrow import fs

        filesystem, path = fs.FileSystem.from_uri(source)
        handle = filesystem.open_input_file(path)
    else:
        handle = open(source, "rb")
    with handle:
        yield from INPUT_FORMATS[fmt].read(handle, source)
