"""Formats in and out: `readers` (article collections: JSONL, JSON, CSV, Parquet, folders of text and
HTML), `writers` (scored rows as Parquet, JSONL or CSV shards), `score_files` (scored rows read back,
from files, folders of shards or a DataFrame), `errors` (the errors file of a run: records not scored) and
`atomic` (every committed file: temporary file, fsync, rename)."""
