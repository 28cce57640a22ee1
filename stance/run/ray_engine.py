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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stance.io.atomic import atomic_path
from stance.io.errors import write_errors
from stance.io.formats import INPUT_FORMATS
from stance.io.readers import check_paths, folder_files, is_hidden
from stance.io.records import Article, InputError, InputPathError
from stance.io.writers import BASE_COLUMNS
from stance.run.local import OutputExistsError, auto_workers_for, decide_backend, refuse_shared_files
from stance.run.options import ScoreOptions, pin_model
from stance.run.record import RunSummary, default_errors_path, run_metadata_path, write_json_atomic, write_run_json

# the input formats (stance.io.formats.INPUT_FORMATS) this engine reads: those a stream can hold
RAY_FORMAT_NAMES = ("jsonl", "parquet")
RAY_FORMATS = {suffix: name for name in RAY_FORMAT_NAMES for suffix in INPUT_FORMATS[name].suffixes}  # suffix -> format name
READ_BLOCK_RECORDS = 1024
IO_TASK_CPUS = 0.1  # reading, validating and writing tasks (the actors hold the rest of each node)
# A scoring actor that dies (out of memory, a lost node) is restarted at most ACTOR_MAX_RESTARTS times and
# the batch it ran is retried at most ACTOR_TASK_RETRIES times; then the run stops. Ray Data's defaults (-1)
# retry forever: a batch whose article kills its actor would reload the model and hang the run, silently.
ACTOR_MAX_RESTARTS = 2
ACTOR_TASK_RETRIES = 2
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # also as pathlib leaves it: Path("s3://b/x") is s3:/b/x

log = logging.getLogger(__name__)


class RayRunError(RuntimeError):
    """A Ray run that could not finish; the message says why and what to do."""


class RayConnectError(RayRunError):
    """Ray could not be started or reached at ``--address``; nothing was written."""


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


@dataclass(frozen=True)
class InputFile:
    """One input file in the run's order: ``index`` (its place), ``source`` (the path or URI as the
    errors file names it) and ``format`` (``jsonl`` or ``parquet``)."""

    index: int
    source: str
    format: str


def list_input_files(inputs: Sequence[str], skipped: list[str] | None = None) -> list[InputFile]:
    """The JSONL and Parquet files of the inputs, in the local engine's order (inputs as given,
    directories recursively by name). Other formats are an :class:`InputPathError`. Inside a
    directory, files that are not input (:func:`is_skipped_file`: hidden files, Spark's ``_SUCCESS``
    and ``.crc`` files) are left out and appended to ``skipped`` when it is given.

    Example:
        >>> [f.source for f in list_input_files(["examples/articles.jsonl"])]
        ['examples/articles.jsonl']
    """
    if not inputs:
        raise InputPathError("no input given")
    sources: list[str] = []
    for p in inputs:
        if p == "-":
            raise InputPathError("the Ray engine cannot read standard input; give files, directories or URIs")
        if "://" in p:
            sources += _list_uri(p, skipped)
            continue
        check_paths([p])
        path = Path(p)
        if path.is_dir():
            files = []
            for f in folder_files(path):
                if not is_skipped_file(f.relative_to(path).as_posix()):
                    files.append(f)
                elif skipped is not None:
                    skipped.append(str(f))
            others = [f for f in files if f.suffix.lower() not in RAY_FORMATS]
            if others:
                raise InputPathError(
                    f"{p}: the Ray engine reads .jsonl, .ndjson and .parquet files; this directory also holds "
                    f"{len(others)} other file(s), e.g. {others[0]} (score those with the local engine)"
                )
            sources += [str(f) for f in files]
        else:
            sources.append(p)
    result = []
    for i, source in enumerate(sources):
        suffix = Path(source.split("://", 1)[-1]).suffix.lower()
        if suffix not in RAY_FORMATS:
            raise InputPathError(f"{source}: the Ray engine reads .jsonl, .ndjson and .parquet, not {suffix or '(no suffix)'}")
        result.append(InputFile(i, source, RAY_FORMATS[suffix]))
    if not result:
        raise InputPathError(f"no .jsonl or .parquet files in {', '.join(inputs)}")
    return result


def is_skipped_file(relative: str) -> bool:
    """Whether a file inside an input directory (``relative``: its path there, ``/``-separated) is not
    input: hidden (a part of the path starts with ``.``, as the local engine leaves out), Spark's
    ``_SUCCESS`` marker or a ``.crc`` checksum.

    Example:
        >>> [is_skipped_file(p) for p in (".DS_Store", "day1/_SUCCESS", "part-0.parquet.crc", "day1/a.jsonl")]
        [True, True, True, False]
    """
    name = relative.rsplit("/", 1)[-1]
    return is_hidden(relative) or name == "_SUCCESS" or name.lower().endswith(".crc")


def _list_uri(uri: str, skipped: list[str] | None = None) -> list[str]:
    from pyarrow import fs

    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputPathError(f"{uri}: cannot open ({exc})") from None
    scheme = uri.split("://", 1)[0]
    if info.type == fs.FileType.NotFound:
        raise InputPathError(f"{uri}: no such file or directory")
    if info.type == fs.FileType.File:
        return [uri]
    infos = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    files = []
    for i in sorted(infos, key=lambda i: i.path):
        if i.type != fs.FileType.File:
            continue
        if not is_skipped_file(i.path[len(path.rstrip("/")) :].lstrip("/")):
            files.append(f"{scheme}://{i.path}")
        elif skipped is not None:
            skipped.append(f"{scheme}://{i.path}")
    return files


def read_records(batch: dict[str, Any], block_records: int = READ_BLOCK_RECORDS) -> Iterator[pa.Table]:
    """Ray Data read stage: the raw records of each file in ``batch`` (columns ``index``,
    ``source``, ``format``), in batches of ``block_records``, with the local reader's line numbers
    and read errors.

    Example:
        >>> next(read_records({"index": [0], "source": ["examples/articles.jsonl"], "format": ["jsonl"]})).num_rows > 0
        True
    """
    from stance.run.predictor import RECORD_SCHEMA

    for index, source, fmt in zip(batch["index"], batch["source"], batch["format"]):
        rows: list[tuple[int, str, int, str | None, str | None]] = []
        for src, line, obj in _file_records(str(source), str(fmt)):
            error = getattr(obj, "reason", None)
            raw = None if error is not None else json.dumps(obj, default=str)
            rows.append(((int(index) << 32) | line, src, line, raw, error))
            if len(rows) >= block_records:
                yield pa.Table.from_arrays([pa.array(c) for c in zip(*rows)], schema=RECORD_SCHEMA)
                rows = []
        if rows:
            yield pa.Table.from_arrays([pa.array(c) for c in zip(*rows)], schema=RECORD_SCHEMA)


def _file_records(source: str, fmt: str) -> Iterator[tuple[str, int, Any]]:
    """The raw records of one input file (a local path or a URI), read by its format's reader."""
    if "://" in source:
        from pyarrow import fs

        filesystem, path = fs.FileSystem.from_uri(source)
        handle = filesystem.open_input_file(path)
    else:
        handle = open(source, "rb")
    with handle:
        yield from INPUT_FORMATS[fmt].read(handle, source)


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


def _write_parts(batch: pa.Table, *, staging: str, meta_keys: Sequence[str]) -> pa.Table:
    """Write stage: the sentence rows of ``batch`` as ``rows/part-<hash>.parquet`` (the output
    schema) and its error rows as ``errors/errors-<hash>.parquet``, each by an atomic rename; the
    name is a hash of the content, so a retried write replaces its own file. Returns one summary
    row (file names and counts) for the driver."""
    from stance.io.writers import rows_to_table
    from stance.run.predictor import ERROR_COLUMNS

    is_error = batch.column("_error_reason").is_valid()
    rows = batch.filter(pc.invert(is_error)).drop_columns(list(ERROR_COLUMNS))
    errors = batch.filter(is_error).select(list(ERROR_COLUMNS))
    rows = rows.cast(rows_to_table([], meta_keys=meta_keys).schema)
    part = err_part = ""
    if rows.num_rows:
        keys = sorted(f"{d}\x00{s}" for d, s in zip(rows.column("doc_id").to_pylist(), rows.column("sentence_id").to_pylist()))
        part = f"part-{_digest(keys)}.parquet"
        _write_atomic(rows, Path(staging) / "rows" / part)
    if errors.num_rows:
        err_part = f"errors-{_digest(sorted(map(str, errors.column('_error_order').to_pylist())))}.parquet"
        _write_atomic(errors, Path(staging) / "errors" / err_part)
    sentence_ids = rows.column("sentence_id").to_pylist()
    boilerplate = rows.column("boilerplate").to_pylist()
    summary = {
        "part": part,
        "errors_part": err_part,
        "sentences": rows.num_rows,
        "articles": sum(s == 0 for s in sentence_ids),
        "sentences_scored": sum(not b for b in boilerplate),
        "errors": errors.num_rows,
        "mentions": sum(pc.list_value_length(rows.column("mentions")).fill_null(0).to_pylist()),
        "devices": sum(pc.list_value_length(rows.column("devices")).fill_null(0).to_pylist()),
    }
    return pa.Table.from_pylist([summary])


def _digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _write_atomic(table: pa.Table, path: Path) -> None:
    """``table`` as Parquet at ``path``; the temporary name has the process id, as a retried write of
    the same part may run beside the first."""
    with atomic_path(path, tmp_name=f"{path.name}.{os.getpid()}.tmp") as tmp:
        pq.write_table(table, tmp)


def check_out_path(out: str | Path, errors_path: str | Path | None = None) -> Path:
    """``--out`` as the Ray engine needs it: a local path ending in ``.parquet`` (on a shared or
    mounted file system for a cluster); the run moves files into place, which an object store URI
    cannot take. ``errors_path`` (``--errors``) must be a local path too. ValueError otherwise.

    Example:
        >>> check_out_path("/mnt/shared/scores.parquet")
        PosixPath('/mnt/shared/scores.parquet')
    """
    for option, path in (("--out", out), ("--errors", errors_path)):
        if path is not None and _URI.match(str(path)):
            raise ValueError(
                f"{option} {path}: --engine ray writes {option} with local file operations; it must be a local path "
                "(on a cluster, a shared file system mounted at the same path on every node, e.g. /mnt/shared/scores.parquet), "
                "not a URI (inputs may be URIs)"
            )
    out = Path(out)
    if out.suffix.lower() != ".parquet":
        raise ValueError(
            f"--engine ray writes a directory of Parquet parts: --out must end in .parquet, not {out.suffix or '(no suffix)'}"
        )
    return out


def connect_ray(address: str | None) -> bool:
    """Connect this process to Ray at ``address`` (None starts a local Ray) unless it is connected
    already; True when it connected here (the caller then shuts Ray down). A Ray that cannot be
    started or reached is a :class:`RayConnectError`.

    Example:
        >>> started_here = connect_ray("auto")  # doctest: +SKIP
    """
    import ray

    if ray.is_initialized():
        return False
    if address not in (None, "auto", "local") and (silent := unanswered(address)):
        raise RayConnectError(f"cannot connect to Ray at --address {address}: {silent}")
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (OSError, RuntimeError) as exc:  # ConnectionError, TimeoutError; RuntimeError for a node that never registers
        what = "start a local Ray" if address is None else f"connect to Ray at --address {address}"
        hint = (
            " (no Ray cluster runs on this machine? `ray status` says; `ray start --head` starts one)"
            if address == "auto"
            else ""
        )
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayConnectError(f"cannot {what}{hint}: {reason}") from None
    return True


def unanswered(address: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at a Ray ``address`` (``host:port`` or ``ray://host:port``), or None when something
    does (or the address names no port to try). Checked before ``ray.init``, which retries an address that does
    not answer for minutes.

    Example:
        >>> "nothing answers at 127.0.0.1:1" in unanswered("127.0.0.1:1")
        True
    """
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return (
            f"nothing answers at {host}:{port} ({exc.strerror or exc}; is the head node running? `ray start --head` starts one)"
        )


@dataclass(frozen=True)
class ActorPlan:
    """The scoring stage on a cluster: ``per_node`` actors on each of ``nodes`` nodes, each asking for
    ``actor_cpus`` CPUs and running ``threads`` threads; ``partitions`` for the duplicate-id groupby.

    Example:
        >>> plan = plan_actors([16.0, 16.0])
        >>> plan.actors, plan.threads
        (8, 4)
    """

    nodes: int
    per_node: int
    actor_cpus: float
    threads: int
    partitions: int

    @property
    def actors(self) -> int:
        """Actors in the whole pool."""
        return self.per_node * self.nodes


def plan_actors(node_cpus: Sequence[float], actors_per_node: int = 0) -> ActorPlan:
    """The actor plan for nodes of ``node_cpus`` CPUs (``actors_per_node`` 0: :func:`auto_workers_for`
    the smallest node). Leaves a CPU per node for the repartition tasks and 0.5 for reading and writing."""
    if not node_cpus:
        raise RayRunError("the Ray cluster has no live node with a CPU to run the scoring actors")
    smallest = min(node_cpus)
    per_node = actors_per_node or auto_workers_for(smallest)
    return ActorPlan(
        nodes=len(node_cpus),
        per_node=per_node,
        actor_cpus=max(0.1, (smallest - 1.5) / per_node),
        threads=max(1, int(smallest // per_node)),
        partitions=max(1, int(sum(node_cpus))),
    )


def actor_options(options: ScoreOptions, plan: ActorPlan) -> ScoreOptions:
    """The options every scoring actor gets: ``--backend auto`` decided once, here on the driver, for
    the actors' thread count (:func:`stance.run.local.decide_backend`, as the local engine does for
    its workers), so that the whole collection is scored by one backend, the one run.json records."""
    return decide_backend(options, plan.threads)


def actor_pool_args(plan: ActorPlan) -> dict[str, Any]:
    """The ``map_batches`` arguments of the scoring stage's actor pool: its size, CPUs per actor and
    the bounded fault tolerance (:data:`ACTOR_MAX_RESTARTS`, :data:`ACTOR_TASK_RETRIES`)."""
    import ray.data

    # Ray Data takes the two limits only as extra remote arguments of map_batches (a RayDeprecationWarning
    # since Ray 2.60, with no named parameter to use instead yet); without them it retries forever

    return {
        "compute": ray.data.ActorPoolStrategy(size=plan.actors),
        "num_cpus": plan.actor_cpus,
        "max_restarts": ACTOR_MAX_RESTARTS,
        "max_task_retries": ACTOR_TASK_RETRIES,
    }


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
                _write_parts,  # type: ignore[arg-type]
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
    parts = _keep_committed(staging, summaries)
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
    _merge_error_parts(sorted((staging / "errors").glob("errors-*.parquet")), errors_file)
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


def _valid_ids(batch: pa.Table) -> pa.Table:
    return batch.filter(batch.column("doc_id").is_valid()).select(["doc_id", "order"])


def _repeated(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.greater(batch.column("n"), 1))


def _keep_committed(staging: Path, summaries: list[dict[str, Any]]) -> list[Path]:
    """The parts the finished write tasks reported; anything else (an attempt that died before
    reporting, a temporary file) is removed. A reported part that is not there (the write tasks ran
    on a file system the driver does not see) is a :class:`RayRunError`, before anything is removed."""
    names = [s["part"] for s in summaries if s["part"]]
    if len(set(names)) != len(names):
        raise RayRunError("two write tasks reported the same part; the output would hold rows twice")
    reported = [staging / "rows" / n for n in names] + [
        staging / "errors" / s["errors_part"] for s in summaries if s["errors_part"]
    ]
    missing = [p for p in reported if not p.is_file()]
    if missing:
        raise RayRunError(
            f"{len(missing)} of the {len(reported)} part files the write tasks reported are not in {staging} on this "
            f"machine (e.g. {missing[0].relative_to(staging)}): the workers wrote them to a file system the driver does "
            "not see. --out must be on storage that the driver and every node reach at the same path (a shared or "
            "mounted file system); nothing was written to --out"
        )
    committed = {p.name for p in reported}
    for sub in ("rows", "errors"):
        for f in (staging / sub).iterdir():
            if f.name not in committed:
                f.unlink()
    return [staging / "rows" / n for n in names]


def _merge_error_parts(parts: Sequence[Path], out: Path) -> None:
    """The error parts as the local engine's errors file, in input order."""
    errors: list[dict[str, Any]] = []
    for p in parts:
        errors += pq.read_table(p).to_pylist()
    errors.sort(key=lambda e: e["_error_order"])
    write_errors((InputError(e["_error_source"], e["_error_line"], e["_error_id"], e["_error_reason"]) for e in errors), out)
