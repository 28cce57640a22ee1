"""``python -m stance``: the same as the ``stance`` command (and ``python -m stance.cli``).

python -m stance score examples/articles.jsonl --out scores.parquet
"""

from stance.cli.main import app

app(prog_name="stance")
