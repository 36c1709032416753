"""WebRTC through aiortc: the answer SDP, the data channel (plain JSON, one event per message, any
label), incoming Opus decoded to 16 kHz mono for the session, and an outgoing track that plays the answer
in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
import re
import time
from typing import Any, Protocol

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from datavox.realtime import protocol as p
from datavox.voice.access import EngineError, Grant
from datavox.voice.audio import Pcm, Resampler
from datavox.voice.contracts import Player, SendFn
from datavox.voice.session import Session

log = logging.getLogger(__name__)
OUT_RATE = 48_000
FRAME = OUT_RATE // 50  # 20 ms
_loopback_patched = False


class CallHost(Protocol):
    """What a call needs of the engine (`LocalRealtimeEngine`); a protocol, so this module does not import
    the engine and the engine never imports aiortc."""

    loopback: bool
    calls: dict[str, Any]

    def check_capacity(self) -> None: ...

    def open_session(
        self,
        config: dict[str, Any],
        send: SendFn,
        *,
        player: Player | None = None,
        conversation_id: str | None = None,
    ) -> Session: ...


async def create_call(host: CallHost, offer_sdp: str, grant: Grant) -> tuple[str, str]:
    """`POST /v1/realtime/calls`: answer an SDP offer; returns (rtc_… call id, answer SDP)."""
    host.check_capacity()  # before the WebRTC set-up, which costs far more than a refusal
    call = RtcCall(host, grant)
    answer = await call.answer(offer_sdp)
    host.calls[call.id] = call
    return call.id, answer


def patch_loopback() -> None:
    """aioice skips 127.0.0.1 when it gathers host candidates; on a loopback-only setup that means no ICE."""
    global _loopback_patched
    if not _loopback_patched:
        import aioice.ice

        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
        _loopback_patched = True


_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) ", re.IGNORECASE)


def keep_loopback_candidates(sdp: str) -> str:
    """Drop ICE candidates that are not on 127.0.0.1, so a loopback call never wanders onto eth0."""
    lines = []
    for line in sdp.splitlines():
        m = _CANDIDATE.match(line)
        if m and m.group(1) != "127.0.0.1":
            continue
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def set_jitter_prefetch(pc: Any, track: Any, prefetch: int) -> None:
    """aiortc holds every received audio frame until 4 more have arrived (80 ms) before decoding it.

    That delay sits between the end of the user's speech and our VAD noticing it. On loopback there is no
    jitter to absorb, so we keep one frame; elsewhere two (40 ms). aiortc has no option for this, hence
    the private attribute (checked, so an aiortc upgrade that renames it only loses the tweak).
    """
    from aiortc.jitterbuffer import JitterBuffer

    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if receiver.track is track and hasattr(receiver, "_RTCRtpReceiver__jitter_buffer"):
            receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=prefetch)


def check_offer(sdp: str) -> None:
    if not sdp.lstrip().startswith("v=0") or "\nm=" not in sdp.replace("\r\n", "\n"):
        raise EngineError(
            400, "invalid_sdp", "The body is not an SDP offer (it must start with v=0 and have m= lines)."
        )


class SpeechTrack(MediaStreamTrack):
    """The model's voice: 20 ms frames at 48 kHz, paced in real time, silence when there is nothing to say."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._buf: Pcm = np.zeros(0, np.int16)
        self._played = 0
        self._pts = 0
        self._start: float | None = None
        self.on_drained: Any = None
        self._resampler: Resampler | None = None

    # Player protocol (session.py)
    def play(self, pcm: Pcm, rate: int) -> None:
        # One streaming resampler for the call: building the 22,050 → 48,000 Hz filter costs ~5 ms, which a
        # one-shot resample paid on the event loop (every session's audio) for every sentence.
        if self._resampler is None or self._resampler.src_rate != rate:
            self._resampler = Resampler(rate, OUT_RATE)
        self._buf = np.concatenate([self._buf, self._resampler.push(pcm)])

    def clear(self) -> None:
        self._buf = np.zeros(0, np.int16)
        self._played = 0
        self._resampler = None  # its filter holds the last samples of the answer just cut

    def played_ms(self) -> float:
        return self._played * 1000 / OUT_RATE

    def queued_ms(self) -> float:
        return self._buf.size * 1000 / OUT_RATE

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / OUT_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = self._buf[:FRAME]
        had = chunk.size > 0
        self._buf = self._buf[FRAME:]
        self._played += chunk.size
        if chunk.size < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - chunk.size, np.int16)])
        if had and self._buf.size == 0 and self.on_drained is not None:
            asyncio.get_running_loop().call_soon(self.on_drained)
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, OUT_RATE)
        self._pts += FRAME
        return frame


class RtcCall:
    """One WebRTC call (`rtc_…`) bound to one session."""

    def __init__(self, engine: CallHost, grant: Grant) -> None:
        self.engine = engine
        self.grant = grant
        self.id = p.new_id("rtc")
        self.pc: RTCPeerConnection | None = None
        self.session: Session | None = None
        self.channel: Any = None
        self.observers: list[Any] = []  # sideband WebSockets (?call_id=)
        self._pending: list[p.Event] = []
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self.track = SpeechTrack()

    def _send(self, event: p.Event) -> None:
        for observer in list(self.observers):
            observer(event)
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(event))
        else:
            self._pending.append(event)

    async def answer(self, offer_sdp: str) -> str:
        check_offer(offer_sdp)
        if self.engine.loopback:
            patch_loopback()
            offer_sdp = keep_loopback_candidates(offer_sdp)
        session = self.engine.open_session(
            self.grant.session, self._send, player=self.track, conversation_id=self.grant.conversation_id
        )
        self.session = session
        self.track.on_drained = session.on_drained
        session.also_on_close(lambda _r: asyncio.ensure_future(self.close()))
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc = pc

        @pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            self.channel = channel

            channel.on("message", self._inbox.put_nowait)

            session.start()  # the first server event, once the client can hear it
            pending, self._pending = self._pending, []
            for event in pending:
                if event.get("type") != "session.created":
                    channel.send(json.dumps(event))

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                set_jitter_prefetch(pc, track, 1 if self.engine.loopback else 2)
                self._tasks.append(asyncio.ensure_future(self._pump(track, session)))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close()

        self._tasks.append(asyncio.ensure_future(self._dispatch(session)))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            pc.addTrack(self.track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.close()
            raise EngineError(400, "invalid_sdp", f"Could not accept the SDP offer: {exc}") from exc
        sdp: str = pc.localDescription.sdp
        return keep_loopback_candidates(sdp) if self.engine.loopback else sdp

    async def _dispatch(self, session: Session) -> None:
        # One event at a time, in order: a session.update must land before the response.create behind it.
        while True:
            message = await self._inbox.get()
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            try:
                event = json.loads(message)
            except ValueError:
                self._send(p.error_event("invalid_json", "The message is not valid JSON."))
                continue
            await session.handle(event)

    async def _pump(self, track: Any, session: Session) -> None:
        """Mic audio: 48 kHz stereo Opus frames → 16 kHz mono int16 → the session."""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        while True:
            try:
                frame = await track.recv()
            except Exception:  # MediaStreamError: the call ended
                return
            for out in resampler.resample(frame):
                session.feed(out.to_ndarray().reshape(-1).astype(np.int16))

    async def close(self) -> None:
        self.engine.calls.pop(self.id, None)
        for task in self._tasks:
            task.cancel()
        if self.session is not None:
            self.session.close("call_ended")
        if self.pc is not None:
            pc, self.pc = self.pc, None
            with contextlib.suppress(Exception):
                await pc.close()
