"""The local realtime engine: sessions, client secrets, limits and the thread pools behind them.

One engine per process: the shared speech models, two thread pools (speech work, brain calls), admission
and the registry of live sessions; transports (`ws.py`, `rtc.py`) ask it for sessions.

Thread budget: speech work (STT, TTS) runs in one pool of `cpu_count // threads_per_model` workers
(`settings.voice.*_threads` each), so the cores are never over-subscribed however many sessions talk at
once; partial transcripts (UI only) are skipped while that pool is busy. The brain (mostly database
waits) has its own small pool; the event loop only moves audio and runs the VAD (~0.1 ms per 32 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar, cast

from datavox.config import Settings
from datavox.realtime import payloads, session_config
from datavox.realtime import protocol as p
from datavox.server.auth import is_loopback
from datavox.voice.access import EngineBusyError, EngineError, Grant, SessionLimitError
from datavox.voice.admission import Admission
from datavox.voice.contracts import AskFn, CancelFn, Player, PublishFn, SendFn, SessionOptions
from datavox.voice.heap import HeapTrimmer
from datavox.voice.models import SpeechModels, get_models
from datavox.voice.pool import PRIORITY, PriorityPool
from datavox.voice.session import Session
from datavox.voice.stt import batch_key, names_prompt

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["EngineBusyError", "EngineError", "Grant", "LocalRealtimeEngine", "SessionLimitError"]


class SessionRunner:
    """A session's `run`: the engine's pools, with the session's id on its queued work (see `drop`)."""

    def __init__(self, engine: LocalRealtimeEngine, owner: str) -> None:
        self.engine, self.owner = engine, owner

    def __call__(self, kind: str, fn: Callable[..., T], *args: Any) -> Awaitable[T]:
        return self.engine.run(kind, fn, *args, owner=self.owner)


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class LocalRealtimeEngine:
    def __init__(
        self,
        settings: Settings,
        ask: AskFn,
        publish: PublishFn | None = None,
        *,
        cancel: CancelFn | None = None,
        models: SpeechModels | None = None,
        loopback: bool | None = None,
        options: SessionOptions | None = None,
        vocabulary: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.ask = ask
        self.publish = publish
        self.cancel = cancel
        self._models = models
        # WebRTC on loopback only (tests, a laptop): aioice patch + candidate stripping (offline-stack §6).
        self.loopback = settings.server.host in ("127.0.0.1", "localhost") if loopback is None else loopback
        self.options = options or SessionOptions(
            half_duplex=settings.realtime.half_duplex, early_end=settings.voice.early_end
        )
        # Names the database knows (drivers, teams, circuits): tiny.en mishears rare names without them.
        # None: read them from the database at warm-up (or the first session).
        self._vocabulary_done = False
        if vocabulary is not None:
            self.use_vocabulary(vocabulary)
        self.clock = MonotonicClock()
        cores = os.cpu_count() or 2
        per_job = max(settings.voice.stt_threads, settings.voice.tts_threads, 1)
        self.speech_workers = max(1, cores // per_job)
        self._speech_pool = PriorityPool(self.speech_workers, observe=self._observe_work)
        # Freed model buffers back to the OS between turns (voice/heap.py): RSS stays flat over hours.
        self.heap = HeapTrimmer(settings.voice.heap_trim_s, idle=lambda: self._speech_pool.backlog == 0)
        self.admission = Admission(
            workers=self.speech_workers,
            budget_ms=settings.voice.latency_budget_ms,
            configured=settings.voice.capacity,
            max_sessions=settings.realtime.max_sessions,
        )
        # Per-kind queue wait and work time of the speech workers, for /metrics (set by the server).
        self.observe_work: Callable[[str, float, float], None] | None = None
        self._brain_pool = ThreadPoolExecutor(4, thread_name_prefix="dv-brain")
        self._secrets: dict[str, Grant] = {}
        # Several replicas (server/shared.py): secrets minted here go to Redis; every replica takes them.
        self.shared_secrets: Any = None
        self.sessions: dict[str, Session] = {}
        self.calls: dict[str, Any] = {}  # rtc_… -> rtc.RtcCall (rtc.create_call adds them)
        self._watchdog: asyncio.Task[None] | None = None

    # --- models and threads -----------------------------------------------------------------------------

    @property
    def models(self) -> SpeechModels:
        if self._models is None:
            self._models = get_models(self.settings)
        return self._models

    def warm_up(self, *, wait: bool = False) -> SpeechModels:
        """Load the models now (server start) instead of on the first call; raises ModelLoadError.

        The recogniser's vocabulary is worked out in a background thread (a few seconds); `wait` blocks
        until it is ready (tests, benchmarks).
        """
        models = self.models
        if self.admission.turn_ms is None:
            self._measure_turn(models)
        thread = self._ensure_vocabulary()
        if wait and thread is not None:
            thread.join()
        return models

    def use_vocabulary(self, names: list[str]) -> None:
        self._vocabulary_done = True
        self.options = replace(self.options, vocabulary=names_prompt(names))

    def _ensure_vocabulary(self) -> threading.Thread | None:
        """Names from the database for the recogniser, read once in a background thread."""
        if self._vocabulary_done:
            return None
        self._vocabulary_done = True

        def work() -> None:
            from datavox.voice.vocabulary import database_vocabulary

            names = database_vocabulary(self.settings)
            if names:
                self.use_vocabulary(names)
                log.info("speech vocabulary: %d names from the database", len(names))

        thread = threading.Thread(target=work, name="dv-vocabulary", daemon=True)
        thread.start()
        return thread

    @property
    def capacity(self) -> int:
        """Sessions admitted before `engine_busy` (measured at warm-up, or `voice.capacity`)."""
        return self.admission.capacity

    def _measure_turn(self, models: SpeechModels) -> None:
        if self.settings.voice.capacity <= 0:
            self.admission.measure(models)
            log.info("voice capacity: %d sessions (one turn: %s ms)", self.capacity, self.admission.turn_ms)

    def _observe_work(self, kind: str, wait_s: float, run_s: float) -> None:
        log.debug("speech work %s: waited %.0f ms, ran %.0f ms", kind, wait_s * 1000, run_s * 1000)
        self.admission.observe(kind, wait_s)
        self.heap.poke()
        if self.observe_work is not None:
            with contextlib.suppress(Exception):  # metrics never break a turn
                self.observe_work(kind, wait_s, run_s)

    def queue_depths(self) -> dict[str, int]:
        """Speech work waiting (and running, as `running:<kind>`), by kind: for /metrics."""
        return self._speech_pool.depths()

    async def run(self, kind: str, fn: Callable[..., T], *args: Any, owner: str | None = None) -> T:
        if kind == "brain":
            return await asyncio.get_running_loop().run_in_executor(self._brain_pool, fn, *args)
        if kind == "stt_partial" and self._speech_pool.backlog > 0:
            # Partials are for the UI and for speculation: only on an idle pool, so a worker is always
            # free for the next committed turn.
            return cast(T, "")
        stt = self._models.stt if self._models is not None else None
        many = getattr(stt, "transcribe_many", None)
        if kind == "stt" and many is not None and stt is not None and fn == stt.transcribe and len(args) == 2:
            # Turns that end together share one model call (same prompt): see pool.run_batched.
            return cast(
                T,
                await self._speech_pool.run_batched(
                    PRIORITY["stt"], many, tuple(args), key=batch_key(*args), kind=kind, owner=owner
                ),
            )
        return await self._speech_pool.run(PRIORITY.get(kind, 0), fn, *args, kind=kind, owner=owner)

    # --- client secrets -----------------------------------------------------------------------------------

    def default_session(self) -> dict[str, Any]:
        v = self.settings.voice
        return session_config.default_session(
            model=self.settings.realtime.model,
            voice=self.settings.realtime.voice,
            turn_detection=session_config.default_turn_detection(
                v.vad_threshold, v.prefix_padding_ms, v.silence_ms
            ),
        )

    def mint_secret(
        self,
        body: Any = None,
        *,
        conversation_id: str | None = None,
        voice: str | None = None,
        ttl_s: int | None = None,
    ) -> dict[str, Any]:
        """`POST /v1/realtime/client_secrets`: an `ek_…` that opens realtime sessions until it expires.

        The server's `/api/realtime/session` calls this with keywords: `conversation_id` binds the secret's
        sessions to the page's app event stream.
        """
        body = body if isinstance(body, dict) else {}
        self.check_capacity()
        ttl = ttl_s or self.settings.realtime.secret_ttl_s
        expires = body.get("expires_after")
        if isinstance(expires, dict):
            seconds = expires.get("seconds", ttl)
            if not isinstance(seconds, int) or not 10 <= seconds <= 7200:
                raise EngineError(400, "invalid_value", "expires_after.seconds must be an integer 10–7200")
            if expires.get("anchor", "created_at") != "created_at":
                raise EngineError(400, "invalid_value", "expires_after.anchor must be created_at")
            ttl = seconds
        update = body.get("session")
        if voice:
            update = {**(update or {}), "type": "realtime"}
            update.setdefault("audio", {}).setdefault("output", {})["voice"] = voice
        session = self.session_config(update)
        secret = payloads.client_secret(session, ttl)
        now = time.time()
        self._secrets = {k: v for k, v in self._secrets.items() if v.expires_at > now}  # forget expired ones
        self._secrets[secret["value"]] = Grant(
            float(secret["expires_at"]), secret["session"], conversation_id
        )
        if self.shared_secrets is not None:
            grant = {"session": secret["session"], "conversation_id": conversation_id}
            self.shared_secrets.put_grant(secret["value"], grant, float(secret["expires_at"]))
        return secret

    def _shared_grant(self, token: str) -> Grant | None:
        """A secret minted by another replica (Redis keeps it until it expires)."""
        found = self.shared_secrets.get_grant(token) if self.shared_secrets is not None else None
        if not found:
            return None
        return Grant(float(found.get("expires_at", 0)), found["session"], found.get("conversation_id"))

    def session_config(self, update: Any) -> dict[str, Any]:
        base = self.default_session()
        if update is None:
            return base
        try:
            config = session_config.merge_session(base, update)
        except p.ProtocolError as exc:
            raise EngineError(400, exc.code, exc.message) from exc
        config["id"] = base["id"]
        return config

    def authorize(self, token: str | None, *, browser: bool = False) -> Grant:
        """What a bearer token may open, as OpenAI's API decides it.

        - A live `ek_…` client secret: anyone, browsers included (that is what the secrets are for).
        - The standard credential, for server-side clients only (`browser` False): the server's API token
          when one is set; on a loopback-only server without a token (nobody else can reach it) any bearer,
          as the rest of its API needs none. A browser (it sends `Origin`) must use a client secret even
          then, so a page from another site cannot use a standard key a user pasted somewhere.
        """
        if not token:
            raise EngineError(
                401, "missing_api_key", "Authorization: Bearer ek_… (a client secret) is required."
            )
        if token.startswith("ek_"):
            grant = self._secrets.get(token) or self._shared_grant(token)
            if grant is None:
                raise EngineError(401, "invalid_api_key", "Unknown client secret.")
            if grant.expires_at <= time.time():
                raise EngineError(401, "expired_api_key", "The client secret has expired; mint a new one.")
            return Grant(grant.expires_at, {**grant.session, "id": p.new_id("sess")}, grant.conversation_id)
        if browser:
            raise EngineError(
                401,
                "invalid_api_key",
                "Browsers need an ephemeral client secret (ek_…): mint one with POST "
                "/v1/realtime/client_secrets on your server.",
            )
        api_token = self.settings.secrets.api_token
        if api_token:
            # Constant-time, as the server's own check (auth.token_matches): no timing hint of the token.
            if secrets.compare_digest(token.encode(), api_token.encode()):
                return self._standard_grant()
            raise EngineError(
                401, "invalid_api_key", "Not a client secret (ek_…) nor this server's API token."
            )
        if is_loopback(self.settings.server.host):
            return self._standard_grant()
        raise EngineError(401, "invalid_api_key", "Realtime sessions need a client secret (ek_…).")

    def _standard_grant(self) -> Grant:
        """A session for a standard-key client: the default config, a conversation of its own."""
        return Grant(0.0, self.default_session(), None)

    # --- sessions -----------------------------------------------------------------------------------------

    def open_session(
        self,
        config: dict[str, Any],
        send: SendFn,
        *,
        player: Player | None = None,
        conversation_id: str | None = None,
    ) -> Session:
        self.check_capacity()
        self._ensure_vocabulary()
        config = dict(config)
        config["expires_at"] = int(time.time() + self.settings.realtime.max_session_s)
        models = self.models
        td = config["audio"]["input"].get("turn_detection") or {}
        session = Session(
            config=config,
            vad=models.vad(td.get("threshold", 0.5)),
            stt=models.stt,
            tts=models.tts,
            ask=self.ask,
            run=SessionRunner(self, config["id"]),
            clock=self.clock,
            send=send,
            cancel=self.cancel,
            publish=self.publish,
            player=player,
            options=self.options,
            on_close=self._forget(config["id"]),
            conversation_id=conversation_id,
            speech_idle=lambda: self._speech_pool.backlog == 0,
        )
        self.sessions[session.id] = session
        self._ensure_watchdog()
        return session

    def check_capacity(self) -> None:
        """`SessionLimitError` at `realtime.max_sessions` (the hard limit); below it, `EngineBusyError`
        (engine_busy, with Retry-After) when one more session would break the live ones' latency budget."""
        limit = self.settings.realtime.max_sessions
        if len(self.sessions) >= limit:
            raise SessionLimitError(
                429,
                "session_limit_reached",
                f"The local engine is at its limit of {limit} concurrent sessions; try again when one ends.",
            )
        now = self.clock.now()
        idle = [now - s.last_activity for s in self.sessions.values()]
        refusal = self.admission.check(len(self.sessions), idle, self.settings.realtime.idle_timeout_s)
        if refusal is not None:
            raise EngineBusyError(
                f"{refusal.message} Type your question, or try again in {refusal.retry_after_s} s.",
                refusal.retry_after_s,
            )

    def _forget(self, session_id: str) -> Callable[[str], None]:
        def forget(_reason: str) -> None:
            self.sessions.pop(session_id, None)
            self._speech_pool.drop(session_id)  # its queued speech work will never be heard

        return forget

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        rt = self.settings.realtime
        while self.sessions:
            await asyncio.sleep(1.0)
            now = self.clock.now()
            for session in list(self.sessions.values()):
                hit = session.limit_exceeded(now, rt.max_session_s, rt.idle_timeout_s)
                if hit is not None:
                    session.fail(*hit)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            session.close("server_shutdown")
        for call in list(self.calls.values()):
            with contextlib.suppress(Exception):
                await call.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._speech_pool.shutdown()
        self.heap.close()
        self._brain_pool.shutdown(wait=False, cancel_futures=True)
