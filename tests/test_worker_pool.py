"""stance score's worker pool: a worker that dies (out of memory, kill -9) costs one article, never the run."""

from __future__ import annotations

import os

from stance.io.readers import Article, InputError
from stance.run.local import WORKER_DIED, WorkerPool
from stance.run.options import ScoreOptions
from stance.run.record import RunSummary


def die_on_boom(articles: list[Article]):
    """A worker's run (module level, so that spawned workers import it): dies like an out-of-memory kill on 'boom'."""
    if any(a.id == "boom" for a in articles):
        os._exit(137)
    return [[{"doc_id": a.id}] for a in articles], "fake", {"model": 0.5}


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
