"""Per-client token buckets, in memory: enough for one process serving a team."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_minute` requests per minute per key, with bursts up to `burst`."""

    def __init__(
        self, rate_per_minute: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.rate = max(rate_per_minute, 0.0) / 60.0
        self.burst = burst if burst is not None else max(rate_per_minute, 1.0)
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Take one token for `key`; returns (allowed, seconds until the next token)."""
        now = self.clock()
        with self._lock:
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return True, 0.0
            self._state[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
            return False, wait
