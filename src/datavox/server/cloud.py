"""The server's side of the cloud engines: session start, the SDP relay, sidebands, fallback and cost.

`POST /api/realtime/session` (app.py) asks `CloudService.session()`, which mints an ephemeral secret with the
session config (instructions, voice, transcription, turn detection, the `query_database` tool) and answers
what the page needs, never a long-lived key. Two ways to connect (`realtime.connect`):

- `relay` (default): the page gets a one-time datavox token (`dvx_…`, living `secret_ttl_s`) and
  `calls_url = /api/realtime/calls`; it posts its SDP offer there as it does to the local engine, and datavox
  relays it to the cloud's `calls` with the ephemeral secret, keeps the call id from `Location` and joins the
  call's sideband. The page never holds any cloud credential.
- `direct` (the seed's way): the page gets the ephemeral `ek_…` secret and the cloud's calls URL, dials the
  cloud itself, then posts the call id from `Location` to `/api/realtime/attach`; datavox joins the sideband.

App events added here (see server/events.py): `engine` (`engine`, `reason`: which engine answers and why),
`usage` (tokens and estimated cost of a cloud turn), `assistant.transcript`, `turn.cancelled`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field

from datavox.config import Settings
from datavox.realtime.cloud import CloudClient, CloudError, CloudTarget, session_config
from datavox.realtime.fallback import EngineChooser
from datavox.realtime.sideband import Sideband
from datavox.types import HistoryTurn

log = logging.getLogger("datavox.server.cloud")
MAX_SDP_BYTES = 64_000


@dataclass
class Grant:
    secret: str
    conversation_id: str
    session: dict[str, Any]
    expires_at: float


class AttachRequest(BaseModel):
    call_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")
    secret: str = Field(min_length=8, max_length=512)
    conversation_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")


class CloudService:
    def __init__(
        self,
        settings: Settings,
        *,
        ask: Callable[[str, list[HistoryTurn]], Any],
        publish: Callable[[str, dict[str, Any]], None],
        history: Callable[[str], list[HistoryTurn]],
        cancel: Callable[[int], None] | None,
        registry: Any,
        target: CloudTarget | None = None,
        local_available: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.target = target or CloudTarget.from_settings(settings)
        self.client = CloudClient(self.target)
        self.ask, self.publish, self.history, self.cancel = ask, publish, history, cancel
        self.local_available = local_available
        rt = settings.realtime
        self.chooser = EngineChooser(
            fallback_ms=rt.fallback_ms,
            window=rt.fallback_window,
            retry_s=rt.retry_cloud_s,
            enabled=rt.fallback == "local",
        )
        self.grants: dict[str, Grant] = {}  # relay token or ephemeral secret → what it may start
        self.sidebands: dict[str, tuple[Sideband, asyncio.Task[None]]] = {}
        self.tokens = Counter(
            "datavox_cloud_tokens_total", "Cloud realtime tokens, by kind.", ["kind"], registry=registry
        )
        self.cost = Counter(
            "datavox_cloud_cost_usd_total", "Estimated cloud realtime cost (USD).", registry=registry
        )

    async def aclose(self) -> None:
        for sideband, task in list(self.sidebands.values()):
            await sideband.close()
            task.cancel()
        self.sidebands.clear()
        await self.client.aclose()

    # --- session start ---------------------------------------------------------------------------------
    def _prune(self) -> None:
        now = time.time()
        for key in [k for k, g in self.grants.items() if g.expires_at < now]:
            self.grants.pop(key, None)

    async def session(self, conversation_id: str, voice: str) -> dict[str, Any] | tuple[str, str]:
        """The page's session, or ("local", why) when the local engine should take this one."""
        engine, why = self.chooser.choose()
        if engine == "local" and self.local_available():
            return engine, why
        rt = self.settings.realtime
        session = session_config(self.settings, model=self.target.model, voice=voice)
        try:
            minted = await self.client.mint_secret(session, rt.secret_ttl_s)
        except CloudError as exc:
            if exc.unreachable and self.local_available():
                reason = self.chooser.unreachable(exc.code)
                if reason:
                    return "local", reason
            raise
        if engine == "local":
            self.chooser.recovered()  # the local engine was wanted but is missing, and the cloud answered
        self._prune()
        expires_at = float(minted.get("expires_at") or time.time() + rt.secret_ttl_s)
        grant = Grant(minted["value"], conversation_id, minted.get("session") or session, expires_at)
        base = {
            "engine": self.target.kind,
            "conversation_id": conversation_id,
            "voice": voice,
            "model": self.target.model,
            "expires_at": int(expires_at),
            "connect": rt.connect,
        }
        if rt.connect == "direct":
            self.grants[grant.secret] = grant
            return {
                **base,
                "secret": grant.secret,
                "calls_url": self.target.calls_url(),
                "attach_url": "/api/realtime/attach",
            }
        token = f"dvx_{secrets.token_urlsafe(24)}"
        self.grants[token] = grant
        return {**base, "secret": token, "calls_url": "/api/realtime/calls"}

    # --- connecting ----------------------------------------------------------------------------------
    async def relay(self, token: str, offer_sdp: str) -> str:
        self._prune()
        grant = self.grants.pop(token, None)  # one use
        if grant is None or not token.startswith("dvx_"):
            raise CloudError(
                "secret_expired",
                "This voice session expired before it started. Press talk again.",
                status=401,
            )
        try:
            answer_sdp, call_id = await self.client.create_call(offer_sdp, grant.secret)
        except CloudError as exc:
            if exc.unreachable:
                self.chooser.unreachable(exc.code)
            raise
        self.join(call_id, grant)
        return answer_sdp

    def attach(self, body: AttachRequest) -> None:
        grant = self.grants.get(body.secret)
        if grant is None or grant.conversation_id != body.conversation_id:
            raise CloudError(
                "secret_expired", "This voice session is not known here. Press talk again.", status=401
            )
        if body.call_id not in self.sidebands:
            self.join(body.call_id, grant)

    def join(self, call_id: str, grant: Grant) -> Sideband:
        conv = grant.conversation_id
        sideband = Sideband(
            self.settings,
            self.target,
            call_id,
            conversation_id=conv,
            ask=self.ask,
            publish=self.publish,
            cancel=self.cancel,
            history=self.history(conv),
            session=grant.session,
            on_turn=lambda ms: self._on_turn(conv, ms),
            on_usage=self._on_usage,
            on_rate_limits=self._on_rate_limits,
        )
        task = asyncio.ensure_future(sideband.run())
        self.sidebands[call_id] = (sideband, task)
        task.add_done_callback(lambda _t: self.sidebands.pop(call_id, None))
        self._renew_later(conv, sideband)
        return sideband

    def _renew_later(self, conversation_id: str, sideband: Sideband) -> None:
        """Tell the page to start a new session before the provider ends this one; the new one carries the
        last turns (Sideband seeds them)."""
        rt = self.settings.realtime
        delay = max(1.0, rt.provider_max_session_s - rt.renew_margin_s)

        def renew() -> None:
            if not sideband.closed:
                self.publish(
                    conversation_id,
                    {
                        "type": "session.renew",
                        "engine": self.target.kind,
                        "reason": "the cloud session nears its maximum length",
                    },
                )

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_later(delay, renew)

    # --- what the sidebands report ----------------------------------------------------------------------
    def _on_turn(self, conversation_id: str, cloud_ms: float) -> None:
        reason = self.chooser.record(cloud_ms)
        if reason and self.local_available():
            self.publish(conversation_id, {"type": "engine", "engine": "local", "reason": reason})

    def _on_usage(self, usage: dict[str, Any]) -> None:
        for kind in ("input_text", "input_audio", "output_text", "output_audio", "cached"):
            self.tokens.labels(kind).inc(float(usage.get(f"{kind}_tokens") or 0))
        self.cost.inc(float(usage.get("cost_usd") or 0.0))

    def _on_rate_limits(self, limits: list[dict[str, Any]]) -> None:
        """Hold new cloud requests until an exhausted limit resets (`rate_limits.updated`)."""
        waits = [float(x.get("reset_seconds") or 0) for x in limits if float(x.get("remaining") or 0) <= 0]
        if waits:
            self.client.paused_until = max(self.client.paused_until, time.monotonic() + max(waits))


def cloud_error_response(exc: CloudError) -> JSONResponse:
    """The shape the page's SDP code reads (`error.code`, `error.message`), like the providers'."""
    status = exc.status if exc.status in (400, 401, 403, 404, 429) else 502
    headers = {"Retry-After": str(int(exc.retry_after_s or 1))} if status == 429 else None
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status_code=status, headers=headers
    )


def create_router(service: CloudService, auth: list[Any]) -> APIRouter:
    router = APIRouter()

    @router.post("/api/realtime/calls")
    async def calls(request: Request) -> Response:
        # Authenticated by the one-time relay token itself, minted only by the authenticated session route.
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        body = await request.body()
        if len(body) > MAX_SDP_BYTES or b"v=0" not in body:
            return JSONResponse(
                {"error": {"code": "invalid_offer", "message": "That is not an SDP offer."}}, status_code=400
            )
        try:
            answer = await service.relay(token, body.decode("utf-8", "replace"))
        except CloudError as exc:
            return cloud_error_response(exc)
        return Response(answer, status_code=201, media_type="application/sdp")

    @router.post("/api/realtime/attach", dependencies=auth, status_code=204)
    async def attach(body: AttachRequest) -> Response:
        try:
            service.attach(body)
        except CloudError as exc:
            return cloud_error_response(exc)
        return Response(status_code=204)

    return router


def build(state: Any) -> tuple[CloudService | None, str]:
    """The cloud service for a ServerState, or None and the sentence that says which setting is wrong."""
    from datavox.config import ConfigError

    try:
        service = CloudService(
            state.settings,
            ask=state.voice_ask,
            publish=state.publish,
            history=state.stored_history,
            cancel=state.cancel_query,
            registry=state.metrics.registry,
            local_available=lambda: state.engine is not None,
        )
    except ConfigError as exc:
        log.warning("cloud realtime engine not available: %s", exc)
        return None, f"The cloud voice engine is not configured: {exc}"
    return service, ""


async def start_session(
    state: Any, conversation_id: str | None, voice: str | None, voices: list[str]
) -> dict[str, Any]:
    """The cloud half of `POST /api/realtime/session`: the page's session, or `{"reason"}` to go local."""
    from datavox.server.api_types import problem
    from datavox.server.store import new_conversation_id

    service: CloudService = state.cloud
    conv = conversation_id or new_conversation_id()
    await asyncio.to_thread(state.store.ensure, conv)
    chosen = voice if voice in voices else state.settings.realtime.voice
    try:
        out = await service.session(conv, chosen)
    except CloudError as exc:
        state.metrics.errors.labels(exc.code).inc()
        headers = (
            {"Retry-After": str(int(exc.retry_after_s or 5))} if exc.code == "cloud_rate_limited" else None
        )
        status = 429 if exc.code == "cloud_rate_limited" else 502 if exc.status != 401 else 503
        raise problem(status, exc.code, exc.message, headers=headers) from exc
    if isinstance(out, tuple):
        state.publish(conv, {"type": "engine", "engine": "local", "reason": out[1]})
        return {"reason": out[1]}
    state.metrics.sessions.labels(service.target.kind).inc()
    state.publish(conv, {"type": "engine", "engine": service.target.kind, "reason": ""})
    return out
