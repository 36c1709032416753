"""HTTP surface of the local engine: the same paths and shapes as OpenAI's GA Realtime API."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from datavox.voice import ws as ws_transport
from datavox.voice.access import EngineError, from_browser, header_token
from datavox.voice.engine import LocalRealtimeEngine


def error_response(exc: EngineError) -> JSONResponse:
    kind = "invalid_request_error" if exc.status < 500 else "server_error"
    body = {"error": {"type": kind, "code": exc.code, "message": exc.message, "param": None}}
    retry = getattr(exc, "retry_after_s", None)
    headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


def create_router(
    engine: LocalRealtimeEngine, *, auth_dependency: Callable[..., Any] | None = None
) -> APIRouter:
    """`POST /v1/realtime/client_secrets` (behind the server's own auth), `POST /v1/realtime/calls` and
    `GET /v1/realtime` (both authorised by a client secret, or for server-side clients by the standard
    credential: `LocalRealtimeEngine.authorize`)."""
    router = APIRouter(tags=["realtime"])
    guarded = [Depends(auth_dependency)] if auth_dependency is not None else []

    @router.post("/v1/realtime/client_secrets", dependencies=guarded, summary="Mint an ephemeral ek_ secret")
    async def client_secrets(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return error_response(EngineError(400, "invalid_json", "The body is not valid JSON."))
        try:
            return JSONResponse(engine.mint_secret(body))
        except EngineError as exc:
            return error_response(exc)

    @router.post(
        "/v1/realtime/calls",
        status_code=201,
        summary="WebRTC: post an SDP offer, get the answer",
        response_class=Response,
        responses={201: {"content": {"application/sdp": {}}}},
    )
    async def calls(request: Request) -> Response:
        try:
            grant = engine.authorize(header_token(request.headers), browser=from_browser(request.headers))
            ctype = request.headers.get("content-type", "")
            session_update: Any = None
            if ctype.startswith("multipart/form-data"):
                form = await request.form()
                sdp_field = form.get("sdp")
                if sdp_field is None:
                    raise EngineError(400, "invalid_sdp", "multipart body needs an 'sdp' field")
                sdp = (
                    sdp_field
                    if isinstance(sdp_field, str)
                    else (await sdp_field.read()).decode("utf-8", "replace")
                )
                raw_session = form.get("session")
                if raw_session is not None:
                    text = (
                        raw_session if isinstance(raw_session, str) else (await raw_session.read()).decode()
                    )
                    try:
                        session_update = json.loads(text)
                    except ValueError as exc:
                        raise EngineError(
                            400, "invalid_json", "the 'session' field is not valid JSON"
                        ) from exc
            else:
                sdp = (await request.body()).decode("utf-8", "replace")
            if session_update is not None:
                config = {**engine.session_config(session_update), "id": grant.session["id"]}
                grant = replace(grant, session=config)
            from datavox.voice import rtc  # aiortc is imported only when WebRTC is used

            call_id, answer = await rtc.create_call(engine, sdp, grant)
        except EngineError as exc:
            return error_response(exc)
        return Response(
            answer,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": f"/v1/realtime/calls/{call_id}"},
        )

    @router.post("/v1/realtime/calls/{call_id}/hangup", summary="End a WebRTC call")
    async def hangup(call_id: str, request: Request) -> Response:
        try:
            engine.authorize(header_token(request.headers), browser=from_browser(request.headers))
        except EngineError as exc:
            return error_response(exc)
        call = engine.calls.get(call_id)
        if call is None:
            return error_response(EngineError(404, "call_id_not_found", f"No active call {call_id}."))
        await call.close()
        return Response(status_code=200)

    @router.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        await ws_transport.serve(websocket, engine)

    return router
