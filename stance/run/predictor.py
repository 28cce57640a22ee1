"""The per-batch work of ``stance score``, as one class that every engine runs (no Ray needed).

:class:`ScoringPredictor` loads the pipeline once, in ``__init__``, and then scores batches:

- ``score_rows(articles)``: the output rows of each :class:`~stance.io.records.Article`; the local
  engine's in-process and worker-process paths call this;
- ``__call__(batch)``: a batch of raw input records (columns ``order``, ``source``, ``line``,
  ``raw``, ``error``; see :data:`RECORD_SCHEMA`) to an Arrow table: the output schema of
  :func:`stance.io.writers.rows_to_table` plus the ``_error_*`` columns, one row per sentence of each
  scored article and one row per record that could not be scored. Ray Data's ``map_batches`` calls
  this in an actor pool (``stance.run.ray_engine``).

Records are checked with :func:`stance.io.readers.validate_record`, the checks the local reader
makes, so bad records become the same error rows in both engines.

Example:
    >>> from stance.run.options import ScoreOptions
    >>> predictor = ScoringPredictor(ScoreOptions(use_ner=False))  # doctest: +SKIP
    >>> batch = {"order": [1], "source": ["in.jsonl"], "line": [1], "raw": ['{"id": "a1", "text": "Moscow said no."}'], "error": [None]}
    >>> predictor(batch).to_pylist()[0]["doc_id"]  # doctest: +SKIP
    'a1'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from stance.io.readers import validate_record
from stance.io.records import Article, InputError
from stance.io.writers import rows_to_table
from stance.run.options import ScoreOptions

RECORD_SCHEMA = pa.schema(
    [("order", pa.int64()), ("source", pa.string()), ("line", pa.int64()), ("raw", pa.string()), ("error", pa.string())]
)
"""A raw input record: ``order`` sorts records in input order (file index << 32 | line); ``raw`` is
the record as JSON text, or null when ``error`` says why the line could not be read."""

ERROR_FIELDS = [
    ("_error_order", pa.int64()),
    ("_error_source", pa.string()),
    ("_error_line", pa.int64()),
    ("_error_id", pa.string()),
    ("_error_reason", pa.string()),
]
ERROR_COLUMNS = tuple(name for name, _ in ERROR_FIELDS)


def output_schema(meta_keys: Sequence[str]) -> pa.Schema:
    """The schema of :meth:`ScoringPredictor.__call__`'s tables: the file output's schema for these
    metadata columns, then the ``_error_*`` columns (null on sentence rows).

    Example:
        >>> output_schema(["outlet"]).names[-6:]
        ['outlet', '_error_order', '_error_source', '_error_line', '_error_id', '_error_reason']
    """
    return pa.schema(list(rows_to_table([], meta_keys=meta_keys).schema) + ERROR_FIELDS)


def records_to_items(
    batch: Any, *, id_from: str = "field", max_chars: int, first_seen: Mapping[str, int] | None = None
) -> list[tuple[int, Article | InputError]]:
    """Each raw record of ``batch`` (an Arrow table, a pandas DataFrame or a dict of columns) as
    ``(order, Article or InputError)``. ``first_seen`` maps a duplicated id to the ``order`` of its
    first valid record: later valid records with that id become duplicate-id errors, as in the
    local reader.

    Example:
        >>> batch = {"order": [1, 2], "source": ["a.jsonl"] * 2, "line": [1, 2], "raw": ['{"id": "x", "text": "Hi."}', None],
        ...          "error": [None, "malformed JSON"]}
        >>> [type(item).__name__ for _, item in records_to_items(batch, max_chars=100)]
        ['Article', 'InputError']
    """
    columns = _columns(batch)
    items: list[tuple[int, Article | InputError]] = []
    for order, source, line, raw, error in zip(*(columns[c] for c in RECORD_SCHEMA.names)):
        order, line = int(order), int(line)
        obj: Any = InputError(source, line, None, error) if error is not None else json.loads(raw)
        item = validate_record(obj, set(), max_chars=max_chars, source=source, line=line, id_from=id_from)
        if isinstance(item, Article) and first_seen is not None and first_seen.get(item.id, order) != order:
            item = InputError(source, line, item.id, f"duplicate id {item.id!r}")
        items.append((order, item))
    return items


def _columns(batch: Any) -> dict[str, list[Any]]:
    if isinstance(batch, pa.Table):
        return {c: batch.column(c).to_pylist() for c in RECORD_SCHEMA.names}
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # pandas
        batch = {c: batch[c] for c in RECORD_SCHEMA.names}
    missing = [c for c in RECORD_SCHEMA.names if c not in batch]
    if missing:
        raise ValueError(f"a record batch needs the columns {', '.join(RECORD_SCHEMA.names)}; missing {', '.join(missing)}")
    return {c: [None if _is_missing(v) else v for v in batch[c]] for c in RECORD_SCHEMA.names}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class ArticleError(Exception):
    """Scoring an article failed in a known way; the message is its errors-file reason (a worker it killed, say)."""


def scoring_failed(article: Article, exc: BaseException) -> InputError:
    """The errors-file record of an article whose scoring raised (a case no input check foresaw)."""
    return InputError(article.source, article.line, article.id, f"scoring this article failed: {type(exc).__name__}: {exc}")


def score_isolating(
    chunk: list[Article | InputError],
    score: Callable[[list[Article]], list[list[dict[str, Any]]]],
    *,
    failed_whole: bool = False,
    reraise: tuple[type[BaseException], ...] = (),
) -> tuple[list[Article | InputError], list[list[dict[str, Any]]]]:
    """(chunk, rows per scored article) with ``score`` run on the chunk's articles; if it raises (or
    ``failed_whole``: it did already), each article is scored alone and one that raises again goes to the
    errors file (:func:`scoring_failed`; an :class:`ArticleError` with its own message), so that an article no
    input check foresaw costs that article, not the run; ``reraise``: exceptions that are the run's fault, never
    an article's. When every article of several raises, the fault
    is not theirs (a broken model, say): the first exception stops the run.

    Example:
        >>> chunk, rows = score_isolating([Article(id="a", text="Canada.")], lambda arts: [[{"doc_id": a.id}] for a in arts])
        >>> rows
        [[{'doc_id': 'a'}]]
    """
    articles = [a for a in chunk if isinstance(a, Article)]
    if not failed_whole:
        try:
            return chunk, score(articles)
        except reraise:
            raise
        except Exception:  # noqa: BLE001  (any fault of one article: found below)
            pass
    out: list[Article | InputError] = []
    rows: list[list[dict[str, Any]]] = []
    raised: list[Exception] = []
    for item in chunk:
        if not isinstance(item, Article):
            out.append(item)
            continue
        try:
            [article_rows] = score([item])
        except ArticleError as exc:
            out.append(InputError(item.source, item.line, item.id, str(exc)))
            continue
        except reraise:
            raise
        except Exception as exc:  # noqa: BLE001  (the article goes to the errors file with the reason)
            raised.append(exc)
            out.append(scoring_failed(item, exc))
            continue
        out.append(item)
        rows.append(article_rows)
    if len(raised) == len(articles) > 1:
        raise raised[0]
    return out, rows


class ScoringPredictor:
    """The scoring pipeline, loaded once, scoring one batch at a time (see the module docstring).

    ``meta_keys`` fixes the metadata columns of the tables ``__call__`` returns (so that every
    shard has the same schema); ``first_seen`` is the duplicate-id map of :func:`records_to_items`;
    ``threads``: the model backend's threads (torch's thread count for this process, for the torch backend).

    Example:
        >>> from stance.run.options import ScoreOptions
        >>> predictor = ScoringPredictor(ScoreOptions(use_ner=False))  # doctest: +SKIP
        >>> predictor.score_rows([Article(id="a1", text="Beijing hailed the deal.")])[0][0]["mentions"][0]["actor"]  # doctest: +SKIP
        'China'
    """

    def __init__(
        self,
        options: ScoreOptions,
        *,
        meta_keys: Sequence[str] = (),
        first_seen: Mapping[str, int] | None = None,
        threads: int | None = None,
    ) -> None:
        self.options = options
        self.meta_keys = tuple(meta_keys)
        self.first_seen = dict(first_seen) if first_seen is not None else None
        self.schema = output_schema(self.meta_keys)
        self.scorer = make_scorer(options, threads=max(1, threads) if threads is not None else None)

    def score_rows(self, articles: Sequence[Article]) -> list[list[dict[str, Any]]]:
        """The output rows (``ScoredSentence.to_row()``) of each article, in order."""
        if not articles:
            return []
        return [[s.to_row() for s in rows] for rows in self.scorer.score_articles(articles)]

    def __call__(self, batch: Any) -> pa.Table:
        """Score a batch of raw records; sentence rows and error rows in one table (see the module docstring)."""
        items = records_to_items(
            batch, id_from=self.options.id_from, max_chars=self.options.max_chars, first_seen=self.first_seen
        )
        articles = [(order, item) for order, item in items if isinstance(item, Article)]
        # an article whose scoring raises becomes an error row, as in the local engine, not the end of the run
        checked, scored = score_isolating([item for _, item in articles], self.score_rows)
        failed = [(order, item) for (order, _), item in zip(articles, checked, strict=True) if isinstance(item, InputError)]
        rows = [row for article_rows in scored for row in article_rows]
        table = rows_to_table(rows, meta_keys=self.meta_keys)
        table = table.append_column(ERROR_FIELDS[0][0], pa.nulls(len(table), pa.int64()))
        for name, kind in ERROR_FIELDS[1:]:
            table = table.append_column(name, pa.nulls(len(table), kind))
        errors = sorted([(order, item) for order, item in items if isinstance(item, InputError)] + failed, key=lambda e: e[0])
        if not errors:
            return table
        error_columns = {f.name: pa.nulls(len(errors), f.type) for f in self.schema if f.name not in ERROR_COLUMNS}
        error_columns |= {
            "_error_order": pa.array([o for o, _ in errors], pa.int64()),
            "_error_source": pa.array([e.source for _, e in errors], pa.string()),
            "_error_line": pa.array([e.line for _, e in errors], pa.int64()),
            "_error_id": pa.array([e.id for _, e in errors], pa.string()),
            "_error_reason": pa.array([e.reason for _, e in errors], pa.string()),
        }
        return pa.concat_tables([table, pa.table(error_columns, schema=self.schema)])


def make_scorer(options: ScoreOptions, threads: int | None = None):
    """The scorer a run's options describe (model, backend on ``threads`` threads, actor registry, NER).

    Example:
        >>> scorer = make_scorer(ScoreOptions(model="default", use_ner=False), threads=2)  # doctest: +SKIP
    """
    from stance.pipeline.scorer import StanceScorer

    return StanceScorer.from_settings(options.pipeline, threads=threads)
