"""Text heuristics of the turn: when a transcript is a whole question, and what of an answer was heard."""

from __future__ import annotations

import re

_COMPLETE_END = re.compile(r"[?.!]\s*$")
_DANGLING = {
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "for",
    "and",
    "or",
    "to",
    "by",
    "with",
    "did",
    "was",
    "is",
    "what",
}


def normalise(text: str) -> str:
    """Transcripts compared without case and punctuation ("Who won?" == "who won.")."""
    return " ".join(re.findall(r"[\w']+", text.lower()))


_QUESTION_START = {
    "who",
    "what",
    "which",
    "how",
    "when",
    "where",
    "why",
    "did",
    "does",
    "do",
    "is",
    "are",
    "was",
    "were",
    "can",
    "show",
    "list",
    "tell",
    "give",
}


def looks_complete(text: str) -> bool:
    """A transcript that is clearly a whole question: punctuated end, 3+ words, no dangling last word."""
    words = re.findall(r"[\w']+", text.lower())
    return bool(_COMPLETE_END.search(text)) and len(words) >= 3 and words[-1] not in _DANGLING


def early_end_silence_ms(text: str, base_ms: int) -> int | None:
    """Silence after which this transcript may end the turn early; None: wait for the full silence.

    Whisper punctuates most complete questions; an unpunctuated one that starts like a question and has
    no dangling last word ("Who won the Monaco Grand Prix in 2019") gets a little more time.
    """
    if looks_complete(text):
        return base_ms
    words = re.findall(r"[\w']+", text.lower())
    if len(words) >= 4 and words[0] in _QUESTION_START and words[-1] not in _DANGLING:
        return base_ms + 100
    return None


def heard_text(sentences: list[tuple[str, float]], heard_ms: float) -> str:
    """The transcript cut to the audio heard: whole sentences, then a share of the next one's words."""
    out: list[str] = []
    left = heard_ms
    for text, ms in sentences:
        if left >= ms:
            out.append(text)
            left -= ms
            continue
        words = text.split()
        keep = int(len(words) * max(0.0, left) / ms) if ms > 0 else 0
        if keep:
            out.append(" ".join(words[:keep]))
        break
    return " ".join(out)
