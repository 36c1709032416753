"""The client events of the GA protocol: checked, then applied to a session. Audio input (`append`,
`commit`, `clear`), conversation items, `response.create`/`cancel`, `output_audio_buffer.clear` and
`session.update`; a bad event gets an `error` event with the offending parameter, and the session goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from datavox.realtime import payloads, session_config
from datavox.realtime import protocol as p
from datavox.voice import conversation
from datavox.voice.audio import b64_to_pcm
from datavox.voice.contracts import Spoken
from datavox.voice.vad import RATE

if TYPE_CHECKING:
    from datavox.voice.session import Session


async def handle(s: Session, event: Any) -> None:
    if s.closed:
        return
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        s.error("invalid_event", "every event must be a JSON object with a string 'type'")
        return
    etype: str = event["type"]
    event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
    if etype != "input_audio_buffer.append":
        s.last_activity = s.clock.now()
    if etype not in p.CLIENT_EVENTS:
        s.error("unknown_event", f"Unknown event type {etype!r}.", param="type", event_id=event_id)
        return
    missing = p.missing_field(event)
    if missing is not None:
        s.error(
            "missing_required_parameter",
            f"Missing required parameter: '{missing}'.",
            param=missing,
            event_id=event_id,
        )
        return
    handler = HANDLERS[etype]  # every CLIENT_EVENTS type has one (tests/voice/test_turn.py checks)
    try:
        await handler(s, event)
    except p.ProtocolError as exc:
        s.error(exc.code, exc.message, param=exc.param, event_id=event_id)


async def _session_update(s: Session, event: dict[str, Any]) -> None:
    new = session_config.merge_session(s.config, event.get("session"))
    s.config = new
    td = s.turn_detection()
    if td is not None:
        s.detector.configure(threshold=td["threshold"], silence_duration_ms=td["silence_duration_ms"])
    s.emit("session.updated", session=s.config)


async def _input_audio_buffer_append(s: Session, event: dict[str, Any]) -> None:
    audio = event.get("audio")
    if not isinstance(audio, str):
        raise p.ProtocolError("invalid_value", "audio must be a base64 string", param="audio")
    try:
        pcm = b64_to_pcm(audio)
    except ValueError as exc:
        raise p.ProtocolError("invalid_value", "audio is not valid base64", param="audio") from exc
    s.feed(s.in24.push(pcm))


async def _input_audio_buffer_commit(s: Session, event: dict[str, Any]) -> None:
    start = s.speech_start()
    start = start if start is not None else s.audio.start
    end = s.audio.end
    if end - start < RATE // 10:
        raise p.ProtocolError(
            "input_audio_buffer_commit_empty",
            "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio.",
        )
    s.speculation.discard()
    s.detector.reset()
    s.commit(start, end, respond=False, vad=False)


async def _input_audio_buffer_clear(s: Session, event: dict[str, Any]) -> None:
    s.speculation.discard()
    s.detector.reset()
    s.turn.cleared()
    s.speech_item = None
    s.audio.trim(s.detector.position)
    s.emit("input_audio_buffer.cleared")


async def _conversation_item_create(s: Session, event: dict[str, Any]) -> None:
    new = conversation.check_new_item(event.get("item"))
    previous = conversation.insert(s.items, new, event.get("previous_item_id"))
    s.emit("conversation.item.added", item=new, previous_item_id=previous)
    s.emit("conversation.item.done", item=new, previous_item_id=previous)


async def _conversation_item_retrieve(s: Session, event: dict[str, Any]) -> None:
    s.emit("conversation.item.retrieved", item=conversation.find(s.items, event.get("item_id")))


async def _conversation_item_delete(s: Session, event: dict[str, Any]) -> None:
    item = conversation.find(s.items, event.get("item_id"))
    s.items.remove(item)
    s.emit("conversation.item.deleted", item_id=item["id"])


async def _conversation_item_truncate(s: Session, event: dict[str, Any]) -> None:
    item = conversation.find(s.items, event.get("item_id"))
    end = event.get("audio_end_ms")
    if item.get("role") != "assistant" or not isinstance(end, int | float) or end < 0:
        raise p.ProtocolError("invalid_value", "truncate needs an assistant audio item and audio_end_ms >= 0")
    r = s.responses
    spoken = r.spoken if r.spoken and r.spoken.item_id == item["id"] else None
    if spoken is None:
        spoken = Spoken(item["id"], "", sentences=[(payloads.item_text(item), float("inf"))])
    total = sum(ms for _, ms in spoken.sentences)
    if end > total + 1:
        raise p.ProtocolError(
            "invalid_value",
            f"audio_end_ms {end} is longer than the item's audio ({int(total)} ms)",
            param="audio_end_ms",
        )
    r.truncate(item, spoken, float(end))
    if r.current is not None and r.current.item is item:
        r.cancel("client_cancelled")
    if s.player is not None and r.spoken is spoken:
        s.player.clear()


async def _response_create(s: Session, event: dict[str, Any]) -> None:
    current = s.responses.current
    if current is not None:
        raise p.ProtocolError(
            "conversation_already_has_active_response",
            f"Conversation already has an active response in progress: {current.id}.",
        )
    overrides = event.get("response") if isinstance(event.get("response"), dict) else {}
    s.responses.start(None, overrides or {})


async def _response_cancel(s: Session, event: dict[str, Any]) -> None:
    rid = event.get("response_id")
    current = s.responses.current
    if current is None or (rid is not None and rid != current.id):
        raise p.ProtocolError("response_cancel_not_active", "Cancellation failed: no active response found.")
    s.responses.cancel("client_cancelled")


async def _output_audio_buffer_clear(s: Session, event: dict[str, Any]) -> None:
    s.responses.stop_playback(emit_cleared=True)


HANDLERS: dict[str, Callable[[Session, dict[str, Any]], Awaitable[None]]] = {
    "session.update": _session_update,
    "input_audio_buffer.append": _input_audio_buffer_append,
    "input_audio_buffer.commit": _input_audio_buffer_commit,
    "input_audio_buffer.clear": _input_audio_buffer_clear,
    "conversation.item.create": _conversation_item_create,
    "conversation.item.retrieve": _conversation_item_retrieve,
    "conversation.item.delete": _conversation_item_delete,
    "conversation.item.truncate": _conversation_item_truncate,
    "response.create": _response_create,
    "response.cancel": _response_cancel,
    "output_audio_buffer.clear": _output_audio_buffer_clear,
}
