"""Fake VAD, STT, TTS, brain, player and clock: a voice session in milliseconds, in virtual time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from datavox.realtime import session_config
from datavox.types import Answer, HistoryTurn, Intent
from datavox.voice.session import Session, SessionOptions

RATE = 16_000
QUESTION = "Who won the 2021 drivers' championship?"
ANSWER = "Max Verstappen won the 2021 drivers' championship. He drove for Red Bull."


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t


class FakeVad:
    """Loud samples are speech."""

    window = 320

    def prob(self, samples: np.ndarray) -> float:
        return 1.0 if int(np.abs(samples.astype(np.int32)).max()) > 1000 else 0.0

    def reset(self) -> None:
        pass


class FakeStt:
    def __init__(self, text: str = QUESTION) -> None:
        self.text = text
        self.calls = 0

    def transcribe(self, audio: np.ndarray, prompt: str = "") -> str:
        self.calls += 1
        return self.text


class FakeTts:
    """100 ms of audio per word, at 24 kHz so no resampling muddles the numbers."""

    sample_rate = 24_000

    def __init__(self) -> None:
        self.calls: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.calls.append(text)
        t = np.arange(2400 * len(text.split())) / self.sample_rate
        return (np.sin(2 * np.pi * 300 * t) * 3000).astype(np.int16).tobytes()


class FakeBrain:
    def __init__(self, answer: str = ANSWER) -> None:
        self.answer = answer
        self.questions: list[str] = []
        self.histories: list[list[HistoryTurn]] = []

    def __call__(self, question: str, history: list[HistoryTurn]) -> Answer:
        self.questions.append(question)
        self.histories.append(list(history))
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer=self.answer,
            engine="fake",
            sql="SELECT 1",
            columns=["driver"],
            rows=[["Max Verstappen"]],
            timings_ms={"sql_ms": 1.0},
        )


class BlockingBrain(FakeBrain):
    """A brain whose query is in flight on a real worker thread until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.thread = 0

    def __call__(self, question: str, history: list[HistoryTurn]) -> Answer:
        # The first question's thread: a later one may be the answer prepared for the user's next words.
        self.thread = self.thread or threading.get_ident()
        self.entered.set()
        self.release.wait(10)
        return super().__call__(question, history)


class FakePlayer:
    """Plays in virtual time: what was queued plays back at the clock's pace."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.total_ms = 0.0
        self.start: float | None = None
        self.clears = 0
        self.held = False
        self.holds: list[str] = []  # "hold" / "resume" transitions (a tentative barge-in)

    def play(self, pcm: np.ndarray, rate: int) -> None:
        if self.start is None or self.queued_ms() <= 0:
            self.start = self.clock.now() - self.played_ms() / 1000
        self.total_ms += pcm.size * 1000 / rate

    def clear(self) -> None:
        self.total_ms = 0.0
        self.start = None
        self.clears += 1
        self.held = False

    def hold(self) -> None:
        if not self.held:
            self.holds.append("hold")
        self.held = True

    def resume(self) -> None:
        if self.held:
            self.holds.append("resume")
        self.held = False

    def played_ms(self) -> float:
        if self.start is None:
            return 0.0
        return min(self.total_ms, (self.clock.now() - self.start) * 1000)

    def queued_ms(self) -> float:
        return self.total_ms - self.played_ms()


class Gates:
    """Runner that can hold a kind of work (stt, brain, tts) until the test releases it.

    Work runs on the event loop's thread, except the kinds in `threaded`: those run on a worker thread, as
    the engine runs them.
    """

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.waiting: dict[str, int] = {}
        self.free: dict[str, int] = {}
        self.threaded: set[str] = set()

    def hold(self, kind: str, after: int = 0) -> None:
        """Hold `kind` work, letting the next `after` calls through first."""
        self.gates[kind] = asyncio.Event()
        self.free[kind] = after

    def release(self, kind: str) -> None:
        self.gates.pop(kind).set()

    async def __call__(self, kind: str, fn: Callable[..., Any], *args: Any) -> Any:
        await asyncio.sleep(0)
        gate = self.gates.get(kind)
        if gate is not None and self.free.get(kind, 0) > 0:
            self.free[kind] -= 1
        elif gate is not None:
            self.waiting[kind] = self.waiting.get(kind, 0) + 1
            await gate.wait()
            self.waiting[kind] -= 1
        if kind in self.threaded:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)


def speech(ms: int) -> np.ndarray:
    """A loud 440 Hz tone (not a constant: Opus would filter DC out of a WebRTC call)."""
    t = np.arange(RATE * ms // 1000) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


def silence(ms: int) -> np.ndarray:
    return np.zeros(RATE * ms // 1000, np.int16)


class Harness:
    def __init__(self, *, player: bool = False, options: SessionOptions | None = None, **kw: Any) -> None:
        self.clock = FakeClock()
        self.events: list[dict[str, Any]] = []
        self.published: list[dict[str, Any]] = []
        self.stt = kw.pop("stt", FakeStt())
        self.tts = FakeTts()
        self.brain = kw.pop("brain", FakeBrain())
        self.run = Gates()
        self.cancels = 0
        self.cancelled_threads: list[int] = []
        self.player = FakePlayer(self.clock) if player else None
        config = session_config.default_session()
        self.session = Session(
            config=config,
            vad=FakeVad(),
            stt=self.stt,
            tts=self.tts,
            ask=self.brain,
            run=self.run,
            clock=self.clock,
            send=self.events.append,
            cancel=self._cancel,
            publish=lambda conv, ev: self.published.append(ev),
            player=self.player,
            options=options or SessionOptions(early_end=False),
            **kw,
        )
        self.session.start()

    def _cancel(self, thread_id: int) -> None:
        self.cancels += 1
        self.cancelled_threads.append(thread_id)

    async def settle(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def feed(self, pcm: np.ndarray, chunk_ms: int = 20) -> None:
        """Real-time-like input: one 20 ms chunk per virtual 20 ms, letting tasks run in between."""
        step = RATE * chunk_ms // 1000
        for i in range(0, pcm.size, step):
            self.clock.t += chunk_ms / 1000
            self.session.feed(pcm[i : i + step])
            await self.settle(5)

    async def send(self, event: dict[str, Any]) -> None:
        await self.session.handle(event)
        await self.settle()

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    def clear(self) -> None:
        self.events.clear()


class FakeModels:
    """Stands in for `datavox.voice.models.SpeechModels` inside a real engine."""

    def __init__(self, stt: FakeStt | None = None) -> None:
        self.stt = stt or FakeStt()
        self.tts = FakeTts()
        self.silero = None
        self.load_ms: dict[str, float] = {}

    def vad(self, threshold: float = 0.5) -> FakeVad:
        return FakeVad()
