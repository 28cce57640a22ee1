"""The scoring actor of ``stance score --engine ray`` and its crash bookkeeping: :class:`ScoringActor` runs
a :class:`~stance.run.predictor.ScoringPredictor` on one batch at a time, the batch marked as started while it
runs, so that a batch that kills its actor on every attempt can be named (:func:`batch_that_killed`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa


class ScoringActor:
    """The scoring stage's actor: ``predictor_cls(**kwargs)`` (a
    :class:`~stance.run.predictor.ScoringPredictor`) scoring one batch at a time. While a batch runs, a
    file ``STAGING/started/batch-<order>.txt`` holds a line per attempt naming its first record, and is
    removed when the batch is scored; a batch that kills its actor each time is left with several lines
    (:func:`batch_that_killed`).
    """

    def __init__(self, predictor_cls: type, staging: str, **kwargs: Any) -> None:
        self.predictor = predictor_cls(**kwargs)
        self.started = Path(staging) / "started"

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The predictor's table for ``batch``, with the batch marked as started while it runs."""
        if not batch.num_rows:
            return self.predictor(batch)
        marker = self.started / f"batch-{batch.column('order')[0].as_py()}.txt"
        with open(marker, "a", encoding="utf-8") as f:
            f.write(_first_record(batch) + "\n")
        table = self.predictor(batch)
        marker.unlink(missing_ok=True)
        return table


def _first_record(batch: pa.Table) -> str:
    """The first record of a batch of raw records, as a message names it."""
    source, line, raw = (batch.column(c)[0].as_py() for c in ("source", "line", "raw"))
    try:
        doc_id = json.loads(raw).get("id") if raw else None
    except (ValueError, AttributeError):
        doc_id = None
    where = f"{source}, line {line}"
    return f"article {str(doc_id)!r} ({where})" if doc_id is not None else f"the record at {where}"


def batch_that_killed(staging: Path) -> str | None:
    """The batch that was started more than once and never finished (its actor died each time), as
    ``"article 'a7' (news.jsonl, line 7), started 3 times"``; None when there is none."""
    worst: list[str] = []
    for marker in sorted((staging / "started").glob("batch-*.txt")):
        lines = marker.read_text(encoding="utf-8").splitlines()
        if len(lines) > max(1, len(worst)):
            worst = lines
    return f"{worst[0]}, started {len(worst)} times" if worst else None
