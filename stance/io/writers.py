"""Write scored rows as Parquet, JSONL or CSV shards, and merge shards into one file.

Parquet keeps ``mentions`` and ``devices`` as lists of structs; CSV stores them as JSON text.
Carried-through metadata columns are written as strings (JSON for non-string values), so that
shards always agree on their types.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stance.io.atomic import atomic_path

BASE_COLUMNS = ("doc_id", "sentence_id", "start", "end", "text", "section", "boilerplate", "mentions", "devices")

FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}

# float64, so that the 4-decimal probabilities read back exactly as written (float32 would give 0.6603000164031982)
PROBS = pa.struct([("negative", pa.float64()), ("neutral", pa.float64()), ("positive", pa.float64())])
MENTION = pa.struct(
    [
        ("actor", pa.string()),
        ("type", pa.string()),
        ("text", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("stance", pa.string()),
        ("probs", PROBS),
        ("resolution", pa.string()),
    ]
)
DEVICE = pa.struct(
    [
        ("label", pa.string()),
        ("text", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("score", pa.float64()),
        ("technique", pa.string()),
    ]
)
BASE_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("sentence_id", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("section", pa.string()),
        ("boilerplate", pa.bool_()),
        ("mentions", pa.list_(MENTION)),
        ("devices", pa.list_(DEVICE)),
    ]
)


def output_format(path: str | Path) -> str:
    """``parquet``, ``jsonl`` or ``csv`` from the output file's suffix; ValueError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out must end in .parquet, .jsonl or .csv, not {suffix or '(no suffix)'}")
    return FORMATS[suffix]


def _meta_value(value: Any) -> str | None:
    """Metadata as text: strings as they are, dates and decimals (Parquet input) as ``str()``,
    anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (datetime.date, datetime.time, decimal.Decimal)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as every writer (and the HTTP service) emits it: contract columns first, empty
    ``probs`` as null, metadata as strings."""
    out = {k: row[k] for k in BASE_COLUMNS}
    for m in out["mentions"]:
        m["probs"] = m["probs"] or None
    for key, value in row.items():
        if key not in out:
            out[key] = _meta_value(value)
    return out


def rows_to_table(rows: Sequence[dict[str, Any]], meta_keys: Sequence[str] | None = None) -> pa.Table:
    """Rows (``ScoredSentence.to_row()``) as an Arrow table with the fixed schema plus metadata:
    the metadata columns in order of first appearance, or exactly ``meta_keys`` when given (a row
    with another metadata key is a ValueError).

    Example:
        >>> rows_to_table([], meta_keys=["outlet"]).schema.names[-2:]
        ['devices', 'outlet']
    """
    rows = [normalise_row(r) for r in rows]
    if meta_keys is None:
        meta_keys = []
        for r in rows:
            meta_keys += [k for k in r if k not in BASE_COLUMNS and k not in meta_keys]
    else:
        unknown = sorted({k for r in rows for k in r if k not in BASE_COLUMNS} - set(meta_keys))
        if unknown:
            raise ValueError(f"metadata columns {unknown} are not among meta_keys {list(meta_keys)}")
    schema = pa.schema(list(BASE_SCHEMA) + [(k, pa.string()) for k in meta_keys])
    return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in rows], schema=schema)


def write_shard(rows: Sequence[dict[str, Any]], path: Path, fmt: str) -> None:
    """Write one shard atomically (temporary file, fsync, rename: :func:`stance.io.atomic.atomic_path`)."""
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            pq.write_table(rows_to_table(rows), tmp)
        elif fmt == "jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for r in rows:
                    fh.write(json.dumps(normalise_row(r), ensure_ascii=False) + "\n")
        else:
            names = rows_to_table(rows).schema.names  # the column order of the other formats
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(names)
                for r in map(normalise_row, rows):  # the values as written, not through float32 columns
                    writer.writerow(
                        [json.dumps(r.get(k), ensure_ascii=False) if isinstance(r.get(k), list) else r.get(k) for k in names]
                    )


def merge_shards(parts: Sequence[Path], out: Path, fmt: str) -> None:
    """Merge shards in order into ``out`` (atomically), unifying metadata columns."""
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            names = list(BASE_SCHEMA.names)
            for p in parts:
                names += [n for n in pq.read_schema(p).names if n not in names]
            schema = pa.schema(list(BASE_SCHEMA) + [(n, pa.string()) for n in names[len(BASE_SCHEMA) :]])
            with pq.ParquetWriter(tmp, schema) as pq_writer:
                for p in parts:
                    table = pq.read_table(p)
                    columns = [table[n] if n in table.column_names else pa.nulls(len(table), pa.string()) for n in schema.names]
                    pq_writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                if not parts:
                    pq_writer.write_table(schema.empty_table())
        elif fmt == "jsonl":
            with open(tmp, "wb") as fh:
                for p in parts:
                    with open(p, "rb") as src:
                        shutil.copyfileobj(src, fh)
        else:
            csv.field_size_limit(sys.maxsize)  # a long carried-through field (an article's HTML) is no error
            header: list[str] = []
            for p in parts:
                with open(p, encoding="utf-8", newline="") as src:
                    header += [h for h in next(csv.reader(src), []) if h not in header]
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=header or list(BASE_COLUMNS))
                writer.writeheader()
                for p in parts:
                    with open(p, encoding="utf-8", newline="") as src:
                        for row in csv.DictReader(src):
                            writer.writerow(row)
