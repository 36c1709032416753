"""The executor's timeouts: one thread that interrupts statements past their deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from datavox.data.pool import Handle


class Watchdog:
    """One thread per executor that interrupts statements past their deadline.

    Cheaper than a timer thread per statement (arming is a dict insert under a lock), which matters for a
    query that itself takes a fraction of a millisecond.
    """

    def __init__(self, on_timeout: Callable[[Handle, int], None]) -> None:
        self._on_timeout = on_timeout
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, Handle, int]] = {}
        self._next_token = 0
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, deadline: float, handle: Handle, generation: int) -> int:
        with self._cond:
            self._next_token += 1
            token = self._next_token
            self._armed[token] = (deadline, handle, generation)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="datavox-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        if token:
            with self._cond:
                self._armed.pop(token, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                due = [t for t, (deadline, _, _) in self._armed.items() if deadline <= now]
                expired = [self._armed.pop(t) for t in due]
                if not expired:
                    wait = min((d for d, _, _ in self._armed.values()), default=now + 60) - now
                    self._cond.wait(timeout=max(0.005, wait))
                    continue
            for _, handle, generation in expired:
                self._on_timeout(handle, generation)
