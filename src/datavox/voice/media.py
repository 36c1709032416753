"""WebRTC media pieces of the local engine, free of sessions and engines: the answer's outgoing track,
a low-delay receive buffer, and the loopback ICE helpers. `rtc.py` (the call) and the test/bench clients
(`clients.py`) both use them.

Where the WebRTC path lost time against WebSocket (measured with `datavox bench voice` and a traced turn,
issue 10): aiortc's receive buffer held every audio packet until the next one arrived (20 ms with
prefetch 1, 80 ms with its default 4) before the VAD saw it; piper starts a sentence with 40–270 ms of
near-silence, which a WebRTC listener hears as delay while the WebSocket client's clock stopped at the first
delta (now trimmed in `tts.py`, and both clients time the first audible sample); pacing adds 0–20 ms
(frames are 20 ms), which is inherent to a continuous media stream and kept.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import re
import time
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack

from datavox.voice.audio import OneThreadResampler, Pcm, Resampler

OUT_RATE = 48_000
FRAME = OUT_RATE // 50  # 20 ms
_loopback_patched = False


def patch_loopback() -> None:
    """aioice skips 127.0.0.1 when it gathers host candidates; on a loopback-only setup that means no ICE."""
    global _loopback_patched
    if not _loopback_patched:
        import aioice.ice

        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
        _loopback_patched = True


def one_thread_opus() -> None:
    """aiortc's Opus encoder resamples through `av.AudioResampler`, whose filter graph starts a thread per
    core for every call (see `audio.OneThreadResampler`): give it the one-thread resampler instead."""
    import aiortc.codecs.opus as opus

    setattr(opus, "AudioResampler", OneThreadResampler)  # noqa: B010 (private to aiortc, hence setattr)


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


class PassThroughBuffer:
    """A receive "jitter buffer" for Opus on a network without jitter (loopback): every RTP packet is a
    whole 20 ms frame, so it goes to the decoder the moment it arrives. Late or repeated packets are
    dropped (the decoder must see frames in order); a big jump backwards (a restarted stream) resets it.

    Duck-typed to aiortc's `JitterBuffer` (`add` → (pli, frame), `capacity`): aiortc's own buffer releases
    a frame only once the next packet has arrived, 20 ms of delay at best.
    """

    capacity = 16

    def __init__(self) -> None:
        self._last: int | None = None

    def add(self, packet: Any) -> tuple[bool, Any]:
        from aiortc.jitterbuffer import JitterFrame

        seq = int(packet.sequence_number)
        if self._last is not None:
            ahead = (seq - self._last) % 65536
            if ahead == 0 or (ahead >= 32768 and 65536 - ahead < 100):
                return False, None  # a repeat or a little late: already past it
        self._last = seq
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)

    def remove(self, count: int) -> None:  # aiortc's interface; nothing is held
        pass


def use_low_delay_receive(pc: Any, track: Any, *, loopback: bool) -> bool:
    """Swap aiortc's receive buffer for this audio track: pass-through on loopback, 2 frames elsewhere
    (aiortc's default holds 4, 80 ms). aiortc has no option for it, hence the private attribute (checked:
    an aiortc upgrade that renames it only loses the tweak, and this returns False)."""
    from aiortc.jitterbuffer import JitterBuffer

    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if receiver.track is track and hasattr(receiver, "_RTCRtpReceiver__jitter_buffer"):
            buffer = PassThroughBuffer() if loopback else JitterBuffer(capacity=16, prefetch=2)
            receiver._RTCRtpReceiver__jitter_buffer = buffer
            return True
    return False


def loud_at(pcm: Pcm, level: int = 300) -> int | None:
    """Index of the first sample louder than `level` (about 1% of full scale), or None."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > level)
    return int(loud[0]) if loud.size else None


class SpeechTrack(MediaStreamTrack):
    """The model's voice: 20 ms frames at 48 kHz, paced in real time, silence when there is nothing to say.

    The queue is a list of chunks (no growing array copied on every frame). `hold()` sends silence but keeps
    the queue: a barge-in pauses the answer at the first speech window and `clear()`s it once the VAD has
    confirmed the turn, or `resume()`s if it was a cough. Counters (`frames`, `answer_frames`) are for tests.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._chunks: collections.deque[Pcm] = collections.deque()
        self._queued = 0  # samples in _chunks
        self._played = 0  # answer samples sent since the last clear()
        self._pts = 0
        self._start: float | None = None
        self.held = False
        self.on_drained: Any = None
        self._resampler: Resampler | None = None
        self.frames = 0  # frames sent
        self.answer_frames = 0  # frames that carried answer audio

    # Player protocol (contracts.py)
    def play(self, pcm: Pcm, rate: int) -> None:
        # One streaming resampler for the call: building the 22,050 → 48,000 Hz filter costs ~5 ms, which a
        # one-shot resample paid on the event loop (every session's audio) for every sentence.
        if self._resampler is None or self._resampler.src_rate != rate:
            self._resampler = Resampler(rate, OUT_RATE)
        out = self._resampler.push(pcm)
        if out.size:
            self._chunks.append(out)
            self._queued += out.size

    def clear(self) -> None:
        self._chunks.clear()
        self._queued = 0
        self._played = 0
        self.held = False
        self._resampler = None  # its filter holds the last samples of the answer just cut

    def hold(self) -> None:
        """Send silence from the next frame on, keeping what is queued (a tentative barge-in)."""
        self.held = True

    def resume(self) -> None:
        self.held = False

    def played_ms(self) -> float:
        return self._played * 1000 / OUT_RATE

    def queued_ms(self) -> float:
        return self._queued * 1000 / OUT_RATE

    def _take(self, n: int) -> Pcm:
        parts: list[Pcm] = []
        need = n
        while need > 0 and self._chunks:
            head = self._chunks[0]
            if head.size <= need:
                parts.append(self._chunks.popleft())
                need -= head.size
            else:
                parts.append(head[:need])
                self._chunks[0] = head[need:]
                need = 0
        taken = n - need
        self._queued -= taken
        if not parts:
            return np.zeros(0, np.int16)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / OUT_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = np.zeros(0, np.int16) if self.held else self._take(FRAME)
        self.frames += 1
        if chunk.size:
            self.answer_frames += 1
            self._played += chunk.size
            if self._queued == 0 and self.on_drained is not None:
                asyncio.get_running_loop().call_soon(self.on_drained)
        if chunk.size < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - chunk.size, np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, OUT_RATE)
        self._pts += FRAME
        return frame
