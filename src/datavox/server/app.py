"""The FastAPI app: the page at `/`, the JSON API under `/api`, the app event stream, health and metrics.

`create_app(settings, *, brain=None, engine=None)`: tests inject a brain (anything with
`ask(question, history) -> Answer`) and a voice engine; otherwise the brain is built on first use and the
local realtime engine when `realtime.engine == "local"` and the voice package is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from datavox import __version__
from datavox.cancel import Cancelled
from datavox.config import Settings
from datavox.server import cloud as cloud_mod
from datavox.server import health as health_mod
from datavox.server import voice_bridge
from datavox.server.auth import bearer_dependency, token_matches
from datavox.server.events import EventHub, normalise
from datavox.server.pgstore import StoreUnavailable
from datavox.server.ratelimit import TokenBucket
from datavox.server.store import new_conversation_id, new_turn_id, open_store
from datavox.server.telemetry import Metrics, make_tracer, mark_error, now_ns, stage_spans
from datavox.types import Answer, HistoryTurn

log = logging.getLogger("datavox.server")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
VOICES = ["marin", "cedar", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"]
ENGINE_LABELS = {"local": "Local (offline)", "azure": "Azure OpenAI", "openai": "OpenAI"}
CREDITS = (
    "Formula 1 data from F1DB (https://github.com/f1db/f1db) by Marcel Overdijk and contributors, "
    "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Release v2026.3.0; "
    "CSV files unmodified."
)


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


class ServerState:
    def __init__(self, settings: Settings, brain: Any | None, engine: Any | None) -> None:
        self.settings = settings
        # Which process this is, for operators and for session affinity (X-Datavox-Replica).
        self.replica = settings.server.replica_id or f"{socket.gethostname()}-{os.getpid()}"
        self.store = open_store(settings, self.replica)
        self.hub = EventHub()
        self.shared: Any = None  # SharedState when server.state_url is set
        if settings.server.state_url:
            from datavox.server.shared import SharedState

            srv = settings.server
            self.shared = SharedState(srv.state_url, srv.state_prefix, self.replica)
        self.health = health_mod.Health(self)
        self.store.on_change = self.health.notify
        if self.shared is not None:
            self.shared.on_change = self.health.notify
        self.metrics = Metrics()
        health_mod.register_metrics(self.health, self.metrics.registry)
        self.provider, self.tracer = make_tracer(settings.server.otlp_endpoint)
        self.brain = brain
        self.engine = engine
        self.cloud: cloud_mod.CloudService | None = None
        self.cloud_problem = ""  # why the configured cloud engine cannot start (a settings error)
        self._brain_lock = threading.Lock()
        self.warm_on_start = False
        self.ready_message = ""
        rate = settings.server.rate_per_minute
        self.ask_bucket: Any = TokenBucket(rate)
        # Each secret starts a voice session: fewer are needed than questions, and they cost more.
        self.secret_bucket: Any = TokenBucket(max(1, rate // 6), burst=max(2, rate // 6))
        if self.shared is not None:  # counted in Redis: the same limits whichever replica a request hits
            from datavox.server.shared import SharedBucket

            self.ask_bucket = SharedBucket(self.shared, "ask", rate)
            per_min = max(1, rate // 6)
            self.secret_bucket = SharedBucket(self.shared, "secret", per_min, burst=max(2, rate // 6))

    # --- the brain -----------------------------------------------------------------------------------
    def get_brain(self) -> Any:
        if self.brain is None:
            with self._brain_lock:
                if self.brain is None:
                    # Imported by name: the brain lands separately and loads data on first use.
                    brain_cls = importlib.import_module("datavox.brain.brain").Brain
                    self.brain = brain_cls.from_settings(self.settings)
        return self.brain

    def answer(self, question: str, history: list[HistoryTurn], *, source: str) -> Answer:
        """Ask the brain inside a turn span with one child span per timed stage; record metrics."""
        brain = self.get_brain()
        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            "datavox.turn", attributes={"datavox.source": source, "datavox.history_turns": len(history)}
        ) as span:
            try:
                answer: Answer = brain.ask(question, history)
            except Cancelled:  # a voice turn the user talked over or hung up on: not a brain error
                raise
            except Exception as exc:
                self.metrics.errors.labels("brain").inc()
                mark_error(span, type(exc).__name__)
                raise
            total_ms = (time.perf_counter() - started) * 1000.0
            # The brain names its stages `<stage>_ms`; add the whole turn as seen from here if it did not.
            if "total_ms" not in answer.timings_ms and "total" not in answer.timings_ms:
                answer.timings_ms["total_ms"] = round(total_ms, 2)
            stage_spans(self.tracer, now_ns(), answer.timings_ms)
            span.set_attribute("datavox.intent", str(answer.intent))
            span.set_attribute("datavox.engine", answer.engine)
            span.set_attribute("datavox.rows", len(answer.rows))
            if answer.error:
                mark_error(span, answer.error)
        self.metrics.observe_answer(answer.to_dict(), source)
        return answer

    # --- events from the voice engine (any thread) ------------------------------------------------
    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        try:
            out = normalise(conversation_id, event)
            self._persist(out)
            self.fan_out(out)
        except Exception:  # a broken event must never break the voice turn that sent it
            log.exception("could not publish an event of type %s", event.get("type"))

    def fan_out(self, event: dict[str, Any]) -> None:
        """A normalised event to this replica's pages now, and to the other replicas' through Redis."""
        self.hub.send(event)
        if self.shared is not None:
            self.shared.publish(event)

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
        self.store.close()

    def _persist(self, event: dict[str, Any]) -> None:
        conv, turn = event["conversation_id"], str(event.get("turn_id") or "")
        source = str(event.get("source") or "voice")
        if not turn:
            return
        if event["type"] == "transcript.final":
            self.store.save_user(conv, turn, str(event.get("text") or ""), source=source)
        elif event["type"] == "answer" and isinstance(event.get("answer"), dict):
            self.store.save_answer(conv, turn, event["answer"], source=source)
        elif event["type"] == "timings" and isinstance(event.get("timings_ms"), dict):
            # The engine's own breakdown of a voice turn (stt, brain, tts, first audio), for /metrics.
            for stage, ms in event["timings_ms"].items():
                if isinstance(ms, int | float) and 0 <= ms < 600_000:
                    name = stage.removesuffix("_ms")
                    self.metrics.turn_latency.labels(f"voice_{name}").observe(float(ms) / 1000.0)

    def cancel_query(self, thread_id: int) -> None:
        """Barge-in: stop the query the brain runs on thread `thread_id` (that voice session's own turn),
        if it can; other sessions' queries run on."""
        cancel = getattr(self.brain, "cancel", None)
        if callable(cancel):
            cancel(thread_id)

    def voice_ask(self, question: str, history: list[HistoryTurn]) -> Answer:
        return self.answer(question, history, source="voice")

    def stored_history(self, conversation_id: str) -> list[HistoryTurn]:
        """The stored turns of a conversation, for a cloud session that continues it."""
        try:
            data = self.store.history(conversation_id) or {"turns": []}
        except StoreUnavailable:
            log.warning("conversation database down: a new voice session starts without the earlier turns")
            data = {"turns": []}
        role_ok = ("user", "assistant")
        return [
            HistoryTurn(t["role"], t["text"]) for t in data["turns"] if t["role"] in role_ok and t["text"]
        ]


async def warm_up(state: ServerState) -> None:
    try:
        await run_in_threadpool(state.get_brain)
        if state.engine is not None:
            await voice_bridge.warm_up(state.engine)
    except Exception as exc:
        log.exception("loading the brain or the speech models failed")
        state.health.phase, state.health.phase_problem = "failed", f"{type(exc).__name__}: {exc}"
        return
    state.health.phase = "ready"
    if state.ready_message:
        print(state.ready_message, flush=True)


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
    @app.websocket("/api/events")
    async def events(ws: WebSocket) -> None:
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), settings.server.cors_origins):
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
