"""`GET /v1/realtime` over WebSocket: JSON events both ways, audio as base64 PCM16 at 24 kHz.

Auth, as the official clients send it: `Authorization: Bearer ek_…` (SDKs, servers) or the subprotocol
`openai-insecure-api-key.ek_…` (browsers, which cannot set headers). Server-side clients (no `Origin`)
may also use the standard credential, as with OpenAI's standard keys (`LocalRealtimeEngine.authorize`).
`?call_id=rtc_…` joins a WebRTC call as a sideband observer that sees and may send the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from datavox.realtime import protocol as p
from datavox.voice.access import EngineError, from_browser, header_token
from datavox.voice.engine import LocalRealtimeEngine

log = logging.getLogger(__name__)
_KEY_PROTOCOL = "openai-insecure-api-key."


def _token(ws: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept)."""
    offered = [s.strip() for s in ws.headers.get("sec-websocket-protocol", "").split(",") if s.strip()]
    token = header_token(ws.headers)
    for proto in offered:
        if proto.startswith(_KEY_PROTOCOL) and not token:
            token = proto[len(_KEY_PROTOCOL) :]
    # A browser that offered subprotocols needs one echoed back; "realtime" is what agents-js offers first.
    chosen = "realtime" if "realtime" in offered else (offered[0] if offered else None)
    return token, chosen


async def serve(ws: WebSocket, engine: LocalRealtimeEngine) -> None:
    token, subprotocol = _token(ws)
    try:
        grant = engine.authorize(token, browser=from_browser(ws.headers))
    except EngineError as exc:
        await ws.close(code=1008, reason=exc.message[:120])
        return
    await ws.accept(subprotocol=subprotocol)
    outbox: asyncio.Queue[p.Event | None] = asyncio.Queue()
    call_id = ws.query_params.get("call_id")
    if call_id:
        await _sideband(ws, engine, call_id, outbox)
        return
    try:
        session = engine.open_session(grant.session, outbox.put_nowait, conversation_id=grant.conversation_id)
    except EngineError as exc:
        await ws.send_text(json.dumps(p.error_event(exc.code, exc.message)))
        await ws.close(code=1013, reason=exc.code)
        return
    session.also_on_close(lambda _r: outbox.put_nowait(None))
    writer = asyncio.create_task(_write(ws, outbox))
    session.start()
    try:
        await _read(ws, session.handle, outbox)
    finally:
        session.close("client_disconnected")
        outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await writer


async def _read(ws: WebSocket, handle: Any, outbox: asyncio.Queue[p.Event | None]) -> None:
    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message.get("type") == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None and message.get("bytes") is not None:
            text = message["bytes"].decode("utf-8", "replace")
        try:
            event = json.loads(text or "")
        except ValueError:
            outbox.put_nowait(p.error_event("invalid_json", "The message is not valid JSON."))
            continue
        await handle(event)


async def _write(ws: WebSocket, outbox: asyncio.Queue[p.Event | None]) -> None:
    while True:
        event = await outbox.get()
        if event is None:
            with contextlib.suppress(Exception):
                await ws.close()
            return
        try:
            await ws.send_text(json.dumps(event))
        except Exception:
            return


async def _sideband(
    ws: WebSocket, engine: LocalRealtimeEngine, call_id: str, outbox: asyncio.Queue[p.Event | None]
) -> None:
    call = engine.calls.get(call_id)
    if call is None or call.session is None:
        await ws.send_text(json.dumps(p.error_event("call_id_not_found", f"No active call {call_id}.")))
        await ws.close(code=1008)
        return
    call.observers.append(outbox.put_nowait)
    writer = asyncio.create_task(_write(ws, outbox))
    outbox.put_nowait(p.event("session.created", session=call.session.config))
    try:
        await _read(ws, call.session.handle, outbox)
    finally:
        with contextlib.suppress(ValueError):
            call.observers.remove(outbox.put_nowait)
        outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await writer
