"""Dynamic micro-batching: items from concurrent requests are put on one asyncio queue, and one
worker task hands up to ``max_batch_size`` of them at a time to a blocking function run in a
thread. The first item of a batch waits at most ``max_wait_ms`` (from when it was queued) for
company, so an idle service answers at once and a busy one fills its batches.

A batch that raises is retried item by item, so only the item that fails gets the exception.

Example:
    >>> import asyncio
    >>> async def main():
    ...     batcher = MicroBatcher(lambda xs: [x * 2 for x in xs], max_batch_size=8, max_wait_ms=5, max_queue=100)
    ...     await batcher.start()
    ...     try:
    ...         return await batcher.submit([1, 2, 3], timeout=5)
    ...     finally:
    ...         await batcher.stop()
    >>> asyncio.run(main())
    [2, 4, 6]
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("stance.service")


class QueueFullError(RuntimeError):
    """The queue has no room for the request's items (or the batcher is shutting down)."""


class ItemError(RuntimeError):
    """Processing one item failed; ``cause`` is the original exception."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass
class _Entry(Generic[T]):
    item: T
    future: asyncio.Future
    queued_at: float = field(default_factory=time.monotonic)


@dataclass
class BatcherStats:
    """Counters for /v1/model and the benchmark."""

    batches: int = 0
    items: int = 0
    failed_batches: int = 0
    failed_items: int = 0
    largest_batch: int = 0


_STOP = object()


class MicroBatcher(Generic[T, R]):
    """Batches items from concurrent callers for ``process`` (a blocking function: a list of
    items in, one result per item out, in order).

    ``executor``: where ``process`` runs (default: the event loop's default executor); share a
    one-thread executor between batchers to keep the model single-threaded.
    ``on_batch``: called with each batch size (for tests and metrics).

    Example:
        >>> batcher = MicroBatcher(scorer.score_articles, max_batch_size=32, max_wait_ms=10, max_queue=256)  # doctest: +SKIP
        >>> rows = await batcher.submit(articles, timeout=30)  # doctest: +SKIP
    """

    def __init__(
        self,
        process: Callable[[list[T]], Sequence[R]],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue: int,
        executor: Executor | None = None,
        name: str = "batcher",
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.process = process
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.executor = executor
        self.name = name
        self.on_batch = on_batch
        self.stats = BatcherStats()
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._closing = False

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start the worker task (on the running event loop)."""
        self._queue = asyncio.Queue()
        self._closing = False
        self._worker = asyncio.create_task(self._run(), name=f"stance-{self.name}")

    async def stop(self, timeout: float | None = None) -> None:
        """Refuse new items, finish every queued one, then end the worker (cancelled after ``timeout``)."""
        if self._worker is None or self._queue is None:
            return
        self._closing = True
        self._queue.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: queue not drained after %.0f s; cancelling the rest", self.name, timeout)
            self._worker.cancel()
            while not self._queue.empty():
                entry = self._queue.get_nowait()
                if isinstance(entry, _Entry) and not entry.future.done():
                    entry.future.set_exception(QueueFullError("the service is shutting down"))
        self._worker = None

    @property
    def running(self) -> bool:
        """The worker is alive and accepting items."""
        return self._worker is not None and not self._worker.done() and not self._closing

    @property
    def queued(self) -> int:
        """Items waiting (not yet taken into a batch)."""
        return self._queue.qsize() if self._queue is not None else 0

    # ----------------------------------------------------------------- submitting
    async def submit(self, items: Sequence[T], *, timeout: float | None = None) -> list[R | ItemError]:
        """Queue the items and wait for their results, in order; an item whose processing failed
        gets an :class:`ItemError` in its place.

        Raises :class:`QueueFullError` at once when the queue has no room for all of them (or the
        batcher is stopping), and :class:`asyncio.TimeoutError` after ``timeout`` seconds (the
        items not yet started are then dropped).
        """
        if self._queue is None or not self.running:
            raise QueueFullError("the service is shutting down")
        if self._queue.qsize() + len(items) > self.max_queue:
            raise QueueFullError(f"the queue is full ({self._queue.qsize()} of {self.max_queue} waiting)")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        for item, fut in zip(items, futures, strict=True):
            self._queue.put_nowait(_Entry(item, fut))
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        finally:
            for fut in futures:  # timed out or cancelled: the worker skips these
                if not fut.done():
                    fut.cancel()

    # ----------------------------------------------------------------- the worker
    async def _run(self) -> None:
        if self._queue is None:
            raise RuntimeError("the batcher's worker started before its queue (call start() first)")
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            deadline = first.queued_at + self.max_wait
            while len(batch) < self.max_batch_size:
                if self._queue.empty():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closing:
                        break
                    try:
                        entry = await asyncio.wait_for(self._queue.get(), remaining)
                    except asyncio.TimeoutError:
                        break
                else:
                    entry = self._queue.get_nowait()
                if entry is _STOP:
                    stopping = True
                    break
                batch.append(entry)
            live = [e for e in batch if not e.future.done()]
            if not live:
                continue
            try:
                results = await loop.run_in_executor(self.executor, self._process_safely, [e.item for e in live])
            except Exception as exc:  # the executor itself failed: fail this batch, keep serving
                log.exception("%s: batch of %d could not run", self.name, len(live))
                results = [ItemError(exc)] * len(live)
            for entry, result in zip(live, results, strict=True):
                if not entry.future.done():
                    entry.future.set_result(result)

    def _process_safely(self, items: list[T]) -> Sequence[R | ItemError]:
        """``process(items)``; if it raises, each item on its own, so only the bad ones fail."""
        self.stats.batches += 1
        self.stats.items += len(items)
        self.stats.largest_batch = max(self.stats.largest_batch, len(items))
        if self.on_batch is not None:
            self.on_batch(len(items))
        try:
            return self._checked(items)
        except Exception as exc:
            self.stats.failed_batches += 1
            if len(items) == 1:
                self.stats.failed_items += 1
                log.exception("%s: an item failed", self.name)
                return [ItemError(exc)]
            log.warning(
                "%s: a batch of %d failed (%s: %s); retrying its items one by one", self.name, len(items), type(exc).__name__, exc
            )
        out: list[R | ItemError] = []
        for item in items:
            try:
                out.extend(self._checked([item]))
            except Exception as exc:
                self.stats.failed_items += 1
                log.exception("%s: an item failed", self.name)
                out.append(ItemError(exc))
        return out

    def _checked(self, items: list[T]) -> list[R]:
        results = list(self.process(items))
        if len(results) != len(items):
            raise RuntimeError(f"{len(items)} items in, {len(results)} results out")
        return results
