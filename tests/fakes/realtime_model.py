"""The FAKE realtime model behind one call of the fake cloud (`realtime_cloud.py`), for tests only.

It is not a model. It follows the GA event sequences of ../shared/docs/realtime-protocol.md (§5, §6) on every
connection of the call (the browser's data channel and any sideband WebSockets), and plays a script:

- a user turn comes from real audio over WebRTC (an energy VAD on the decoded track; the transcript is the
  scripted one whose audio length is nearest) or from `say(text)`;
- with `query_database` among the session's tools, the model calls it with `{"question": <transcript>}`, waits
  for a `function_call_output` plus `response.create`, then "speaks" the tool output's `answer` field;
- without tools (or with `create_response` off) it waits for `response.create` and speaks its instructions;
- speech during a response cancels it (`turn_detected`), `response.cancel` too; `usage` is counted per word.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

Send = Callable[[dict[str, Any]], Any]

# What Azure's `?webrtcfilter=on` lets through to the browser (protocol doc §3.4).
WEBRTC_FILTER = {
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "output_audio_buffer.started",
    "output_audio_buffer.stopped",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.added",
    "conversation.item.created",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.done",
}


def rid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def ev(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "event_id": rid("event"), **fields}


def usage(words_in: int, words_out: int) -> dict[str, Any]:
    return {
        "total_tokens": words_in * 2 + words_out * 3,
        "input_tokens": words_in * 2,
        "output_tokens": words_out * 3,
        "input_token_details": {"cached_tokens": 0, "text_tokens": words_in, "audio_tokens": words_in},
        "output_token_details": {"text_tokens": words_out, "audio_tokens": words_out * 2},
    }


class FakeModelCall:
    """One call: its session config, items, the response in flight, and everyone listening."""

    def __init__(self, call_id: str, session: dict[str, Any], *, delay_s: float, webrtc_filter: bool) -> None:
        self.id = call_id
        self.session = session
        self.delay_s = delay_s
        self.webrtc_filter = webrtc_filter
        self.browser: Send | None = None
        self.sidebands: list[Send] = []
        self.items: list[dict[str, Any]] = []
        self.pending_calls: dict[str, str] = {}  # call_id → question, not yet answered
        self.outputs: list[dict[str, Any]] = []  # function_call_output items received
        self.responses: list[dict[str, Any]] = []  # every response.done response
        self.received: list[dict[str, Any]] = []  # every client event, from any connection
        self.browser_saw: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._response_id: str | None = None
        self._cancelling: asyncio.Future[None] | None = None
        # Tool turnaround as the cloud sees it (bench cloud): call done → output + response.create received.
        self.call_done_at: dict[str, float] = {}
        self.call_turn: dict[str, str] = {}  # call_id → the user item it answers
        self.turnaround_ms: dict[str, float] = {}
        self._answered: list[str] = []
        self._last_user: str | None = None
        self.transcribed_at: dict[str, float] = {}
        self.turn_ms: dict[str, float] = {}  # user item → transcript done until its spoken answer is done
        self.create_ms: dict[str, float] = {}  # user item → transcript done until a client's response.create

    # --- connections -------------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        for send in list(self.sidebands):
            with contextlib.suppress(Exception):
                send(event)
        if self.browser is not None and (not self.webrtc_filter or event["type"] in WEBRTC_FILTER):
            self.browser_saw.append(event)
            with contextlib.suppress(Exception):
                self.browser(event)

    def session_created(self) -> dict[str, Any]:
        return ev("session.created", session=self.session)

    async def handle(self, event: dict[str, Any]) -> None:
        """A client event from the browser or a sideband socket."""
        self.received.append(event)
        kind = event.get("type")
        if kind == "session.update":
            self.session = {**self.session, **(event.get("session") or {})}
            self.emit(ev("session.updated", session=self.session))
        elif kind == "conversation.item.create":
            item = {"id": rid("item"), "object": "realtime.item", **(event.get("item") or {})}
            if item.get("type") == "function_call_output":
                if item.get("call_id") not in self.pending_calls:
                    self.emit(self._error("invalid_value", "no function call with that call_id", event))
                    return
                self.pending_calls.pop(str(item["call_id"]))
                self.outputs.append(item)
                self._answered.append(str(item["call_id"]))
            self.items.append(item)
            self.emit(ev("conversation.item.added", previous_item_id=None, item=item))
            self.emit(ev("conversation.item.done", item=item))
        elif kind == "response.create":
            now = time.perf_counter()
            if self._last_user in self.transcribed_at:
                self.create_ms.setdefault(
                    self._last_user, (now - self.transcribed_at[self._last_user]) * 1000.0
                )
            for call_id in self._answered:
                if call_id in self.call_done_at:
                    self.turnaround_ms[call_id] = (now - self.call_done_at[call_id]) * 1000.0
            self._answered.clear()
            if self._task is not None and not self._task.done():
                self.emit(self._error("conversation_already_has_active_response", "a response runs", event))
                return
            self._task = asyncio.ensure_future(self._respond(event.get("response") or {}))
        elif kind == "response.cancel":
            await self.cancel("client_cancelled")
        elif kind == "output_audio_buffer.clear":
            self.emit(ev("output_audio_buffer.cleared", response_id=self._response_id))

    def _error(self, code: str, message: str, cause: dict[str, Any]) -> dict[str, Any]:
        detail = {"type": "invalid_request_error", "code": code, "message": message, "param": None}
        return ev("error", error={**detail, "event_id": cause.get("event_id")})

    # --- a user turn ----------------------------------------------------------------------------------
    def speech_started(self) -> None:
        self.emit(ev("input_audio_buffer.speech_started", audio_start_ms=0, item_id=rid("item")))
        td = (self.session.get("audio") or {}).get("input", {}).get("turn_detection") or {}
        if td.get("interrupt_response", True) and self._task is not None and not self._task.done():
            self._cancelling = asyncio.ensure_future(self.cancel("turn_detected"))

    async def say(self, text: str) -> str:
        """A finished user utterance with this transcript; returns the user item id."""
        self.speech_started()
        await asyncio.sleep(0)
        item_id = rid("item")
        self.emit(ev("input_audio_buffer.speech_stopped", audio_end_ms=1000, item_id=item_id))
        self.emit(ev("input_audio_buffer.committed", previous_item_id=None, item_id=item_id))
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.items.append(item)
        self.emit(ev("conversation.item.added", previous_item_id=None, item=item))
        self.emit(
            ev(
                "conversation.item.input_audio_transcription.completed",
                item_id=item_id,
                content_index=0,
                transcript=text,
                usage={"type": "duration", "seconds": 1},
            )
        )
        item["content"][0]["transcript"] = text
        self._last_user = item_id
        self.transcribed_at[item_id] = time.perf_counter()
        td = (self.session.get("audio") or {}).get("input", {}).get("turn_detection") or {}
        if td.get("create_response", True):
            self._task = asyncio.ensure_future(self._respond({}, question=text))
        return item_id

    # --- responses ----------------------------------------------------------------------------------
    def _has_tool(self) -> bool:
        return any(t.get("name") == "query_database" for t in self.session.get("tools") or [])

    async def _respond(self, params: dict[str, Any], question: str | None = None) -> None:
        response_id = rid("resp")
        self._response_id = response_id
        response = {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []}
        self.emit(ev("response.created", response=response))
        await asyncio.sleep(self.delay_s)
        if question is not None and self._has_tool():
            await self._function_call(response, question)
        else:
            await self._speak(response, self._reply_text(params))
        response["status"] = "completed"
        words_in = len(question.split()) if question else 1
        words_out = sum(
            len(str(o.get("arguments") or o.get("text") or "").split()) for o in response["output"]
        )
        response["usage"] = usage(words_in, words_out)
        self.responses.append(response)
        self.emit(ev("response.done", response=response))
        user = self._last_user
        if user in self.transcribed_at and any(o.get("type") == "message" for o in response["output"]):
            self.turn_ms.setdefault(user, (time.perf_counter() - self.transcribed_at[user]) * 1000.0)
        for out in response["output"]:
            if out.get("type") == "function_call":
                self.call_done_at[out["call_id"]] = time.perf_counter()
                self.call_turn[out["call_id"]] = self._last_user or ""
        self._response_id = None

    def _reply_text(self, params: dict[str, Any]) -> str:
        if self.outputs and (not self.items or self.items[-1] is self.outputs[-1]):
            try:
                data = json.loads(str(self.outputs[-1].get("output") or "{}"))
            except ValueError:
                data = {}
            if isinstance(data, dict) and data.get("answer"):
                return str(data["answer"])
            if isinstance(data, dict) and data.get("error"):
                return f"Sorry, {data['error']}"
        instructions = str(params.get("instructions") or "")
        marker = "DATA:"
        if marker in instructions:
            return instructions.split(marker, 1)[1].strip().splitlines()[0]
        return "Hello! Ask me about Formula One."

    async def _function_call(self, response: dict[str, Any], question: str) -> None:
        call_id, item_id = rid("call"), rid("item")
        args = json.dumps({"question": question})
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": "query_database",
            "arguments": "",
        }
        rid_ = response["id"]
        self.emit(ev("response.output_item.added", response_id=rid_, output_index=0, item=dict(item)))
        self.emit(ev("conversation.item.added", previous_item_id=None, item=dict(item)))
        self.emit(
            ev(
                "response.function_call_arguments.delta",
                response_id=rid_,
                item_id=item_id,
                call_id=call_id,
                output_index=0,
                delta=args,
            )
        )
        self.pending_calls[call_id] = question
        self.emit(
            ev(
                "response.function_call_arguments.done",
                response_id=rid_,
                item_id=item_id,
                call_id=call_id,
                output_index=0,
                name="query_database",
                arguments=args,
            )
        )
        item.update(status="completed", arguments=args)
        self.items.append(item)
        self.emit(ev("response.output_item.done", response_id=rid_, output_index=0, item=item))
        response["output"].append(item)

    async def _speak(self, response: dict[str, Any], text: str) -> None:
        item_id, rid_ = rid("item"), response["id"]
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        self.emit(ev("response.output_item.added", response_id=rid_, output_index=0, item=dict(item)))
        self.emit(ev("conversation.item.added", previous_item_id=None, item=dict(item)))
        part = {"type": "output_audio", "transcript": ""}
        self.emit(
            ev(
                "response.content_part.added",
                response_id=rid_,
                item_id=item_id,
                output_index=0,
                content_index=0,
                part=part,
            )
        )
        self.emit(ev("output_audio_buffer.started", response_id=rid_))
        for word in text.split():
            self.emit(
                ev(
                    "response.output_audio_transcript.delta",
                    response_id=rid_,
                    item_id=item_id,
                    output_index=0,
                    content_index=0,
                    delta=word + " ",
                )
            )
            await asyncio.sleep(0)
        self.emit(
            ev(
                "response.output_audio_transcript.done",
                response_id=rid_,
                item_id=item_id,
                output_index=0,
                content_index=0,
                transcript=text,
            )
        )
        item.update(status="completed", content=[{"type": "output_audio", "transcript": text}])
        self.items.append(item)
        self.emit(ev("response.output_item.done", response_id=rid_, output_index=0, item=item))
        response["output"].append({**item, "text": text})
        self.emit(ev("output_audio_buffer.stopped", response_id=rid_))

    async def cancel(self, reason: str) -> None:
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        response = {
            "id": self._response_id,
            "object": "realtime.response",
            "status": "cancelled",
            "status_details": {"type": "cancelled", "reason": reason},
            "output": [],
            "usage": usage(0, 0),
        }
        self.responses.append(response)
        self.emit(ev("response.done", response=response))
        self.emit(ev("output_audio_buffer.cleared", response_id=self._response_id))
        self._response_id = None

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until no response runs (tests)."""
        async with asyncio.timeout(timeout):
            while self._task is not None and not self._task.done():
                await asyncio.sleep(0.01)
