"""Questions asked back instead of answers: when the transcript lost its verb, or "he" names nobody yet.

A wrong answer said with confidence is worse than a short question back ("Who do you mean by "he"?"): the
user answers it in a word, and nothing made up was spoken.
"""

from __future__ import annotations

from datavox.brain.frame import Frame
from datavox.types import Answer, Intent


def asked_back(question: str, ask: str, why: str, timings: dict[str, float]) -> Answer:
    return Answer(question=question, intent=Intent.STATISTICAL, answer=ask, engine="offline",
                  error=why, clarify=ask, timings_ms=timings)  # fmt: skip


def unresolved_subject(frame: Frame, notes: list[str]) -> str | None:
    """ "did he", "has she": a subject pronoun that nothing in the conversation names."""
    if not frame.person_ref or any(n.partition(" = ")[0] in ("he", "she", "they") for n in notes):
        return None
    words = [t.text for t in frame.toks]
    for i, w in enumerate(words[1:], 1):
        if w in ("he", "she") and words[i - 1] in ("did", "does", "has", "had", "was", "is", "will", "can"):
            return w
    return None
