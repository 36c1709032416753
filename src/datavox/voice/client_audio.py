"""What a test or benchmark client hears and says: `TurnResult` (one turn, timed at the client) and `Mic`
(a microphone streaming queued clips in 20 ms chunks, silence in between). Used by `clients.py`."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from datavox.realtime import protocol as p
from datavox.voice.audio import Pcm, resample
from datavox.voice.media import loud_at

FRAME_MS = 20


def speech_end(pcm: Pcm, rate: int, level: int = 300) -> int:
    """Index just after the last loud sample: where the speaker stops (piper pads its sentences)."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return int(loud[-1]) + 1 if loud.size else 0


@dataclass
class TurnResult:
    transport: str
    events: list[dict[str, Any]] = field(default_factory=list)
    speech_end_at: float | None = None
    first_audio_at: float | None = None
    audio: list[Pcm] = field(default_factory=list)
    audio_rate: int = p.PCM_RATE
    error: str | None = None
    # barge-in (`Conversation.ask(..., barge_in=...)`): when the interruption's first loud sample was sent,
    # and how many 20 ms of answer audio reached the client after it
    barge_in_at: float | None = None
    audio_after_barge_in_ms: float = 0.0

    @property
    def latency_ms(self) -> float | None:
        if self.speech_end_at is None or self.first_audio_at is None:
            return None
        return (self.first_audio_at - self.speech_end_at) * 1000

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_]

    @property
    def transcript(self) -> str:
        done = self.of("conversation.item.input_audio_transcription.completed")
        return str(done[-1]["transcript"]) if done else ""

    @property
    def answer_text(self) -> str:
        done = self.of("response.output_audio_transcript.done") or self.of("response.output_text.done")
        return str(done[-1].get("transcript") or done[-1].get("text") or "") if done else ""

    @property
    def status(self) -> str:
        done = self.of("response.done")
        return str(done[-1]["response"]["status"]) if done else ""

    def answer_audio(self) -> Pcm:
        return np.concatenate(self.audio) if self.audio else np.zeros(0, np.int16)


class Mic:
    """A microphone at `rate`: `say()` queues a clip, `chunk()` gives the next 20 ms (silence when nothing is
    queued) and notes when the loud part of each clip was sent."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.step = rate * FRAME_MS // 1000
        self._clips: collections.deque[tuple[Pcm, int, int, asyncio.Future[float]]] = collections.deque()
        self._pos = 0  # within the head clip
        self.first_loud_at: float | None = None  # of the clip being sent

    def say(self, pcm16k: Pcm) -> asyncio.Future[float]:
        """Queue a clip; the future gets the instant its last loud sample was sent (end of speech)."""
        pcm = resample(pcm16k, 16_000, self.rate)
        first = loud_at(pcm)
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._clips.append((pcm, first if first is not None else 0, speech_end(pcm, self.rate), done))
        return done

    def chunk(self, sent_at: float) -> Pcm:
        """The next 20 ms; `sent_at` is when its first sample goes out."""
        out = np.zeros(self.step, np.int16)
        filled = 0
        while filled < self.step and self._clips:
            pcm, first, end, done = self._clips[0]
            n = min(self.step - filled, pcm.size - self._pos)
            out[filled : filled + n] = pcm[self._pos : self._pos + n]
            if self._pos <= first < self._pos + n:
                self.first_loud_at = sent_at + (filled + first - self._pos) / self.rate
            if self._pos < end <= self._pos + n and not done.done():
                done.set_result(sent_at + (filled + end - self._pos) / self.rate)
            self._pos += n
            filled += n
            if self._pos >= pcm.size:
                if not done.done():
                    done.set_result(sent_at + filled / self.rate)
                self._clips.popleft()
                self._pos = 0
        return out
