"""WebRTC through aiortc: the answer SDP, the data channel (plain JSON, one event per message, any
label), incoming Opus decoded to 16 kHz mono for the session, and an outgoing track that plays the answer
in real time (the media pieces are in `media.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from datavox.realtime import protocol as p
from datavox.voice.access import EngineError, Grant
from datavox.voice.audio import OneThreadResampler
from datavox.voice.contracts import Player, SendFn
from datavox.voice.media import (
    SpeechTrack,
    keep_loopback_candidates,
    one_thread_opus,
    patch_loopback,
    use_low_delay_receive,
)
from datavox.voice.session import Session

log = logging.getLogger(__name__)
__all__ = [
    "RtcCall",
    "SpeechTrack",
    "check_offer",
    "create_call",
    "keep_loopback_candidates",
    "patch_loopback",
]


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


def check_offer(sdp: str) -> None:
    if not sdp.lstrip().startswith("v=0") or "\nm=" not in sdp.replace("\r\n", "\n"):
        raise EngineError(
            400, "invalid_sdp", "The body is not an SDP offer (it must start with v=0 and have m= lines)."
        )


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
        one_thread_opus()
        self._closer: asyncio.Future[None] | None = None

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
            # The peer hung up (pc.close() closes the channel): free the session now, not after ICE
            # consent runs out (~30 s, a session slot held for nobody).
            channel.on("close", self._close_soon)

            session.start()  # the first server event, once the client can hear it
            pending, self._pending = self._pending, []
            for event in pending:
                if event.get("type") != "session.created":
                    channel.send(json.dumps(event))

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                use_low_delay_receive(pc, track, loopback=self.engine.loopback)
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
        resampler = OneThreadResampler(format="s16", layout="mono", rate=16_000)
        while True:
            try:
                frame = await track.recv()
            except Exception:  # MediaStreamError: the peer ended its track (RTCP BYE) or the call
                self._close_soon()
                return
            for out in resampler.resample(frame):
                session.feed(out.to_ndarray().reshape(-1).astype(np.int16))

    def _close_soon(self) -> None:
        if self._closer is None:
            self._closer = asyncio.ensure_future(self.close())

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
