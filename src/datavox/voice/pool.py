"""The shared speech workers: one pool per process that every session feeds, most urgent work first.

A committed turn's transcription and first sentence must not queue behind a partial transcript for the UI
or an answer prepared on speculation, or one talkative session would slow every other session's reply.
`ThreadPoolExecutor` is first-in first-out; this is the same with a priority heap in front.

Work that nobody waits for any more never runs: a job whose awaiting task was cancelled (barge-in, speech
resuming) is skipped when it reaches a worker, and `drop(owner)` takes a closed session's queued jobs out of
the heap at once, so the queue depths (admission, /metrics) count only live work. Each job's time in the
queue and on the worker goes to `observe(kind, wait_s, run_s)`.

Batching (`run_batched`): jobs that share a batch key (transcriptions with the same prompt) and wait at the
same priority go to the worker together, as one call of the model on all of them. CTranslate2 decodes a
batch of two short windows in ~1.5× the time of one on the same thread (`datavox bench speech`), so when
several sessions stop speaking at once and every worker is busy, the queue empties faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# Lower runs first: the transcript of speech that has ended and an answer's first sentence; then an answer's
# later sentences (needed only once the first has played); then first sentences prepared from partial
# transcripts ("tts_early", speculation); then partial transcripts for the UI.
PRIORITY = {"stt": 0, "tts": 0, "tts_rest": 1, "tts_early": 2, "stt_partial": 3}
Observer = Callable[[str, float, float], None]


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[], None] = field(compare=False)
    cancel: Callable[[], None] = field(compare=False)
    kind: str = field(compare=False, default="")
    owner: str | None = field(compare=False, default=None)
    # Batchable jobs: `batch_fn([item, ...])` runs several at once; `settle` hands each its result.
    batch_key: Hashable | None = field(compare=False, default=None)
    item: Any = field(compare=False, default=None)
    batch_fn: Callable[[list[Any]], list[Any]] | None = field(compare=False, default=None)
    settle: Callable[[bool, Any], None] | None = field(compare=False, default=None)
    gone: Callable[[], bool] = field(compare=False, default=lambda: False)  # its caller gave up
    queued: float = field(compare=False, default=0.0)


class PriorityPool:
    def __init__(
        self, workers: int, name: str = "dv-speech", observe: Observer | None = None, max_batch: int = 4
    ) -> None:
        self.workers = workers
        self.max_batch = max_batch
        self.batches = 0  # model calls that served more than one job
        self.observe = observe
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self.busy = 0
        self._running: Counter[str] = Counter()
        self.skipped = 0  # jobs that reached a worker after their caller gave up
        self.dropped = 0  # jobs taken out of the queue by drop(owner)
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def backlog(self) -> int:
        """Jobs running or waiting."""
        return self.busy + len(self._heap)

    def depths(self) -> dict[str, int]:
        """Jobs waiting, by kind (running ones under "running:<kind>")."""
        with self._cv:
            out = Counter(job.kind for job in self._heap)
            out.update({f"running:{k}": n for k, n in self._running.items() if n})
        return dict(out)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if self._closed and not self._heap:
                    return
                job = heapq.heappop(self._heap)
                group = [job, *self._mates(job)]
                self.busy += 1
                self._running[job.kind] += len(group)
            try:
                if job.batch_key is None:
                    job.run()
                else:
                    self._run_batch(group)
            finally:
                with self._cv:
                    self.busy -= 1
                    self._running[job.kind] -= len(group)

    def _mates(self, job: _Job) -> list[_Job]:
        """Queued jobs that can share `job`'s model call (same batch key and priority); under the lock."""
        if job.batch_key is None or self.max_batch <= 1:
            return []
        mates = [
            j
            for j in self._heap
            if j.batch_key == job.batch_key and j.priority == job.priority and not j.gone()
        ]
        mates = sorted(mates)[: self.max_batch - 1]
        if mates:
            taken = {id(j) for j in mates}
            self._heap = [j for j in self._heap if id(j) not in taken]
            heapq.heapify(self._heap)
        return mates

    def _run_batch(self, group: list[_Job]) -> None:
        live = [j for j in group if not j.gone()]
        self.skipped += len(group) - len(live)
        if not live:
            return
        batch_fn = live[0].batch_fn
        assert batch_fn is not None
        started = time.perf_counter()
        try:
            values = batch_fn([j.item for j in live])
            if len(values) != len(live):
                raise RuntimeError(f"a batch of {len(live)} gave {len(values)} results")
        except BaseException as exc:
            outcomes = [(False, exc)] * len(live)
        else:
            outcomes = [(True, v) for v in values]
        if len(live) > 1:
            self.batches += 1
        ran = time.perf_counter() - started
        for j, (ok, value) in zip(live, outcomes, strict=True):
            if self.observe is not None:
                with contextlib.suppress(Exception):
                    self.observe(j.kind, started - j.queued, ran)
            if j.settle is not None:
                j.settle(ok, value)

    async def run(
        self, priority: int, fn: Callable[..., T], *args: Any, kind: str = "", owner: str | None = None
    ) -> T:
        """Run `fn(*args)` on a worker, lower `priority` first; awaitable from the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        queued = time.perf_counter()

        def settle(ok: bool, value: Any) -> None:
            if future.done():
                return
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        def job() -> None:
            if future.cancelled():
                self.skipped += 1
                return  # nobody waits for it any more: skip the work
            started = time.perf_counter()
            outcome: tuple[bool, Any]
            try:
                outcome = (True, fn(*args))
            except BaseException as exc:
                outcome = (False, exc)
            # Timings are recorded before the caller wakes: whoever awaits the result sees them counted.
            if self.observe is not None:
                with contextlib.suppress(Exception):
                    self.observe(kind, started - queued, time.perf_counter() - started)
            loop.call_soon_threadsafe(settle, *outcome)

        def cancel() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(future.cancel)

        with self._cv:
            if self._closed:
                raise RuntimeError("the speech pool is shut down")
            heapq.heappush(self._heap, _Job(priority, next(self._seq), job, cancel, kind, owner))
            self._cv.notify()
        return await future

    async def run_batched(
        self,
        priority: int,
        batch_fn: Callable[[list[Any]], list[T]],
        item: Any,
        *,
        key: Hashable,
        kind: str = "",
        owner: str | None = None,
    ) -> T:
        """`batch_fn([item])[0]`, or one call with other queued items of the same `key` and priority."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            def apply() -> None:
                if future.done():
                    return
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(apply)

        def cancel() -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(future.cancel)

        job = _Job(
            priority,
            next(self._seq),
            lambda: None,
            cancel,
            kind,
            owner,
            batch_key=key,
            item=item,
            batch_fn=batch_fn,
            settle=settle,
            gone=future.cancelled,
            queued=time.perf_counter(),
        )
        with self._cv:
            if self._closed:
                raise RuntimeError("the speech pool is shut down")
            heapq.heappush(self._heap, job)
            self._cv.notify()
        return await future

    def drop(self, owner: str) -> int:
        """Take `owner`'s queued jobs out of the queue (a session closed); their awaiters are cancelled.
        Jobs already running finish (their results are thrown away). Returns how many were dropped."""
        with self._cv:
            mine = [job for job in self._heap if job.owner == owner]
            if mine:
                self._heap = [job for job in self._heap if job.owner != owner]
                heapq.heapify(self._heap)
                self.dropped += len(mine)
        for job in mine:
            job.cancel()
        return len(mine)

    def shutdown(self) -> None:
        with self._cv:
            self._closed = True
            self._heap.clear()
            self._cv.notify_all()
