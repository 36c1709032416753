"""What one server process holds: settings, the conversation store, the event hub, shared state (Redis),
health, metrics and tracing, the brain (built on first use) and the voice engines."""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from typing import Any

from fastapi.concurrency import run_in_threadpool

from datavox.cancel import Cancelled
from datavox.config import Settings
from datavox.server import cloud as cloud_mod
from datavox.server import health as health_mod
from datavox.server import voice_bridge
from datavox.server.events import EventHub, normalise
from datavox.server.pgstore import StoreUnavailable
from datavox.server.ratelimit import TokenBucket
from datavox.server.store import open_store
from datavox.server.telemetry import Metrics, make_tracer, mark_error, now_ns, stage_spans
from datavox.types import Answer, HistoryTurn

log = logging.getLogger("datavox.server")


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
