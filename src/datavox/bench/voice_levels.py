"""The sessions of `datavox bench voice`: each level's users (staggered, several questions each) and the
barge-in run, timed at the client; the server's peak RSS and CPU per level; whether each spoken answer says
what the brain answers to the question as written."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from datavox.voice.audio import Pcm
from datavox.voice.clients import Conversation, RtcConversation, TurnResult, WsConversation, mint

REFUSED = ("engine_busy", "session_limit", "HTTP 429", "HTTP 503")


def normalise(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum() or c == " ").replace("  ", " ").strip()


# An answer's facts: numbers and capitalised words (names: "Max Verstappen", "Red Bull", "Monaco"; a
# sentence's first word too, which is most often the answer's name). Matched whole and case-blind.
_FACT = re.compile(r"\b([A-Z][\w'-]*)|(\d[\d,.]*\d|\d)")


def facts(answer: str) -> set[str]:
    return {
        (name or number.replace(",", "").replace(".", "")).lower() for name, number in _FACT.findall(answer)
    }


def verdict(expected: str, got: str) -> str:
    """ "right" when the spoken answer holds every fact of the expected one, "asked" for a question back
    (the engine was unsure what it heard: not an answer, not a wrong one), else "wrong"."""
    said = set(normalise(got).split())  # "1,234" → "1234", as in facts()
    if facts(expected) <= said:
        return "right"
    return "asked" if got.rstrip().endswith("?") else "wrong"


@dataclass
class Level:
    transport: str
    sessions: int
    latencies: list[float] = field(default_factory=list)
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    misheard: int = 0
    wrong: list[str] = field(default_factory=list)  # "question -> heard -> answer" of each wrong answer
    asked_back: int = 0
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0


class RssWatch:
    """Samples a process's RSS every 100 ms in a thread; `peak` in MB."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = self.proc.memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="dv-rss")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.proc.memory_info().rss / 2**20)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def connect_kind(transport: str) -> type[Conversation]:
    return RtcConversation if transport == "webrtc" else WsConversation


async def one_session(
    transport: str,
    base: str,
    clips: list[tuple[str, Pcm]],
    delay: float,
    rng: random.Random,
    level: Level,
    show: Callable[[str, TurnResult], None],
    expected: dict[str, str],
) -> None:
    await asyncio.sleep(delay)
    try:
        secret = await mint(base)
        conv: Conversation = connect_kind(transport)(base, secret)  # type: ignore[call-arg]
        await conv.connect()
    except Exception as exc:
        if any(code in str(exc) for code in REFUSED) or "429" in str(exc) or "503" in str(exc):
            level.refused += 1
        else:
            level.failed.append(f"connect: {exc}")
        return
    try:
        for text, pcm in clips:
            r = await conv.ask(pcm, timeout_s=30)
            if r.error and any(code in r.error for code in REFUSED) and not r.of("response.done"):
                level.refused += 1
                return
            if r.latency_ms is None:
                level.failed.append(r.error or "no audio")
            else:
                level.latencies.append(r.latency_ms)
                if normalise(r.transcript) != normalise(text):
                    level.misheard += 1
                if text in expected:
                    judged = verdict(expected[text], r.answer_text)
                    if judged == "asked":
                        level.asked_back += 1
                    elif judged == "wrong":
                        level.wrong.append(f"{text!r} heard {r.transcript!r} -> {r.answer_text!r}")
            show(text, r)
            await asyncio.sleep(rng.uniform(0.3, 1.2))  # the user thinks before the next question
    finally:
        await conv.close()


async def run_level(
    transport: str,
    base: str,
    server_pid: int,
    clips: list[tuple[str, Pcm]],
    sessions: int,
    per_session: int,
    show: Callable[[str, TurnResult], None],
    expected: dict[str, str],
) -> Level:
    import psutil

    level = Level(transport, sessions)
    rng = random.Random(sessions * 7919 + len(transport))
    proc = psutil.Process(server_pid)
    cpu0 = sum(proc.cpu_times()[:2])
    watch = RssWatch(server_pid)
    t0 = time.perf_counter()
    jobs = []
    for i in range(sessions):
        mine = [clips[(i * 3 + k) % len(clips)] for k in range(per_session)]
        delay = rng.uniform(0, 2.0) if i else 0.0  # staggered starts: nobody stops talking in step
        session_rng = random.Random(rng.random())
        jobs.append(one_session(transport, base, mine, delay, session_rng, level, show, expected))
    await asyncio.gather(*jobs)
    level.wall_s = time.perf_counter() - t0
    level.peak_rss_mb = watch.stop()
    level.cpu_s = sum(proc.cpu_times()[:2]) - cpu0
    return level


async def barge_in_run(base: str, clips: list[tuple[str, Pcm]], count: int) -> list[float]:
    """Ask, then interrupt the answer with the next question; ms of answer audio after the interruption."""
    conv = RtcConversation(base, await mint(base))
    await conv.connect()
    cut: list[float] = []
    try:
        for i in range(count):
            turn = await conv.ask(clips[i % len(clips)][1], barge_in=clips[(i + 1) % len(clips)][1])
            if turn.barge_in_at is not None and turn.of("output_audio_buffer.cleared"):
                cut.append(turn.audio_after_barge_in_ms)
            await conv.follow_up()
            await asyncio.sleep(0.5)
    finally:
        await conv.close()
    return cut


async def session_rss(base: str, server_pid: int, transport: str, count: int) -> float:
    """What one more connected session costs the server, in MB: `count` sessions opened side by side and
    left listening (the client streams silence, so the VAD and, on WebRTC, the Opus path run), RSS before
    and after. The levels' peaks cannot tell this: their sessions also fill the shared model workers'
    allocator pools, which do not grow with the number of sessions."""
    import psutil

    proc = psutil.Process(server_pid)
    await asyncio.sleep(0.5)
    before = proc.memory_info().rss
    convs: list[Conversation] = []
    try:
        for _ in range(count):
            try:
                secret = await mint(base)
            except Exception:  # engine_busy: the admission control measured a smaller capacity
                break
            conv: Conversation = (
                WsConversation(base, secret) if transport == "websocket" else RtcConversation(base, secret)
            )
            await conv.connect()
            convs.append(conv)
        await asyncio.sleep(2.0)
        after = proc.memory_info().rss
    finally:
        for conv in convs:
            await conv.close()
    return (after - before) / 2**20 / len(convs) if convs else float("nan")
