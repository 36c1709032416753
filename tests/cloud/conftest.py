"""Harness for the cloud engine tests: the FAKE realtime cloud, datavox served for real, a WebRTC "page".

Every test here runs three real servers on loopback: the FAKE cloud (tests/fakes/realtime_cloud.py), datavox
itself (uvicorn in a thread, `create_app`), and an aiortc peer standing in for the page's WebRTC code (it
posts its SDP offer exactly as web/src/realtime.ts does). Nothing reaches a real cloud.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from tests.fakes.realtime_cloud import FakeRealtimeCloud

from datavox.config import DatabaseSettings, RealtimeSettings, Secrets, ServerSettings, Settings
from datavox.server.app import create_app
from datavox.types import Answer, HistoryTurn, Intent

KEY = "fake-server-key-0123456789"
TOKEN = "app-token-abcdefghijkl"


class ScriptBrain:
    """Answers from a table; `hold` makes a question wait (as a slow query) until released or cancelled."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[HistoryTurn]]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.cancelled: list[int] = []

    def ask(self, question: str, history: list[HistoryTurn]) -> Answer:
        self.asked.append((question, list(history)))
        self.hold.wait(10)
        if "hello" in question.lower():
            return Answer(
                question=question, intent=Intent.CONVERSATIONAL, answer="Hi there.", engine="script"
            )
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer="Max Verstappen won the 2023 title with 575 points.",
            engine="script",
            sql="SELECT driver, points FROM standings WHERE year = 2023 ORDER BY points DESC LIMIT 1",
            columns=["driver", "points"],
            rows=[["Max Verstappen", 575]],
            chart=None,
        )

    def cancel(self, thread_id: int | None = None) -> None:
        self.cancelled.append(thread_id or 0)
        self.hold.set()


def cloud_settings(
    tmp_path: Path, cloud: FakeRealtimeCloud, kind: str = "azure", **realtime: Any
) -> Settings:
    base = Settings()
    rt = RealtimeSettings(
        engine=kind,  # type: ignore[arg-type]
        azure_endpoint=cloud.azure_endpoint if kind == "azure" else "",
        azure_deployment="gpt-realtime-dep" if kind == "azure" else "",
        openai_base_url=cloud.openai_base,
        **{"fallback": "none", **realtime},
    )
    return replace(
        base,
        database=DatabaseSettings(url=f"duckdb:///{tmp_path / 'none.duckdb'}", audit_log=""),
        realtime=rt,
        server=ServerSettings(app_db=str(tmp_path / "app.sqlite"), rate_per_minute=600),
        secrets=Secrets(api_token=TOKEN, realtime_api_key=KEY, llm_api_key=""),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(settings: Settings, brain: Any, engine: Any | None = None) -> Iterator[str]:
    """datavox's app in uvicorn on a free port, in a thread; yields its base URL."""
    app = create_app(settings, brain=brain, engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "datavox did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def cloud() -> Iterator[FakeRealtimeCloud]:
    with FakeRealtimeCloud(key=KEY, entra_tokens=("entra-token-xyz",)) as fake:
        yield fake


@dataclass
class Events:
    """The app event stream (/api/events) of one conversation, as the page reads it."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.items if e.get("type") == kind]

    async def wait(self, kind: str, n: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < n:
            if time.monotonic() > deadline:
                seen = [e.get("type") for e in self.items]
                raise AssertionError(f"no {n}× {kind} event in time; saw {seen}")
            await asyncio.sleep(0.02)
        return self.of(kind)


@contextlib.asynccontextmanager
async def event_stream(base: str, conversation_id: str) -> AsyncIterator[Events]:
    events = Events()
    async with websockets.connect(base.replace("http", "ws") + "/api/events") as ws:
        await ws.send(json.dumps({"type": "hello", "conversation_id": conversation_id, "token": TOKEN}))

        async def read() -> None:
            async for message in ws:
                events.items.append(json.loads(message))

        task = asyncio.ensure_future(read())
        await events.wait("ready")
        try:
            yield events
        finally:
            task.cancel()


@dataclass
class Page:
    """What web/src/realtime.ts does: mic track + data channel, SDP offer POSTed with the session's secret."""

    pc: Any
    channel: Any
    received: list[dict[str, Any]]
    session: dict[str, Any]
    answer_status: int = 0
    location: str = ""


async def dial(base: str, session: dict[str, Any], track: Any | None = None) -> Page:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from datavox.voice.rtc import SpeechTrack, keep_loopback_candidates, patch_loopback

    patch_loopback()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(track or SpeechTrack())
    channel = pc.createDataChannel("oai-events")
    received: list[dict[str, Any]] = []
    channel.on("message", lambda m: received.append(json.loads(m)))
    await pc.setLocalDescription(await pc.createOffer())
    url = session["calls_url"]
    url = url if url.startswith("http") else base + url
    async with httpx.AsyncClient() as http:
        res = await http.post(
            url,
            content=keep_loopback_candidates(pc.localDescription.sdp),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {session['secret']}"},
        )
    page = Page(pc, channel, received, session, res.status_code, res.headers.get("location", ""))
    if res.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=res.text, type="answer"))
        await until(lambda: channel.readyState == "open", what="the data channel")
    else:
        page.received.append({"type": "http.error", "status": res.status_code, "body": res.json()})
    return page


async def new_session(base: str, conversation_id: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            base + "/api/realtime/session",
            json={"conversation_id": conversation_id} if conversation_id else {},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )


async def until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
