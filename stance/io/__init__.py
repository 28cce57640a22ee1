"""Formats in and out: `readers` (article collections: JSONL, JSON, CSV, Parquet, folders of text and
HTML) and `writers` (scored rows as Parquet, JSONL or CSV shards, and the score-file reader)."""
