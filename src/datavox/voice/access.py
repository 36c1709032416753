"""Who may open a realtime session: refusals (`EngineError`, with HTTP status and error code), what a
client secret grants, and the bearer token a request carries. Shared by the engine and its transports
(`ws.py`, `rtc.py`, `routes.py`), so none of them imports another for these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class EngineError(Exception):
    """A refused request: `status` for HTTP, `code` for the error event."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class EngineBusyError(EngineError):
    """A new session would push the live ones past their latency budget: `engine_busy`, with the seconds
    after which a retry may succeed (the HTTP `Retry-After`)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(503, "engine_busy", message)
        self.retry_after_s = retry_after_s


class SessionLimitError(EngineError):
    """The engine holds as many sessions as `realtime.max_sessions` allows."""


@dataclass(frozen=True)
class Grant:
    """What a client secret allows: the session config and the app conversation it belongs to."""

    expires_at: float
    session: dict[str, Any]
    conversation_id: str | None


def from_browser(headers: Mapping[str, str]) -> bool:
    """Browsers send `Origin` on every WebSocket handshake and cross-site or POST fetch; SDKs and servers
    do not. Only a browser could leak a standard key to a page, so only browsers must use `ek_` secrets."""
    return bool(headers.get("origin"))


def header_token(headers: Mapping[str, str]) -> str | None:
    """The key a client sent: `Authorization: Bearer …` (OpenAI style) or `api-key: …` (Azure style)."""
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    return token or headers.get("api-key") or None
