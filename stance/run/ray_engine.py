"""``stance score --engine ray``: the same scoring on a Ray cluster, with Ray Data.

The pipeline (each stage a Ray Data operator; nothing here schedules work itself)::

    input files ──read (tasks)──> raw records ──ScoringPredictor (actor pool)──> sentence + error rows
        ──write (tasks)──> OUT.ray-tmp/rows/part-<hash>.parquet, OUT.ray-tmp/errors/errors-<hash>.parquet

1. The driver lists the input files (local paths, directories, or URIs that pyarrow opens:
   ``s3://``, ``gs://``, ``hdfs://``, ``file://``) in the order the local engine reads them.
2. A first pass over the records (tasks, no model) validates them, finds duplicate ids across the
   whole collection (a Ray Data groupby) and the metadata columns of the output, so that the
   scoring pass gives exactly the local engine's rows, errors and schema.
3. The scoring pass runs :class:`stance.run.predictor.ScoringPredictor`, the class the local engine's
   workers run, in ``map_batches`` with an actor pool: each actor loads the model once, with the
   backend the driver decided (``--backend auto`` is timed once, as in the local engine). Ray Data
   restarts an actor that dies and retries its batches, a bounded number of times
   (:data:`ACTOR_MAX_RESTARTS`, :data:`ACTOR_TASK_RETRIES`); a batch that keeps killing its actor
   stops the run with a message naming its first article (:func:`batch_that_killed`).
4. Write tasks split each batch into a Parquet part (the local engine's schema) and an errors
   part, both named by a hash of their content and committed by an atomic rename, so a retried
   write replaces its own file. The driver keeps only the parts that the finished write tasks
   reported, checks that every input record is in exactly one of them, merges the errors into
   ``OUT.errors.jsonl``, renames the rows directory to ``OUT`` and writes ``OUT.run.json``.

``OUT`` is a directory of Parquet parts (``pd.read_parquet(OUT)``, ``stance compare OUT``); rows
are not in input order across parts (sort by ``doc_id``, ``sentence_id``). It must be a local path
on storage that the driver and every node can reach (a shared or mounted file system), not a URI.

This module is the driver (:class:`RayOptions`, :func:`score_collection_ray`, and the first pass's small
stages) and the one the CLI imports from; the parts it runs live beside it, one job each:
:mod:`stance.run.ray_cluster` (reaching Ray, the actor pool and its bounded retries), :mod:`stance.run.ray_inputs`
(listing and reading the input files), :mod:`stance.run.ray_actor` (the scoring actor and the batch that kills
it) and :mod:`stance.run.ray_output` (``--out``, the write stage, keeping and merging the parts).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stance.io.records import Article
from stance.io.writers import BASE_COLUMNS
from stance.run.local import OutputExistsError, refuse_shared_files
from stance.run.options import ScoreOptions, pin_model
from stance.run.ray_actor import ScoringActor, batch_that_killed
from stance.run.ray_cluster import (
    ACTOR_MAX_RESTARTS,
    ACTOR_TASK_RETRIES,
    RayConnectError,
    RayRunError,
    actor_options,
    actor_pool_args,
    connect_ray,
    plan_actors,
)
from stance.run.ray_inputs import RAY_FORMATS, list_input_files, read_records
from stance.run.ray_output import check_out_path, keep_committed, merge_error_parts, write_parts
from stance.run.record import RunSummary, default_errors_path, run_metadata_path, write_json_atomic, write_run_json

__all__ = [  # the engine's names the CLI, the tests and bench/ import from here
    "ACTOR_MAX_RESTARTS",
    "ACTOR_TASK_RETRIES",
    "IO_TASK_CPUS",
    "RAY_FORMATS",
    "RayConnectError",
    "RayOptions",
    "RayRunError",
    "ScoringActor",
    "actor_options",
    "actor_pool_args",
    "batch_that_killed",
    "check_out_path",
    "keep_committed",
    "list_input_files",
    "plan_actors",
    "score_collection_ray",
]

IO_TASK_CPUS = 0.1  # reading, validating and writing tasks (the actors hold the rest of each node)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RayOptions:
    """How to run on Ray: ``address`` (None starts a local Ray; ``auto`` joins the cluster this
    machine belongs to; ``ray://host:port`` uses Ray Client) and ``actors_per_node`` (0: one per
    CPU core of the smallest node, at most 4). Dead actors are restarted and their batches retried
    at most :data:`ACTOR_MAX_RESTARTS` and :data:`ACTOR_TASK_RETRIES` times.

    Example:
        >>> RayOptions(address="auto", actors_per_node=8).actors_per_node
        8
    """

    address: str | None = None
    actors_per_node: int = 0

    def __post_init__(self) -> None:
        if self.actors_per_node < 0:
            raise ValueError("actors_per_node must be 0 (automatic) or more")
        if self.address is not None and not (self.address == "auto" or "://" in self.address or ":" in self.address):
            raise ValueError(f"--address must be 'auto', ray://host:port or host:port, not {self.address!r}")


def score_collection_ray(
    inputs: Sequence[str],
    out: str | Path,
    options: ScoreOptions | None = None,
    ray_options: RayOptions = RayOptions(),
    *,
    errors_path: str | Path | None = None,
    overwrite: bool = False,
    predictor_cls: type | None = None,
    on_note: Callable[[str], None] | None = None,
) -> RunSummary:
    """Score every article of the inputs on Ray into the Parquet directory ``out``; returns the
    run summary (also in ``OUT.run.json`` beside ``out``). Uses the Ray instance this process is
    connected to, or connects to ``ray_options.address`` (starting a local one when it is None).
    ``predictor_cls`` replaces :class:`~stance.run.predictor.ScoringPredictor` (a subclass, for tests);
    ``on_note`` gets notes for the user (files skipped in input directories; default: a log warning).
    A run that cannot finish is a :class:`RayRunError` (:class:`RayConnectError`: Ray was not reached).

    Example:
        >>> score_collection_ray(["s3://bucket/news/"], "/shared/scores.parquet", ScoreOptions(use_ner=False),
        ...                      RayOptions(address="auto", actors_per_node=4))  # doctest: +SKIP
        RunSummary(articles_read=..., articles_scored=..., errors=..., ...)
    """
    import ray
    import ray.data
    from ray.data.aggregate import Count, Min

    from stance.run.predictor import ERROR_COLUMNS, ScoringPredictor, output_schema

    started = time.perf_counter()
    options = pin_model(options or ScoreOptions())  # decided once: restarted actors load the same model
    out = check_out_path(out, errors_path)
    errors_file = Path(errors_path) if errors_path else default_errors_path(out)
    refuse_shared_files(out)
    staging = out.with_name(out.name + ".ray-tmp")
    skipped: list[str] = []
    files = list_input_files(list(inputs), skipped)
    if skipped:
        (on_note or log.warning)(
            f"{len(skipped)} file(s) in the input directories are not input and were skipped (hidden files, Spark's "
            f"_SUCCESS and .crc files): {', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''}"
        )
    if not overwrite and (out.exists() or staging.exists()):
        what = "an unfinished Ray run" if staging.exists() else "the output"
        raise OutputExistsError(f"{what} for {out} exists; use --overwrite to start again")

    started_ray = connect_ray(ray_options.address)  # before OUT.ray-tmp/ exists: a failed connection leaves nothing
    ctx = ray.data.DataContext.get_current()
    saved = (ctx.enable_progress_bars, ctx.shuffle_strategy)
    try:
        ctx.enable_progress_bars = False
        # a sort-based shuffle for the duplicate-id groupby: it starts at once (no aggregator actors)
        ctx.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
        plan = plan_actors([n["Resources"]["CPU"] for n in nodes], ray_options.actors_per_node)
        options = actor_options(options, plan)  # 'auto' decided once: every actor runs the same backend
        if staging.exists():
            shutil.rmtree(staging)
        for sub in ("rows", "errors", "started"):
            (staging / sub).mkdir(parents=True)

        file_items = [{"index": f.index, "source": f.source, "format": f.format} for f in files]
        records = ray.data.from_items(file_items, override_num_blocks=len(file_items)).map_batches(
            read_records,
            batch_size=1,
            batch_format="numpy",
            num_cpus=IO_TASK_CPUS,
            fn_kwargs={"block_records": min(options.chunk_articles, options.shard_articles)},
        )
        t0 = time.perf_counter()
        # ray types map_batches' fn as a one-argument callable; its keyword-only arguments come from fn_kwargs
        index = records.map_batches(
            _index_records,  # type: ignore[arg-type]
            batch_format="pyarrow",
            num_cpus=IO_TASK_CPUS,
            fn_kwargs={"id_from": options.id_from, "max_chars": options.max_chars},
        ).materialize()
        records_total = index.count()
        ids = index.map_batches(_valid_ids, batch_format="pyarrow", num_cpus=IO_TASK_CPUS)
        counted = ids.groupby("doc_id", num_partitions=plan.partitions).aggregate(
            Count(alias_name="n"), Min("order", alias_name="first")
        )
        duplicated = counted.map_batches(_repeated, batch_format="pyarrow", num_cpus=IO_TASK_CPUS).take_all()
        first_seen = {r["doc_id"]: int(r["first"]) for r in duplicated}
        key_rows = index.map_batches(
            _first_keys, batch_format="pyarrow", num_cpus=IO_TASK_CPUS, fn_kwargs={"first_seen": first_seen}
        ).take_all()
        meta_keys: list[str] = []
        for r in sorted(key_rows, key=lambda r: r["order"]):
            meta_keys += [k for k in json.loads(r["keys"]) if k not in meta_keys]
        expected_articles = ids.count() - sum(int(r["n"]) - 1 for r in duplicated)
        t1 = time.perf_counter()

        # Ray Data merges what a read task yields into large blocks, and an actor takes a whole block:
        # blocks of one batch each spread a big file over the whole actor pool
        batch = min(options.chunk_articles, options.shard_articles)
        predictor_kwargs = {"options": options, "meta_keys": meta_keys, "first_seen": first_seen, "threads": plan.threads}
        scored = records.repartition(target_num_rows_per_block=batch).map_batches(
            ScoringActor,
            fn_constructor_kwargs={
                "predictor_cls": predictor_cls or ScoringPredictor,
                "staging": str(staging.resolve()),
                **predictor_kwargs,
            },
            batch_size=batch,
            batch_format="pyarrow",
            **actor_pool_args(plan),
        )
        try:
            summaries = scored.map_batches(  # fn_kwargs: see the index stage
                write_parts,  # type: ignore[arg-type]
                batch_size=max(1000, options.shard_articles * 16),
                batch_format="pyarrow",
                num_cpus=IO_TASK_CPUS,
                fn_kwargs={"staging": str(staging.resolve()), "meta_keys": meta_keys},
            ).take_all()
        except ray.exceptions.RayError as exc:
            killer = batch_that_killed(staging)
            if killer is None:
                raise
            raise RayRunError(
                f"a scoring actor died on every attempt at the batch that starts with {killer} (out of memory? the "
                f"Ray logs of its node say), so the run stopped: score that batch's articles with the local engine, "
                f"or give each actor more memory (fewer --actors-per-node), then rerun with --overwrite"
            ) from exc
        t2 = time.perf_counter()
        engine = {
            "name": "ray",
            "ray_version": ray.__version__,
            "address": ray_options.address,
            "nodes": plan.nodes,
            "actors": plan.actors,
            "actors_per_node": plan.per_node,
            "threads_per_actor": plan.threads,
            "max_restarts": ACTOR_MAX_RESTARTS,
            "max_task_retries": ACTOR_TASK_RETRIES,
        }
    finally:
        ctx.enable_progress_bars, ctx.shuffle_strategy = saved
        if started_ray:
            ray.shutdown()

    summary = RunSummary(out=str(out), errors_path=str(errors_file))
    summary.backend = options.backend
    summary.articles_read = records_total
    for key in ("articles", "errors", "sentences", "sentences_scored", "mentions", "devices"):
        setattr(summary, "articles_scored" if key == "articles" else key, sum(int(s[key]) for s in summaries))
    parts = keep_committed(staging, summaries)
    if summary.articles_scored + summary.errors != records_total or summary.articles_scored != expected_articles:
        raise RayRunError(
            f"the Ray run does not account for every input record exactly once ({records_total} records read, "
            f"{summary.articles_scored} articles scored of {expected_articles} expected, {summary.errors} errors); "
            f"the parts are left in {staging}"
        )
    if not parts:  # no article at all: still a readable, empty output with the schema
        pq.write_table(
            output_schema(meta_keys).empty_table().drop_columns(list(ERROR_COLUMNS)), staging / "rows" / "part-empty.parquet"
        )
    merge_error_parts(sorted((staging / "errors").glob("errors-*.parquet")), errors_file)
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    os.replace(staging / "rows", out)
    shutil.rmtree(staging)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.stage_seconds = {"prepass": round(t1 - t0, 3), "score_and_write": round(t2 - t1, 3)}
    fingerprint = options.fingerprint([f.source for f in files], out)
    write_run_json(out, options, summary, fingerprint)
    run_json = run_metadata_path(out)
    run = json.loads(run_json.read_text())
    run["engine"] = engine
    run["counts"]["parts"] = len(parts)
    write_json_atomic(run_json, run)
    return summary


def _index_records(batch: pa.Table, *, id_from: str, max_chars: int) -> pa.Table:
    """First pass: per record its ``order``, the ``doc_id`` when it is a valid article (else
    null) and its metadata keys (JSON list), for duplicate detection and the output schema."""
    from stance.run.predictor import records_to_items

    orders, ids, keys = [], [], []
    for order, item in records_to_items(batch, id_from=id_from, max_chars=max_chars):
        orders.append(order)
        ids.append(item.id if isinstance(item, Article) else None)
        keys.append(json.dumps([k for k in item.meta if k not in BASE_COLUMNS]) if isinstance(item, Article) else None)
    return pa.table(
        {"order": pa.array(orders, pa.int64()), "doc_id": pa.array(ids, pa.string()), "keys": pa.array(keys, pa.string())}
    )


def _first_keys(batch: pa.Table, *, first_seen: dict[str, int]) -> pa.Table:
    """Distinct metadata-key lists of the articles that will be scored, with their first order."""
    best: dict[str, int] = {}
    for order, doc_id, keys in zip(*(batch.column(c).to_pylist() for c in ("order", "doc_id", "keys"))):
        if doc_id is None or first_seen.get(doc_id, order) != order:
            continue
        best[keys] = min(order, best.get(keys, order))
    return pa.table({"keys": pa.array(list(best), pa.string()), "order": pa.array(list(best.values()), pa.int64())})


def _valid_ids(batch: pa.Table) -> pa.Table:
    return batch.filter(batch.column("doc_id").is_valid()).select(["doc_id", "order"])


def _repeated(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.greater(batch.column("n"), 1))
