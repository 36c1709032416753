"""The shared speech workers: priorities, and queued work that nobody waits for never runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from datavox.voice.pool import PriorityPool


class Recorder:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def block(self) -> str:
        self.started.set()
        assert self.gate.wait(10)
        self.ran.append("block")
        return "block"

    def job(self, name: str) -> Callable[[], str]:
        def run() -> str:
            self.ran.append(name)
            return name

        return run


async def _busy(pool: PriorityPool, rec: Recorder) -> asyncio.Task[Any]:
    """Occupy the only worker until `rec.gate` opens."""
    task = asyncio.ensure_future(pool.run(0, rec.block, kind="stt"))
    assert await asyncio.to_thread(rec.started.wait, 5)
    return task


async def test_urgent_work_first_and_queue_depths() -> None:
    seen: list[tuple[str, float, float]] = []
    pool = PriorityPool(1, observe=lambda kind, wait, run: seen.append((kind, wait, run)))
    rec = Recorder()
    blocker = await _busy(pool, rec)
    order = [("stt_partial", 3), ("tts_early", 2), ("tts_rest", 1), ("stt", 0)]
    tasks = [asyncio.ensure_future(pool.run(prio, rec.job(kind), kind=kind)) for kind, prio in order]
    await asyncio.sleep(0.05)
    depths = pool.depths()
    assert depths["running:stt"] == 1 and depths["stt_partial"] == 1 and depths["stt"] == 1
    assert pool.backlog == 5
    rec.gate.set()
    assert await asyncio.gather(blocker, *tasks) == ["block", "stt_partial", "tts_early", "tts_rest", "stt"]
    assert rec.ran == ["block", "stt", "tts_rest", "tts_early", "stt_partial"]
    assert [k for k, _, _ in seen] == ["stt", "stt", "tts_rest", "tts_early", "stt_partial"]
    assert all(wait >= 0 and run >= 0 for _, wait, run in seen)
    pool.shutdown()


async def test_a_cancelled_caller_s_queued_job_is_skipped() -> None:
    pool = PriorityPool(1)
    rec = Recorder()
    blocker = await _busy(pool, rec)
    doomed = asyncio.ensure_future(pool.run(0, rec.job("doomed"), kind="stt"))
    kept = asyncio.ensure_future(pool.run(1, rec.job("kept"), kind="tts_rest"))
    await asyncio.sleep(0.01)
    doomed.cancel()  # a barge-in cancels the task awaiting it
    rec.gate.set()
    assert await kept == "kept"
    await blocker
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert rec.ran == ["block", "kept"] and pool.skipped == 1
    pool.shutdown()


async def test_drop_takes_a_closed_session_s_work_out_of_the_queue() -> None:
    pool = PriorityPool(1)
    rec = Recorder()
    blocker = await _busy(pool, rec)
    gone = [
        asyncio.ensure_future(pool.run(0, rec.job(f"a{i}"), kind="stt", owner="sess_a")) for i in range(3)
    ]
    other = asyncio.ensure_future(pool.run(2, rec.job("b"), kind="tts_early", owner="sess_b"))
    await asyncio.sleep(0.02)
    assert pool.backlog == 5
    assert pool.drop("sess_a") == 3
    assert pool.backlog == 2 and pool.depths().get("stt", 0) == 0  # counted out at once
    rec.gate.set()
    assert await other == "b"
    await blocker
    for task in gone:
        with pytest.raises(asyncio.CancelledError):
            await task
    assert rec.ran == ["block", "b"] and pool.dropped == 3
    pool.shutdown()


async def test_transcriptions_that_wait_together_share_one_model_call() -> None:
    pool = PriorityPool(1, max_batch=3)
    rec = Recorder()
    calls: list[list[str]] = []

    def upper(items: list[str]) -> list[str]:
        calls.append(list(items))
        if "boom" in items:
            raise ValueError("model failed")
        return [item.upper() for item in items]

    blocker = await _busy(pool, rec)

    def batched(item: str, key: str = "prompt-a", priority: int = 0) -> asyncio.Task[Any]:
        return asyncio.ensure_future(pool.run_batched(priority, upper, item, key=key, kind="stt"))

    a = [batched(x) for x in ("one", "two", "three", "four")]  # max_batch 3: two calls
    b = batched("other prompt", key="prompt-b")  # another prompt: its own call
    late = batched("partial", priority=3)  # another priority: its own call
    gone = batched("hung up")
    await asyncio.sleep(0.02)
    gone.cancel()  # its caller left: it is not decoded
    rec.gate.set()
    await blocker
    assert await asyncio.gather(*a, b, late) == ["ONE", "TWO", "THREE", "FOUR", "OTHER PROMPT", "PARTIAL"]
    assert calls == [["one", "two", "three"], ["four"], ["other prompt"], ["partial"]]
    assert pool.batches == 1
    rec2 = Recorder()
    blocker = await _busy(pool, rec2)  # both wait, so they share the failing call
    failing = [batched("boom"), batched("fine")]
    await asyncio.sleep(0.02)
    rec2.gate.set()
    await blocker
    for task in failing:
        with pytest.raises(ValueError, match="model failed"):
            await task  # both in one failed call: each caller hears of it
    pool.shutdown()
