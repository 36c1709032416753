"""Spans per turn and stage leave the process over OTLP/HTTP only when an endpoint is configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from tests.server.conftest import FakeBrain, make_settings

from datavox.server.app import create_app


class FakeCollector(BaseHTTPRequestHandler):
    """A fake OTLP collector: records the paths and sizes of what it is sent."""

    received: ClassVar[list[tuple[str, int]]] = []

    def do_POST(self) -> None:
        size = int(self.headers.get("content-length", "0"))
        self.rfile.read(size)
        FakeCollector.received.append((self.path, size))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    FakeCollector.received = []
    httpd = HTTPServer(("127.0.0.1", 0), FakeCollector)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_spans_are_exported_when_an_endpoint_is_set(tmp_path: Path, brain: FakeBrain, collector: str) -> None:
    app = create_app(make_settings(tmp_path, otlp_endpoint=collector), brain=brain)
    with TestClient(app) as client:
        client.post("/api/ask", json={"question": "Who has the most titles?"})
        assert app.state.datavox.provider.force_flush(5000)
    assert FakeCollector.received and FakeCollector.received[0][0] == "/v1/traces"
    assert FakeCollector.received[0][1] > 0


def test_no_exporter_without_an_endpoint(
    tmp_path: Path, brain: FakeBrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    app = create_app(make_settings(tmp_path), brain=brain)
    provider = app.state.datavox.provider
    assert not provider._active_span_processor._span_processors  # nothing would leave the process


def test_the_standard_otel_variable_is_used_when_no_endpoint_is_set(
    tmp_path: Path, brain: FakeBrain, collector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Azure Container Apps' managed OpenTelemetry agent sets in the container's environment.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
    app = create_app(make_settings(tmp_path), brain=brain)
    with TestClient(app) as client:
        client.post("/api/ask", json={"question": "Who has the most titles?"})
        assert app.state.datavox.provider.force_flush(5000)
    assert [path for path, _ in FakeCollector.received][:1] == ["/v1/traces"]
