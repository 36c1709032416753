"""The FastAPI app: the page at `/`, the JSON API under `/api`, the app event stream, health and metrics.

`create_app(settings, *, brain=None, engine=None)`: tests inject a brain (anything with
`ask(question, history) -> Answer`) and a voice engine; otherwise the brain is built on first use and the
local realtime engine when `realtime.engine == "local"` and the voice package is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from datavox import __version__
from datavox.config import Settings
from datavox.server import cloud as cloud_mod
from datavox.server import event_stream, voice_bridge
from datavox.server import health as health_mod
from datavox.server.api_types import AskRequest, SessionRequest, TimingsReport, problem
from datavox.server.auth import bearer_dependency
from datavox.server.events import normalise
from datavox.server.pgstore import StoreUnavailable
from datavox.server.ratelimit import TokenBucket
from datavox.server.state import ServerState, warm_up
from datavox.server.store import new_conversation_id, new_turn_id
from datavox.types import HistoryTurn

log = logging.getLogger("datavox.server")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VOICES = ["marin", "cedar", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"]
ENGINE_LABELS = {"local": "Local (offline)", "azure": "Azure OpenAI", "openai": "OpenAI"}
CREDITS = (
    "Formula 1 data from F1DB (https://github.com/f1db/f1db) by Marcel Overdijk and contributors, "
    "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Release v2026.3.0; "
    "CSV files unmodified."
)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_app(settings: Settings, *, brain: Any | None = None, engine: Any | None = None) -> FastAPI:
    state = ServerState(settings, brain, engine)
    token = settings.secrets.api_token
    require_token = bearer_dependency(token)
    auth = [Depends(require_token)]

    if settings.realtime.engine in ("azure", "openai"):
        state.cloud, state.cloud_problem = cloud_mod.build(state)
    # The local engine runs as the cloud's fallback too (realtime.fallback = local).
    local_wanted = settings.realtime.engine == "local" or (
        state.cloud is not None and settings.realtime.fallback == "local"
    )
    if state.engine is None and local_wanted:
        state.engine = voice_bridge.build_local_engine(
            settings, state.voice_ask, state.publish, state.cancel_query
        )
    if state.engine is not None and state.shared is not None:
        state.engine.shared_secrets = state.shared  # a secret minted here opens a call on any replica
    if state.engine is not None and hasattr(state.engine, "observe_work"):
        state.engine.observe_work = state.metrics.observe_work  # speech queue wait and work, for /metrics

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.hub.bind_loop(asyncio.get_running_loop())
        if state.shared is not None:
            state.shared.start(state.hub.send)
        warming: asyncio.Task[None] | None = None
        if state.warm_on_start:
            # `datavox serve`: load the brain and the speech models before the first call, not during it.
            # In the background: /livez answers at once and /readyz says "starting" until they are loaded.
            state.health.phase = "starting"
            warming = asyncio.create_task(warm_up(state))
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
            if state.cloud is not None:
                await state.cloud.aclose()
            if state.engine is not None:
                with contextlib.suppress(Exception):
                    await voice_bridge.close(state.engine)
            state.provider.shutdown()
            state.close()

    app = FastAPI(title="datavox", version=__version__, lifespan=lifespan)
    app.state.datavox = state

    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.server.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Datavox-Replica", state.replica)
        if "datavox_affinity" not in request.cookies:
            # A stable value for a load balancer to hash on (nginx `hash $cookie_datavox_affinity`): every
            # request of a page, the voice call's included, then reaches one replica. Not a credential.
            response.set_cookie("datavox_affinity", state.replica, httponly=True, samesite="strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 401:
            state.metrics.errors.labels("unauthorized").inc()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def limit(bucket: TokenBucket, request: Request, what: str) -> None:
        if state.shared is None:
            allowed, wait = bucket.allow(client_key(request))
        else:  # a Redis round trip: off the event loop, so a slow Redis never stalls other requests
            allowed, wait = await run_in_threadpool(bucket.allow, client_key(request))
        if not allowed:
            state.metrics.errors.labels("rate_limited").inc()
            seconds = max(1, int(wait + 0.999))
            raise problem(
                429,
                "rate_limited",
                f"Too many {what} in a minute. Wait {seconds} s and try again.",
                headers={"Retry-After": str(seconds)},
            )

    # --- health and metrics ------------------------------------------------------------------------
    app.include_router(health_mod.create_router(state.health))

    @app.get("/metrics")
    async def metrics() -> Response:
        body = state.metrics.render(state.engine)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    # --- API -----------------------------------------------------------------------------------------
    @app.get("/api/config", dependencies=auth)
    async def config() -> dict[str, Any]:
        """What the page needs to draw itself; holds no secret."""
        kind = settings.realtime.engine
        return {
            "version": __version__,
            "engine": kind,
            "engine_label": ENGINE_LABELS.get(kind, kind),
            "realtime_available": state.engine is not None or state.cloud is not None,
            "voices": VOICES,
            "voice": settings.realtime.voice,
            "auth_required": bool(token),
            "credits": CREDITS,
        }

    @app.post("/api/conversations", dependencies=auth)
    async def new_conversation() -> dict[str, str]:
        conversation_id = new_conversation_id()
        await run_in_threadpool(state.store.ensure, conversation_id)
        return {"conversation_id": conversation_id}

    @app.get("/api/conversations/{conversation_id}", dependencies=auth)
    async def conversation(conversation_id: str) -> dict[str, Any]:
        try:
            history: dict[str, Any] | None = await run_in_threadpool(state.store.history, conversation_id)
        except StoreUnavailable as exc:
            raise problem(
                503,
                "store_unavailable",
                "The conversation database is unreachable, so earlier turns cannot be shown now. "
                "You can keep asking; new turns are saved when it returns.",
                headers={"Retry-After": "5"},
            ) from exc
        if history is None:
            raise problem(404, "not_found", "That conversation is not on this server. Start a new one.")
        return history

    @app.post("/api/conversations/{conversation_id}/timings", dependencies=auth, status_code=204)
    async def report_timings(conversation_id: str, body: TimingsReport) -> Response:
        """Stage timings the page measured for a voice turn (end of speech → first audio), for /metrics."""
        for stage, ms in body.timings_ms.items():
            if 0 <= ms < 600_000 and stage.replace("_", "").isalnum():
                state.metrics.turn_latency.labels(f"client_{stage}").observe(ms / 1000.0)
        return Response(status_code=204)

    @app.post("/api/ask", dependencies=auth)
    async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        await limit(state.ask_bucket, request, "questions")
        conversation_id = body.conversation_id or new_conversation_id()
        turn_id = body.turn_id or new_turn_id()
        question = body.question.strip()
        if not question:
            raise problem(422, "empty_question", "Type a question first.")
        stored = await run_in_threadpool(
            state.store.save_user, conversation_id, turn_id, question, source="text"
        )
        state.fan_out(
            normalise(
                conversation_id,
                {
                    "type": "transcript.final",
                    "turn_id": turn_id,
                    "text": question,
                    "source": "text",
                },
            )
        )
        history = [HistoryTurn(role=h.role, text=h.text, meta=h.meta) for h in body.history]
        try:
            answer = await run_in_threadpool(state.answer, question, history, source="text")
        except ImportError as exc:
            raise problem(
                503, "brain_unavailable", "The question engine is not installed on this server."
            ) from exc
        except Exception as exc:
            log.exception("the brain failed on a typed question")
            raise problem(
                500, "brain_failed", "Something went wrong answering that. Try rephrasing it."
            ) from exc
        data = answer.to_dict()
        stored = await run_in_threadpool(
            state.store.save_answer, conversation_id, turn_id, data, source="text"
        )
        state.fan_out(
            normalise(
                conversation_id,
                {
                    "type": "answer",
                    "turn_id": turn_id,
                    "answer": data,
                    "source": "text",
                },
            )
        )
        # stored: false when the turn waits in the outbox for the conversation database (saved later).
        return {**data, "conversation_id": conversation_id, "turn_id": turn_id, "stored": stored is not False}

    @app.get("/api/schema", dependencies=auth)
    async def schema() -> dict[str, Any]:
        try:
            return await run_in_threadpool(schema_payload, state)
        except ImportError as exc:
            raise problem(
                503, "schema_unavailable", "The schema reader is not installed on this server."
            ) from exc

    @app.post("/api/realtime/session", dependencies=auth)
    async def realtime_session(body: SessionRequest, request: Request) -> dict[str, Any]:
        kind = settings.realtime.engine
        fallback_reason = ""
        if kind != "local":
            if state.cloud is None:
                raise problem(
                    503, "engine_unavailable", state.cloud_problem or "The cloud engine is not set up."
                )
            await limit(state.secret_bucket, request, "voice sessions")
            out = await cloud_mod.start_session(state, body.conversation_id, body.voice, VOICES)
            if "secret" in out:
                return out
            kind, fallback_reason = "local", str(out.get("reason") or "")
        if state.engine is None:
            raise problem(
                503, "engine_unavailable", "Voice is not available on this server. Type your question."
            )
        if not fallback_reason:  # a fallback session was counted on the cloud path already
            await limit(state.secret_bucket, request, "voice sessions")
        conversation_id = body.conversation_id or new_conversation_id()
        await run_in_threadpool(state.store.ensure, conversation_id)
        voice = body.voice if body.voice in VOICES else settings.realtime.voice
        try:
            minted = await voice_bridge.mint_secret(
                state.engine,
                conversation_id=conversation_id,
                voice=voice,
                ttl_s=settings.realtime.secret_ttl_s,
            )
        except voice_bridge.EngineBusy as exc:
            state.metrics.errors.labels("engine_busy").inc()
            retry = exc.retry_after_s
            raise problem(
                429,
                "engine_busy",
                f"The voice engine is busy with other conversations: type your question, or try again "
                f"in {retry} s.",
                headers={"Retry-After": str(retry)},
            ) from exc
        except voice_bridge.EngineError as exc:
            state.metrics.errors.labels("engine").inc()
            log.warning("minting a realtime secret failed: %s", type(exc).__name__)
            raise problem(
                503, "engine_unavailable", "The voice engine could not start a session. Try again."
            ) from exc
        state.metrics.sessions.labels(kind).inc()
        return {
            **({"fallback_reason": fallback_reason} if fallback_reason else {}),
            "engine": kind,
            "secret": minted["value"],
            "expires_at": minted.get("expires_at"),
            "calls_url": "/v1/realtime/calls",
            "conversation_id": conversation_id,
            "voice": voice,
            "model": settings.realtime.model,
        }

    # --- the app event stream --------------------------------------------------------------------------
    app.include_router(event_stream.create_router(state, token))

    # --- the local realtime engine's own routes (`/v1/realtime/*`) --------------------------------------
    if state.cloud is not None:
        app.include_router(cloud_mod.create_router(state.cloud, auth))
    if state.engine is not None and local_wanted:
        router = voice_bridge.build_router(state.engine, require_token)
        if router is not None:
            app.include_router(router)

    # --- the page ------------------------------------------------------------------------------------------
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="page")
    else:

        @app.get("/", response_class=HTMLResponse)
        async def no_page() -> str:
            return (
                "<!doctype html><title>datavox</title><p>The web page is not built. "
                "Run <code>make web-build</code> "
                "(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and reload.</p>"
            )

    return app


def schema_payload(state: ServerState) -> dict[str, Any]:
    """The catalog the brain works from, as plain data."""
    brain = state.get_brain()
    catalog = getattr(brain, "catalog", None)
    if catalog is None:
        from datavox.data import schema as schema_mod
        from datavox.data.connect import parse_url

        catalog = schema_mod.introspect(parse_url(state.settings.database.url))  # opens its own connection
    plain: dict[str, Any] = to_plain(catalog)
    return plain


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_plain(to_dict())
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
