"""Score a collection of articles to a file: streaming, sharded, resumable, nothing lost.

Layout while running (``OUT`` is e.g. ``scores.parquet``)::

    OUT.parts/manifest.json          committed shards, in input order
    OUT.parts/part-00000.parquet     rows of shard 0
    OUT.parts/errors-00000.jsonl     input records of shard 0 that could not be scored

A shard is committed by renaming its files into place and then rewriting the manifest
(atomically). After a crash or ``kill -9``, ``--resume`` skips the input records of committed
shards (the input order is stable) and redoes the rest, so no article is missing or written
twice. At the end the shards are merged into ``OUT`` and ``OUT.errors.jsonl`` (or ``--errors``),
``OUT.run.json`` is written beside them and the parts directory is removed.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stance.io.errors import merge_error_files, write_errors
from stance.io.readers import chunked, iter_inputs
from stance.io.records import Article, InputError
from stance.io.writers import merge_shards, output_format, write_shard
from stance.pipeline.language import looks_english
from stance.resources import available_cpus
from stance.run.options import ScoreOptions, pin_model, settings_fingerprint
from stance.run.predictor import ArticleError, score_isolating
from stance.run.record import (
    RunSummary,
    default_errors_path,
    model_label,
    other_output_sharing_files,
    run_metadata_path,
    write_json_atomic,
    write_run_json,
)
from stance.run.resume import InputState, record_key, settings_changes


class OutputExistsError(ValueError):
    """The output (or an unfinished run for it) exists and --resume / --overwrite was not given."""


def refuse_shared_files(out: Path) -> None:
    """OutputExistsError where another output of the same name before its suffix exists beside ``out``: their
    run records and errors files would be one file (``scores.run.json`` for ``scores.parquet`` and
    ``scores.csv``), and `stance compare` would read the other run's model for this one.

    Example:
        >>> refuse_shared_files(Path("runs/scores.csv"))  # doctest: +SKIP
    """
    if (other := other_output_sharing_files(out)) is not None:
        raise OutputExistsError(
            f"{run_metadata_path(out)} is the run record of {other}, which exists: two outputs in one folder need "
            f"different names before the suffix (their run records and errors files are named from it), e.g. --out "
            f"{out.with_name(out.stem + '_' + out.suffix.lstrip('.') + out.suffix)}"
        )


class OutputCompleteError(OutputExistsError):
    """--resume was given for an output whose run finished: there is nothing to resume."""


class NoInputError(ValueError):
    """The inputs hold no records at all: nothing to score, and no output is written."""


class OutputLockedError(OutputExistsError):
    """Another run is writing the same output."""


def output_lock_path(out: Path) -> Path:
    """``OUT.lock``, which :func:`output_lock` holds while a run writes ``out``."""
    return out.with_name(out.name + ".lock")


@contextmanager
def output_lock(out: str | Path) -> Iterator[None]:
    """Hold ``OUT.lock`` (an exclusive, non-blocking file lock) while a run writes ``out``, so that a
    second run on the same output stops with a message instead of corrupting the first.

    Example:
        >>> with output_lock("scores.parquet"):  # doctest: +SKIP
        ...     pass
    """
    import fcntl

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = output_lock_path(out)
    fh = open(lock_path, "a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip()
        fh.close()
        raise OutputLockedError(
            f"another run is writing {out}{f' (process {holder})' if holder else ''}; wait for it to finish or choose another --out"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        fh.close()


class WorkerStartError(RuntimeError):
    """A worker process could not load the scoring pipeline (the model or spaCy); the run stops."""


def auto_workers_for(cpus: float, limit: int = 4) -> int:
    """Workers (or Ray actors per node) for ``cpus`` CPU cores: one per core, at most ``limit``.

    Example:
        >>> auto_workers_for(16.0), auto_workers_for(2.0)
        (4, 2)
    """
    return max(1, min(int(cpus), limit))


def auto_workers(limit: int = 4) -> int:
    """``--workers 0``: one worker process per CPU core available to this process, at most ``limit``."""
    return auto_workers_for(available_cpus(), limit)


def worker_threads(workers: int) -> int:
    """Threads per worker process: the cores shared out among ``workers``."""
    return max(1, available_cpus() // max(workers, 1))


PARENT_CHECK_SECONDS = 1.0
NOT_ENGLISH_SHOWN = 5  # ids of articles that do not look like English kept in the run summary


def exit_with_parent(parent: int, every: float = PARENT_CHECK_SECONDS) -> threading.Thread:
    """End this worker process once the run that started it (process ``parent``) is gone. A run killed with
    ``kill -9`` or by the kernel's out-of-memory killer cannot stop its workers, and they would wait on its
    pipes forever, each holding a loaded model.

    Example:
        >>> exit_with_parent(os.getppid())  # doctest: +SKIP
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def _worker_init(options: ScoreOptions, threads: int) -> None:
    global _WORKER_PREDICTOR, _WORKER_FAILURE
    exit_with_parent(os.getppid())
    try:
        light_process(options)
        from stance.run.predictor import ScoringPredictor

        _WORKER_PREDICTOR = ScoringPredictor(options, threads=threads)
    except Exception as exc:  # noqa: BLE001 (an initializer that raises makes the pool restart the worker forever)
        _WORKER_FAILURE = exc


def _worker_run(articles: list[Article]) -> tuple[list[list[dict[str, Any]]], str, dict[str, float]]:
    """The rows of each article, the name of the backend that ran (as in a single-process run) and the
    seconds this call spent per pipeline stage."""
    if _WORKER_PREDICTOR is None:
        failure = _WORKER_FAILURE
        raise WorkerStartError(
            f"a worker process could not load the scoring pipeline: {type(failure).__name__}: {failure}"
        ) from failure
    times = _WORKER_PREDICTOR.scorer.times
    before = dict(times.__dict__)
    rows = _WORKER_PREDICTOR.score_rows(articles)
    spent = {stage: seconds - before[stage] for stage, seconds in times.__dict__.items()}
    return rows, _WORKER_PREDICTOR.scorer.model.backend.name, spent


_WORKER_PREDICTOR = None
_WORKER_FAILURE: Exception | None = None


def light_process(options: ScoreOptions) -> None:
    """In a process that only scores (a worker, the ``stance score`` command), with a backend other
    than torch decided: load spaCy without torch (see :func:`stance.pipeline.actors.import_spacy_without_torch`),
    so that, with the model's graph cached, the process never imports torch or transformers."""
    if options.backend not in ("torch", "auto"):
        from stance.pipeline.actors import import_spacy_without_torch

        import_spacy_without_torch()


def decide_backend(options: ScoreOptions, threads: int) -> ScoreOptions:
    """``options`` with ``--backend auto`` decided for processes of ``threads`` threads: once, in the
    parent of a worker run, so that the workers do not each time the backends.

    Without a recorded agreement, or with a cached choice, this needs no torch; otherwise the timing
    runs once in a child process with the workers' thread count, so that this process stays light.
    """
    if options.backend != "auto":
        return options
    from stance.model.backends import known_choice
    from stance.store.model_files import model_version, resolve_model

    if options.device != "cpu":
        return replace(options, backend="torch", requested_backend="auto")
    path = resolve_model(options.model)
    chosen = known_choice(path, model_version(path), threads)
    if chosen is None:
        pool = mp.get_context("spawn").Pool(1)
        chosen = pool.apply(_choose_backend, (options, threads))
        pool.close()  # let the process exit on its own (terminate() leaves semaphores behind)
        pool.join()
    return replace(options, backend=chosen, requested_backend="auto")


def _choose_backend(options: ScoreOptions, threads: int) -> str:
    import torch

    from stance.model.backends import choose_backend
    from stance.model.modeling import StanceModel

    torch.set_num_threads(threads)
    return choose_backend(StanceModel.from_pretrained(options.model, device=options.device))


def score_collection(
    inputs: Sequence[str],
    out: str | Path,
    options: ScoreOptions | None = None,
    *,
    errors_path: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Score every article of the inputs into ``out``; returns the run summary.

    Example:
        >>> score_collection(["examples/articles.jsonl"], "scores.parquet")  # doctest: +SKIP
        RunSummary(articles_read=8, articles_scored=8, errors=0, ...)
    """
    out = Path(out)
    output_format(out)
    options = pin_model(options or ScoreOptions())
    with output_lock(out):
        return _score_collection(
            inputs, out, options, errors_path=errors_path, resume=resume, overwrite=overwrite, on_progress=on_progress
        )


def _score_collection(
    inputs: Sequence[str],
    out: Path,
    options: ScoreOptions,
    *,
    errors_path: str | Path | None,
    resume: bool,
    overwrite: bool,
    on_progress: Callable[[int, int], None] | None,
) -> RunSummary:
    started = time.perf_counter()
    fmt = output_format(out)
    errors_file = Path(errors_path) if errors_path else default_errors_path(out)
    refuse_shared_files(out)
    errors_file.parent.mkdir(parents=True, exist_ok=True)
    parts_dir = out.with_name(out.name + ".parts")
    # the run's own files are never read as input, even when written inside an input folder
    own_files = [p.resolve() for p in (out, parts_dir, errors_file, run_metadata_path(out), output_lock_path(out))]
    run = RunState(options.settings(inputs, out), InputState.of(inputs, own_files), model_label(options))
    manifest = _open_manifest(parts_dir, out, run, resume=resume, overwrite=overwrite)
    done_records = sum(s["records"] for s in manifest["shards"])
    summary = RunSummary(resumed_records=done_records, out=str(out), errors_path=str(errors_file))
    for s in manifest["shards"]:
        summary.articles_read += s["articles"] + s["errors"]
        summary.articles_scored += s["articles"]
        summary.errors += s["errors"]
        summary.sentences += s["sentences"]

    records = iter_inputs(
        list(inputs),
        id_from=options.id_from,
        max_chars=options.max_chars,
        encoding=options.encoding,
        text_column=options.text_column,
        id_column=options.id_column,
        meta=dict(options.meta),
        drop_fields=options.drop_fields,
        outlet_from=options.outlet_from,
        exclude=own_files,
    )
    skipped = None
    for _ in range(done_records):  # already committed: skip (validation still runs, so duplicate ids stay detected)
        skipped = next(records, None)
    committed_last = manifest["shards"][-1].get("last") if manifest["shards"] else None
    now_last = record_key(skipped) if skipped else None
    if committed_last is not None and committed_last != now_last:
        raise OutputExistsError(
            f"{parts_dir} cannot be resumed: the inputs changed since the run began (its committed record {done_records:,} "
            f"was {committed_last}, and is now {now_last or 'missing'}), so resuming would skip or repeat articles; use "
            "--overwrite to start again"
        )
    first = next(records, None)
    if first is None and not manifest["shards"]:  # before any model is loaded or file written
        shutil.rmtree(parts_dir)
        raise NoInputError(f"no input records in {', '.join(map(str, inputs))}: nothing was scored")
    records = itertools.chain([first] if first is not None else [], records)

    shard_rows: list[dict[str, Any]] = []
    shard_errors: list[InputError] = []
    shard_records = shard_articles = 0
    last_record: list[Any] | None = None

    def commit() -> None:
        nonlocal shard_rows, shard_errors, shard_records, shard_articles
        index = len(manifest["shards"])
        part = parts_dir / f"part-{index:05d}.{fmt}"
        err = parts_dir / f"errors-{index:05d}.jsonl"
        write_shard(shard_rows, part, fmt)
        write_errors(shard_errors, err)
        manifest["shards"].append(
            {
                "part": part.name,
                "errors_part": err.name,
                "records": shard_records,
                "articles": shard_articles,
                "errors": len(shard_errors),
                "sentences": len(shard_rows),
                "last": last_record,
            }
        )
        write_json_atomic(parts_dir / "manifest.json", manifest)
        shard_rows, shard_errors, shard_records, shard_articles = [], [], 0, 0

    for chunk, scored_rows in _scored_chunks(records, options, summary):
        for item in chunk:
            shard_records += 1
            summary.articles_read += 1
            last_record = record_key(item)
            if isinstance(item, InputError):
                shard_errors.append(item)
                summary.errors += 1
            elif not looks_english(item.text):
                summary.not_english += 1
                if len(summary.not_english_ids) < NOT_ENGLISH_SHOWN:
                    summary.not_english_ids.append(item.id)
        for rows in scored_rows:
            shard_articles += 1
            summary.articles_scored += 1
            shard_rows.extend(rows)
            summary.sentences += len(rows)
            summary.sentences_scored += sum(not r["boilerplate"] for r in rows)
            summary.mentions += sum(len(r["mentions"]) for r in rows)
            summary.devices += sum(len(r["devices"]) for r in rows)
        if on_progress:
            on_progress(summary.articles_read, summary.sentences)
        if shard_records >= options.shard_articles:
            commit()
    if shard_records or not manifest["shards"]:
        commit()

    parts = [parts_dir / s["part"] for s in manifest["shards"]]
    merge_shards(parts, out, fmt)
    merge_error_files([parts_dir / s["errors_part"] for s in manifest["shards"]], errors_file)
    summary.seconds = round(time.perf_counter() - started, 3)
    write_run_json(out, options, summary, run.fingerprint, run)
    shutil.rmtree(parts_dir)
    return summary


def _scored_chunks(
    records: Iterator[Article | InputError], options: ScoreOptions, summary: RunSummary
) -> Iterator[tuple[list[Article | InputError], list[list[dict[str, Any]]]]]:
    """(chunk, rows per scored article) in input order; in-process or on a pool of workers. Records
    the backend that ran (and, in-process, the stage times) in ``summary``."""
    chunks = chunked(records, max(1, min(options.chunk_articles, options.shard_articles)))  # a size under 1 has always meant 1
    if options.workers <= 1:
        from stance.run.predictor import ScoringPredictor

        try:
            predictor = ScoringPredictor(options)
        except Exception as exc:  # noqa: BLE001 (as a worker's start: the reason, and the run stops)
            raise WorkerStartError(f"could not load the scoring pipeline: {type(exc).__name__}: {exc}") from exc
        for chunk in chunks:
            yield score_isolating(chunk, predictor.score_rows, reraise=NOT_THE_ARTICLES)
        summary.stage_seconds = predictor.scorer.times.as_dict()
        summary.backend = predictor.scorer.model.backend.name
        return
    threads = worker_threads(options.workers)
    options = decide_backend(options, threads)
    summary.backend = options.backend  # 'auto' decided; the workers name the backend's variant and their stage times
    pool = WorkerPool(options, threads)
    try:
        pending: deque[tuple[list[Article | InputError], tuple[Any, Any]]] = deque()
        for chunk in chunks:  # keep a bounded number of chunks in flight, so memory stays flat
            pending.append((chunk, pool.submit(chunk)))
            if len(pending) >= 2 * options.workers:
                done, submitted = pending.popleft()
                yield pool.collect(done, submitted, summary)
        while pending:
            done, submitted = pending.popleft()
            yield pool.collect(done, submitted, summary)
    finally:
        pool.shutdown()


def _add_stage_seconds(summary: RunSummary, spent: dict[str, float]) -> None:
    """Add a worker call's seconds per stage to the run's (summed over the workers, like CPU time)."""
    for stage, seconds in spent.items():
        summary.stage_seconds[stage] = round(summary.stage_seconds.get(stage, 0.0) + seconds, 3)


_POOL_LOST = (BrokenProcessPool, CancelledError)  # a worker died (the pool broke), or a future was cancelled with its pool
NOT_THE_ARTICLES = (WorkerStartError, *_POOL_LOST)  # faults of the run, never put on an article by score_isolating


WORKER_DIED = (
    "the scoring process died while scoring this article (out of memory, or killed); it was tried alone and died "
    "again, so the other articles were scored without it"
)


class WorkerPool:
    """Worker processes that score chunks of articles, in order, and survive a worker's death.

    A worker killed mid-chunk (out of memory, ``kill -9``) breaks the pool. The chunk is then scored
    again article by article on a new pool: an article that kills its worker once more goes to the
    errors file (:data:`WORKER_DIED`) and the others are scored, so that no article is lost or waited
    on forever (``multiprocessing.Pool`` waits forever for a task whose worker was killed).

    Example:
        >>> pool = WorkerPool(options, threads=1)  # doctest: +SKIP
        >>> chunk, rows = pool.collect(chunk, pool.submit(chunk), summary)  # doctest: +SKIP
    """

    def __init__(
        self,
        options: ScoreOptions,
        threads: int,
        *,
        run: Callable[[list[Article]], tuple[list[list[dict[str, Any]]], str, dict[str, float]]] = _worker_run,
        init: Callable[[ScoreOptions, int], None] = _worker_init,
    ) -> None:
        """``run`` and ``init``: what a worker runs on a list of articles, and once when it starts
        (module-level functions, so that spawned processes import them; tests pass their own)."""
        self.options, self.threads, self._run, self._init = options, threads, run, init
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.options.workers,
            mp_context=mp.get_context("spawn"),
            initializer=self._init,
            initargs=(self.options, self.threads),
        )

    def submit(self, chunk: list[Article | InputError]) -> tuple[Any, Any]:
        """Start scoring a chunk: (the pool it went to, its future), for :meth:`collect`."""
        return self._executor, self._executor.submit(self._run, [a for a in chunk if isinstance(a, Article)])

    def collect(
        self, chunk: list[Article | InputError], submitted: tuple[Any, Any], summary: RunSummary
    ) -> tuple[list[Article | InputError], list[list[dict[str, Any]]]]:
        """(chunk, rows per scored article) of a submitted chunk; after a worker's death, the chunk
        with the article that killed it turned into an :class:`InputError`."""
        executor, future = submitted
        try:
            rows, summary.backend, spent = future.result()
            _add_stage_seconds(summary, spent)
            return chunk, rows
        except _POOL_LOST:  # a worker died: the article that killed it is found one by one
            self._restart(executor)
        except WorkerStartError:
            raise
        except Exception:  # noqa: BLE001  (scoring raised in the worker: likewise)
            pass
        return score_isolating(
            chunk, lambda articles: self._score_alone(articles, summary), failed_whole=True, reraise=NOT_THE_ARTICLES
        )

    def _score_alone(self, articles: list[Article], summary: RunSummary) -> list[list[dict[str, Any]]]:
        """Score ``articles`` (one, as :func:`score_isolating` retries them) on the current pool; an article
        whose worker dies is an error (:data:`WORKER_DIED`, raised as :class:`ArticleError`)."""
        executor = self._executor
        try:
            rows, summary.backend, spent = executor.submit(self._run, articles).result()
        except _POOL_LOST:
            self._restart(executor)
            raise ArticleError(WORKER_DIED) from None
        _add_stage_seconds(summary, spent)
        return rows

    def _restart(self, broken: Any) -> None:
        """A new pool in place of ``broken`` (once: chunks submitted to the same broken pool do not
        restart its successor)."""
        if broken is self._executor:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = self._start()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


@dataclass(frozen=True)
class RunState:
    """What a run is made of when it begins: its settings, its input files and its model's label. A resume
    must find all three as they were (:func:`_open_manifest`)."""

    settings: dict[str, Any]
    inputs: InputState
    model: str | None

    @property
    def fingerprint(self) -> str:
        return settings_fingerprint(self.settings)


def _open_manifest(parts_dir: Path, out: Path, run: RunState, *, resume: bool, overwrite: bool) -> dict[str, Any]:
    manifest_path = parts_dir / "manifest.json"
    inputs_path = parts_dir / "inputs.json"
    if parts_dir.exists() and manifest_path.exists() and resume:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") != run.fingerprint:
            started_with = manifest.get("model")
            if started_with and run.model and started_with != run.model:
                raise OutputExistsError(
                    f"{parts_dir} was started with the model {started_with} and would now go on with {run.model} (another version was "
                    "made active, or --model names another): its rows would mix two models. Use --model with the first, or --overwrite"
                )
            differ = f" ({settings_changes(manifest['settings'], run.settings)})" if "settings" in manifest else ""
            raise OutputExistsError(
                f"{parts_dir} belongs to a run with other inputs or settings{differ}; give them as they were to resume, "
                "or use --overwrite to start again"
            )
        if "inputs" in manifest and manifest["inputs"] != run.inputs.digest:
            before = InputState.from_json(json.loads(inputs_path.read_text())) if inputs_path.exists() else None
            changed = run.inputs.changes_since(before) if before is not None else None
            raise OutputExistsError(
                f"{parts_dir} cannot be resumed: its input files changed since the run began ({changed or 'their list differs'}), "
                "so resuming would skip or repeat articles; use --overwrite to start again, or --out for a run of its own"
            )
        committed = {s["part"] for s in manifest["shards"]} | {s["errors_part"] for s in manifest["shards"]}
        committed |= {"manifest.json", "inputs.json"}
        for stray in parts_dir.iterdir():  # a shard written but not committed before the crash
            if stray.name not in committed:
                stray.unlink()
        return manifest
    if resume and not overwrite and out.exists() and not parts_dir.exists():
        _refuse_if_finished_differently(out, run)
        raise OutputCompleteError(
            f"{out} is complete (its run finished; run metadata: {run_metadata_path(out)}): nothing to resume"
        )
    if not overwrite and (parts_dir.exists() or out.exists()):
        what = "an unfinished run" if parts_dir.exists() else "the output"
        raise OutputExistsError(f"{what} for {out} exists; use --resume to finish it or --overwrite to start again")
    if parts_dir.exists():
        shutil.rmtree(parts_dir)
    parts_dir.mkdir(parents=True)
    write_json_atomic(inputs_path, run.inputs.to_json())
    manifest = {
        "fingerprint": run.fingerprint,
        "model": run.model,
        "settings": run.settings,
        "inputs": run.inputs.digest,
        "shards": [],
    }
    write_json_atomic(manifest_path, manifest)
    return manifest


def _refuse_if_finished_differently(out: Path, run: RunState) -> None:
    """``--resume`` on a finished output is a no-op only when that run read the same inputs with the same
    settings: new files in a folder scored nightly with ``--resume`` would otherwise never be scored."""
    try:
        record = json.loads(run_metadata_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no record to compare with (an output from elsewhere): nothing to resume, as before
    if record.get("fingerprint") not in (None, run.fingerprint):
        differ = settings_changes(record["settings"], run.settings) if isinstance(record.get("settings"), dict) else ""
        raise OutputExistsError(
            f"{out} is complete, but from other inputs or settings{f' ({differ})' if differ else ''}: to score these, "
            "use --overwrite to replace it or --out for a new output"
        )
    if record.get("inputs") not in (None, run.inputs.digest):
        raise OutputExistsError(
            f"{out} is complete, but its input files changed since (now {len(run.inputs.files):,} files): nothing was "
            "resumed. To score them, use --overwrite to replace it or --out for a new output"
        )
