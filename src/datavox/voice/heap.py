"""Give freed heap memory back to the operating system after speech work (glibc only).

Why: the speech models allocate buffers whose sizes change with every window and sentence (CTranslate2's
encoder and decoder for each transcription, ONNX Runtime for each synthesis). They free them, but glibc's
malloc keeps most freed memory in its arenas for reuse, and with ever-changing sizes it fragments: the
10-minute soak saw the server's RSS creep up by 160–300 MB with no Python object, task or thread left
behind. `malloc_trim(0)` returns the free pages: 200–300 MB at a time in that soak, in 15–35 ms.

When: trimming walks and locks every arena, so it runs on a thread of its own, after the speech workers
have gone idle (between turns, while the user listens), at most once every `interval_s`; if they are never
idle it runs anyway after `4 × interval_s`. A fixed `M_MMAP_THRESHOLD` also bounds the growth but costs
~40% more CPU per transcription (measured), so it is not used.

On a C library without `malloc_trim` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def _glibc_trim() -> Callable[[], bool] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int

    def trim() -> bool:
        return bool(fn(0))

    return trim


def resident_bytes() -> int:
    """This process's resident set size now (Linux), or 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


class HeapTrimmer:
    """A thread that calls `trim()` after `poke()`, once the workers are idle, at most every `interval_s`."""

    def __init__(
        self,
        interval_s: float,
        idle: Callable[[], bool],
        trim: Callable[[], bool] | None = None,
        name: str = "dv-heap-trim",
    ) -> None:
        self.interval_s = interval_s
        self._idle = idle
        self._trim = trim if trim is not None else _glibc_trim()
        self.trims = 0  # calls made
        self.released = 0  # bytes of RSS the calls gave back (summed, as measured around each call)
        self.last_ms = 0.0  # how long the last call took
        self._wake = threading.Event()
        self._closed = False
        self._last = time.monotonic()
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    @property
    def enabled(self) -> bool:
        return self._trim is not None and self.interval_s > 0

    def poke(self) -> None:
        """Speech work ran: trim when the workers are next idle (called from the workers, cheap)."""
        if self.enabled:
            self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def trim_now(self) -> None:
        assert self._trim is not None
        before = resident_bytes()
        started = time.perf_counter()
        with contextlib.suppress(Exception):  # never let a C-library quirk take the engine down
            self._trim()
        self.last_ms = (time.perf_counter() - started) * 1000
        self.released += max(0, before - resident_bytes())
        self.trims += 1
        self._last = time.monotonic()
        log.debug("malloc_trim: %.0f ms, %d MB given back so far", self.last_ms, self.released >> 20)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            if self._closed:
                return
            # Not more often than every interval_s, and only once the workers have nothing to do: a
            # job that starts mid-trim would wait on the arena locks.
            while not self._closed:
                since = time.monotonic() - self._last
                if since < self.interval_s:
                    time.sleep(min(self.interval_s - since, 0.5))
                    continue
                if self._idle() or since >= 4 * self.interval_s:
                    break
                time.sleep(0.05)
            if self._closed:
                return
            self._wake.clear()
            self.trim_now()
