"""What the sideband keeps per user turn and per tool run, and what the model reads back from a tool."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from datavox.realtime.costs import TurnUsage
from datavox.types import Answer

ROWS_TO_MODEL = 20  # the model phrases the answer; it needs a few rows, not the whole result

# Provider `error` codes and what the user is told.
ERROR_MESSAGES = {
    "session_expired": "The cloud voice session reached its time limit. Press talk to continue.",
    "rate_limit_exceeded": "The cloud voice service is busy. Wait a moment and ask again.",
    "server_error": "The cloud voice service had a problem. Ask again, or type your question.",
}


@dataclass
class Turn:
    item_id: str
    stopped_at: float | None = None
    transcript_at: float | None = None
    question: str = ""
    tool_ms: float = 0.0
    tool_started_at: float | None = None
    answer_requested_at: float | None = None
    first_audio_at: float | None = None
    usage: TurnUsage = field(default_factory=TurnUsage)
    done: bool = False


@dataclass
class ToolRun:
    call_id: str
    response_id: str
    turn: Turn
    task: asyncio.Task[None] | None = None
    thread_id: int | None = None
    cancelled: bool = False
    response_done: asyncio.Event = field(default_factory=asyncio.Event)


def tool_output(answer: Answer) -> dict[str, Any]:
    """What the model reads back: the answer to say, and enough of the rows to phrase it."""
    out: dict[str, Any] = {"answer": answer.answer}
    if answer.error:
        out["error"] = answer.error
    if answer.clarify:  # an unclear transcript: the model asks this back instead of answering
        out["clarify"] = answer.clarify
    if answer.columns:
        out["columns"] = answer.columns
        out["rows"] = answer.rows[:ROWS_TO_MODEL]
        out["row_count"] = len(answer.rows)
    return out
