"""/livez, /readyz and /healthz: starting, ready, degraded, failed; the page hears a change of service."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.server.conftest import FakeBrain, make_settings

from datavox.server.app import create_app


def test_starting_then_ready(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, engine="local"), brain=FakeBrain())
    state = app.state.datavox
    with TestClient(app) as client:
        state.health.phase = "starting"  # what `datavox serve` shows while the models load
        live = client.get("/livez")
        assert live.status_code == 200
        # A value for a load balancer to hash on, set once (the client sends it back from then on).
        assert f"datavox_affinity={state.replica}" in live.headers["set-cookie"]
        assert "HttpOnly" in live.headers["set-cookie"]
        starting = client.get("/readyz")
        assert starting.status_code == 503 and starting.json()["status"] == "starting"
        state.health.phase = "ready"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        assert ready.headers["x-datavox-replica"] == state.replica
        state.health.phase, state.health.phase_problem = "failed", "ModelLoadError: no whisper"
        failed = client.get("/healthz")
        assert failed.status_code == 503 and failed.json()["problem"] == "ModelLoadError: no whisper"


class DownStore:
    """The embedded store, reporting the conversation database as unreachable."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def status(self) -> tuple[bool, str]:
        return False, "cannot reach the conversation database postgresql://db.internal/datavox"

    def pending(self) -> int:
        return 3

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_degraded_is_ready_and_the_page_is_told(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, engine="local"), brain=FakeBrain())
    state = app.state.datavox
    with TestClient(app) as client, client.websocket_connect("/api/events") as ws:
        ws.send_json({"type": "hello", "conversation_id": "conv_health1"})
        assert ws.receive_json()["type"] == "ready"
        real = state.store
        state.store = DownStore(real)
        state.health.notify()
        event = ws.receive_json()
        assert event["type"] == "service" and event["status"] == "degraded"
        assert event["problems"][0].startswith("Saving is delayed")
        assert "db.internal" not in str(event)  # addresses are for operators, not pages
        body = client.get("/readyz")
        assert body.status_code == 200  # a degraded replica still answers typed questions
        assert body.json()["status"] == "degraded"
        assert body.json()["checks"]["store"] == {
            "ok": False,
            "detail": "cannot reach the conversation database postgresql://db.internal/datavox",
            "pending_writes": 3,
        }
        metrics = client.get("/metrics").text
        assert 'datavox_dependency_up{dependency="store"} 0.0' in metrics
        assert 'datavox_dependency_up{dependency="state"} 1.0' in metrics
        assert "datavox_outbox_pending_writes 3.0" in metrics
        state.store = real
        state.health.notify()
        assert ws.receive_json() == {
            "type": "service",
            "status": "ok",
            "problems": [],
            "conversation_id": "conv_health1",
        }
