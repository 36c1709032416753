"""OpenAI Realtime GA protocol: event shapes, ids, session config merging and error events.

One module for the local engine, a cloud relay and the tests. Events are plain JSON dicts (what goes on the
wire); the builders here are the only place that knows their field names, so a typo cannot drift between
the engine and its tests. Only the GA shape is produced (`output_audio`, `conversation.item.added`,
nested `audio.input/output` config); beta names are not accepted. Session configuration is in
`session_config`, the items and responses events carry in `payloads`.
"""

from __future__ import annotations

import secrets
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
