"""Binding, tokens, CORS, rate limits and secrets kept out of payloads and logs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tests.server.conftest import FakeBrain, FakeEngine, make_settings

from datavox.server.app import create_app
from datavox.server.auth import BindRefused, check_bind
from datavox.server.ratelimit import TokenBucket
from datavox.server.telemetry import RedactSecrets

TOKEN = "tok-0123456789abcdef"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_without_a_token_only_loopback_binds(host: str) -> None:
    with pytest.raises(BindRefused):
        check_bind(host, "")
    check_bind(host, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_binds_without_a_token(host: str) -> None:
    check_bind(host, "")


def test_serve_refuses_a_public_address_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from datavox.cli import main

    monkeypatch.delenv("DATAVOX_API_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "9"])
    assert result.exit_code != 0
    assert "DATAVOX_API_TOKEN" in result.output


def test_with_a_token_every_api_call_needs_it(tmp_path: Path, brain: FakeBrain) -> None:
    app = create_app(make_settings(tmp_path, token=TOKEN, engine="local"), brain=brain, engine=FakeEngine())
    good = {"Authorization": f"Bearer {TOKEN}"}
    bad = {"Authorization": "Bearer nope"}
    calls = [
        ("post", "/api/ask", {"question": "hello"}),
        ("get", "/api/schema", None),
        ("get", "/api/config", None),
        ("post", "/api/conversations", None),
        ("get", "/api/conversations/conv_x", None),
        ("post", "/api/realtime/session", {}),
    ]
    with TestClient(app) as client:
        for method, path, body in calls:
            for headers in ({}, bad):
                res = client.request(method, path, json=body, headers=headers)
                assert res.status_code == 401, (method, path)
                assert res.headers["www-authenticate"] == "Bearer"
        assert client.post("/api/ask", json={"question": "hello"}, headers=good).status_code == 200
        assert client.post("/api/realtime/session", json={}, headers=good).status_code == 200
        assert client.get("/api/config", headers=good).json()["auth_required"] is True
        assert client.get("/healthz").status_code == 200  # probes need no token


def test_event_stream_needs_the_token(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path, token=TOKEN), brain=brain)) as client:
        with client.websocket_connect("/api/events") as ws:
            ws.send_json({"type": "hello", "conversation_id": "conv_a", "token": "wrong"})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4401
        with client.websocket_connect("/api/events") as ws:
            ws.send_json({"type": "hello", "conversation_id": "conv_a", "token": TOKEN})
            assert ws.receive_json()["type"] == "ready"


def test_event_stream_refuses_other_sites(tmp_path: Path, brain: FakeBrain) -> None:
    app = create_app(make_settings(tmp_path), brain=brain)
    evil = {"origin": "https://evil.example"}
    with TestClient(app) as client, pytest.raises(WebSocketDisconnect) as closed:
        client.websocket_connect("/api/events", headers=evil).__enter__()
    assert closed.value.code == 4403


def test_cors_only_for_configured_origins(tmp_path: Path, brain: FakeBrain) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://ok.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with TestClient(create_app(settings, brain=brain)) as client:
        ok = client.get("/api/config", headers={"Origin": "https://ok.example"})
        evil = client.get("/api/config", headers={"Origin": "https://evil.example"})
        ok_pre = client.options("/api/ask", headers={"Origin": "https://ok.example", **preflight})
        evil_pre = client.options("/api/ask", headers={"Origin": "https://evil.example", **preflight})
    assert ok.headers["access-control-allow-origin"] == "https://ok.example"
    assert ok_pre.headers["access-control-allow-origin"] == "https://ok.example"
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in evil_pre.headers


def test_no_cors_headers_when_none_configured(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        res = client.get("/api/config", headers={"Origin": "https://ok.example"})
    assert "access-control-allow-origin" not in res.headers


def test_questions_are_rate_limited(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path, rate_per_minute=3), brain=brain)) as client:
        codes = [client.post("/api/ask", json={"question": "hello"}).status_code for _ in range(4)]
        last = client.post("/api/ask", json={"question": "hello"})
    assert codes == [200, 200, 200, 429]
    assert last.json()["detail"]["code"] == "rate_limited" and int(last.headers["retry-after"]) >= 1


def test_secrets_are_rate_limited(tmp_path: Path, brain: FakeBrain) -> None:
    app = create_app(
        make_settings(tmp_path, engine="local", rate_per_minute=12), brain=brain, engine=FakeEngine()
    )
    with TestClient(app) as client:
        codes = [client.post("/api/realtime/session", json={}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_token_bucket_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(60, burst=1, clock=lambda: now[0])
    assert bucket.allow("a") == (True, 0.0)
    allowed, wait = bucket.allow("a")
    assert not allowed and wait == pytest.approx(1.0)
    assert bucket.allow("b")[0]  # per client
    now[0] = 1.0
    assert bucket.allow("a")[0]


def test_secrets_stay_out_of_payloads_and_logs(
    tmp_path: Path, brain: FakeBrain, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, token=TOKEN, engine="local")
    engine = FakeEngine()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    server_secrets = [TOKEN, settings.secrets.llm_api_key, settings.secrets.realtime_api_key]
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings, brain=brain, engine=engine)) as client:
        payloads = [
            client.get("/").text,
            client.get("/healthz").text,
            client.get("/metrics").text,
            client.get("/api/config", headers=headers).text,
            client.post("/api/ask", json={"question": "Who has the most titles?"}, headers=headers).text,
            client.get("/api/schema", headers=headers).text,
            client.get("/openapi.json").text,
        ]
        session = client.post("/api/realtime/session", json={}, headers=headers).json()
        logging.getLogger("datavox.server").info("minted %s", session["secret"])
    for text in payloads:
        for secret in server_secrets:
            assert secret not in text
    # The ephemeral secret goes to the page that asked for it, and nowhere else.
    assert session["secret"].startswith("ek_")
    for secret in [*server_secrets, session["secret"]]:
        assert secret not in caplog.text or not _unredacted(caplog, secret)


def _unredacted(caplog: pytest.LogCaptureFixture, secret: str) -> bool:
    redact = RedactSecrets([TOKEN])
    return any(secret in redact.redact(r.getMessage()) for r in caplog.records)


def test_redaction_filter_masks_secrets() -> None:
    flt = RedactSecrets([TOKEN])
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "auth %s key %s", ("Bearer abc.def", "ek_local_123456"), None
    )
    flt.filter(record)
    assert record.getMessage() == "auth Bearer **** key ek_****"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"token={TOKEN}", None, None)
    flt.filter(record)
    assert TOKEN not in record.getMessage()


def test_redaction_filter_masks_tracebacks() -> None:
    try:
        raise RuntimeError(f"the server refused key {TOKEN} for Bearer abc.def")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "brain failed", None, sys.exc_info())
    RedactSecrets([TOKEN]).filter(record)
    printed = logging.Formatter().format(record)
    assert "RuntimeError: the server refused key **** for Bearer ****" in printed
    assert TOKEN not in printed and "abc.def" not in printed
