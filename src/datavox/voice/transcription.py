"""What the client and the page are told once a committed turn's transcript is known, or has failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datavox.realtime import protocol as p
from datavox.voice.responses import public

if TYPE_CHECKING:
    from datavox.voice.session import Session


def failed(s: Session, item: p.Item, exc: Exception) -> None:
    s.emit(
        "conversation.item.input_audio_transcription.failed",
        item_id=item["id"],
        content_index=0,
        error={"type": "server_error", "code": "transcription_failed", "message": str(exc), "param": None},
    )


def completed(s: Session, item: p.Item, text: str) -> None:
    """The user item gets its words; the transcript events go out (unless the session turned them off)."""
    item["content"][0]["transcript"] = text
    item["status"] = "completed"
    # `audio.input.transcription: null` turns the transcript events off (we still transcribe: the brain needs
    # the words).
    announce = s.config["audio"]["input"].get("transcription") is not None
    if text and announce:
        s.emit(
            "conversation.item.input_audio_transcription.delta",
            item_id=item["id"],
            content_index=0,
            delta=text,
        )
    if announce:
        s.emit(
            "conversation.item.input_audio_transcription.completed",
            item_id=item["id"],
            content_index=0,
            transcript=text,
            usage={"type": "duration", "seconds": round(item.get("_audio_ms", 0.0) / 1000, 3)},
        )
    s.emit("conversation.item.done", item=public(item), previous_item_id=s.previous_id(item))
    s.publish_app({"type": "transcript.final", "turn_id": item["id"], "text": text})
