"""The sideband: datavox's own WebSocket into a cloud call (`wss://…/realtime?call_id=rtc_…`).

The browser holds the WebRTC leg (audio, its data channel); datavox joins the same call with the server key,
sets the session, and runs the `query_database` tool itself, so neither the tool's traffic nor the database
goes near the browser (protocol doc §3.5, §6). Per user turn:

    speech_stopped → transcription.completed → function_call_arguments.done → Brain.ask (worker thread)
    → conversation.item.create(function_call_output) + response.create → answer audio

and the app event stream gets `transcript.final`, `answer` (SQL, rows, chart), `timings` and `usage`, stored
like local turns. Barge-in (`speech_started`) while the tool runs cancels the query, closes the call with a
"cancelled" output (no pending call) and drops the late result. In `classify` mode the model has no tool:
datavox asks the brain on each completed transcript and starts the response with the data itself.
A dropped socket is re-joined (backoff with jitter); when that fails the user is told, and no stored turn is
lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from datavox import prompts
from datavox.config import Settings
from datavox.realtime.cloud import QUERY_TOOL, CloudTarget
from datavox.realtime.sideband_turns import ERROR_MESSAGES, ToolRun, Turn, tool_output
from datavox.types import Answer, HistoryTurn

log = logging.getLogger("datavox.realtime.cloud")
# The websockets library logs the handshake's headers (the server key) at DEBUG: its own logger, never DEBUG.
_ws_log = logging.getLogger("datavox.realtime.sideband.ws")
_ws_log.setLevel(logging.INFO)

AskFn = Callable[[str, list[HistoryTurn]], Answer]
PublishFn = Callable[[str, dict[str, Any]], None]


class Sideband:
    def __init__(
        self,
        settings: Settings,
        target: CloudTarget,
        call_id: str,
        *,
        conversation_id: str,
        ask: AskFn,
        publish: PublishFn,
        cancel: Callable[[int], None] | None = None,
        history: list[HistoryTurn] | None = None,
        session: dict[str, Any] | None = None,
        on_turn: Callable[[float], None] | None = None,
        on_usage: Callable[[dict[str, Any]], None] | None = None,
        on_rate_limits: Callable[[list[dict[str, Any]]], None] | None = None,
        reconnects: int = 3,
    ) -> None:
        self.settings = settings
        self.target = target
        self.call_id = call_id
        self.conversation_id = conversation_id
        self.ask = ask
        self.publish_fn = publish
        self.cancel = cancel
        self.history: list[HistoryTurn] = list(history or [])
        self.session = session
        self.on_turn = on_turn
        self.on_usage = on_usage
        self.on_rate_limits = on_rate_limits
        self.reconnects = reconnects
        self.orchestration = settings.realtime.orchestration
        self.turns: dict[str, Turn] = {}
        self.current: Turn | None = None
        self.tools: dict[str, ToolRun] = {}
        self.responses: dict[str, Turn] = {}
        self._ws: Any = None
        self._seeded = False
        self.connected = asyncio.Event()
        self.closed = False
        self.started_at = time.monotonic()

    # --- plumbing ---------------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        self.publish_fn(self.conversation_id, {"source": "voice", "engine": self.target.kind, **event})

    async def send(self, event: dict[str, Any]) -> None:
        if self._ws is not None:
            await self._ws.send(json.dumps(event))

    async def run(self) -> None:
        """Join, and re-join a dropped socket, until the call ends or re-joining fails."""
        failures = 0
        while not self.closed:
            try:
                headers = await asyncio.to_thread(self.target.server_headers)  # Entra may fetch a token
                async with connect(
                    self.target.sideband_url(self.call_id),
                    additional_headers=headers,
                    open_timeout=10,
                    logger=_ws_log,
                ) as ws:
                    self._ws = ws
                    failures = 0
                    await self._on_open()
                    async for message in ws:
                        await self.handle(json.loads(message))
                    if ws.close_code in (1000, None):
                        return  # the call ended
            except (ConnectionClosed, OSError, InvalidStatus, WebSocketException, TimeoutError) as exc:
                log.warning("cloud sideband %s lost: %s", self.call_id, type(exc).__name__)
            finally:
                self._ws = None
                self.connected.clear()
            failures += 1
            if self.closed:
                return
            if failures > self.reconnects:
                self.publish(
                    {
                        "type": "error",
                        "code": "cloud_dropped",
                        "message": "Lost the connection to the cloud voice service. Press talk to start "
                        "again; your conversation is kept.",
                    }
                )
                self._cancel_all("sideband_lost")
                return
            await asyncio.sleep(random.uniform(0.05, 0.25) * 2**failures)

    async def _on_open(self) -> None:
        session: dict[str, Any] = {"type": "realtime"}
        if self.session:
            session.update(
                {k: v for k, v in self.session.items() if k in ("instructions", "tools", "tool_choice")}
            )
        elif self.orchestration == "tools":
            session.update(tools=[QUERY_TOOL], tool_choice="auto")
        await self.send({"type": "session.update", "session": session})
        if not self._seeded:
            # A renewed session carries the conversation: the last N turns as plain text items.
            self._seeded = True
            for turn in self.history[-self.settings.realtime.history_turns :]:
                kind = "input_text" if turn.role == "user" else "output_text"
                item = {"type": "message", "role": turn.role, "content": [{"type": kind, "text": turn.text}]}
                await self.send({"type": "conversation.item.create", "item": item})
        self.connected.set()

    async def close(self) -> None:
        self.closed = True
        self._cancel_all("call_ended")
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    # --- events ---------------------------------------------------------------------------------------
    async def handle(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type"))
        handler = self._handlers().get(kind)
        if handler is not None:
            await handler(event)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "input_audio_buffer.speech_started": self._speech_started,
            "input_audio_buffer.speech_stopped": self._speech_stopped,
            "conversation.item.input_audio_transcription.delta": self._partial,
            "conversation.item.input_audio_transcription.completed": self._transcript,
            "response.created": self._response_created,
            "response.function_call_arguments.done": self._function_call,
            "response.output_audio_transcript.delta": self._first_audio,
            "output_audio_buffer.started": self._first_audio,
            "response.output_audio_transcript.done": self._assistant_said,
            "response.done": self._response_done,
            "rate_limits.updated": self._rate_limits,
            "error": self._error,
        }

    def _turn(self, item_id: str | None) -> Turn:
        key = item_id or (self.current.item_id if self.current else "turn")
        if key not in self.turns:
            self.turns[key] = Turn(key)
        return self.turns[key]

    async def _speech_started(self, event: dict[str, Any]) -> None:
        # Barge-in: the query the user talked over is of no use now.
        for run in list(self.tools.values()):
            await self._cancel_tool(run, "turn_detected")

    async def _speech_stopped(self, event: dict[str, Any]) -> None:
        turn = self._turn(event.get("item_id"))
        turn.stopped_at = time.monotonic()
        self.current = turn

    async def _partial(self, event: dict[str, Any]) -> None:
        self.publish(
            {"type": "transcript.partial", "turn_id": event.get("item_id"), "text": event.get("delta")}
        )

    async def _transcript(self, event: dict[str, Any]) -> None:
        turn = self._turn(event.get("item_id"))
        turn.transcript_at = time.monotonic()
        turn.question = str(event.get("transcript") or "").strip()
        self.current = turn
        self.publish({"type": "transcript.final", "turn_id": turn.item_id, "text": turn.question})
        self.history.append(HistoryTurn("user", turn.question))
        if self.orchestration == "classify" and turn.question:
            run = ToolRun("", "", turn)
            run.response_done.set()
            run.task = asyncio.ensure_future(self._classify(run))
            self.tools[f"classify:{turn.item_id}"] = run

    async def _response_created(self, event: dict[str, Any]) -> None:
        if self.current is not None:
            self.responses[str((event.get("response") or {}).get("id"))] = self.current

    async def _function_call(self, event: dict[str, Any]) -> None:
        if event.get("name") != "query_database":
            await self._output(str(event.get("call_id")), {"error": f"unknown tool {event.get('name')}"})
            return
        try:
            args = json.loads(str(event.get("arguments") or "{}"))
        except ValueError:
            args = {}
        turn = self.responses.get(str(event.get("response_id"))) or self.current or self._turn(None)
        question = str(args.get("question") or turn.question).strip()
        run = ToolRun(str(event.get("call_id")), str(event.get("response_id")), turn)
        self.tools[run.call_id] = run
        run.task = asyncio.ensure_future(self._tool(run, question))

    async def _ask(self, run: ToolRun, question: str) -> Answer:
        def work() -> Answer:
            # Timed inside the worker: the brain's own time, so waiting for a free thread counts as datavox's.
            run.thread_id = threading.get_ident()
            started = time.monotonic()
            try:
                return self.ask(question, list(self.history[:-1]) if self.history else [])
            finally:
                run.turn.tool_ms += (time.monotonic() - started) * 1000.0

        run.turn.tool_started_at = time.monotonic()
        return await asyncio.to_thread(work)

    async def _tool(self, run: ToolRun, question: str) -> None:
        try:
            answer = await self._ask(run, question)
        except Exception:
            log.exception("the brain failed on a cloud tool call")
            answer = None
        if run.cancelled:
            return  # a late result for a turn the user talked over: dropped
        if answer is None:
            output: dict[str, Any] = {"error": "the database question failed"}
        else:
            self._publish_answer(run.turn, answer)
            output = tool_output(answer)
        await run.response_done.wait()  # send the result after the calling response is done (§6.4)
        if run.cancelled:
            return
        self.tools.pop(run.call_id, None)
        await self._output(run.call_id, output)
        run.turn.answer_requested_at = time.monotonic()
        await self.send({"type": "response.create"})

    async def _classify(self, run: ToolRun) -> None:
        """The seed's flow in one round trip: the brain classifies, rewrites, fetches; the model speaks."""
        turn = run.turn
        try:
            answer = await self._ask(run, turn.question)
        except Exception:
            log.exception("the brain failed on a classified turn")
            answer = None
        if run.cancelled:
            return
        self.tools.pop(f"classify:{turn.item_id}", None)
        response: dict[str, Any] = {}
        if answer is not None and str(answer.intent.value) == "STATISTICAL":
            self._publish_answer(turn, answer)
            response["instructions"] = prompts.realtime_data_instructions(
                turn.question, answer.answer, answer.error
            )
        elif answer is None:
            response["instructions"] = prompts.realtime_data_instructions(turn.question, "", "a failure")
        turn.answer_requested_at = time.monotonic()
        await self.send({"type": "response.create", "response": response})

    async def _output(self, call_id: str, output: dict[str, Any]) -> None:
        item = {"type": "function_call_output", "call_id": call_id, "output": json.dumps(output, default=str)}
        await self.send({"type": "conversation.item.create", "item": item})

    def _publish_answer(self, turn: Turn, answer: Answer) -> None:
        data = answer.to_dict()
        self.publish({"type": "answer", "turn_id": turn.item_id, "answer": data})
        self.history.append(HistoryTurn("assistant", answer.answer, meta=dict(answer.context or {})))

    async def _cancel_tool(self, run: ToolRun, reason: str) -> None:
        if run.cancelled:
            return
        run.cancelled = True
        self.tools.pop(run.call_id or f"classify:{run.turn.item_id}", None)
        if run.thread_id is not None and self.cancel is not None:
            self.cancel(run.thread_id)
        if run.call_id:
            # Close the call so the model holds no pending function call; no response.create: the user talks.
            await self._output(run.call_id, {"error": "cancelled: the user interrupted"})
        self.publish({"type": "turn.cancelled", "turn_id": run.turn.item_id, "reason": reason})

    def _cancel_all(self, reason: str) -> None:
        for run in list(self.tools.values()):
            run.cancelled = True
            if run.thread_id is not None and self.cancel is not None:
                self.cancel(run.thread_id)
        self.tools.clear()

    async def _first_audio(self, event: dict[str, Any]) -> None:
        turn = self.responses.get(str(event.get("response_id")))
        if turn is not None and turn.first_audio_at is None:
            turn.first_audio_at = time.monotonic()

    async def _assistant_said(self, event: dict[str, Any]) -> None:
        text = str(event.get("transcript") or "")
        if text:
            self.publish({"type": "assistant.transcript", "turn_id": self._turn_of(event), "text": text})

    def _turn_of(self, event: dict[str, Any]) -> str | None:
        turn = self.responses.get(str(event.get("response_id")))
        return turn.item_id if turn else None

    async def _response_done(self, event: dict[str, Any]) -> None:
        response = event.get("response") or {}
        response_id = str(response.get("id"))
        turn = self.responses.get(response_id)
        for run in self.tools.values():
            if run.response_id == response_id:
                run.response_done.set()
        if turn is None:
            return
        turn.usage.add(response.get("usage"))
        calls = [o for o in response.get("output") or [] if o.get("type") == "function_call"]
        if calls or response.get("status") != "completed" or turn.done:
            return  # the tool-calling half of the turn, or a cancelled response: the turn goes on
        turn.done = True
        self._finish(turn)

    def _finish(self, turn: Turn) -> None:
        now = time.monotonic()
        stages: dict[str, float] = {}
        if turn.stopped_at is not None:
            if turn.transcript_at is not None:
                stages["cloud_transcript_ms"] = (turn.transcript_at - turn.stopped_at) * 1000
            if turn.first_audio_at is not None:
                stages["cloud_first_audio_ms"] = (turn.first_audio_at - turn.stopped_at) * 1000
            total = ((turn.first_audio_at or now) - turn.stopped_at) * 1000
            stages["cloud_tool_ms"] = turn.tool_ms
            cloud_ms = max(0.0, total - turn.tool_ms)  # what the cloud itself took: the fallback's figure
            stages["cloud_model_ms"] = cloud_ms
            if self.on_turn is not None:
                self.on_turn(cloud_ms)
        usage = turn.usage.to_dict(self.settings.realtime)
        self.publish(
            {
                "type": "timings",
                "turn_id": turn.item_id,
                "timings_ms": {k: round(v, 1) for k, v in stages.items()},
            }
        )
        self.publish({"type": "usage", "turn_id": turn.item_id, "usage": usage})
        if self.on_usage is not None:
            self.on_usage(usage)

    async def _rate_limits(self, event: dict[str, Any]) -> None:
        if self.on_rate_limits is not None:
            self.on_rate_limits(list(event.get("rate_limits") or []))

    async def _error(self, event: dict[str, Any]) -> None:
        error = event.get("error") or {}
        code = str(error.get("code") or error.get("type") or "cloud_error")
        if code in ("conversation_already_has_active_response",):
            return  # harmless race between two response.create: nothing to tell the user
        log.warning("cloud realtime error event: %s", code)
        message = ERROR_MESSAGES.get(
            code, "The cloud voice service reported a problem. Ask again, or type it."
        )
        self.publish({"type": "error", "code": f"cloud_{code}", "message": message})
