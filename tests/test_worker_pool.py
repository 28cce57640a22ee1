"""stance score's worker pool: a worker that dies (out of memory, kill -9) or an article whose scoring raises
costs one article, never the run."""

from __future__ import annotations

import os

import pytest

from stance.io.records import Article, InputError
from stance.run.local import WORKER_DIED, WorkerPool
from stance.run.options import ScoreOptions
from stance.run.predictor import score_isolating
from stance.run.record import RunSummary


def die_on_boom(articles: list[Article]):
    """A worker's run (module level, so that spawned workers import it): dies like an out-of-memory kill on 'boom'."""
    if any(a.id == "boom" for a in articles):
        os._exit(137)
    return [[{"doc_id": a.id}] for a in articles], "fake", {"model": 0.5}


def raise_on_bad(articles: list[Article]):
    """A worker's run that raises, as a tokenizer may on input no check foresaw, on 'bad'."""
    if any(a.id == "bad" for a in articles):
        raise TypeError("the tokenizer cannot read this")
    return [[{"doc_id": a.id}] for a in articles], "fake", {"model": 0.5}


def always_raise(articles: list[Article]):
    raise RuntimeError("the model is broken")


def no_start(options: ScoreOptions, threads: int) -> None:
    return None


def _article(doc_id: str, line: int) -> Article:
    return Article(id=doc_id, text="Some text.", source="in.jsonl", line=line)


def test_a_dying_worker_costs_only_the_article_that_kills_it():
    first = [_article("a", 1), InputError("in.jsonl", 2, None, "not valid JSON"), _article("boom", 3), _article("c", 4)]
    second = [_article("d", 5), _article("e", 6)]
    pool = WorkerPool(ScoreOptions(workers=1), 1, run=die_on_boom, init=no_start)
    summary = RunSummary()
    try:
        pending = [(first, pool.submit(first)), (second, pool.submit(second))]  # both on the pool that breaks
        results = [pool.collect(chunk, submitted, summary) for chunk, submitted in pending]
        third = [_article("f", 7)]
        results.append(pool.collect(third, pool.submit(third), summary))  # the pool works on
    finally:
        pool.shutdown()
    (chunk1, rows1), (chunk2, rows2), (chunk3, rows3) = results
    assert [r[0]["doc_id"] for r in rows1] == ["a", "c"]
    assert [type(x).__name__ for x in chunk1] == ["Article", "InputError", "InputError", "Article"]
    died = chunk1[2]
    assert (died.id, died.line, died.reason) == ("boom", 3, WORKER_DIED)
    assert chunk2 == second and [r[0]["doc_id"] for r in rows2] == ["d", "e"]  # scored again, nothing lost
    assert [r[0]["doc_id"] for r in rows3] == ["f"] and summary.backend == "fake"
    assert summary.stage_seconds == {"model": 2.5}  # five calls that returned (a, c, d, e, f): their seconds added


def test_an_article_whose_scoring_raises_costs_that_article_not_the_run():
    """Before, the exception ended the run, and every --resume ended at the same article again."""
    chunk = [_article("a", 1), _article("bad", 2), _article("c", 3)]
    pool = WorkerPool(ScoreOptions(workers=1), 1, run=raise_on_bad, init=no_start)
    try:
        out, rows = pool.collect(chunk, pool.submit(chunk), RunSummary())
    finally:
        pool.shutdown()
    assert [r[0]["doc_id"] for r in rows] == ["a", "c"]
    assert (out[1].id, out[1].line) == ("bad", 2)
    assert out[1].reason == "scoring this article failed: TypeError: the tokenizer cannot read this"
    # in-process (--workers 1), the same
    out, rows = score_isolating(chunk, lambda articles: raise_on_bad(articles)[0])
    assert [r[0]["doc_id"] for r in rows] == ["a", "c"] and isinstance(out[1], InputError)


def test_a_fault_of_every_article_stops_the_run_rather_than_fill_the_errors_file():
    with pytest.raises(RuntimeError, match="the model is broken"):
        score_isolating([_article("a", 1), _article("b", 2)], lambda articles: always_raise(articles))
    out, rows = score_isolating([_article("a", 1)], lambda articles: always_raise(articles))  # one article: its own
    assert rows == [] and "the model is broken" in out[0].reason


def test_the_ray_engines_predictor_turns_an_article_whose_scoring_raises_into_an_error_row(tiny_model_dir):
    """Ray Data fails the whole run on an exception in a batch: the predictor isolates the article first."""
    import json

    from stance.run.predictor import ScoringPredictor

    class Picky(ScoringPredictor):
        def score_rows(self, articles):
            if any(a.id == "bad" for a in articles):
                raise TypeError("the tokenizer cannot read this")
            return super().score_rows(articles)

    predictor = Picky(ScoreOptions(model=str(tiny_model_dir), use_ner=False))
    raw = [json.dumps({"id": i, "text": f"Canada spoke on day {n}."}) for n, i in enumerate(("a", "bad", "c"))]
    table = predictor({"order": [1, 2, 3], "source": ["in.jsonl"] * 3, "line": [1, 2, 3], "raw": raw, "error": [None] * 3})
    scored = table.filter(table.column("_error_order").is_null())
    errors = table.filter(table.column("_error_order").is_valid())
    assert sorted(set(scored.column("doc_id").to_pylist())) == ["a", "c"]
    assert errors.column("_error_id").to_pylist() == ["bad"] and errors.column("_error_order").to_pylist() == [2]
    assert "scoring this article failed: TypeError" in errors.column("_error_reason")[0].as_py()
