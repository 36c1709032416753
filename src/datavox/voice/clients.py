"""Realtime clients for tests, `datavox bench voice` and `datavox bench soak`: a conversation over WebSocket
or WebRTC (aiortc) whose microphone streams in real time, 20 ms at a time (silence between questions), and
that times end of speech → first audible answer sample at the client.

Both transports time the same thing: when the first answer sample louder than ~1% of full scale would
play, for a client that plays audio the moment it arrives. WebSocket: the delta's arrival plus where that
sample lies in the answer stream; WebRTC: the frame's arrival plus where the sample lies in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from typing import Any

import av
import httpx
import numpy as np

from datavox.realtime import protocol as p
from datavox.voice.audio import Pcm, b64_to_pcm, pcm_to_b64
from datavox.voice.client_audio import FRAME_MS, TurnResult, speech_end
from datavox.voice.client_conversation import Conversation
from datavox.voice.serving import serve_in_thread

__all__ = [
    "Conversation",
    "RtcConversation",
    "TurnResult",
    "WsConversation",
    "mint",
    "rtc_turn",
    "speech_end",
]
__all__ += ["serve_in_thread", "ws_turn"]


async def mint(base_url: str, token: str | None = None, session: dict[str, Any] | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{base_url}/v1/realtime/client_secrets", json={"session": session or {}}, headers=headers
        )
        r.raise_for_status()
        return str(r.json()["value"])


class WsConversation(Conversation):
    transport = "websocket"

    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__()
        self.url = base_url.replace("http", "ws", 1) + "/v1/realtime?model=gpt-realtime"
        self.secret = secret
        self._ws: Any = None
        self._play_until = 0.0  # when the audio received so far will have played

    async def connect(self) -> None:
        import websockets

        self._ws = await websockets.connect(
            self.url, additional_headers={"Authorization": f"Bearer {self.secret}"}, max_size=None
        )
        await self._ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        self._tasks += [asyncio.create_task(self._read()), asyncio.create_task(self._send())]

    async def _played_out(self, limit_s: float) -> None:
        # The deltas come faster than real time: the client plays them until `_play_until`, or until its
        # user speaks (`speech_started` stops the playback), as a browser does. Sleeping until the end
        # known at the call missed that cut: an interrupted turn "played" its whole answer while the
        # answer to the interruption came and went (the soak's missing `response.done`).
        end = time.monotonic() + limit_s
        while time.monotonic() < min(end, self._play_until):
            await asyncio.sleep(FRAME_MS / 1000)

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self._ws:
                event = json.loads(raw)
                if event.get("type") == "response.output_audio.delta":
                    pcm = b64_to_pcm(event["delta"])
                    now = time.monotonic()
                    at = max(now, self._play_until)
                    self._play_until = at + pcm.size / p.PCM_RATE
                    self._on_audio(pcm, p.PCM_RATE, at)
                elif event.get("type") == "input_audio_buffer.speech_started":
                    self._play_until = 0.0  # a client stops its playback when the user talks
                self._on_event(event)
        self.gone.set()
        self._fail()

    async def _send(self) -> None:
        start = time.monotonic()
        n = 0
        while True:
            sent_at = start + n * FRAME_MS / 1000
            chunk = self.mic.chunk(max(sent_at, time.monotonic()))
            await self._ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": pcm_to_b64(chunk)}))
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME_MS / 1000 - time.monotonic()))

    async def close(self) -> None:
        await super().close()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()


class RtcConversation(Conversation):
    transport = "webrtc"
    rate = 48_000

    def __init__(self, base_url: str, secret: str, *, loopback: bool = True) -> None:
        super().__init__()
        self.base_url, self.secret, self.loopback = base_url, secret, loopback
        self.pc: Any = None
        self.http_status = 0

    async def connect(self) -> None:
        from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from datavox.voice.media import (
            keep_loopback_candidates,
            one_thread_opus,
            patch_loopback,
            use_low_delay_receive,
        )

        one_thread_opus()
        if self.loopback:
            patch_loopback()
        outer = self

        class MicTrack(MediaStreamTrack):
            kind = "audio"
            start: float | None = None
            pts = 0

            async def recv(self) -> av.AudioFrame:
                if self.start is None:
                    self.start = time.monotonic()
                wait = self.start + self.pts / outer.rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                chunk = outer.mic.chunk(time.monotonic())
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = outer.rate
                frame.pts = self.pts
                frame.time_base = fractions.Fraction(1, outer.rate)
                self.pts += chunk.size
                return frame

        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @pc.on("connectionstatechange")  # type: ignore[untyped-decorator]
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.gone.set()
                self._fail()

        channel = pc.createDataChannel("oai-events")
        channel.on("message", lambda raw: self._on_event(json.loads(raw)))

        @pc.on("track")  # type: ignore[untyped-decorator]
        def on_track(track: Any) -> None:
            # A browser's adaptive jitter buffer holds next to nothing on loopback.
            use_low_delay_receive(pc, track, loopback=self.loopback)
            self._tasks.append(asyncio.ensure_future(self._listen(track)))

        pc.addTrack(MicTrack())
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        if self.loopback:
            offer = keep_loopback_candidates(offer)
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(
                f"{self.base_url}/v1/realtime/calls",
                content=offer,
                headers={"Authorization": f"Bearer {self.secret}", "Content-Type": "application/sdp"},
            )
        self.http_status = r.status_code
        if r.status_code != 201:
            await pc.close()
            raise ConnectionError(f"HTTP {r.status_code}: {r.text}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))

    async def _listen(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            pcm = frame.to_ndarray().reshape(-1).astype(np.int16)
            if frame.layout.name == "stereo":
                pcm = pcm[::2]
            self._on_audio(pcm, frame.sample_rate, time.monotonic())

    async def close(self) -> None:
        await super().close()
        if self.pc is not None:
            with contextlib.suppress(Exception):
                await self.pc.close()


async def ws_turn(
    base_url: str, secret: str, pcm16k: Pcm, *, tail_ms: int = 1500, timeout_s: float = 30.0
) -> TurnResult:
    """One spoken turn over `GET /v1/realtime`: audio in real time, then silence until `response.done`."""
    conv = WsConversation(base_url, secret)
    await conv.connect()
    try:
        result = await conv.ask(pcm16k, timeout_s=timeout_s)
        await asyncio.sleep(0.05)
        result.events = list(conv.events)  # session.created and all
    finally:
        await conv.close()
    return result


async def rtc_turn(
    base_url: str, secret: str, pcm16k: Pcm, *, loopback: bool = True, timeout_s: float = 30.0
) -> TurnResult:
    """One spoken turn over WebRTC: SDP to `/v1/realtime/calls`, mic track in, answer track out."""
    conv = RtcConversation(base_url, secret, loopback=loopback)
    try:
        await conv.connect()
    except ConnectionError as exc:
        return TurnResult("webrtc", audio_rate=48_000, error=str(exc))
    try:
        result = await conv.ask(pcm16k, timeout_s=timeout_s)
        result.events = list(conv.events)  # session.created and all
    finally:
        await conv.close()
    return result
