"""A FAKE OpenAI-compatible chat completions server, for tests only.

The cloud endpoints datavox talks to (OpenAI, Azure OpenAI) cannot be reached from the test machines, so the
tests start this real HTTP server on 127.0.0.1 (random port) and point the official `openai` SDK at it. It
is not a model: it answers with completions the test scripted in advance, records every request it got
(path, query, headers, JSON body) so tests can check request shapes, and can misbehave on purpose:

- `Reply.status(429, retry_after="0")` / `Reply.status(500)` — an error response (with `Retry-After`);
- `Reply.hang(seconds)` — wait longer than the client's timeout before answering;
- `Reply.json(obj)` / `Reply.text(str)` — a normal completion whose message content is the JSON or text.

Paths served, as the real services do:

- OpenAI and compatible servers: `POST /v1/chat/completions`
- Azure OpenAI GA surface: `POST /openai/v1/chat/completions`
- Azure OpenAI versioned surface: `POST /openai/deployments/{deployment}/chat/completions?api-version=...`

Usage::

    with FakeOpenAIServer() as server:
        server.script(Reply.json({"intent": "CONVERSATIONAL", ...}))
        client = OpenAI(base_url=server.url("/v1"), api_key="test")
        ...
        assert server.requests[0].path == "/v1/chat/completions"
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_PATHS = (
    re.compile(r"^/v1/chat/completions$"),
    re.compile(r"^/openai/v1/chat/completions$"),
    re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$"),
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: dict[str, Any]
    deployment: str | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def prompt_text(self) -> str:
        """Every message's content joined: what the model would have read."""
        return "\n\n".join(str(m.get("content", "")) for m in self.messages)


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status_code: int = 200
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    error_body: dict[str, Any] | None = None

    @staticmethod
    def text(content: str) -> Reply:
        return Reply(content=content)

    @staticmethod
    def json(obj: Any) -> Reply:
        return Reply(content=json.dumps(obj))

    @staticmethod
    def status(code: int, *, retry_after: str | None = None, message: str = "scripted error") -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return Reply(
            status_code=code, headers=headers, error_body={"error": {"message": message, "code": code}}
        )

    @staticmethod
    def hang(seconds: float) -> Reply:
        """Answer only after `seconds` (longer than the client's timeout): the client sees a timeout."""
        return Reply(content="{}", delay_s=seconds)


Responder = Callable[[RecordedRequest], Reply]


class FakeOpenAIServer:
    """A real HTTP server on 127.0.0.1 that fakes the chat completions endpoint. See the module docstring."""

    def __init__(self, *, default: Reply | Responder | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply | Responder] = deque()
        self._default = default
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval keeps stop() (and so each test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # ends any scripted hang at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test API --------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply | Responder) -> None:
        """Queue replies; each request takes the next one (then the default, else a 500 saying so)."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    # -- internals -------------------------------------------------------------------------------------
    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            item = self._script.popleft() if self._script else self._default
        if item is None:
            return Reply.status(500, message="fake server: no scripted reply left")
        return item(request) if callable(item) else item

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                split = urlsplit(self.path)
                match = next((m for p in _PATHS if (m := p.match(split.path))), None)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if match is None:
                    self._send(404, {"error": {"message": f"fake server: no route {split.path}"}})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "fake server: body is not JSON"}})
                    return
                request = RecordedRequest(
                    method="POST",
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    deployment=match.groupdict().get("deployment"),
                )
                reply = fake._next_reply(request)
                if reply.delay_s:
                    fake._closing.wait(reply.delay_s)
                    if fake._closing.is_set():
                        return
                if reply.status_code != 200:
                    self._send(reply.status_code, reply.error_body or {"error": {}}, reply.headers)
                    return
                self._send(200, _completion(reply.content or "", model=str(body.get("model", "fake"))))

            def _send(
                self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        return Handler


def _completion(content: str, *, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
