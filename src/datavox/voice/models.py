"""Speech models, loaded once per process and shared by every session.

Loading takes ~0.7 s and ~250 MB; doing it per session would make the second caller wait and double the
memory. `get_models()` loads lazily on first use (or at server start through `LocalRealtimeEngine.warm_up`)
and turns any failure into a `ModelLoadError` that names the model, so `datavox doctor` and the server log
say what is missing instead of a stack trace from deep inside onnxruntime.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from datavox.config import Settings
from datavox.voice.stt import WhisperStt
from datavox.voice.tts import PiperTts
from datavox.voice.vad import SileroVad, VadModel, WebrtcVad

log = logging.getLogger(__name__)
T = TypeVar("T")


class ModelLoadError(RuntimeError):
    """A speech model could not be loaded; the message says which one and why."""


@dataclass
class SpeechModels:
    stt: WhisperStt
    tts: PiperTts
    silero: object | None  # shared onnxruntime session, None when only webrtcvad works
    load_ms: dict[str, float] = field(default_factory=dict)

    def vad(self, threshold: float = 0.5) -> VadModel:
        """A fresh VAD stream (state is per session; the model is shared)."""
        if self.silero is not None:
            return SileroVad(self.silero)
        return WebrtcVad(threshold)


_lock = threading.Lock()
_models: SpeechModels | None = None


def _timed(name: str, load_ms: dict[str, float], fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        result = fn()
    except Exception as exc:  # any import or ONNX/CT2 error
        raise ModelLoadError(f"could not load the {name} model: {type(exc).__name__}: {exc}") from exc
    load_ms[name] = round((time.perf_counter() - start) * 1000, 1)
    return result


def load_models(settings: Settings) -> SpeechModels:
    load_ms: dict[str, float] = {}
    # Two STT workers share the model so two sessions can transcribe at once, each on its own thread.
    stt = _timed(
        "speech-to-text (faster-whisper tiny.en)",
        load_ms,
        lambda: WhisperStt.load(
            threads=settings.voice.stt_threads, workers=2, compute_type=settings.voice.stt_compute_type
        ),
    )
    tts = _timed(
        "text-to-speech (piper joe-medium)",
        load_ms,
        lambda: PiperTts.load(threads=settings.voice.tts_threads),
    )
    try:
        silero: object | None = _timed("VAD (silero v6 ONNX)", load_ms, SileroVad.load_session)
    except ModelLoadError as exc:
        log.warning("%s; falling back to webrtcvad", exc)
        silero = None
    return SpeechModels(stt=stt, tts=tts, silero=silero, load_ms=load_ms)


def get_models(settings: Settings) -> SpeechModels:
    """The process-wide models, loaded on first call."""
    global _models
    with _lock:
        if _models is None:
            _models = load_models(settings)
            log.info("speech models loaded in %s ms", _models.load_ms)
        return _models
