"""Session configuration of the GA Realtime protocol: the default session (`session.created`), its turn
detection, and the effective config after a partial `session.update` (checked; a rejected update changes
nothing)."""

from __future__ import annotations

import copy
from typing import Any

from datavox.realtime.protocol import PCM_RATE, ProtocolError, new_id


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
