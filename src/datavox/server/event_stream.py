"""The app event stream, `/api/events`: a page subscribes to one conversation and receives its turns (typed
or spoken, answered on this replica or, through Redis, on another) as JSON events."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from datavox.server.api_types import ID_PATTERN
from datavox.server.auth import token_matches

if TYPE_CHECKING:
    from datavox.server.state import ServerState


def create_router(state: ServerState, token: str) -> APIRouter:
    router = APIRouter()

    @router.websocket("/api/events")
    async def events(ws: WebSocket) -> None:
        if not origin_allowed(
            ws.headers.get("origin"), ws.headers.get("host"), state.settings.server.cors_origins
        ):
            await ws.close(code=4403)
            return
        await ws.accept()
        try:
            hello = await asyncio.wait_for(ws.receive_json(), timeout=10)
        except (TimeoutError, WebSocketDisconnect, ValueError):
            await safe_close(ws, 4400)
            return
        if not isinstance(hello, dict) or not token_matches(token, str(hello.get("token") or "") or None):
            state.metrics.errors.labels("unauthorized").inc()
            await safe_close(ws, 4401)
            return
        conversation_id = str(hello.get("conversation_id") or "")
        if not re.fullmatch(ID_PATTERN[1:-1], conversation_id):
            await safe_close(ws, 4400)
            return
        await run_in_threadpool(state.store.ensure, conversation_id)
        queue = state.hub.subscribe(conversation_id)
        state.metrics.event_streams.inc()
        reader = asyncio.create_task(drain(ws))
        try:
            await ws.send_json({"type": "ready", "conversation_id": conversation_id})
            service = state.health.service_event()
            if service["status"] != "ok":
                await ws.send_json({**service, "conversation_id": conversation_id})
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await ws.send_json(getter.result())
                else:
                    getter.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()
            state.hub.unsubscribe(conversation_id, queue)
            state.metrics.event_streams.dec()

    return router


async def drain(ws: WebSocket) -> None:
    """Read (and ignore) what the page sends, so a closed socket is noticed at once."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


async def safe_close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=code)


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Same-origin pages and configured origins may open the event stream; other sites may not."""
    if not origin:
        return True  # not a browser
    if origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host
