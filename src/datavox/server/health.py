"""Liveness, readiness and the `service` event: what a load balancer and the page are told about a replica.

- `/livez`: 200 while the process serves HTTP (restart it when this fails).
- `/readyz` and `/healthz`: 200 `ready` or `degraded`, 503 `starting` (the brain and speech models are
  loading) or `failed` (they could not load). A degraded replica still answers typed questions from the
  data database, so it stays in the load balancer: when PostgreSQL or Redis is down for every replica,
  taking them all out would turn a partial outage into a full one.
- `degraded`: the conversation database (`server.store_url`) or Redis (`server.state_url`) is unreachable.
  The body's `checks` say which and why; pages on the replica get a `service` event in plain words.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from datavox import __version__

Phase = Literal["starting", "ready", "failed"]

# What the page says while a service is down (no host names, no error text: those are for operators).
PEOPLE = {
    "store": "Saving is delayed: the conversation database is unreachable. Answers still come, and are "
    "saved when it returns.",
    "state": "Live updates from other servers are paused (Redis is unreachable). This page still gets "
    "its own answers.",
}


class Health:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.phase: Phase = "ready"
        self.phase_problem = ""
        self._last_sent: tuple[str, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def checks(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ok, detail = self.state.store.status()
        out["store"] = {"ok": ok, "detail": detail, "pending_writes": self.state.store.pending()}
        if self.state.shared is not None:
            ok, detail = self.state.shared.status()
            out["state"] = {"ok": ok, "detail": detail}
        else:
            out["state"] = {"ok": True, "detail": "in memory (one process)"}
        return out

    def snapshot(self) -> dict[str, Any]:
        checks = self.checks()
        status: str
        if self.phase != "ready":
            status = self.phase
        else:
            status = "ok" if all(c["ok"] for c in checks.values()) else "degraded"
        out: dict[str, Any] = {
            "status": status,
            "version": __version__,
            "replica": self.state.replica,
            "engine": self.state.settings.realtime.engine,
            "realtime": self.state.engine is not None,
            "brain_loaded": self.state.brain is not None,
            "checks": checks,
        }
        if self.phase_problem:
            out["problem"] = self.phase_problem
        return out

    def service_event(self) -> dict[str, Any]:
        checks = self.checks()
        problems = [PEOPLE[name] for name, check in checks.items() if not check["ok"] and name in PEOPLE]
        return {"type": "service", "status": "degraded" if problems else "ok", "problems": problems}

    def notify(self) -> None:
        """Tell this replica's pages when the service changed (called by the store and Redis monitors)."""
        event = self.service_event()
        key = (str(event["status"]), tuple(event["problems"]))
        with self._lock:
            if key == self._last_sent or (self._last_sent is None and event["status"] == "ok"):
                self._last_sent = key
                return
            self._last_sent = key
        self.state.hub.broadcast(event)


def register_metrics(health: Health, registry: Any) -> None:
    """/metrics: `datavox_dependency_up{dependency="store"|"state"}` (1 or 0) and the outbox's length, for
    alerts that do not poll /readyz."""
    from prometheus_client import Gauge

    up = Gauge(
        "datavox_dependency_up",
        "1 while a shared service answers: store (PostgreSQL or the SQLite file), state (Redis or memory).",
        ["dependency"],
        registry=registry,
    )

    def reader(name: str) -> Callable[[], float]:
        return lambda: float(health.checks()[name]["ok"])

    for name in ("store", "state"):
        up.labels(name).set_function(reader(name))
    pending = Gauge(
        "datavox_outbox_pending_writes",
        "Conversation writes waiting in the outbox for the conversation database.",
        registry=registry,
    )
    pending.set_function(lambda: float(health.state.store.pending()))


def create_router(health: Health) -> APIRouter:
    router = APIRouter(tags=["health"])

    def answer() -> JSONResponse:
        body = health.snapshot()
        code = 200 if body["status"] in ("ok", "degraded") else 503
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    @router.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "alive", "replica": health.state.replica}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        return answer()

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        return answer()

    return router
