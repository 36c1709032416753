"""Freed heap memory goes back to the OS after speech work, only while the workers are idle, not too often."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from datavox.voice.heap import HeapTrimmer, _glibc_trim, resident_bytes


class FakeTrim:
    def __init__(self) -> None:
        self.calls = 0
        self.called = threading.Event()

    def __call__(self) -> bool:
        self.calls += 1
        self.called.set()
        return True


@contextlib.contextmanager
def running(interval_s: float, idle: Callable[[], bool], trim: FakeTrim) -> Iterator[HeapTrimmer]:
    trimmer = HeapTrimmer(interval_s, idle=idle, trim=trim)
    try:
        yield trimmer
    finally:
        trimmer.close()


def test_trims_after_work_once_the_workers_are_idle() -> None:
    trim, busy = FakeTrim(), threading.Event()
    busy.set()
    with running(0.2, lambda: not busy.is_set(), trim) as trimmer:
        time.sleep(0.25)
        assert trim.calls == 0  # no speech work yet: nothing to give back
        trimmer.poke()
        time.sleep(0.2)
        assert trim.calls == 0  # the workers are busy (and 4 × interval has not passed)
        busy.clear()
        assert trim.called.wait(2)
        assert trimmer.trims == 1
        time.sleep(0.5)
        assert trim.calls == 1  # no new work, no new trim


def test_trims_at_most_once_per_interval() -> None:
    trim = FakeTrim()
    with running(0.2, lambda: True, trim) as trimmer:
        started = time.monotonic()
        while time.monotonic() - started < 0.9:
            trimmer.poke()
            time.sleep(0.01)
        time.sleep(0.05)
        assert 2 <= trim.calls <= 5  # ~90 pokes in 0.9 s, 0.2 s apart at the most


def test_busy_workers_still_get_a_trim_after_four_intervals() -> None:
    trim = FakeTrim()
    with running(0.1, lambda: False, trim) as trimmer:
        trimmer.poke()
        assert trim.called.wait(2)


def test_zero_interval_switches_it_off() -> None:
    trim = FakeTrim()
    trimmer = HeapTrimmer(0, idle=lambda: True, trim=trim)
    trimmer.poke()
    time.sleep(0.1)
    assert not trimmer.enabled and trim.calls == 0
    trimmer.close()


@pytest.mark.skipif(_glibc_trim() is None, reason="needs glibc's malloc_trim")
def test_glibc_gives_freed_fragmented_memory_back() -> None:
    """The real call: 120 MB of small blocks freed below one block still in use stay resident (glibc cannot
    shrink the heap's top past a live block) until malloc_trim(0) hands the free pages back."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(4000) for _ in range(30_000)]
    for b in blocks:
        ctypes.memset(b, 1, 4000)  # touch the pages: resident
    keep = libc.malloc(4000)  # above the others: the heap's top cannot move down past it
    for b in blocks:
        libc.free(b)
    before = resident_bytes()
    trimmer = HeapTrimmer(1.0, idle=lambda: True)
    try:
        trimmer.trim_now()
        assert trimmer.trims == 1
        assert before - resident_bytes() > 60 << 20
        assert trimmer.released > 60 << 20
    finally:
        trimmer.close()
        libc.free(keep)
