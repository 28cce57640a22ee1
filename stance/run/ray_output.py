"""The output of ``stance score --engine ray``: ``--out`` as the engine needs it (:func:`check_out_path`: a
local ``.parquet`` path), the write stage, which stages each batch's rows and errors as parts named by a hash of
their content and committed by an atomic rename (:func:`write_parts`), and, on the driver, the parts the
finished write tasks reported kept and checked (:func:`keep_committed`) and the error parts merged into the
errors file (:func:`merge_error_parts`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stance.io.atomic import atomic_path
from stance.io.errors import write_errors
from stance.io.records import InputError
from stance.run.ray_cluster import RayRunError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # also as pathlib leaves it: Path("s3://b/x") is s3:/b/x


def write_parts(batch: pa.Table, *, staging: str, meta_keys: Sequence[str]) -> pa.Table:
    """Write stage: the sentence rows of ``batch`` as ``rows/part-<hash>.parquet`` (the output
    schema) and its error rows as ``errors/errors-<hash>.parquet``, each by an atomic rename; the
    name is a hash of the content, so a retried write replaces its own file. Returns one summary
    row (file names and counts) for the driver."""
    from stance.io.writers import rows_to_table
    from stance.run.predictor import ERROR_COLUMNS

    is_error = batch.column("_error_reason").is_valid()
    rows = batch.filter(pc.invert(is_error)).drop_columns(list(ERROR_COLUMNS))
    errors = batch.filter(is_error).select(list(ERROR_COLUMNS))
    rows = rows.cast(rows_to_table([], meta_keys=meta_keys).schema)
    part = err_part = ""
    if rows.num_rows:
        keys = sorted(f"{d}\x00{s}" for d, s in zip(rows.column("doc_id").to_pylist(), rows.column("sentence_id").to_pylist()))
        part = f"part-{_digest(keys)}.parquet"
        _write_atomic(rows, Path(staging) / "rows" / part)
    if errors.num_rows:
        err_part = f"errors-{_digest(sorted(map(str, errors.column('_error_order').to_pylist())))}.parquet"
        _write_atomic(errors, Path(staging) / "errors" / err_part)
    sentence_ids = rows.column("sentence_id").to_pylist()
    boilerplate = rows.column("boilerplate").to_pylist()
    summary = {
        "part": part,
        "errors_part": err_part,
        "sentences": rows.num_rows,
        "articles": sum(s == 0 for s in sentence_ids),
        "sentences_scored": sum(not b for b in boilerplate),
        "errors": errors.num_rows,
        "mentions": sum(pc.list_value_length(rows.column("mentions")).fill_null(0).to_pylist()),
        "devices": sum(pc.list_value_length(rows.column("devices")).fill_null(0).to_pylist()),
    }
    return pa.Table.from_pylist([summary])


def _digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _write_atomic(table: pa.Table, path: Path) -> None:
    """``table`` as Parquet at ``path``; the temporary name has the process id, as a retried write of
    the same part may run beside the first."""
    with atomic_path(path, tmp_name=f"{path.name}.{os.getpid()}.tmp") as tmp:
        pq.write_table(table, tmp)


def check_out_path(out: str | Path, errors_path: str | Path | None = None) -> Path:
    """``--out`` as the Ray engine needs it: a local path ending in ``.parquet`` (on a shared or
    mounted file system for a cluster); the run moves files into place, which an object store URI
    cannot take. ``errors_path`` (``--errors``) must be a local path too. ValueError otherwise.

    Example:
        >>> check_out_path("/mnt/shared/scores.parquet")
        PosixPath('/mnt/shared/scores.parquet')
    """
    for option, path in (("--out", out), ("--errors", errors_path)):
        if path is not None and _URI.match(str(path)):
            raise ValueError(
                f"{option} {path}: --engine ray writes {option} with local file operations; it must be a local path "
                "(on a cluster, a shared file system mounted at the same path on every node, e.g. /mnt/shared/scores.parquet), "
                "not a URI (inputs may be URIs)"
            )
    out = Path(out)
    if out.suffix.lower() != ".parquet":
        raise ValueError(
            f"--engine ray writes a directory of Parquet parts: --out must end in .parquet, not {out.suffix or '(no suffix)'}"
        )
    return out


def keep_committed(staging: Path, summaries: list[dict[str, Any]]) -> list[Path]:
    """The parts the finished write tasks reported; anything else (an attempt that died before
    reporting, a temporary file) is removed. A reported part that is not there (the write tasks ran
    on a file system the driver does not see) is a :class:`RayRunError`, before anything is removed."""
    names = [s["part"] for s in summaries if s["part"]]
    if len(set(names)) != len(names):
        raise RayRunError("two write tasks reported the same part; the output would hold rows twice")
    reported = [staging / "rows" / n for n in names] + [
        staging / "errors" / s["errors_part"] for s in summaries if s["errors_part"]
    ]
    missing = [p for p in reported if not p.is_file()]
    if missing:
        raise RayRunError(
            f"{len(missing)} of the {len(reported)} part files the write tasks reported are not in {staging} on this "
            f"machine (e.g. {missing[0].relative_to(staging)}): the workers wrote them to a file system the driver does "
            "not see. --out must be on storage that the driver and every node reach at the same path (a shared or "
            "mounted file system); nothing was written to --out"
        )
    committed = {p.name for p in reported}
    for sub in ("rows", "errors"):
        for f in (staging / sub).iterdir():
            if f.name not in committed:
                f.unlink()
    return [staging / "rows" / n for n in names]


def merge_error_parts(parts: Sequence[Path], out: Path) -> None:
    """The error parts as the local engine's errors file, in input order."""
    errors: list[dict[str, Any]] = []
    for p in parts:
        errors += pq.read_table(p).to_pylist()
    errors.sort(key=lambda e: e["_error_order"])
    write_errors((InputError(e["_error_source"], e["_error_line"], e["_error_id"], e["_error_reason"]) for e in errors), out)
