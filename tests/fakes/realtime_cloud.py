"""A FAKE realtime cloud (Azure OpenAI and OpenAI GA surfaces), for tests and `datavox bench cloud` only.

Neither cloud is reachable from the test machines, so this real HTTP/WebSocket server on 127.0.0.1 (random
port) stands in for them, following ../shared/docs/realtime-protocol.md:

- `POST {prefix}/realtime/client_secrets` → `{value: "ek_…", expires_at, session}`;
- `POST {prefix}/realtime/calls` (raw `application/sdp` with `Bearer ek_…`, or multipart `sdp` + `session`
  with the standard key) → aiortc answers the offer: `201`, `application/sdp`, `Location: …/calls/rtc_…`;
  Azure's `?webrtcfilter=on` hides tool traffic from the browser's data channel;
- `WS {prefix}/realtime?call_id=rtc_…` (sideband, standard key) and `?model=` (a WebSocket session);

with prefix `/openai/v1` (Azure: `api-key` or `Bearer <Entra token>`, and a 401 if `api-version` is sent)
and `/v1` (OpenAI: `Bearer <key>`). Every request is recorded (path, query, headers, body) so tests can
check shapes. Faults on purpose: `fail(endpoint, status, times)` (401/429/500), `expire_secrets()`,
`drop_sidebands(call_id)`, `send_error(call_id, …)`, and `delay_s` for a slow model. Each call's model is a
`FakeModelCall` (realtime_model.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.fakes.realtime_model import FakeModelCall, rid

AZURE, OPENAI = "/openai/v1", "/v1"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _err(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": message, "param": None}}
    return JSONResponse(body, status_code=status, headers=headers)


class FakeRealtimeCloud:
    """Start with `with FakeRealtimeCloud(key=...) as cloud:`; `cloud.azure_endpoint`, `cloud.openai_base`."""

    def __init__(
        self,
        *,
        key: str = "fake-server-key-0123456789",
        deployments: tuple[str, ...] = ("gpt-realtime-dep",),
        models: tuple[str, ...] = ("gpt-realtime", "gpt-realtime-mini"),
        entra_tokens: tuple[str, ...] = (),
        delay_s: float = 0.0,
        transcripts: dict[float, str] | None = None,
        media: bool = True,
    ) -> None:
        self.key = key
        self.deployments = set(deployments)
        self.models = set(models)
        self.entra_tokens = set(entra_tokens)
        self.delay_s = delay_s
        self.transcripts = transcripts or {}  # audio seconds → what the "user said"
        self.media = media  # False (bench cloud): calls get a canned answer, no WebRTC; say() drives turns
        self.requests: list[Recorded] = []
        self.secrets: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, FakeModelCall] = {}
        self._faults: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._sockets: dict[str, list[WebSocket]] = {}
        self._peers: list[Any] = []
        self._tasks: set[asyncio.Future[None]] = set()
        self.port = _free_port()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- addresses --------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def azure_endpoint(self) -> str:
        return self.base  # like https://<resource>.openai.azure.com

    @property
    def openai_base(self) -> str:
        return self.base + OPENAI

    # --- test controls (any thread) ----------------------------------------------------------------
    def fail(self, endpoint: str, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` requests to `client_secrets`, `calls` or `sideband` answer `status`."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._faults.setdefault(endpoint, []).extend([(status, headers)] * times)

    def expire_secrets(self) -> None:
        for secret in self.secrets.values():
            secret["expires_at"] = int(time.time()) - 1

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the fake's loop from a test thread."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, call_id: str | None = None) -> FakeModelCall:
        if call_id is None:
            return list(self.calls.values())[-1]
        return self.calls[call_id]

    def say(self, text: str, call_id: str | None = None) -> str:
        return str(self.run(self.call(call_id).say(text)))

    def drop_sidebands(self, call_id: str | None = None) -> None:
        call = self.call(call_id)

        async def drop() -> None:
            for ws in self._sockets.pop(call.id, []):
                with contextlib.suppress(Exception):
                    await ws.close(code=1011)
            call.sidebands.clear()

        self.run(drop())

    def send_error(self, code: str, message: str, call_id: str | None = None) -> None:
        call = self.call(call_id)
        detail = {"type": "server_error", "code": code, "message": message, "param": None, "event_id": None}
        self.loop.call_soon_threadsafe(
            call.emit, {"type": "error", "event_id": rid("event"), "error": detail}
        )  # type: ignore[union-attr]

    def sideband_count(self, call_id: str | None = None) -> int:
        return len(self._sockets.get(self.call(call_id).id, []))

    # --- auth -----------------------------------------------------------------------------------------
    def _record(self, request: Request | WebSocket, body: Any) -> None:
        self.requests.append(
            Recorded(
                getattr(request, "method", "WS"),
                request.url.path,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )

    def _server_auth(self, request: Request | WebSocket, azure: bool) -> str | None:
        """None when the request carries the standard key (or an Entra token on Azure), else why not."""
        if azure and "api-version" in request.query_params:
            return "api-version is not supported on /openai/v1"
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if azure and request.headers.get("api-key") == self.key:
            return None
        if bearer == self.key or (azure and bearer in self.entra_tokens):
            return None
        return "Incorrect API key provided"

    def _fault(self, endpoint: str) -> Response | None:
        queue = self._faults.get(endpoint)
        if not queue:
            return None
        status, headers = queue.pop(0)
        codes = {401: "invalid_api_key", 429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}
        return _err(status, codes.get(status, "error"), f"FAKE scripted {status}", headers)

    # --- HTTP -----------------------------------------------------------------------------------------
    async def client_secrets(self, request: Request) -> Response:
        azure = request.url.path.startswith(AZURE)
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return _err(400, "invalid_json", "The body is not valid JSON.")
        self._record(request, body)
        if (why := self._server_auth(request, azure)) is not None:
            return _err(401, "invalid_api_key", why)
        if (fault := self._fault("client_secrets")) is not None:
            return fault
        session = dict(body.get("session") or {})
        model = session.get("model", "gpt-realtime")
        if model not in (self.deployments if azure else self.models):
            what = "DeploymentNotFound" if azure else "model_not_found"
            return _err(404, what, f"The model or deployment {model!r} does not exist.")
        ttl = int((body.get("expires_after") or {}).get("seconds", 600))
        if not 10 <= ttl <= 7200:
            return _err(400, "invalid_value", "expires_after.seconds must be between 10 and 7200")
        expires_at = int(time.time()) + ttl
        session.update(type="realtime", object="realtime.session", id=rid("sess"), expires_at=0)
        value = f"ek_{secrets.token_hex(16)}"
        self.secrets[value] = {"session": session, "expires_at": expires_at}
        return JSONResponse({"value": value, "expires_at": expires_at, "session": session})

    async def create_call(self, request: Request) -> Response:
        azure = request.url.path.startswith(AZURE)
        kind = request.headers.get("content-type", "")
        session: dict[str, Any] | None = None
        if kind.startswith("multipart/form-data"):
            form = await request.form()
            sdp = str(form.get("sdp") or "")
            session = json.loads(str(form.get("session") or "{}"))
        else:
            sdp = (await request.body()).decode()
        self._record(request, {"sdp": sdp[:40], "session": session})
        if (fault := self._fault("calls")) is not None:
            return fault
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if bearer in self.secrets:
            grant = self.secrets[bearer]
            if grant["expires_at"] < time.time():
                return _err(401, "invalid_api_key", "The ephemeral token has expired.")
            session = dict(grant["session"])
        elif self._server_auth(request, azure) is None and session is not None:
            session = {**session, "type": "realtime", "id": rid("sess")}
        else:
            return _err(401, "invalid_api_key", "Incorrect API key provided")
        if "v=0" not in sdp:
            return _err(400, "invalid_offer", "The SDP offer is not valid.")
        call_id = rid("rtc")
        webrtc_filter = azure and request.query_params.get("webrtcfilter") == "on"
        call = FakeModelCall(call_id, session, delay_s=self.delay_s, webrtc_filter=webrtc_filter)
        try:
            answer = await self._answer(call, sdp) if self.media else "v=0\r\ns=FAKE-no-media\r\n"
        except Exception as exc:
            return _err(400, "invalid_offer", f"Could not accept the offer: {exc}")
        self.calls[call_id] = call
        location = f"{AZURE if azure else OPENAI}/realtime/calls/{call_id}"
        return Response(answer, status_code=201, media_type="application/sdp", headers={"Location": location})

    async def _answer(self, call: FakeModelCall, sdp: str) -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from datavox.voice.rtc import SpeechTrack, keep_loopback_candidates, patch_loopback

        patch_loopback()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._peers.append(pc)

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            call.browser = lambda event: channel.send(json.dumps(event))
            if not call.webrtc_filter:  # the filter lets no session event through (protocol doc §3.4)
                call.browser(call.session_created())
            channel.on("message", lambda m: asyncio.ensure_future(call.handle(json.loads(m))))

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._tasks.add(asyncio.ensure_future(self._hear(call, track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=keep_loopback_candidates(sdp), type="offer"))
        pc.addTrack(SpeechTrack())
        await pc.setLocalDescription(await pc.createAnswer())
        return keep_loopback_candidates(pc.localDescription.sdp)

    async def _hear(self, call: FakeModelCall, track: Any) -> None:
        """An energy VAD on the caller's audio; an utterance's length picks its scripted transcript."""
        voiced_ms = silent_ms = 0.0
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            pcm = frame.to_ndarray().astype(np.float32)
            ms = 1000.0 * frame.samples / frame.sample_rate
            loud = float(np.sqrt(np.mean(pcm**2))) > 500.0
            if loud:
                if voiced_ms == 0:
                    call.speech_started()
                voiced_ms += ms + silent_ms
                silent_ms = 0.0
            elif voiced_ms:
                silent_ms += ms
                if silent_ms >= 500:
                    seconds, voiced_ms, silent_ms = voiced_ms / 1000.0, 0.0, 0.0
                    if self.transcripts:
                        near = min(self.transcripts, key=lambda s: abs(s - seconds))
                        await call.say(self.transcripts[near])

    # --- WebSocket (sideband and plain sessions) ----------------------------------------------------------
    async def realtime_ws(self, ws: WebSocket) -> None:
        azure = ws.url.path.startswith(AZURE)
        self._record(ws, None)
        call_id = ws.query_params.get("call_id")
        if self._server_auth(ws, azure) is not None or (fault := self._fault("sideband")) is not None:
            await ws.close(code=1008)
            return
        del fault
        if call_id is not None and call_id not in self.calls:
            await ws.close(code=1008)
            return
        await ws.accept()
        if call_id is None:  # a plain WebSocket session (`?model=`)
            model = ws.query_params.get("model", "gpt-realtime")
            call = FakeModelCall(
                rid("rtc"),
                {"type": "realtime", "model": model, "id": rid("sess")},
                delay_s=self.delay_s,
                webrtc_filter=False,
            )
            self.calls[call.id] = call
        else:
            call = self.calls[call_id]
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        call.sidebands.append(outbox.put_nowait)
        self._sockets.setdefault(call.id, []).append(ws)
        outbox.put_nowait(call.session_created())

        async def writer() -> None:
            while True:
                await ws.send_text(json.dumps(await outbox.get()))

        task = asyncio.ensure_future(writer())
        try:
            while True:
                await call.handle(json.loads(await ws.receive_text()))
        except (WebSocketDisconnect, RuntimeError, ValueError):
            pass
        finally:
            task.cancel()
            with contextlib.suppress(ValueError):
                call.sidebands.remove(outbox.put_nowait)

    # --- life cycle -------------------------------------------------------------------------------
    def app(self) -> Starlette:
        routes = []
        for prefix in (AZURE, OPENAI):
            routes += [
                Route(f"{prefix}/realtime/client_secrets", self.client_secrets, methods=["POST"]),
                Route(f"{prefix}/realtime/calls", self.create_call, methods=["POST"]),
                WebSocketRoute(f"{prefix}/realtime", self.realtime_ws),
            ]
        # A page dialing the cloud itself (connect = direct) needs CORS and to read `Location`.
        cors = Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["POST"],
            allow_headers=["*"],
            expose_headers=["Location"],
        )
        return Starlette(routes=routes, middleware=[cors])

    def __enter__(self) -> FakeRealtimeCloud:
        config = uvicorn.Config(
            self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            loop.run_until_complete(self._server.serve())  # type: ignore[union-attr]
            for pc in self._peers:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(pc.close())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-realtime-cloud", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the FAKE realtime cloud did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
