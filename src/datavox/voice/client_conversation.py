"""The transport-free half of the test and benchmark clients (`clients.py`): one realtime conversation
that says questions through a `Mic`, maybe interrupts the answer, and tells each turn's events, audio and
timings (`TurnResult`). The transports (WebSocket, WebRTC) subclass it.

A turn ends with the `response.done` of a response created after the turn began, found by id: waiting
for "the next `response.done`" lost the answer to an interruption whenever it came before the client
listened for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from datavox.realtime import protocol as p
from datavox.voice.audio import Pcm
from datavox.voice.client_audio import Mic, TurnResult, speech_end
from datavox.voice.media import loud_at


class Conversation:
    """One realtime session: `ask()` a spoken question (optionally interrupting the answer), many times."""

    transport = ""
    rate = p.PCM_RATE

    def __init__(self) -> None:
        self.mic = Mic(self.rate)
        self.events: list[dict[str, Any]] = []
        self._turn: TurnResult | None = None
        # Responses by id, in the order they were created: a turn waits for the `response.done` of a response
        # created after it began, never for "the next response.done", which may have come already (the
        # answer to an interruption can be done before the interrupted answer has finished playing).
        self._created: list[str] = []
        self._finished: set[str] = set()
        self._changed = asyncio.Event()  # a response finished, or the turn failed
        self._failed = False  # this turn gets no answer (a limit, engine_busy, the server hung up)
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.pending: asyncio.Future[float] | None = None  # an interruption, said after the last question
        self._follow_since = 0  # responses created before the interruption was said
        self.closed = False
        self.gone = asyncio.Event()  # the server ended the connection

    async def connect(self) -> None:
        raise NotImplementedError

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self._turn is not None:
            self._turn.events.append(event)
        kind = event.get("type")
        if kind == "response.created":
            self._created.append(str(event["response"]["id"]))
        elif kind == "response.done":
            self._finished.add(str(event["response"]["id"]))
            self._changed.set()
        elif kind in ("output_audio_buffer.stopped", "output_audio_buffer.cleared"):
            self._stopped.set()
        elif kind == "error" and event["error"].get("code") != "response_cancel_not_active":
            if self._turn is not None and self._turn.error is None:
                self._turn.error = f"{event['error'].get('code')}: {event['error'].get('message')}"
            if "limit" in str(event["error"].get("code")) or "busy" in str(event["error"].get("code")):
                self._fail()

    def _fail(self) -> None:
        self._failed = True
        self._changed.set()

    async def _answered(self, since: int, timeout_s: float) -> None:
        """Until a response created after the first `since` ones is done; TimeoutError if none is in time."""

        async def wait() -> None:
            while not (self._failed or any(r in self._finished for r in self._created[since:])):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), max(0.1, timeout_s))

    def _on_audio(self, pcm: Pcm, rate: int, at: float) -> None:
        """Answer audio that starts playing at `at` (arrival, or after what is already playing)."""
        turn = self._turn
        if turn is None or turn.speech_end_at is None or at < turn.speech_end_at:
            return
        first = loud_at(pcm)
        if first is not None and turn.first_audio_at is None:
            turn.first_audio_at = at + first / rate
        if turn.first_audio_at is not None:
            turn.audio.append(pcm)
            turn.audio_rate = rate
            if turn.barge_in_at is not None and first is not None:
                # the part of this audio that plays after the interruption began
                last = speech_end(pcm, rate)
                heard_from = max(at + first / rate, turn.barge_in_at)
                turn.audio_after_barge_in_ms += max(0.0, at + last / rate - heard_from) * 1000

    async def ask(
        self,
        pcm16k: Pcm,
        *,
        timeout_s: float = 30.0,
        barge_in: Pcm | None = None,
        barge_in_after_ms: float = 300.0,
        wait_audio_s: float = 15.0,
    ) -> TurnResult:
        """Say `pcm16k`; wait for the answer (and, unless interrupted, for its audio to play out).

        With `barge_in`, that clip is said `barge_in_after_ms` after the answer's first audible sample; the
        result tells how much answer audio the client got after the interruption's first loud sample.
        """
        turn = TurnResult(self.transport)
        self._turn = turn
        self._failed = self.gone.is_set()
        self._stopped.clear()
        since = len(self._created)
        try:
            turn.speech_end_at = await self._said(self.mic.say(pcm16k), timeout_s)
            deadline = time.monotonic() + timeout_s
            if barge_in is not None:
                # (response.done may come first: the answer is generated faster than it plays)
                while turn.first_audio_at is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                if turn.first_audio_at is not None:
                    await asyncio.sleep(
                        max(0.0, turn.first_audio_at + barge_in_after_ms / 1000 - time.monotonic())
                    )
                    self.mic.first_loud_at = None
                    self._follow_since = len(self._created)  # its answer is created after this
                    spoken = self.pending = self.mic.say(barge_in)
                    while self.mic.first_loud_at is None and not spoken.done():
                        await asyncio.sleep(0.002)
                    turn.barge_in_at = self.mic.first_loud_at
            await self._answered(since, deadline - time.monotonic())
            await self._played_out(wait_audio_s)
            if turn.barge_in_at is not None:
                await asyncio.sleep(0.3)  # audio still in flight when the server cut it
        except TimeoutError:
            turn.error = turn.error or "no response.done before the timeout"
        finally:
            self._turn = None
        return turn

    async def follow_up(self, *, timeout_s: float = 30.0, wait_audio_s: float = 15.0) -> TurnResult:
        """The answer to the interruption said by the last `ask(..., barge_in=…)`."""
        turn = TurnResult(self.transport)
        if self.pending is None:
            turn.error = "nothing was said after the last question"
            return turn
        self._turn = turn
        self._failed = self.gone.is_set()
        self._stopped.clear()
        try:
            turn.speech_end_at = await asyncio.wait_for(self.pending, timeout_s)
            await self._answered(self._follow_since, timeout_s)
            await self._played_out(wait_audio_s)
        except TimeoutError:
            turn.error = turn.error or "no response.done before the timeout"
        finally:
            self._turn = None
            self.pending = None
        return turn

    async def _played_out(self, limit_s: float) -> None:
        """Until the answer has been heard (a user listens before asking again) or was cut."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), limit_s)  # output_audio_buffer.stopped/cleared

    async def _said(self, spoken: asyncio.Future[float], timeout_s: float) -> float:
        """When the clip's speech ended; TimeoutError when the server hung up or time ran out first."""
        gone = asyncio.ensure_future(self.gone.wait())
        try:
            waiters: set[asyncio.Future[Any]] = {spoken, gone}
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not spoken.done():
            raise TimeoutError
        return spoken.result()

    async def close(self) -> None:
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
