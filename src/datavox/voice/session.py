"""One realtime conversation: the GA protocol glue around the turn, independent of transport and models.

Everything heavy is injected (VAD model, STT, TTS, the brain's `ask`, a `run` that moves blocking calls off
the event loop, a clock), so tests drive a session with fakes and virtual time in milliseconds.

Transports call `feed(pcm16k)` with input audio (WebRTC) or send `input_audio_buffer.append` (WebSocket),
pass every client event to `handle()`, and ship what the session hands to `send`. Over WebRTC a `Player`
(the outgoing audio track) plays the answer; over WebSocket it goes out as `response.output_audio.delta`.

The parts, one job each:
- `turn.TurnMachine`: who has the floor (pure; partials, early end, barge-in, superseded turns);
- `input_buffer.InputBuffer`: the turn's input audio as a chunk list;
- `speculation.Speculation`: transcript → answer → first sentence, started before the turn ends;
- `responses.Responses`: one response at a time, streamed sentence by sentence, cancellable;
- `conversation`: the items; `client_events`: the client's events; this module: wiring, VAD events, commits.

The turn and where its latency goes: docs/voice.md (with a diagram of the states).

App events published for the UI (`publish(conversation_id, event)`): `transcript.partial`,
`transcript.final`, `answer` (the built-in `query_database` tool call: SQL, columns, rows, chart, timings),
`timings` (per-turn latency breakdown) and `turn.cancelled`; all with `turn_id` (the user item) and
`source: "voice"`, as `datavox.server.events` expects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from datavox.cancel import Cancelled
from datavox.realtime import payloads, session_config
from datavox.realtime import protocol as p
from datavox.types import HistoryTurn
from datavox.voice import client_events, conversation, transcription
from datavox.voice.audio import Pcm, Resampler
from datavox.voice.contracts import (
    AskFn,
    CancelFn,
    Clock,
    Pipeline,
    Player,
    PublishFn,
    Runner,
    SendFn,
    SessionOptions,
    SpeechToText,
    TextToSpeech,
)
from datavox.voice.input_buffer import InputBuffer
from datavox.voice.responses import Responses, public
from datavox.voice.speculation import Speculation
from datavox.voice.turn import BargeIn, Phase, TurnMachine, TurnRules
from datavox.voice.vad import RATE, TurnDetector, VadEvent, VadModel

__all__ = ["Session", "SessionOptions"]

log = logging.getLogger(__name__)


def _ms(samples: int) -> float:
    return samples * 1000 / RATE


def _samples(ms: float) -> int:
    return round(ms * RATE / 1000)


class Session:
    def __init__(
        self,
        *,
        config: dict[str, Any],
        vad: VadModel,
        stt: SpeechToText,
        tts: TextToSpeech,
        ask: AskFn,
        run: Runner,
        clock: Clock,
        send: SendFn,
        cancel: CancelFn | None = None,
        publish: PublishFn | None = None,
        player: Player | None = None,
        options: SessionOptions | None = None,
        on_close: Callable[[str], None] | None = None,
        conversation_id: str | None = None,
        speech_idle: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self.id: str = config["id"]
        self.conversation_id = conversation_id or p.new_id("conv")
        self.stt, self.tts, self.ask, self.run, self.clock = stt, tts, ask, run, clock
        self.send, self.cancel, self.publish, self.player = send, cancel, publish, player
        self.options = o = options or SessionOptions()
        self.on_close = on_close
        # The shared speech workers have nothing to do: a partial transcript may start (see _maybe_partial).
        self.speech_idle = speech_idle
        td = self.turn_detection() or session_config.default_turn_detection()
        self.detector = TurnDetector(
            vad, threshold=td["threshold"], silence_duration_ms=td["silence_duration_ms"]
        )
        self.turn = TurnMachine(
            TurnRules(
                partial_every_ms=o.partial_every_ms,
                max_turn_ms=o.max_turn_s * 1000,
                early_end=o.early_end,
                early_end_ms=o.early_end_ms,
                carry_within_ms=o.carry_within_ms,
            )
        )
        self.audio = InputBuffer()
        self.speculation = Speculation(self)
        self.responses = Responses(self)
        self.items: list[p.Item] = []
        self.created_at = self.last_activity = clock.now()
        self.closed = False
        self.speech_item: str | None = None  # the user item id of the speech in progress
        self.in24 = Resampler(p.PCM_RATE, RATE)
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- plumbing -----------------------------------------------------------------------------------------

    def emit(self, type_: str, **fields: Any) -> None:
        if not self.closed:
            self.send(p.event(type_, **fields))

    def error(
        self, code: str, message: str, *, param: str | None = None, event_id: str | None = None
    ) -> None:
        if not self.closed:
            self.send(p.error_event(code, message, param=param, event_id=event_id))

    def publish_app(self, event: dict[str, Any]) -> None:
        """An app event for the page (transcripts, answers, timings); never breaks a turn."""
        if self.publish is not None:
            try:
                self.publish(self.conversation_id, {**event, "source": "voice"})
            except Exception:
                log.exception("publish failed")

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if isinstance(exc, Cancelled):  # a question we cancelled ourselves
                return
            log.error("session task failed", exc_info=exc)
            self.error("server_error", f"internal error: {type(exc).__name__}: {exc}")

    def turn_detection(self) -> dict[str, Any] | None:
        td: dict[str, Any] | None = self.config["audio"]["input"].get("turn_detection")
        return td

    def history(self) -> list[HistoryTurn]:
        return conversation.history(self.items)

    def previous_id(self, item: p.Item) -> str | None:
        return conversation.previous_id(self.items, item)

    def audio_out(self) -> bool:
        return "audio" in (self.config.get("output_modalities") or ["audio"])

    def stt_prompt(self) -> str:
        """The session's `audio.input.transcription.prompt`, else the engine's vocabulary (database names)."""
        transcription = self.config["audio"]["input"].get("transcription") or {}
        prompt = transcription.get("prompt")
        return prompt if isinstance(prompt, str) and prompt.strip() else self.options.vocabulary

    def client_tool(self, overrides: dict[str, Any] | None = None) -> dict[str, Any] | None:
        return conversation.client_tool(self.config, overrides)

    def wants_answer(self) -> bool:
        td = self.turn_detection()
        return bool(td and td.get("create_response", True)) and self.client_tool() is None

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.emit("session.created", session=self.config)

    def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        if self.responses.current is not None:
            self.responses.cancel("client_cancelled")
        self.speculation.cancel_all()
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        if self.on_close is not None:
            self.on_close(reason)

    def also_on_close(self, hook: Callable[[str], object]) -> None:
        """Run `hook(reason)` when the session closes, after the engine's own `on_close` (a transport stops
        its writer or hangs up the call)."""
        first = self.on_close

        def both(reason: str) -> None:
            if first is not None:
                first(reason)
            hook(reason)

        self.on_close = both

    def fail(self, code: str, message: str) -> None:
        """A fatal, clearly-worded error (limits): tell the client, then close."""
        self.error(code, message)
        self.close(code)

    def limit_exceeded(self, now: float, max_session_s: float, idle_s: float) -> tuple[str, str] | None:
        if now - self.created_at >= max_session_s:
            return (
                "session_expired",
                f"Your session hit the maximum duration of {int(max_session_s)} seconds.",
            )
        busy = self.responses.current is not None or self.detector.speaking
        if not busy and now - self.last_activity >= idle_s:
            return "session_idle_timeout", f"Session closed after {int(idle_s)} seconds without activity."
        return None

    def on_drained(self) -> None:
        """The player ran out of audio (WebRTC): the answer has been heard in full."""
        self.responses.on_drained()

    # --- client events ------------------------------------------------------------------------------------

    async def handle(self, event: Any) -> None:
        """One client event (any JSON value): dispatched by `client_events`, errors as `error` events."""
        await client_events.handle(self, event)

    # --- input audio and turn detection ----------------------------------------------------------------

    def speech_start(self) -> int | None:
        ms = self.turn.speech_start_ms
        return None if ms is None else _samples(ms)

    def feed(self, pcm: Pcm) -> None:
        """Input audio, 16 kHz mono int16, in arrival order."""
        if self.closed or pcm.size == 0:
            return
        if self.config["audio"]["input"].get("turn_detection") is not None and self._muted():
            pcm = np.zeros_like(pcm)  # half duplex: our own voice must not start a turn
        self.audio.append(pcm)
        td = self.turn_detection()
        if td is None:  # push-to-talk: the client commits
            return
        for ev in self.detector.feed(pcm):
            self._on_vad(ev, td)
        self.responses.hold_for_onset(self.detector.hearing and bool(td.get("interrupt_response", True)))
        if self.detector.speaking:
            self._maybe_partial()
            self.maybe_early_end()
            if self.turn.too_long(_ms(self.detector.position)):
                stop = self.detector.force_stop()
                if stop is not None:
                    self._on_vad(stop, td)
        elif self.turn.speech_start_ms is None:
            self.audio.trim(self.detector.position - td["prefix_padding_ms"] * RATE // 1000)

    def _muted(self) -> bool:
        if not self.options.half_duplex:
            return False
        return self.responses.current is not None or self.responses.playing()

    def _on_vad(self, ev: VadEvent, td: dict[str, Any]) -> None:
        if ev.kind == "start":
            self.last_activity = self.clock.now()
            start = max(self.audio.start, ev.sample - td["prefix_padding_ms"] * RATE // 1000)
            if self.turn.phase is Phase.LISTENING:
                self.speculation.chunks.clear()  # a new turn: nothing rendered for the last one is wanted
            self.turn.speech_started(_ms(ev.sample), _ms(start))
            self.speech_item = p.new_id("item")
            self.emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=int(start * 1000 / RATE),
                item_id=self.speech_item,
            )
            if td.get("interrupt_response", True):
                self._barge_in()
        elif ev.kind == "pause":
            start = self.speech_start()
            if start is not None and self.turn.paused():
                respond = bool(td.get("create_response", True))
                self.speculation.start(start, self.detector.position, ev.sample, respond)
        elif ev.kind == "resume":
            self.speculation.discard()
            self.turn.resumed()
        elif ev.kind == "stop":
            start = self.speech_start()
            if start is not None:
                self.commit(start, ev.sample, respond=bool(td.get("create_response", True)), vad=True)

    def _barge_in(self) -> None:
        r = self.responses
        action = self.turn.barge_in(
            self.clock.now() * 1000, responding=r.current is not None, playing=r.playing()
        )
        if action is BargeIn.CANCEL:
            r.cancel("turn_detected")
        elif action is BargeIn.STOP_PLAYBACK:
            r.stop_playback(emit_cleared=True)

    def _maybe_partial(self) -> None:
        """A partial transcript for the UI while the user speaks, only when the turn machine says so."""
        position = self.detector.position
        if self.speech_idle is not None and not self.speech_idle():
            return  # not now, and not counted as done: it starts as soon as the workers are free
        speculating = self.speculation.spec is not None
        if self.turn.partial_due(_ms(position), speculating=speculating, quiet=self.detector.quiet):
            start = self.speech_start()
            assert start is not None  # partial_due checks it
            self.speculation.partial(start, position, self.speech_item)

    def maybe_early_end(self) -> None:
        spec = self.speculation.spec
        if not self.options.early_end or spec is None or not spec.transcript.done():
            return
        if spec.transcript.cancelled() or spec.transcript.exception() is not None:
            return
        if self.turn.early_end_due(spec.transcript.result(), self.detector.silence_ms()):
            td = self.turn_detection()
            stop = self.detector.force_stop()
            if stop is not None and td is not None:
                spec.timings["early_end"] = 1.0
                self._on_vad(stop, td)

    # --- committing a turn ---------------------------------------------------------------------------------

    def commit(self, start: int, end: int, *, respond: bool, vad: bool) -> None:
        item_id = self.speech_item or p.new_id("item")
        self.speech_item = None
        token = self.turn.committed()
        if vad:
            self.emit(
                "input_audio_buffer.speech_stopped", audio_end_ms=int(end * 1000 / RATE), item_id=item_id
            )
        previous = self.items[-1]["id"] if self.items else None
        self.emit("input_audio_buffer.committed", item_id=item_id, previous_item_id=previous)
        item = payloads.user_audio_item(item_id, None, status="in_progress")
        item["_audio_ms"] = (end - start) * 1000 / RATE
        self.items.append(item)
        self.emit("conversation.item.added", item=public(item), previous_item_id=previous)
        with_answer = respond and self.client_tool() is None
        pipeline = self.speculation.take(start, end, with_answer)
        self.audio.trim(end)
        self.spawn(self._finish_turn(item, pipeline, respond, token))

    async def _finish_turn(self, item: p.Item, pl: Pipeline, respond: bool, token: int) -> None:
        try:
            text = await pl.transcript
        except Exception as exc:
            self.turn.after_transcript("", token, respond=False, responding=False, kept=False)
            transcription.failed(self, item, exc)
            return
        transcription.completed(self, item, text)
        outcome = self.turn.after_transcript(
            text,
            token,
            respond=respond,
            responding=self.responses.current is not None,
            kept=item in self.items,
        )
        if outcome.action == "superseded":
            self.publish_app({"type": "turn.superseded", "turn_id": item["id"]})
        elif outcome.action == "answer" and outcome.carried:
            self.responses.start(None, {"_question": outcome.question}, voice=True)
        elif outcome.action == "answer":
            self.responses.start(pl, {}, voice=True)
