"""OpenAI Realtime GA protocol: event shapes, ids, session config merging and error events.

One module for the local engine, a cloud relay and the tests. Events are plain JSON dicts (what goes on the
wire); the builders here are the only place that knows their field names, so a typo cannot drift between
the engine and its tests. Only the GA shape is produced (`output_audio`, `conversation.item.added`,
nested `audio.input/output` config); beta names are not accepted.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any, Literal, TypedDict

Event = dict[str, Any]
Item = dict[str, Any]

# Client events the local engine understands; anything else gets an `unknown_event` error.
CLIENT_EVENTS = frozenset(
    {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
        "output_audio_buffer.clear",
    }
)

# Fields a client event cannot do without; a missing one is `missing_required_parameter`, as OpenAI says.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "session.update": ("session",),
    "input_audio_buffer.append": ("audio",),
    "conversation.item.create": ("item",),
    "conversation.item.retrieve": ("item_id",),
    "conversation.item.truncate": ("item_id", "content_index", "audio_end_ms"),
    "conversation.item.delete": ("item_id",),
}


class ErrorDetail(TypedDict):
    type: str
    code: str
    message: str
    param: str | None
    event_id: str | None


class TurnDetection(TypedDict, total=False):
    type: Literal["server_vad", "semantic_vad"]
    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int
    create_response: bool
    interrupt_response: bool
    idle_timeout_ms: int | None
    eagerness: Literal["low", "medium", "high", "auto"]


class Usage(TypedDict):
    total_tokens: int
    input_tokens: int
    output_tokens: int
    input_token_details: dict[str, int]
    output_token_details: dict[str, int]


def missing_field(event: Event) -> str | None:
    """The first required field a client event lacks, if any."""
    for name in REQUIRED_FIELDS.get(str(event.get("type")), ()):
        if event.get(name) is None:
            return name
    return None


SERVER_EVENTS = frozenset(
    {
        "error",
        "session.created",
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.timeout_triggered",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "response.created",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.done",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
    }
)

PCM_RATE = 24_000  # the only PCM rate of the GA protocol
VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar", "joe"}
)
ResponseStatus = Literal["in_progress", "completed", "cancelled", "failed", "incomplete"]


class ProtocolError(Exception):
    """Bad client input; becomes an `error` event and the session goes on."""

    def __init__(self, code: str, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


def new_id(prefix: str) -> str:
    """`<prefix>_` + 22 url-safe random characters, like the vendor ids (`item_…`, `resp_…`, `ek_…`)."""
    return f"{prefix}_{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'y')}"


def event(type_: str, **fields: Any) -> Event:
    """A server event with a fresh `event_id`."""
    return {"type": type_, "event_id": new_id("event"), **fields}


def error_event(
    code: str,
    message: str,
    *,
    type_: str = "invalid_request_error",
    param: str | None = None,
    event_id: str | None = None,
) -> Event:
    """The `error` event; `event_id` inside `error` echoes the client event that caused it."""
    return event(
        "error", error={"type": type_, "code": code, "message": message, "param": param, "event_id": event_id}
    )


# --- session configuration --------------------------------------------------------------------------------


def default_turn_detection(
    threshold: float = 0.5, prefix_padding_ms: int = 300, silence_duration_ms: int = 500
) -> dict[str, Any]:
    return {
        "type": "server_vad",
        "threshold": threshold,
        "prefix_padding_ms": prefix_padding_ms,
        "silence_duration_ms": silence_duration_ms,
        "create_response": True,
        "interrupt_response": True,
        "idle_timeout_ms": None,
    }


def default_session(
    *,
    model: str = "gpt-realtime",
    voice: str = "marin",
    turn_detection: dict[str, Any] | None = None,
    expires_at: int = 0,
) -> dict[str, Any]:
    """The effective session config the engine starts from (what `session.created` carries)."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "instructions": "",
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": PCM_RATE},
                "transcription": {"model": "whisper-tiny.en", "language": "en"},
                "noise_reduction": None,
                "turn_detection": turn_detection if turn_detection is not None else default_turn_detection(),
            },
            "output": {"format": {"type": "audio/pcm", "rate": PCM_RATE}, "voice": voice, "speed": 1.0},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
        "expires_at": expires_at,
    }


# Keys whose value replaces the old one wholesale (a `null` clears them) instead of being merged.
_REPLACE = {"tools", "output_modalities", "transcription", "noise_reduction", "format", "prompt", "include"}
_READ_ONLY = {"id", "object", "expires_at"}
_EAGERNESS_SILENCE_MS = {"low": 900, "medium": 500, "auto": 500, "high": 250}


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if key in _READ_ONLY:
            continue
        if key == "turn_detection":
            into[key] = _turn_detection(value, into.get(key))
        elif isinstance(value, dict) and isinstance(into.get(key), dict) and key not in _REPLACE:
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _turn_detection(value: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None  # push-to-talk: VAD off
    if not isinstance(value, dict):
        raise ProtocolError(
            "invalid_value", "turn_detection must be an object or null", param="turn_detection"
        )
    kind = value.get("type", (current or {}).get("type", "server_vad"))
    base = dict(current) if current and current.get("type") == kind else default_turn_detection()
    if kind == "semantic_vad":
        # No semantic model locally: emulate eagerness with the silence a turn needs before it ends.
        eagerness = value.get("eagerness", "auto")
        if eagerness not in _EAGERNESS_SILENCE_MS:
            raise ProtocolError(
                "invalid_value", f"unknown eagerness {eagerness!r}", param="turn_detection.eagerness"
            )
        base.update(
            type="semantic_vad", eagerness=eagerness, silence_duration_ms=_EAGERNESS_SILENCE_MS[eagerness]
        )
    elif kind != "server_vad":
        raise ProtocolError(
            "invalid_value", f"unknown turn_detection type {kind!r}", param="turn_detection.type"
        )
    for key, val in value.items():
        base[key] = val
    threshold = base.get("threshold", 0.5)
    if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise ProtocolError(
            "invalid_value", "threshold must be between 0 and 1", param="turn_detection.threshold"
        )
    for key in ("prefix_padding_ms", "silence_duration_ms"):
        val = base.get(key)
        if val is not None and (not isinstance(val, int) or isinstance(val, bool) or not 0 <= val <= 10_000):
            raise ProtocolError(
                "invalid_value", f"{key} must be an integer 0–10000", param=f"turn_detection.{key}"
            )
    return base


def merge_session(current: dict[str, Any], update: Any) -> dict[str, Any]:
    """The new effective config after a partial `session.update`; raises ProtocolError on bad values.

    The current config is left untouched, so a rejected update changes nothing.
    """
    if not isinstance(update, dict):
        raise ProtocolError("invalid_value", "session must be an object", param="session")
    kind = update.get("type", "realtime")
    if kind != "realtime":
        raise ProtocolError(
            "unsupported_session_type", f"session type {kind!r} is not supported here", param="session.type"
        )
    new = copy.deepcopy(current)
    _merge(new, update)
    modalities = new.get("output_modalities")
    if modalities not in (["audio"], ["text"]):
        raise ProtocolError(
            "invalid_value", 'output_modalities must be ["audio"] or ["text"]', param="output_modalities"
        )
    for side in ("input", "output"):
        fmt = new["audio"][side].get("format") or {}
        if fmt.get("type") != "audio/pcm" or fmt.get("rate", PCM_RATE) != PCM_RATE:
            raise ProtocolError(
                "unsupported_audio_format",
                "the local engine speaks audio/pcm at 24000 Hz only",
                param=f"audio.{side}.format",
            )
    tools = new.get("tools") or []
    if not isinstance(tools, list):
        raise ProtocolError("invalid_value", "tools must be a list", param="tools")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function" or not tool.get("name"):
            raise ProtocolError(
                "invalid_value", 'each tool must be {type: "function", name, parameters}', param=f"tools[{i}]"
            )
    choice = new.get("tool_choice", "auto")
    if choice not in ("auto", "none", "required") and not (
        isinstance(choice, dict) and choice.get("type") == "function" and choice.get("name")
    ):
        raise ProtocolError(
            "invalid_value", "tool_choice must be auto, none, required or a function", param="tool_choice"
        )
    return new


# --- items ------------------------------------------------------------------------------------------------


def user_audio_item(item_id: str, transcript: str | None = None, status: str = "completed") -> Item:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": status,
        "content": [{"type": "input_audio", "transcript": transcript}],
    }


def assistant_item(
    item_id: str, *, status: str = "in_progress", content: list[dict[str, Any]] | None = None
) -> Item:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content or [],
    }


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> Item:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def item_text(item: Item) -> str:
    """The words of a message item: typed text or an audio transcript."""
    parts = []
    for part in item.get("content") or []:
        text = part.get("text") if part.get("text") is not None else part.get("transcript")
        if isinstance(text, str):
            parts.append(text)
    return " ".join(p for p in parts if p).strip()


# --- responses --------------------------------------------------------------------------------------------


def usage(
    input_text_tokens: int = 0,
    input_audio_tokens: int = 0,
    output_text_tokens: int = 0,
    output_audio_tokens: int = 0,
) -> dict[str, Any]:
    """Token-shaped usage. The local engine has no tokens; it counts words and audio tenths of a second."""
    inp = input_text_tokens + input_audio_tokens
    out = output_text_tokens + output_audio_tokens
    return {
        "total_tokens": inp + out,
        "input_tokens": inp,
        "output_tokens": out,
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": input_text_tokens,
            "audio_tokens": input_audio_tokens,
        },
        "output_token_details": {"text_tokens": output_text_tokens, "audio_tokens": output_audio_tokens},
    }


def response_object(
    response_id: str,
    conversation_id: str,
    *,
    status: ResponseStatus = "in_progress",
    status_details: dict[str, Any] | None = None,
    output: list[Item] | None = None,
    modalities: list[str] | None = None,
    usage_: dict[str, Any] | None = None,
    voice: str = "marin",
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "realtime.response",
        "status": status,
        "status_details": status_details,
        "output": output or [],
        "conversation_id": conversation_id,
        "output_modalities": modalities or ["audio"],
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": PCM_RATE}, "voice": voice}},
        "max_output_tokens": "inf",
        "metadata": None,
        "usage": usage_,
    }


def client_secret(session: dict[str, Any], ttl_s: int) -> dict[str, Any]:
    """The body of `POST /v1/realtime/client_secrets`."""
    expires_at = int(time.time()) + ttl_s
    return {"value": new_id("ek"), "expires_at": expires_at, "session": {**session, "expires_at": expires_at}}
