"""The seam between the server and the local realtime engine (`datavox.voice`).

The engine is optional at import time: until it is installed (or when the cloud engines are selected) the
server runs without `/v1/realtime/*` and says why in one log line.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

log = logging.getLogger("datavox.server")

AskFn = Callable[..., Any]
PublishFn = Callable[[str, dict[str, Any]], None]
CancelFn = Callable[[int], None]  # cancel the query the brain runs on this thread


class EngineBusy(RuntimeError):
    """The engine holds as many sessions as it may; `retry_after_s`: when a retry may succeed."""

    def __init__(self, message: str, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class EngineError(RuntimeError):
    """The engine could not mint a secret for another reason."""


def build_local_engine(
    settings: Any, ask: AskFn, publish: PublishFn, cancel: CancelFn | None = None
) -> Any | None:
    try:
        engine_cls = importlib.import_module("datavox.voice.engine").LocalRealtimeEngine
    except (ImportError, AttributeError) as exc:
        log.warning("local realtime engine not available (%s); the page can still take typed questions", exc)
        return None
    return engine_cls(settings, ask, publish, cancel=cancel)


def build_router(engine: Any, auth_dependency: Callable[..., Any] | None) -> APIRouter | None:
    try:
        create_router = importlib.import_module("datavox.voice.routes").create_router
    except (ImportError, AttributeError) as exc:
        log.warning("realtime routes not available (%s)", exc)
        return None
    router: APIRouter = create_router(engine, auth_dependency=auth_dependency)
    return router


_BUSY_CODES = {
    "session_limit_reached",
    "session_limit",
    "engine_busy",
    "too_many_sessions",
    "max_sessions",
    "busy",
}


async def mint_secret(engine: Any, *, conversation_id: str, voice: str, ttl_s: int) -> dict[str, Any]:
    """Mint an ephemeral secret bound to `conversation_id`: `{"value", "expires_at", ...}`.

    The engine keeps the conversation id with the secret and publishes that call's events under it, which is
    how the page's WebRTC call and its app event stream meet.
    """
    fn = getattr(engine, "mint_secret", None)
    if fn is None:
        raise EngineError("the realtime engine cannot mint secrets")
    try:
        result = fn(conversation_id=conversation_id, voice=voice, ttl_s=ttl_s)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        code = str(getattr(exc, "code", "") or "")
        if (
            code in _BUSY_CODES
            or "busy" in type(exc).__name__.lower()
            or "limit" in type(exc).__name__.lower()
        ):
            retry = getattr(exc, "retry_after_s", None)
            raise EngineBusy(str(exc), retry if isinstance(retry, int) and retry > 0 else 30) from exc
        raise EngineError(str(exc)) from exc
    if not isinstance(result, dict) or "value" not in result:
        raise EngineError("the realtime engine returned no secret")
    return result


async def warm_up(engine: Any) -> None:
    """Load speech models before the first call, if the engine offers a way to."""
    for name in ("warm_up", "load", "start"):
        fn = getattr(engine, name, None)
        if fn is not None:
            if inspect.iscoroutinefunction(fn):
                await fn()
            else:
                await asyncio.to_thread(fn)  # loading models takes a second: keep the loop free
            return


async def close(engine: Any) -> None:
    for name in ("aclose", "close", "shutdown", "stop"):
        fn = getattr(engine, name, None)
        if fn is not None:
            result = fn()
            if inspect.isawaitable(result):
                await result
            return
