"""Admission: how many sessions the engine takes before a new one would push the others past their
latency budget, and how long a refused client should wait (`Retry-After`).

Capacity, from a measurement at start-up (or `voice.capacity`): one turn costs a speech worker about
`turn_ms` (the short-window transcription plus the first sentence's synthesis). When every admitted session
stops speaking at once, the last one's first audio waits ceil(n / workers) turns, after the lower-priority
synthesis a worker may have just started (work is not pre-empted: up to one sentence, `tts_ms`). Keeping
that under the budget (`voice.latency_budget_ms`) gives n ≤ workers × floor((budget − tts_ms) / turn_ms).
The timings are the median of three, times HEADROOM: the event loop, Opus and the brain's SQL share the
cores with the workers. On the 2-core machine (quiet: turn ≈ 190 ms of which synthesis ≈ 155, 2 workers,
budget 1 s): 4 sessions.

Back-pressure, live: the speech workers' recent queue wait for urgent work (a decaying average). If other
work on the machine slows the workers so that a turn already waits most of the budget, new sessions are
refused too, before capacity is reached. Both refusals are `engine_busy` with a `Retry-After`.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

URGENT = ("stt", "tts")  # the work a user waits for (see pool.PRIORITY)
DECAY_S = 10.0  # the recent-wait average halves in about 7 s without new work
HEADROOM = 1.5  # measured model time → worker time in service (other work on the same cores)


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after_s: int


class Admission:
    def __init__(self, *, workers: int, budget_ms: float, configured: int = 0, max_sessions: int = 8) -> None:
        self.workers = max(1, workers)
        self.budget_ms = float(budget_ms)
        self.max_sessions = max(1, max_sessions)
        self.turn_ms: float | None = None  # measured worker time of one turn
        self.tts_ms = 0.0  # of which the synthesis of one sentence
        self.configured = configured  # voice.capacity; 0: from the measurement
        self._wait_ms = 0.0
        self._wait_at = time.monotonic()
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        if self.configured > 0:
            return min(self.configured, self.max_sessions)
        if self.turn_ms is None:
            # Not measured yet (models still loading): the figure measured on the 2-core reference machine.
            return min(2 * self.workers, self.max_sessions)
        per_worker = max(1, math.floor((self.budget_ms - self.tts_ms) / max(self.turn_ms, 1.0)))
        return min(self.workers * per_worker, self.max_sessions)

    def measured(self, turn_ms: float, tts_ms: float = 0.0) -> None:
        self.turn_ms, self.tts_ms = turn_ms, min(tts_ms, turn_ms)

    def measure(self, models: Any) -> None:
        """One turn's worker time on these models: a ~3 s transcription plus a first sentence."""
        from datavox.voice.audio import from_bytes, resample

        try:
            pcm = from_bytes(models.tts.synthesize("How many races did Lewis Hamilton win?"))
            audio = resample(pcm, models.tts.sample_rate, 16_000)
            models.stt.transcribe(audio)  # warm: the first call of a model pays for its set-up
            turns, tts = [], []
            for _ in range(3):  # the median of three: one noisy moment must not set the capacity
                t0 = time.perf_counter()
                models.stt.transcribe(audio)
                t1 = time.perf_counter()
                models.tts.synthesize("Lewis Hamilton won eleven races.")
                t2 = time.perf_counter()
                turns.append((t2 - t0) * 1000 * HEADROOM)
                tts.append((t2 - t1) * 1000 * HEADROOM)
            self.measured(round(statistics.median(turns), 1), round(statistics.median(tts), 1))
        except Exception:  # a model that cannot run fails the first turn with its own clear error
            log.exception("could not time the speech models; capacity stays at its default")

    def observe(self, kind: str, wait_s: float) -> None:
        """A speech job's time in the queue (any thread)."""
        if kind not in URGENT:
            return
        with self._lock:
            now = time.monotonic()
            current = self._decayed(now)
            self._wait_ms = 0.8 * current + 0.2 * wait_s * 1000
            self._wait_at = now

    def _decayed(self, now: float) -> float:
        return self._wait_ms * math.exp(-(now - self._wait_at) / DECAY_S)

    def recent_wait_ms(self) -> float:
        with self._lock:
            return self._decayed(time.monotonic())

    def check(self, sessions: int, idle_s: list[float], idle_timeout_s: float) -> Refusal | None:
        """None to admit one more session next to `sessions`; else why not and when to try again.

        `idle_s`: how long each live session has been quiet (a quiet one ends at `idle_timeout_s`)."""
        cap = self.capacity
        if sessions >= cap:
            # A slot frees when someone hangs up (unknown) or an idle session times out (known).
            soonest = min((idle_timeout_s - s for s in idle_s), default=idle_timeout_s)
            return Refusal(
                f"The voice engine is busy: it holds {cap} conversation{'s' if cap != 1 else ''} at a time "
                f"on this server.",
                int(min(60, max(5, soonest))),
            )
        wait = self.recent_wait_ms()
        turn = self.turn_ms or 0.0
        limit = max(self.budget_ms - turn, self.budget_ms / 2)
        if sessions > 0 and wait > limit:
            # The average decays with time: when will it be back under the limit?
            seconds = DECAY_S * math.log(wait / limit) + 1
            return Refusal(
                f"The voice engine is busy: answers already wait {wait / 1000:.1f} s for the speech workers.",
                int(min(30, max(2, math.ceil(seconds)))),
            )
        return None
