"""What a session is built from: the injected models and services, its options, and its turn records.

Kept apart from `session.py` so fakes (tests) and real implementations (engine) share one definition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from datavox.cancel import CancelToken
from datavox.realtime import protocol as p
from datavox.types import Answer, HistoryTurn
from datavox.voice.audio import Pcm

T = TypeVar("T")

AskFn = Callable[[str, list[HistoryTurn]], Answer]
PublishFn = Callable[[str, dict[str, Any]], None]
# Cancel the query that `ask` runs on this worker thread (barge-in), leaving other sessions' queries alone.
CancelFn = Callable[[int], None]
SendFn = Callable[[p.Event], None]


class Runner(Protocol):
    """Runs a blocking call off the event loop; `kind` (stt, tts, brain) picks the thread pool."""

    def __call__(self, kind: str, fn: Callable[..., T], *args: Any) -> Awaitable[T]: ...


class Clock(Protocol):
    def now(self) -> float: ...


class SpeechToText(Protocol):
    def transcribe(self, audio: Pcm, prompt: str = "") -> str: ...


class TextToSpeech(Protocol):
    sample_rate: int

    def synthesize(self, text: str) -> bytes: ...


class Player(Protocol):
    """The outgoing WebRTC audio track: plays PCM in real time and reports what has been heard."""

    def play(self, pcm: Pcm, rate: int) -> None: ...

    def clear(self) -> None: ...

    def played_ms(self) -> float: ...  # since the last clear()

    def queued_ms(self) -> float: ...


@dataclass
class SessionOptions:
    half_duplex: bool = False
    early_end: bool = True
    # Silence before a complete-looking question ends the turn. Short, because a user who goes on talking
    # within `carry_within_ms` of the answer gets their words joined into one question (see _barge_in).
    early_end_ms: int = 160
    # Partial transcripts while speaking: for the UI, and a complete-looking one starts the answer early.
    # Only while the speech pool is idle, so they never delay a committed turn. Every 150 ms: a partial
    # whose audio ends in the last ~150 ms of speech mostly reads as the final transcript (measured on the
    # benchmark's questions), and then the answer and its first audio are ready when the turn ends.
    partial_every_ms: int = 150
    max_turn_s: float = 30.0  # whisper's window: longer speech is committed in pieces
    delta_ms: int = 200  # audio per response.output_audio.delta
    vocabulary: str = ""  # names to expect in speech (drivers, teams): a prompt for the speech recogniser
    carry_within_ms: int = 1200  # a barge-in this soon after the answer began keeps the question


@dataclass
class Pipeline:
    """Transcript → answer → first sentence of audio for one stretch of speech; maybe speculative."""

    audio_end: int  # absolute sample index the audio ends at
    speech_end_at: float  # clock time the user stopped speaking
    transcript: asyncio.Future[str]
    answer: asyncio.Future[Answer] | None
    first_audio: asyncio.Future[tuple[str, bytes]] | None
    task: asyncio.Task[None] | None = None
    prepared: Pipeline | None = None  # an answer already started from a partial transcript
    discarded: bool = False
    ask_thread: int | None = None  # the worker thread running this one's brain call (Speculation.safe_ask)
    timings: dict[str, float] = field(default_factory=dict)
    token: CancelToken = field(default_factory=CancelToken)  # cancels its brain call (LLM, fallback, SQL)


@dataclass
class Spoken:
    """What an assistant audio item said, sentence by sentence, for truncation to what was heard."""

    item_id: str
    response_id: str
    sentences: list[tuple[str, float]] = field(default_factory=list)  # (text, audio ms)
    sent_ms: float = 0.0
    first_at: float | None = None  # clock time the first audio went out
    player_base_ms: float = 0.0
    truncated: bool = False


@dataclass
class ResponseRun:
    id: str
    task: asyncio.Task[None] | None = None
    item: p.Item | None = None
    output_index: int = 0
    spoken: Spoken | None = None
    pipeline: Pipeline | None = None
    ask_thread: int | None = None  # the worker thread running this response's own brain call
    token: CancelToken = field(default_factory=CancelToken)  # cancels that call (LLM, fallback, SQL)
    turn_id: str | None = None  # the user item this response answers
    question: str = ""
    voice: bool = False  # started by a spoken turn (not by response.create)
