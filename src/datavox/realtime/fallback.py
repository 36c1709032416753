"""Which engine answers the next session: the cloud, or the local engine while the cloud is slow or down.

The seed's rule: when the running average of cloud turn latency (what the cloud itself took, datavox's tool
time excluded) passes `realtime.fallback_ms`, or the cloud cannot be reached, the next turn goes to the local
engine, with the same brain and conversation. After `realtime.retry_cloud_s` new sessions try the cloud
again, so a recovered cloud gets its users back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class EngineChooser:
    def __init__(
        self,
        *,
        fallback_ms: float,
        window: int,
        retry_s: float,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fallback_ms = fallback_ms
        self.retry_s = retry_s
        self.enabled = enabled
        self._clock = clock
        self._latencies: deque[float] = deque(maxlen=max(1, window))
        self._local_until = 0.0
        self.reason = ""
        self._lock = threading.Lock()

    def average_ms(self) -> float | None:
        with self._lock:
            return sum(self._latencies) / len(self._latencies) if self._latencies else None

    def record(self, cloud_ms: float) -> str | None:
        """One finished cloud turn; returns the reason when this turn tipped the average over the limit."""
        with self._lock:
            self._latencies.append(cloud_ms)
            avg = sum(self._latencies) / len(self._latencies)
            if not self.enabled or avg <= self.fallback_ms or self._clock() < self._local_until:
                return None
            self._latencies.clear()  # a fresh start when the cloud comes back
            self.reason = (
                f"the cloud answered in {avg:.0f} ms on average, over the {self.fallback_ms:.0f} ms limit"
            )
            self._local_until = self._clock() + self.retry_s
            return self.reason

    def unreachable(self, why: str) -> str | None:
        if not self.enabled:
            return None
        with self._lock:
            self.reason = f"the cloud is unreachable ({why})"
            self._local_until = self._clock() + self.retry_s
            return self.reason

    def recovered(self) -> None:
        with self._lock:
            self._local_until = 0.0
            self.reason = ""

    def choose(self) -> tuple[str, str]:
        """("cloud", "") or ("local", why)."""
        with self._lock:
            if self.enabled and self._clock() < self._local_until:
                return "local", self.reason
            return "cloud", ""
