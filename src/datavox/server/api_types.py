"""Request bodies of the JSON API and the error shape the page can explain."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field

ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"


class HistoryItem(BaseModel):
    role: Literal["user", "assistant"]
    text: str = Field(max_length=8000)
    meta: dict[str, Any] = Field(default_factory=dict)


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    history: list[HistoryItem] = Field(default_factory=list, max_length=100)
    conversation_id: str | None = Field(default=None, pattern=ID_PATTERN)
    # The page names the turn up front, so events about it on the stream match the turn it already shows.
    turn_id: str | None = Field(default=None, pattern=ID_PATTERN)


class SessionRequest(BaseModel):
    conversation_id: str | None = Field(default=None, pattern=ID_PATTERN)
    voice: str | None = Field(default=None, max_length=64)


class TimingsReport(BaseModel):
    turn_id: str = Field(pattern=ID_PATTERN)
    timings_ms: dict[str, float] = Field(max_length=16)


def problem(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    """Errors the page can explain: a stable `code` and a sentence that says what to do."""
    return HTTPException(status, detail={"code": code, "message": message}, headers=headers)
