"""Admission: the engine refuses a session that would push the others past their latency budget, with
`engine_busy` and a Retry-After, over HTTP and WebSocket; the admitted sessions carry on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from tests.voice.fakes import FakeBrain, FakeModels
from tests.voice.server import serve

from datavox.config import ServerSettings, Settings
from datavox.voice.admission import Admission
from datavox.voice.clients import mint
from datavox.voice.engine import EngineBusyError, LocalRealtimeEngine


def test_capacity_from_the_measured_turn() -> None:
    adm = Admission(workers=2, budget_ms=1000, max_sessions=8)
    assert adm.capacity == 4  # not measured yet: the reference machine's figure
    adm.measured(370)  # transcription + first sentence, on one worker
    assert adm.capacity == 4  # 2 workers × floor(1000 / 370)
    adm.measured(180)
    assert adm.capacity == 8  # 2 × 5 = 10, held at realtime.max_sessions
    adm.measured(1500)
    assert adm.capacity == 2  # a slow machine still takes one session per worker
    adm.measured(280, tts_ms=180)  # a sentence a worker may have just started is waited out first
    assert adm.capacity == 4  # 2 × floor((1000 - 180) / 280)
    assert Admission(workers=2, budget_ms=1000, configured=3).capacity == 3


def test_refusal_at_capacity_says_when_to_retry() -> None:
    adm = Admission(workers=1, budget_ms=1000, configured=2)
    assert adm.check(1, [0.0], 300) is None
    refusal = adm.check(2, [10.0, 290.0], 300)  # one session idle for 290 s: it times out in 10 s
    assert refusal is not None and refusal.retry_after_s == 10
    assert "2 conversations" in refusal.message
    busy = adm.check(2, [0.0, 1.0], 300)
    assert busy is not None and busy.retry_after_s == 60  # nobody idle: at most a minute
    soon = adm.check(2, [299.5, 1.0], 300)
    assert soon is not None and soon.retry_after_s == 5  # never less than 5 s


def test_back_pressure_from_the_workers_queue() -> None:
    adm = Admission(workers=2, budget_ms=1000, max_sessions=8)
    adm.measured(300)
    for _ in range(20):
        adm.observe("stt_partial", 5.0)  # UI partials wait: nobody waits for them
    assert adm.check(1, [0.0], 300) is None
    for _ in range(20):
        adm.observe("stt", 0.9)  # committed turns wait 0.9 s for a worker: the budget is gone
    refusal = adm.check(1, [0.0], 300)
    assert refusal is not None and 2 <= refusal.retry_after_s <= 30
    assert "wait" in refusal.message
    assert adm.check(0, [], 300) is None  # the first session is always admitted


def make_engine(capacity: int) -> LocalRealtimeEngine:
    settings = Settings()
    settings = replace(settings, voice=replace(settings.voice, capacity=capacity))
    return LocalRealtimeEngine(settings, FakeBrain(), models=FakeModels(), loopback=True)  # type: ignore[arg-type]


async def test_a_session_past_capacity_is_refused_and_the_others_carry_on() -> None:
    engine = make_engine(capacity=2)
    with serve(engine) as base:
        secret = await mint(base)
        ws_url = base.replace("http", "ws") + "/v1/realtime"
        auth = {"Authorization": f"Bearer {secret}"}
        async with websockets.connect(ws_url, additional_headers=auth) as first:
            assert json.loads(await first.recv())["type"] == "session.created"
            async with websockets.connect(ws_url, additional_headers=auth) as second:
                assert json.loads(await second.recv())["type"] == "session.created"
                assert len(engine.sessions) == 2
                # WebSocket: an error event the SDKs show, then close 1013 (try again later)
                async with websockets.connect(ws_url, additional_headers=auth) as third:
                    err = json.loads(await third.recv())
                    assert err["type"] == "error" and err["error"]["code"] == "engine_busy"
                    assert "try again in" in err["error"]["message"]
                    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                        await third.recv()
                    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
                async with httpx.AsyncClient() as http:
                    r = await http.post(f"{base}/v1/realtime/client_secrets", json={})
                    assert r.status_code == 503 and r.json()["error"]["code"] == "engine_busy"
                    assert 5 <= int(r.headers["retry-after"]) <= 60
                    r = await http.post(
                        f"{base}/v1/realtime/calls",
                        content="v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
                        headers={**auth, "Content-Type": "application/sdp"},
                    )
                    assert r.status_code == 503 and r.json()["error"]["code"] == "engine_busy"
                    assert "retry-after" in r.headers
                # the admitted sessions still answer
                await second.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
                assert json.loads(await second.recv())["type"] == "session.updated"
                assert len(engine.sessions) == 2
        # both gone: a new session is admitted again
        async with websockets.connect(ws_url, additional_headers=auth) as again:
            assert json.loads(await again.recv())["type"] == "session.created"
    await engine.close()


def test_engine_busy_reaches_the_page_with_retry_after_and_metrics(tmp_path: Path) -> None:
    from tests.server.conftest import FakeBrain as ServerBrain

    from datavox.server.app import create_app

    settings = Settings()
    settings = replace(
        settings,
        voice=replace(settings.voice, capacity=1),
        server=replace(ServerSettings(), app_db=str(tmp_path / "app.sqlite")),
    )
    engine = make_engine(capacity=1)
    engine.admission.measured(250.0)
    holder = SimpleNamespace(last_activity=engine.clock.now())  # one live session holds the only slot
    engine.sessions["sess_busy"] = holder  # type: ignore[assignment]
    with TestClient(create_app(settings, brain=ServerBrain(), engine=engine)) as client:
        res = client.post("/api/realtime/session", json={})
        assert res.status_code == 429 and res.json()["detail"]["code"] == "engine_busy"
        retry = int(res.headers["retry-after"])
        assert 5 <= retry <= 60 and f"try again in {retry} s" in res.json()["detail"]["message"]
        with pytest.raises(EngineBusyError):
            engine.check_capacity()
        metrics = client.get("/metrics").text
    assert "datavox_voice_capacity 1.0" in metrics
    assert "datavox_voice_sessions 1.0" in metrics
    assert "datavox_voice_heap_released_bytes" in metrics
    assert 'datavox_voice_queue_depth{kind="stt"} 0.0' in metrics
    assert 'datavox_errors_total{kind="engine_busy"} 1.0' in metrics
