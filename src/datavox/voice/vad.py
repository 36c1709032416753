"""Voice activity detection with the `server_vad` semantics of the Realtime API.

`TurnDetector` is pure logic over speech probabilities (so tests drive it with a fake model). It emits:
`start` (speech began), `pause` (speech just went quiet: the moment to start speculative work), `resume`
(speech came back before the turn ended: throw the speculation away) and `stop` (silence lasted
`silence_duration_ms`: the turn is over). Sample positions are absolute, counted at 16 kHz from the start of
the session.

Models: silero v6 through onnxruntime with faster-whisper's copy of the ONNX file (no torch), or
webrtcvad as a fallback when onnxruntime cannot load it.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

RATE = 16_000
QUIET_LEVEL = 330  # ~1% of full scale


class VadModel(Protocol):
    """Speech probability for one window of `window` int16 samples at 16 kHz; keeps its own state."""

    window: int

    def prob(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> float: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class VadEvent:
    kind: Literal["start", "pause", "resume", "stop"]
    sample: int  # start: first speech sample; pause/stop: first silent sample; resume: window start


class TurnDetector:
    """server_vad: `threshold`, `silence_duration_ms`; prefix padding is applied by the caller."""

    def __init__(
        self,
        model: VadModel,
        *,
        threshold: float = 0.5,
        silence_duration_ms: int = 500,
        min_speech_ms: int = 64,
    ) -> None:
        self.model = model
        self.configure(threshold=threshold, silence_duration_ms=silence_duration_ms)
        self.min_speech = max(1, round(min_speech_ms * RATE / 1000 / model.window))
        self._pending = np.zeros(0, np.int16)
        self._pos = 0  # absolute sample index of the start of `_pending`
        self.speaking = False
        self._run = 0  # consecutive speech windows while not speaking
        self._run_start = 0
        self.pause_at: int | None = None  # first silent sample of the current pause while speaking
        self._peak = 0  # loudest sample of the current speech
        self.quiet = False  # the last window held no sound (see `_step`)

    def configure(self, *, threshold: float, silence_duration_ms: int) -> None:
        self.threshold = threshold
        # Silero's own hysteresis: leaving speech needs a clearly lower probability than entering it.
        self.neg_threshold = max(0.01, threshold - 0.15)
        self.silence_samples = silence_duration_ms * RATE // 1000

    @property
    def position(self) -> int:
        """Absolute index of the next sample the detector will look at."""
        return self._pos

    @property
    def hearing(self) -> bool:
        """Speech windows have begun but not yet `min_speech_ms` of them: maybe a turn, maybe a cough."""
        return not self.speaking and self._run > 0

    def reset(self) -> None:
        self.model.reset()
        self.speaking = False
        self._run = 0
        self.pause_at = None

    def silence_ms(self) -> float:
        """How long the current pause has lasted (0 when speech is ongoing or nothing was said)."""
        if not self.speaking or self.pause_at is None:
            return 0.0
        return (self._pos - self.pause_at) * 1000 / RATE

    def feed(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> list[VadEvent]:
        events: list[VadEvent] = []
        buf = np.concatenate([self._pending, samples]) if self._pending.size else samples
        win = self.model.window
        n = len(buf) // win
        for i in range(n):
            start = self._pos + i * win
            window = buf[i * win : (i + 1) * win]
            p = self.model.prob(window)
            peak = int(np.abs(window.astype(np.int32)).max())
            if self.speaking and p >= self.threshold:
                self._peak = max(self._peak, peak)
            # Under 1% of full scale and 26 dB under the speech's peak: no sound left in the window. Silero's
            # state still says speech for one window after the last word (p ~0.9, then ~0.2), so this is
            # a window earlier; it is only a hint (a partial transcript now), never a pause: the closure of
            # a stop consonant inside a word is as quiet.
            self.quiet = self.speaking and peak < QUIET_LEVEL and peak * 20 < self._peak
            events.extend(self._step(p, start, start + win))
        self._pending = buf[n * win :].copy()
        self._pos += n * win
        return events

    def _step(self, p: float, start: int, end: int) -> list[VadEvent]:
        if not self.speaking:
            if p >= self.threshold:
                if self._run == 0:
                    self._run_start = start
                self._run += 1
                if self._run >= self.min_speech:
                    self._peak = 0
                    self.speaking = True
                    self._run = 0
                    self.pause_at = None
                    return [VadEvent("start", self._run_start)]
            else:
                self._run = 0
            return []
        if self.pause_at is None:
            if p < self.neg_threshold:
                self.pause_at = start
                return self._maybe_stop(end, [VadEvent("pause", start)])
            return []
        if p >= self.threshold:
            self.pause_at = None
            return [VadEvent("resume", start)]
        return self._maybe_stop(end, [])

    def _maybe_stop(self, end: int, events: list[VadEvent]) -> list[VadEvent]:
        assert self.pause_at is not None
        if end - self.pause_at >= self.silence_samples:
            events.append(VadEvent("stop", self.pause_at))
            self.speaking = False
            self.pause_at = None
        return events

    def force_stop(self) -> VadEvent | None:
        """End the turn now (early end of a complete question); the pause start is the end of speech."""
        if not self.speaking:
            return None
        at = self.pause_at if self.pause_at is not None else self._pos
        self.speaking = False
        self.pause_at = None
        return VadEvent("stop", at)


def silero_path() -> str:
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("faster_whisper is not installed; its assets hold the silero VAD model")
    return os.path.join(os.path.dirname(spec.origin), "assets", "silero_vad_v6.onnx")


class SileroVad:
    """Silero v6 on onnxruntime: 512-sample windows plus 64 samples of context, h/c state per stream.

    The InferenceSession is shared by every session of the process (it is thread-safe); the state is not.
    """

    window = 512

    def __init__(self, session: Any) -> None:
        self.session = session
        self.reset()

    @staticmethod
    def load_session() -> Any:
        import onnxruntime as ort

        so = ort.SessionOptions()
        # One thread: a 32 ms window costs ~0.1 ms, and more threads only fight with STT and TTS.
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        return ort.InferenceSession(silero_path(), sess_options=so, providers=["CPUExecutionProvider"])

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._ctx = np.zeros((1, 64), np.float32)

    def prob(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> float:
        x = np.concatenate([self._ctx, (samples.astype(np.float32) / 32768.0)[None]], axis=1)
        p, self._h, self._c = self.session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._ctx = x[:, -64:]
        return float(np.asarray(p).reshape(-1)[0])


class WebrtcVad:
    """webrtcvad fallback: a yes/no per 30 ms window, mapped to probability 0 or 1."""

    window = 480

    def __init__(self, threshold: float = 0.5) -> None:
        import webrtcvad

        # Higher thresholds ask for more certainty: map them onto webrtcvad's aggressiveness 0–3.
        self._vad = webrtcvad.Vad(min(3, int(threshold * 4)))

    def reset(self) -> None:
        pass

    def prob(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> float:
        return 1.0 if self._vad.is_speech(samples.tobytes(), RATE) else 0.0
