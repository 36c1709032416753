"""The GA objects events carry: conversation items (user audio, assistant message, function call) and their
words, responses with token-shaped usage, and the body of a client secret."""

from __future__ import annotations

import time
from typing import Any

from datavox.realtime.protocol import PCM_RATE, Item, ResponseStatus, new_id


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
