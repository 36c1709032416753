"""A thread pool that runs the most urgent speech work first.

A committed turn's transcription and first sentence must not queue behind a partial transcript for the UI
or an answer prepared on speculation, or one talkative session would slow every other session's reply.
`ThreadPoolExecutor` is first-in first-out; this is the same with a priority heap in front.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class PriorityPool:
    def __init__(self, workers: int, name: str = "dv-speech") -> None:
        self.workers = workers
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self.busy = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def backlog(self) -> int:
        """Jobs running or waiting."""
        return self.busy + len(self._heap)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if self._closed and not self._heap:
                    return
                _, _, job = heapq.heappop(self._heap)
                self.busy += 1
            try:
                job()
            finally:
                with self._cv:
                    self.busy -= 1

    async def run(self, priority: int, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on a worker, lower `priority` first; awaitable from the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            if future.done():
                return
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        def job() -> None:
            if future.cancelled():
                return  # nobody waits for it any more: skip the work
            try:
                value = fn(*args)
            except BaseException as exc:
                loop.call_soon_threadsafe(settle, False, exc)
            else:
                loop.call_soon_threadsafe(settle, True, value)

        with self._cv:
            if self._closed:
                raise RuntimeError("the speech pool is shut down")
            heapq.heappush(self._heap, (priority, next(self._seq), job))
            self._cv.notify()
        return await future

    def shutdown(self) -> None:
        with self._cv:
            self._closed = True
            self._heap.clear()
            self._cv.notify_all()
