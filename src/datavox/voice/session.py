"""One realtime conversation: the GA event state machine, independent of transport and of real models.

Everything heavy is injected (VAD model, STT, TTS, the brain's `ask`, a `run` that moves blocking calls off
the event loop, a clock), so tests drive a session with fakes and virtual time in milliseconds.

Transports call `feed(pcm16k)` with input audio (WebRTC) or send `input_audio_buffer.append` (WebSocket),
pass every client event to `handle()`, and ship what the session hands to `send`. Over WebRTC a `Player`
(the outgoing audio track) plays the answer; over WebSocket it goes out as `response.output_audio.delta`.

The turn, and where the latency goes:
1. VAD `pause` (the first silent window after speech) starts a *speculative pipeline*: transcribe the audio so
   far, ask the brain, synthesise the first sentence. If speech resumes it is thrown away.
2. The turn ends at VAD `stop` (`silence_duration_ms` of silence), or earlier (`early_end`) when the
   speculative transcript is clearly a complete question and `early_end_ms` of silence have passed.
3. The committed turn adopts the speculative pipeline when it covers all the speech, so by then the answer
   and its first sentence of audio are often ready: the response starts speaking at once.

App events published for the UI (`publish(conversation_id, event)`): `transcript.partial`,
`transcript.final`, `answer` (the built-in `query_database` tool call: SQL, columns, rows, chart, timings),
`timings` (per-turn latency breakdown) and `turn.cancelled`; all with `turn_id` (the user item) and
`source: "voice"`, as `datavox.server.events` expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from datavox.realtime import protocol as p
from datavox.types import Answer, HistoryTurn, Intent
from datavox.voice.audio import Pcm, Resampler, b64_to_pcm, from_bytes, pcm_to_b64
from datavox.voice.contracts import (
    AskFn,
    CancelFn,
    Clock,
    Pipeline,
    Player,
    PublishFn,
    ResponseRun,
    Runner,
    SendFn,
    SessionOptions,
    SpeechToText,
    Spoken,
    TextToSpeech,
)
from datavox.voice.heuristics import early_end_silence_ms, heard_text, looks_complete, normalise
from datavox.voice.tts import speech_chunks
from datavox.voice.vad import RATE, TurnDetector, VadEvent, VadModel

__all__ = [
    "AskFn",
    "CancelFn",
    "Clock",
    "Player",
    "PublishFn",
    "Runner",
    "SendFn",
    "Session",
    "SessionOptions",
    "SpeechToText",
    "TextToSpeech",
    "early_end_silence_ms",
    "heard_text",
    "looks_complete",
    "normalise",
]

log = logging.getLogger(__name__)


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
    ) -> None:
        self.config = config
        self.id: str = config["id"]
        self.conversation_id = conversation_id or p.new_id("conv")
        self.stt, self.tts, self.ask, self.run, self.clock = stt, tts, ask, run, clock
        self.send, self.cancel, self.publish, self.player = send, cancel, publish, player
        self.options = options or SessionOptions()
        self.on_close = on_close
        td = self._turn_detection() or p.default_turn_detection()
        self.detector = TurnDetector(
            vad, threshold=td["threshold"], silence_duration_ms=td["silence_duration_ms"]
        )
        self.items: list[p.Item] = []
        self.created_at = self.last_activity = clock.now()
        self.closed = False
        # Input audio of the current turn at 16 kHz; `_buf_start` is the absolute index of `_buf[0]`.
        self._buf: Pcm = np.zeros(0, np.int16)
        self._buf_start = 0
        self._speech_start: int | None = None
        self._speech_item: str | None = None
        self._spec: Pipeline | None = None
        self._prepared: Pipeline | None = None
        self._prepared_key = ""
        self._partial_at = 0
        self._partial_busy = False
        self._response: ResponseRun | None = None
        self._spoken: Spoken | None = None  # the last assistant audio, while it may still be playing
        self._in24 = Resampler(p.PCM_RATE, RATE)
        # Answer audio as deltas (no player): one streaming resampler per answer, as building the filter
        # costs ~5 ms on the event loop; a new answer starts a new one (no tail of the last one).
        self._out24: Resampler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.turns = 0
        self._speech_count = 0  # speech starts so far: a turn answers only if no speech followed it
        self._carry = ""  # words of turns the user talked over before we answered
        # Guards `ask_thread` of pipelines and responses: set and cleared by the brain's worker thread, read
        # by a barge-in on the event loop.
        self._ask_lock = threading.Lock()

    # --- plumbing -----------------------------------------------------------------------------------------

    def emit(self, type_: str, **fields: Any) -> None:
        if not self.closed:
            self.send(p.event(type_, **fields))

    def _error(
        self, code: str, message: str, *, param: str | None = None, event_id: str | None = None
    ) -> None:
        if not self.closed:
            self.send(p.error_event(code, message, param=param, event_id=event_id))

    def _publish(self, event: dict[str, Any]) -> None:
        if self.publish is not None:
            try:
                self.publish(self.conversation_id, {**event, "source": "voice"})
            except Exception:  # the UI stream must never break a turn
                log.exception("publish failed")

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("session task failed", exc_info=exc)
            self._error("server_error", f"internal error: {type(exc).__name__}: {exc}")

    def _turn_detection(self) -> dict[str, Any] | None:
        td: dict[str, Any] | None = self.config["audio"]["input"].get("turn_detection")
        return td

    def start(self) -> None:
        self.emit("session.created", session=self.config)

    def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        if self._response is not None:
            self._cancel_response("client_cancelled")
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
        self._error(code, message)
        self.close(code)

    def limit_exceeded(self, now: float, max_session_s: float, idle_s: float) -> tuple[str, str] | None:
        if now - self.created_at >= max_session_s:
            return (
                "session_expired",
                f"Your session hit the maximum duration of {int(max_session_s)} seconds.",
            )
        busy = self._response is not None or self.detector.speaking
        if not busy and now - self.last_activity >= idle_s:
            return "session_idle_timeout", f"Session closed after {int(idle_s)} seconds without activity."
        return None

    # --- client events ------------------------------------------------------------------------------------

    async def handle(self, event: Any) -> None:
        if self.closed:
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self._error("invalid_event", "every event must be a JSON object with a string 'type'")
            return
        etype: str = event["type"]
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        if etype != "input_audio_buffer.append":
            self.last_activity = self.clock.now()
        if etype not in p.CLIENT_EVENTS:
            self._error("unknown_event", f"Unknown event type {etype!r}.", param="type", event_id=event_id)
            return
        missing = p.missing_field(event)
        if missing is not None:
            self._error(
                "missing_required_parameter",
                f"Missing required parameter: '{missing}'.",
                param=missing,
                event_id=event_id,
            )
            return
        handler = getattr(self, "_on_" + etype.replace(".", "_"))
        try:
            await handler(event)
        except p.ProtocolError as exc:
            self._error(exc.code, exc.message, param=exc.param, event_id=event_id)

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        new = p.merge_session(self.config, event.get("session"))
        self.config = new
        td = self._turn_detection()
        if td is not None:
            self.detector.configure(threshold=td["threshold"], silence_duration_ms=td["silence_duration_ms"])
        self.emit("session.updated", session=self.config)

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise p.ProtocolError("invalid_value", "audio must be a base64 string", param="audio")
        try:
            pcm = b64_to_pcm(audio)
        except ValueError as exc:
            raise p.ProtocolError("invalid_value", "audio is not valid base64", param="audio") from exc
        self.feed(self._in24.push(pcm))

    async def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        start = self._speech_start if self._speech_start is not None else self._buf_start
        end = self._buf_start + self._buf.size
        if end - start < RATE // 10:
            raise p.ProtocolError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio.",
            )
        self._discard_spec()
        self.detector.reset()
        self._commit(start, end, respond=False, vad=False)

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._discard_spec()
        self.detector.reset()
        self._speech_start = self._speech_item = None
        self._trim(self.detector.position)
        self.emit("input_audio_buffer.cleared")

    async def _on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            raise p.ProtocolError("invalid_value", "item must be an object", param="item")
        kind = item.get("type")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system"):
                raise p.ProtocolError(
                    "invalid_value", "role must be user, assistant or system", param="item.role"
                )
            if not isinstance(item.get("content"), list):
                raise p.ProtocolError("invalid_value", "message content must be a list", param="item.content")
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("output"), str):
                raise p.ProtocolError(
                    "invalid_value", "function_call_output needs call_id and output strings", param="item"
                )
        elif kind == "function_call":
            if not item.get("call_id") or not item.get("name"):
                raise p.ProtocolError("invalid_value", "function_call needs call_id and name", param="item")
        else:
            raise p.ProtocolError("invalid_value", f"unsupported item type {kind!r}", param="item.type")
        new = {
            **item,
            "id": item.get("id") or p.new_id("item"),
            "object": "realtime.item",
            "status": "completed",
        }
        if any(i["id"] == new["id"] for i in self.items):
            raise p.ProtocolError("duplicate_item_id", f"item {new['id']} already exists", param="item.id")
        prev = event.get("previous_item_id")
        index = len(self.items)
        if prev is not None:
            found = [n for n, i in enumerate(self.items) if i["id"] == prev]
            if prev == "root":
                index = 0
            elif not found:
                raise p.ProtocolError(
                    "item_not_found", f"previous item {prev} does not exist", param="previous_item_id"
                )
            else:
                index = found[0] + 1
        self.items.insert(index, new)
        previous = self.items[index - 1]["id"] if index > 0 else None
        self.emit("conversation.item.added", item=new, previous_item_id=previous)
        self.emit("conversation.item.done", item=new, previous_item_id=previous)

    async def _on_conversation_item_retrieve(self, event: dict[str, Any]) -> None:
        self.emit("conversation.item.retrieved", item=self._item(event.get("item_id")))

    async def _on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        item = self._item(event.get("item_id"))
        self.items.remove(item)
        self.emit("conversation.item.deleted", item_id=item["id"])

    async def _on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item = self._item(event.get("item_id"))
        end = event.get("audio_end_ms")
        if item.get("role") != "assistant" or not isinstance(end, int | float) or end < 0:
            raise p.ProtocolError(
                "invalid_value", "truncate needs an assistant audio item and audio_end_ms >= 0"
            )
        spoken = self._spoken if self._spoken and self._spoken.item_id == item["id"] else None
        if spoken is None:
            spoken = Spoken(item["id"], "", sentences=[(p.item_text(item), float("inf"))])
        total = sum(ms for _, ms in spoken.sentences)
        if end > total + 1:
            raise p.ProtocolError(
                "invalid_value",
                f"audio_end_ms {end} is longer than the item's audio ({int(total)} ms)",
                param="audio_end_ms",
            )
        self._truncate(item, spoken, float(end))
        if self._response is not None and self._response.item is item:
            self._cancel_response("client_cancelled")
        if self.player is not None and self._spoken is spoken:
            self.player.clear()

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self._response is not None:
            raise p.ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._response.id}.",
            )
        overrides = event.get("response") if isinstance(event.get("response"), dict) else {}
        self._start_response(None, overrides or {})

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        rid = event.get("response_id")
        if self._response is None or (rid is not None and rid != self._response.id):
            raise p.ProtocolError(
                "response_cancel_not_active", "Cancellation failed: no active response found."
            )
        self._cancel_response("client_cancelled")

    async def _on_output_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._stop_playback(emit_cleared=True)

    def _item(self, item_id: Any) -> p.Item:
        for item in self.items:
            if item["id"] == item_id:
                return item
        raise p.ProtocolError("item_not_found", f"Item with id {item_id!r} not found.", param="item_id")

    # --- input audio and turn detection ----------------------------------------------------------------

    def feed(self, pcm: Pcm) -> None:
        """Input audio, 16 kHz mono int16, in arrival order."""
        if self.closed or pcm.size == 0:
            return
        if self.config["audio"]["input"].get("turn_detection") is not None and self._muted():
            pcm = np.zeros_like(pcm)  # half duplex: our own voice must not start a turn
        self._buf = np.concatenate([self._buf, pcm])
        td = self._turn_detection()
        if td is None:  # push-to-talk: the client commits
            return
        for ev in self.detector.feed(pcm):
            self._on_vad(ev, td)
        if self.detector.speaking:
            self._maybe_partial()
            self._maybe_early_end()
            if (
                self._speech_start is not None
                and self.detector.position - self._speech_start > self.options.max_turn_s * RATE
            ):
                stop = self.detector.force_stop()
                if stop is not None:
                    self._on_vad(stop, td)
        elif self._speech_start is None:
            self._trim(self.detector.position - td["prefix_padding_ms"] * RATE // 1000)

    def _muted(self) -> bool:
        if not self.options.half_duplex:
            return False
        return self._response is not None or self._playing()

    def _playing(self) -> bool:
        spoken = self._spoken
        if spoken is None or spoken.truncated:
            return False
        if self.player is not None:
            return self.player.queued_ms() > 0
        if spoken.first_at is None:
            return False
        return (self.clock.now() - spoken.first_at) * 1000 < spoken.sent_ms

    def _trim(self, keep_from: int) -> None:
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start += drop

    def _audio(self, start: int, end: int) -> Pcm:
        a, b = max(0, start - self._buf_start), max(0, end - self._buf_start)
        return self._buf[a:b].copy()

    def _on_vad(self, ev: VadEvent, td: dict[str, Any]) -> None:
        if ev.kind == "start":
            self._speech_count += 1
            self.last_activity = self.clock.now()
            self._speech_start = max(self._buf_start, ev.sample - td["prefix_padding_ms"] * RATE // 1000)
            self._speech_item = p.new_id("item")
            self._partial_at = ev.sample
            self.emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=int(self._speech_start * 1000 / RATE),
                item_id=self._speech_item,
            )
            if td.get("interrupt_response", True):
                self._barge_in()
        elif ev.kind == "pause":
            self._start_spec(ev.sample, td)
        elif ev.kind == "resume":
            self._discard_spec()
        elif ev.kind == "stop" and self._speech_start is not None:
            self._commit(
                self._speech_start, ev.sample, respond=bool(td.get("create_response", True)), vad=True
            )

    def _maybe_partial(self) -> None:
        """A partial transcript for the UI while the user speaks, only when the STT pool has room."""
        if self._partial_busy or self._spec is not None or self._speech_start is None:
            return
        if (self.detector.position - self._partial_at) * 1000 / RATE < self.options.partial_every_ms:
            return
        self._partial_at = self.detector.position
        item_id, audio = self._speech_item, self._audio(self._speech_start, self.detector.position)
        self._partial_busy = True

        async def partial() -> None:
            try:
                text = await self.run("stt_partial", self.stt.transcribe, audio, self._stt_prompt())
                if text and self._speech_item == item_id:
                    self._publish({"type": "transcript.partial", "turn_id": item_id, "text": text})
                    if looks_complete(text) and self._wants_answer():
                        self._prepare(text)
            finally:
                self._partial_busy = False

        self._spawn(partial())

    def _stt_prompt(self) -> str:
        """The session's `audio.input.transcription.prompt`, else the engine's vocabulary (database names)."""
        transcription = self.config["audio"]["input"].get("transcription") or {}
        prompt = transcription.get("prompt")
        return prompt if isinstance(prompt, str) and prompt.strip() else self.options.vocabulary

    def _wants_answer(self) -> bool:
        td = self._turn_detection()
        return bool(td and td.get("create_response", True)) and self._client_tool() is None

    def _prepare(self, text: str) -> None:
        """Start brain + first sentence for a partial transcript that already reads as a whole question.

        If the final transcript turns out the same, the turn starts speaking as soon as it is committed.
        """
        key = normalise(text)
        if key == self._prepared_key:
            return
        self._prepared_key = key
        loop = asyncio.get_running_loop()
        transcript: asyncio.Future[str] = loop.create_future()
        transcript.set_result(text)
        pl = Pipeline(
            audio_end=-1,
            speech_end_at=0.0,
            transcript=transcript,
            answer=loop.create_future(),
            first_audio=loop.create_future() if self._audio_out() else None,
        )
        pl.task = self._spawn(self._run_pipeline(pl, None, self._history()))
        self._prepared = pl

    def _maybe_early_end(self) -> None:
        spec = self._spec
        if not self.options.early_end or spec is None or not spec.transcript.done():
            return
        if spec.transcript.cancelled() or spec.transcript.exception() is not None:
            return
        needed = early_end_silence_ms(spec.transcript.result(), self.options.early_end_ms)
        if needed is not None and self.detector.silence_ms() >= needed:
            td = self._turn_detection()
            stop = self.detector.force_stop()
            if stop is not None and td is not None:
                spec.timings["early_end"] = 1.0
                self._on_vad(stop, td)

    # --- the pipeline: transcript → answer → first audio ------------------------------------------------

    def _client_tool(self, overrides: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The client-declared tool this turn should call instead of the built-in query_database, if any."""
        tools = (overrides or {}).get("tools", self.config.get("tools")) or []
        choice = (overrides or {}).get("tool_choice", self.config.get("tool_choice", "auto"))
        if not tools or choice == "none":
            return None
        if isinstance(choice, dict):
            return next((t for t in tools if t.get("name") == choice.get("name")), None)
        if choice == "required":
            return dict(tools[0])
        return next((t for t in tools if t.get("name") == "query_database"), None)

    def _new_pipeline(self, audio: Pcm, end: int, speech_end_at: float, with_answer: bool) -> Pipeline:
        loop = asyncio.get_running_loop()
        pl = Pipeline(
            audio_end=end,
            speech_end_at=speech_end_at,
            transcript=loop.create_future(),
            answer=loop.create_future() if with_answer else None,
            first_audio=loop.create_future() if with_answer and self._audio_out() else None,
        )
        pl.prepared = self._prepared
        pl.task = self._spawn(self._run_pipeline(pl, audio, self._history()))
        return pl

    async def _run_pipeline(self, pl: Pipeline, audio: Pcm | None, history: list[HistoryTurn]) -> None:
        futures = [f for f in (pl.transcript, pl.answer, pl.first_audio) if f is not None]
        try:
            if audio is None:
                text = pl.transcript.result()
            else:
                t0 = self.clock.now()
                text = await self.run("stt", self.stt.transcribe, audio, self._stt_prompt())
                pl.timings["stt_ms"] = (self.clock.now() - t0) * 1000
                pl.transcript.set_result(text)
            if self._spec is pl:
                self._maybe_early_end()
            if pl.answer is None or pl.discarded or not text.strip():
                return
            pre = pl.prepared
            prepared = pre is not None and pre.answer is not None and normalise(text) == self._key_of(pre)
            if prepared and pre is not None and await self._reuse(pre, pl):
                return
            if pl.answer.done():
                answer = pl.answer.result()  # prepared from a partial; only the first sentence is missing
            else:
                t1 = self.clock.now()
                answer = await self.run("brain", self._safe_ask, pl, text, history)
                pl.timings["brain_ms"] = (self.clock.now() - t1) * 1000
                pl.answer.set_result(answer)
            if pl.first_audio is None or pl.discarded:
                return
            sentences = speech_chunks(answer.answer)
            if sentences:
                t2 = self.clock.now()
                # A first sentence prepared from a partial transcript is speculation: lower priority.
                kind = "tts" if audio is not None else "tts_early"
                pcm = await self.run(kind, self.tts.synthesize, sentences[0])
                pl.timings["tts_first_ms"] = (self.clock.now() - t2) * 1000
                pl.first_audio.set_result((sentences[0], pcm))
        except BaseException as exc:
            for fut in futures:
                if not fut.done():
                    if isinstance(exc, asyncio.CancelledError):
                        fut.cancel()
                    else:
                        fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()

    @staticmethod
    def _key_of(pl: Pipeline) -> str:
        return (
            normalise(pl.transcript.result())
            if pl.transcript.done() and not pl.transcript.cancelled()
            else ""
        )

    async def _reuse(self, pre: Pipeline, pl: Pipeline) -> bool:
        """Adopt the answer (and first audio) prepared from a partial transcript; False if that failed."""
        assert pl.answer is not None and pre.answer is not None
        t0 = self.clock.now()
        try:
            answer = await asyncio.shield(pre.answer)
        except asyncio.CancelledError:
            if not pre.answer.cancelled():
                raise  # we were cancelled ourselves
            return False
        except Exception:
            return False
        pl.answer.set_result(answer)
        pl.timings["prepared"] = 1.0
        if pl.first_audio is not None and pre.first_audio is not None:
            try:
                pl.first_audio.set_result(await asyncio.shield(pre.first_audio))
            except asyncio.CancelledError:
                if not pre.first_audio.cancelled():
                    raise
                return False
            except Exception:
                return False
        pl.timings["prepared_wait_ms"] = (self.clock.now() - t0) * 1000
        return pl.first_audio is None or pl.first_audio.done()

    def _safe_ask(self, owner: Pipeline | ResponseRun, question: str, history: list[HistoryTurn]) -> Answer:
        """The brain's answer, on a worker thread that `owner` records, so a barge-in can cancel the query
        this ask runs and no other session's."""
        with self._ask_lock:
            owner.ask_thread = threading.get_ident()
        try:
            return self.ask(question, history)
        except Exception as exc:  # the brain failing must still give a spoken answer, not a silent bot
            log.exception("brain failed")
            return Answer(
                question=question,
                intent=Intent.CONVERSATIONAL,
                engine="error",
                answer="Sorry, something went wrong while answering that.",
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            with self._ask_lock:
                owner.ask_thread = None

    def _history(self) -> list[HistoryTurn]:
        turns: list[HistoryTurn] = []
        for item in self.items:
            if item.get("type") == "message" and item.get("role") in ("user", "assistant"):
                text = p.item_text(item)
                if text:
                    turns.append(HistoryTurn(item["role"], text, meta=dict(item.get("_meta") or {})))
        return turns

    def _audio_out(self) -> bool:
        return "audio" in (self.config.get("output_modalities") or ["audio"])

    def _start_spec(self, pause_sample: int, td: dict[str, Any]) -> None:
        if self._speech_start is None:
            return
        self._discard_spec()
        respond = bool(td.get("create_response", True))
        audio = self._audio(self._speech_start, self.detector.position)
        speech_end_at = self.clock.now() - (self.detector.position - pause_sample) / RATE
        with_answer = respond and self._client_tool() is None and self._response is None
        self._spec = self._new_pipeline(audio, self.detector.position, speech_end_at, with_answer)

    def _discard_spec(self) -> None:
        spec, self._spec = self._spec, None
        if spec is not None:
            spec.discarded = True
            if spec.task is not None:
                spec.task.cancel()

    def _commit(self, start: int, end: int, *, respond: bool, vad: bool) -> None:
        item_id = self._speech_item or p.new_id("item")
        self._speech_start = self._speech_item = None
        if vad:
            self.emit(
                "input_audio_buffer.speech_stopped", audio_end_ms=int(end * 1000 / RATE), item_id=item_id
            )
        previous = self.items[-1]["id"] if self.items else None
        self.emit("input_audio_buffer.committed", item_id=item_id, previous_item_id=previous)
        item = p.user_audio_item(item_id, None, status="in_progress")
        item["_audio_ms"] = (end - start) * 1000 / RATE
        self.items.append(item)
        self.emit("conversation.item.added", item=self._public(item), previous_item_id=previous)
        spec, self._spec = self._spec, None
        with_answer = respond and self._client_tool() is None
        if spec is not None and spec.audio_end >= end and (spec.answer is not None or not with_answer):
            pipeline = spec  # the speculation heard everything: adopt it
        else:
            if spec is not None:
                spec.discarded = True
                if spec.task is not None:
                    spec.task.cancel()
            buf_end = self._buf_start + self._buf.size
            speech_end_at = self.clock.now() - (buf_end - end) / RATE
            tail = min(buf_end, end + RATE // 5)
            pipeline = self._new_pipeline(self._audio(start, tail), tail, speech_end_at, with_answer)
        pipeline.timings["commit_ms"] = (self.clock.now() - pipeline.speech_end_at) * 1000
        self._prepared, self._prepared_key = None, ""
        self._trim(end)
        self.turns += 1
        self._spawn(self._finish_turn(item, pipeline, respond, self._speech_count))

    async def _finish_turn(self, item: p.Item, pl: Pipeline, respond: bool, speech_count: int) -> None:
        try:
            text = await pl.transcript
        except Exception as exc:
            self.emit(
                "conversation.item.input_audio_transcription.failed",
                item_id=item["id"],
                content_index=0,
                error={
                    "type": "server_error",
                    "code": "transcription_failed",
                    "message": str(exc),
                    "param": None,
                },
            )
            return
        item["content"][0]["transcript"] = text
        item["status"] = "completed"
        # `audio.input.transcription: null` turns the transcript events off (we still transcribe: the brain
        # needs the words).
        announce = self.config["audio"]["input"].get("transcription") is not None
        if text and announce:
            self.emit(
                "conversation.item.input_audio_transcription.delta",
                item_id=item["id"],
                content_index=0,
                delta=text,
            )
        if announce:
            self.emit(
                "conversation.item.input_audio_transcription.completed",
                item_id=item["id"],
                content_index=0,
                transcript=text,
                usage={"type": "duration", "seconds": round(item.get("_audio_ms", 0.0) / 1000, 3)},
            )
        self.emit("conversation.item.done", item=self._public(item), previous_item_id=self._previous(item))
        self._publish({"type": "transcript.final", "turn_id": item["id"], "text": text})
        if respond and text.strip() and item in self.items:
            if self._response is not None:  # a client-started response is running: do not talk over it
                return
            if self._speech_count != speech_count:
                # The user spoke again before we answered: answer the newer turn, not this one, and keep
                # these words for it ("Who won the Monaco Grand Prix" … "in 2019?" is one question).
                self._carry = f"{self._carry} {text}".strip()
                self._publish({"type": "turn.superseded", "turn_id": item["id"]})
                return
            if self._carry:
                question, self._carry = f"{self._carry} {text}", ""
                self._start_response(None, {"_question": question}, voice=True)
                return
            self._start_response(pl, {}, voice=True)

    def _previous(self, item: p.Item) -> str | None:
        idx = next((n for n, i in enumerate(self.items) if i is item), 0)
        return self.items[idx - 1]["id"] if idx > 0 else None

    @staticmethod
    def _public(item: p.Item) -> p.Item:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    # --- responses ----------------------------------------------------------------------------------------

    def _start_response(self, pl: Pipeline | None, overrides: dict[str, Any], *, voice: bool = False) -> None:
        run = ResponseRun(id=p.new_id("resp"), pipeline=pl, voice=voice)
        self._response = run
        run.task = self._spawn(self._respond(run, overrides))

    def _modalities(self, overrides: dict[str, Any]) -> list[str]:
        mods = overrides.get("output_modalities") or self.config.get("output_modalities") or ["audio"]
        return list(mods)

    async def _respond(self, run: ResponseRun, overrides: dict[str, Any]) -> None:
        mods = self._modalities(overrides)
        voice = self.config["audio"]["output"].get("voice", "marin")
        self.emit(
            "response.created",
            response=p.response_object(run.id, self.conversation_id, modalities=mods, voice=voice),
        )
        last = next(
            (i for i in reversed(self.items) if i.get("type") in ("message", "function_call_output")), None
        )
        run.turn_id = last["id"] if last is not None else None
        tool = self._client_tool(overrides)
        question = p.item_text(last) if last and last.get("role") == "user" else ""
        if question and overrides.get("_question"):
            question = str(overrides["_question"])
        run.question = question
        if last is not None and last.get("type") == "function_call_output":
            await self._speak(run, mods, self._tool_output_text(last["output"]), None)
        elif question and tool is not None:
            self._call_client_tool(run, tool, question)
        elif question:
            answer = await self._answer(run, question)
            self._publish(
                {
                    "type": "answer",
                    "turn_id": last["id"] if last else None,
                    "response_id": run.id,
                    "question": question,
                    "answer": answer.to_dict(),
                }
            )
            await self._speak(run, mods, answer.answer, answer)
        self._finish_response(run, "completed", None)

    async def _answer(self, run: ResponseRun, question: str) -> Answer:
        pl = run.pipeline
        if pl is not None and pl.answer is not None and not pl.answer.cancelled():
            return await asyncio.shield(pl.answer)
        return await self.run("brain", self._safe_ask, run, question, self._history()[:-1])

    @staticmethod
    def _tool_output_text(output: str) -> str:
        try:
            data = json.loads(output)
        except ValueError:
            return output.strip()[:600]
        if isinstance(data, dict):
            for key in ("answer", "text", "result", "message", "output"):
                if isinstance(data.get(key), str):
                    return str(data[key])
        return output.strip()[:600]

    def _call_client_tool(self, run: ResponseRun, tool: dict[str, Any], question: str) -> None:
        """A function call to a tool the client declared; emitted in one go, so a cancel never splits it."""
        props = (tool.get("parameters") or {}).get("properties") or {}
        required = (tool.get("parameters") or {}).get("required") or list(props)
        arg = next(
            (k for k in required if (props.get(k) or {}).get("type", "string") == "string"), "question"
        )
        arguments = json.dumps({arg: question})
        item_id, call_id = p.new_id("item"), p.new_id("call")
        item = p.function_call_item(item_id, call_id, tool["name"], "", status="in_progress")
        run.item = item
        ids = {"response_id": run.id, "item_id": item_id, "output_index": 0}
        self.emit("response.output_item.added", response_id=run.id, output_index=0, item=dict(item))
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        self.emit("conversation.item.added", item=dict(item), previous_item_id=previous)
        self.emit("response.function_call_arguments.delta", **ids, call_id=call_id, delta=arguments)
        self.emit(
            "response.function_call_arguments.done",
            **ids,
            call_id=call_id,
            name=tool["name"],
            arguments=arguments,
        )
        item.update(arguments=arguments, status="completed")
        self.emit("response.output_item.done", response_id=run.id, output_index=0, item=dict(item))
        self.emit("conversation.item.done", item=dict(item), previous_item_id=previous)

    async def _speak(self, run: ResponseRun, mods: list[str], text: str, answer: Answer | None) -> None:
        audio = "audio" in mods
        item_id = p.new_id("item")
        item = p.assistant_item(item_id)
        if answer is not None:
            item["_meta"] = dict(answer.context)
        run.item = item
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        ids = {"response_id": run.id, "item_id": item_id, "output_index": 0, "content_index": 0}
        self.emit("response.output_item.added", response_id=run.id, output_index=0, item=self._public(item))
        self.emit("conversation.item.added", item=self._public(item), previous_item_id=previous)
        part_type = "audio" if audio else "text"
        self.emit(
            "response.content_part.added",
            **ids,
            part={"type": part_type, "transcript": "" if audio else None, "text": None if audio else ""},
        )
        item["content"] = [
            {"type": "output_audio", "transcript": ""} if audio else {"type": "output_text", "text": ""}
        ]
        spoken = Spoken(item_id, run.id)
        run.spoken = spoken
        self._out24 = None
        said: list[str] = []
        sentences = speech_chunks(text)
        pl = run.pipeline
        for n, sentence in enumerate(sentences):
            delta = sentence if n == 0 else " " + sentence
            if not audio:
                said.append(sentence)
                item["content"][0]["text"] = " ".join(said)
                self.emit("response.output_text.delta", **ids, delta=delta)
                continue
            pcm = await self._synth(sentence, pl if n == 0 else None)
            said.append(sentence)
            item["content"][0]["transcript"] = " ".join(said)
            self.emit("response.output_audio_transcript.delta", **ids, delta=delta)
            self._play(run, spoken, sentence, from_bytes(pcm), ids)
        full = " ".join(said)
        if audio:
            if self.player is None:
                self.emit("response.output_audio.done", **ids)
            self.emit("response.output_audio_transcript.done", **ids, transcript=full)
            self.emit("response.content_part.done", **ids, part={"type": "audio", "transcript": full})
        else:
            self.emit("response.output_text.done", **ids, text=full)
            self.emit("response.content_part.done", **ids, part={"type": "text", "text": full})
        item["status"] = "completed"
        self.emit("response.output_item.done", response_id=run.id, output_index=0, item=self._public(item))
        self.emit("conversation.item.done", item=self._public(item), previous_item_id=previous)

    async def _synth(self, sentence: str, pl: Pipeline | None) -> bytes:
        if pl is not None and pl.first_audio is not None and not pl.first_audio.cancelled():
            with contextlib.suppress(Exception):
                said, pcm = await asyncio.shield(pl.first_audio)
                if said == sentence:
                    return pcm
        return await self.run("tts", self.tts.synthesize, sentence)

    def _play(self, run: ResponseRun, spoken: Spoken, sentence: str, pcm: Pcm, ids: dict[str, Any]) -> None:
        rate = self.tts.sample_rate
        ms = pcm.size * 1000 / rate
        first = spoken.first_at is None
        if first:
            spoken.first_at = self.clock.now()
            self._spoken = spoken
            self._turn_latency(run)
        spoken.sentences.append((sentence, ms))
        spoken.sent_ms += ms
        if self.player is not None:
            if first:
                spoken.player_base_ms = self.player.played_ms()
                self.emit("output_audio_buffer.started", response_id=run.id)
            self.player.play(pcm, rate)
            return
        if self._out24 is None or self._out24.src_rate != rate:
            self._out24 = Resampler(rate, p.PCM_RATE)
        out = self._out24.push(pcm)
        step = p.PCM_RATE * self.options.delta_ms // 1000
        for i in range(0, out.size, step):
            self.emit("response.output_audio.delta", **ids, delta=pcm_to_b64(out[i : i + step]))

    def _turn_latency(self, run: ResponseRun) -> None:
        pl = run.pipeline
        if pl is None:
            return
        stages = {k: round(v, 1) for k, v in pl.timings.items()}
        stages["first_audio_ms"] = round((self.clock.now() - pl.speech_end_at) * 1000, 1)
        self._publish(
            {"type": "timings", "turn_id": run.turn_id, "response_id": run.id, "timings_ms": stages}
        )

    def on_drained(self) -> None:
        """The player ran out of audio (WebRTC): the answer has been heard in full."""
        spoken = self._spoken
        if spoken is not None and self._response is None and not spoken.truncated:
            self._spoken = None
            self.emit("output_audio_buffer.stopped", response_id=spoken.response_id)

    def _finish_response(
        self, run: ResponseRun, status: p.ResponseStatus, details: dict[str, Any] | None
    ) -> None:
        if self._response is not run:
            return
        self._response = None
        self.last_activity = self.clock.now()
        out = [self._public(run.item)] if run.item is not None else []
        words = sum(len(p.item_text(i).split()) for i in out)
        audio_tenths = int((run.spoken.sent_ms if run.spoken else 0) / 100)
        self.emit(
            "response.done",
            response=p.response_object(
                run.id,
                self.conversation_id,
                status=status,
                status_details=details,
                output=out,
                usage_=p.usage(output_text_tokens=words, output_audio_tokens=audio_tenths),
                voice=self.config["audio"]["output"].get("voice", "marin"),
            ),
        )
        if self.player is not None and run.spoken is not None and self.player.queued_ms() <= 0:
            self.on_drained()

    def _cancel_response(self, reason: str) -> None:
        """Stop the running response now: no more events from it, audio cut, item cut to what was heard."""
        run = self._response
        if run is None:
            return
        if run.task is not None:
            run.task.cancel()
        self._cancel_queries(run)
        item = run.item
        if item is not None and item.get("status") == "in_progress" and item.get("type") == "message":
            if run.spoken is not None:
                self._stop_playback(emit_cleared=True)
            item["status"] = "incomplete"
            self.emit(
                "response.output_item.done", response_id=run.id, output_index=0, item=self._public(item)
            )
            self.emit(
                "conversation.item.done", item=self._public(item), previous_item_id=self._previous(item)
            )
        self._publish(
            {"type": "turn.cancelled", "turn_id": run.turn_id, "response_id": run.id, "reason": reason}
        )
        self._finish_response(run, "cancelled", {"type": "cancelled", "reason": reason})

    def _cancel_queries(self, run: ResponseRun) -> None:
        """Cancel the queries the brain runs for this response (its own ask, its pipeline's, the answer
        prepared for it): a barge-in must not leave the database busy, nor stop anyone else's query."""
        if self.cancel is None:
            return
        pl = run.pipeline
        owners = (run, pl, pl.prepared if pl is not None else None)
        # Under the lock: a worker cannot leave our ask (and take another session's) while we cancel the
        # statement it runs. Cheap: the executor only flags the statement and interrupts from a helper thread.
        with self._ask_lock:
            threads = {o.ask_thread for o in owners if o is not None and o.ask_thread is not None}
            for thread in threads:
                with contextlib.suppress(Exception):
                    self.cancel(thread)

    def _barge_in(self) -> None:
        run = self._response
        if run is not None:
            first = run.spoken.first_at if run.spoken is not None else None
            into_answer_ms = (self.clock.now() - first) * 1000 if first is not None else 0.0
            self._cancel_response("turn_detected")
            if run.voice and run.question and into_answer_ms < self.options.carry_within_ms:
                # The user went on talking as we began: they had not finished. Keep their words for the
                # next question, which makes ending turns early safe.
                self._carry = run.question
        elif self._playing():
            self._stop_playback(emit_cleared=True)

    def _heard_ms(self, spoken: Spoken) -> float:
        if self.player is not None:
            return max(0.0, min(spoken.sent_ms, self.player.played_ms() - spoken.player_base_ms))
        if spoken.first_at is None:
            return 0.0
        return min(spoken.sent_ms, (self.clock.now() - spoken.first_at) * 1000)

    def _stop_playback(self, *, emit_cleared: bool) -> None:
        spoken = self._spoken
        heard = self._heard_ms(spoken) if spoken is not None else 0.0
        if self.player is not None:
            self.player.clear()
            if emit_cleared:
                self.emit("output_audio_buffer.cleared", response_id=spoken.response_id if spoken else None)
        if spoken is None or spoken.truncated:
            return
        item = next((i for i in self.items if i["id"] == spoken.item_id), None)
        if item is not None and heard < spoken.sent_ms:
            self._truncate(item, spoken, heard)
        self._spoken = None

    def _truncate(self, item: p.Item, spoken: Spoken, end_ms: float) -> None:
        text = heard_text(spoken.sentences, end_ms)
        for part in item.get("content") or []:
            if "transcript" in part:
                part["transcript"] = text
        spoken.truncated = True
        self.emit(
            "conversation.item.truncated", item_id=item["id"], content_index=0, audio_end_ms=int(end_ms)
        )
