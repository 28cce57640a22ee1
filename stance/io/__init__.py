"""Formats in and out: `readers` (article collections: JSONL, JSON, CSV, Parquet, folders of text and
HTML; the paths, folders and record checks), `formats` (each input format and its reading function),
`records` (what reading yields: `Article`, `InputError`), `lines` (UTF-8 lines and strict JSONL of files),
`writers` (scored rows as Parquet, JSONL or CSV shards), `score_files` (scored rows read back, from files,
folders of shards or a DataFrame), `errors` (the errors file of a run: records not scored) and `atomic`
(every committed file: temporary file, fsync, rename)."""
