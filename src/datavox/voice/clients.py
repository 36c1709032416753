"""Realtime clients for tests and `datavox bench voice`: stream a spoken question in real time, 20 ms at a
time, over WebSocket or WebRTC (aiortc), and time end of speech → first answer audio at the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import numpy as np

from datavox.realtime import protocol as p
from datavox.voice.audio import Pcm, b64_to_pcm, pcm_to_b64, resample

FRAME_MS = 20


def speech_end(pcm: Pcm, rate: int, level: int = 300) -> int:
    """Index just after the last loud sample: where the speaker stops (piper pads its sentences)."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return int(loud[-1]) + 1 if loud.size else 0


@dataclass
class TurnResult:
    transport: str
    events: list[dict[str, Any]] = field(default_factory=list)
    speech_end_at: float | None = None
    first_audio_at: float | None = None
    audio: list[Pcm] = field(default_factory=list)
    audio_rate: int = p.PCM_RATE
    error: str | None = None

    @property
    def latency_ms(self) -> float | None:
        if self.speech_end_at is None or self.first_audio_at is None:
            return None
        return (self.first_audio_at - self.speech_end_at) * 1000

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_]

    @property
    def transcript(self) -> str:
        done = self.of("conversation.item.input_audio_transcription.completed")
        return str(done[-1]["transcript"]) if done else ""

    @property
    def answer_text(self) -> str:
        done = self.of("response.output_audio_transcript.done") or self.of("response.output_text.done")
        return str(done[-1].get("transcript") or done[-1].get("text") or "") if done else ""

    def answer_audio(self) -> Pcm:
        return np.concatenate(self.audio) if self.audio else np.zeros(0, np.int16)


async def mint(base_url: str, token: str | None = None, session: dict[str, Any] | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{base_url}/v1/realtime/client_secrets", json={"session": session or {}}, headers=headers
        )
        r.raise_for_status()
        return str(r.json()["value"])


async def ws_turn(
    base_url: str, secret: str, pcm16k: Pcm, *, tail_ms: int = 1500, timeout_s: float = 30.0
) -> TurnResult:
    """One spoken turn over `GET /v1/realtime`: audio in real time, then silence until `response.done`."""
    import websockets

    result = TurnResult("websocket")
    pcm = resample(pcm16k, 16_000, p.PCM_RATE)
    end = speech_end(pcm, p.PCM_RATE)
    url = base_url.replace("http", "ws", 1) + "/v1/realtime?model=gpt-realtime"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {secret}"}) as ws:
        done = asyncio.Event()

        async def reader() -> None:
            async for raw in ws:
                event = json.loads(raw)
                result.events.append(event)
                kind = event.get("type")
                if kind == "response.output_audio.delta":
                    if result.first_audio_at is None:
                        result.first_audio_at = time.monotonic()
                    result.audio.append(b64_to_pcm(event["delta"]))
                elif kind == "response.done" or (kind == "error" and "limit" in event["error"]["code"]):
                    done.set()

        task = asyncio.create_task(reader())
        await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        step = p.PCM_RATE * FRAME_MS // 1000
        silence = np.zeros(step, np.int16)
        start = time.monotonic()
        n = 0
        audio = np.concatenate([pcm, np.zeros(p.PCM_RATE * tail_ms // 1000, np.int16)])
        deadline = start + timeout_s
        while not done.is_set() and time.monotonic() < deadline:
            chunk = audio[n * step : (n + 1) * step] if n * step < audio.size else silence
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": pcm_to_b64(chunk)}))
            if result.speech_end_at is None and (n + 1) * step >= end:
                # the instant the last speech sample was sent, corrected to where it lies in the chunk
                result.speech_end_at = time.monotonic() - ((n + 1) * step - end) / p.PCM_RATE
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME_MS / 1000 - time.monotonic()))
        if not done.is_set():
            result.error = "no response.done before the timeout"
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    return result


class MicTrack:
    """An aiortc audio source: the question at 48 kHz in 20 ms frames, then silence, paced in real time."""

    def __init__(self, pcm48: Pcm) -> None:
        from aiortc import MediaStreamTrack

        outer = self

        class _Track(MediaStreamTrack):
            kind = "audio"

            async def recv(self) -> av.AudioFrame:
                return await outer.next_frame()

        self.track = _Track()
        self.pcm = pcm48
        self.end = speech_end(pcm48, 48_000)
        self.pos = 0
        self.start: float | None = None
        self.speech_end_at: float | None = None

    async def next_frame(self) -> av.AudioFrame:
        step = 48_000 * FRAME_MS // 1000
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pos / 48_000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = self.pcm[self.pos : self.pos + step]
        if chunk.size < step:
            chunk = np.concatenate([chunk, np.zeros(step - chunk.size, np.int16)])
        if self.speech_end_at is None and self.pos + step >= self.end:
            self.speech_end_at = time.monotonic() + (self.end - self.pos) / 48_000
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48_000
        frame.pts = self.pos
        frame.time_base = fractions.Fraction(1, 48_000)
        self.pos += step
        return frame


async def rtc_turn(
    base_url: str, secret: str, pcm16k: Pcm, *, loopback: bool = True, timeout_s: float = 30.0
) -> TurnResult:
    """One spoken turn over WebRTC: SDP to `/v1/realtime/calls`, mic track in, answer track out."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from datavox.voice.rtc import keep_loopback_candidates, patch_loopback, set_jitter_prefetch

    if loopback:
        patch_loopback()
    result = TurnResult("webrtc", audio_rate=48_000)
    mic = MicTrack(resample(pcm16k, 16_000, 48_000))
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("oai-events")
    done = asyncio.Event()
    stopped = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []

    @channel.on("message")  # type: ignore[untyped-decorator]
    def on_message(raw: str) -> None:
        event = json.loads(raw)
        result.events.append(event)
        if event.get("type") == "response.done":
            done.set()
        if event.get("type") in ("output_audio_buffer.stopped", "output_audio_buffer.cleared"):
            stopped.set()

    async def listen(track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            pcm = frame.to_ndarray().reshape(-1).astype(np.int16)
            if frame.layout.name == "stereo":
                pcm = pcm[::2]
            now = time.monotonic()
            if mic.speech_end_at is not None and now >= mic.speech_end_at:
                loud = int(np.abs(pcm.astype(np.int32)).max()) > 300
                if loud and result.first_audio_at is None:
                    # frame arrival minus its length: when its first sample would start playing
                    result.first_audio_at = now - pcm.size / frame.sample_rate
                if result.first_audio_at is not None:
                    result.audio.append(pcm)
                    result.audio_rate = frame.sample_rate

    @pc.on("track")  # type: ignore[untyped-decorator]
    def on_track(track: Any) -> None:
        # A browser's adaptive jitter buffer holds ~1–2 frames on loopback, not aiortc's fixed 4.
        set_jitter_prefetch(pc, track, 1)
        tasks.append(asyncio.ensure_future(listen(track)))

    pc.addTrack(mic.track)
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    if loopback:
        offer = keep_loopback_candidates(offer)
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{base_url}/v1/realtime/calls",
            content=offer,
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"},
        )
    if r.status_code != 201:
        result.error = f"HTTP {r.status_code}: {r.text}"
        await pc.close()
        return result
    await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
    try:
        await asyncio.wait_for(done.wait(), timeout_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped.wait(), 15)  # let the answer play out
    except TimeoutError:
        result.error = "no response.done before the timeout"
    result.speech_end_at = mic.speech_end_at
    for task in tasks:
        task.cancel()
    await pc.close()
    return result


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_in_thread(engine: Any, *, setup: Any = None, **router_kw: Any) -> Iterator[str]:
    """uvicorn on a free loopback port in a background thread, serving the realtime router; yields its URL."""
    import threading

    import uvicorn
    from fastapi import FastAPI

    from datavox.voice.routes import create_router

    app = FastAPI()
    app.include_router(create_router(engine, **router_kw))
    if setup is not None:
        setup(app)  # extra routes, e.g. a test page
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="dv-uvicorn")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
