"""A question's text before it is read: emphasis and polite openers removed, "runner-up" and "best placed"
said plainly, a trailing time clause split off, and what its capitals say (names, codes)."""

from __future__ import annotations

import re

from datavox.brain.text import fold, spoken_years

_WHEN_CLAUSE = re.compile(
    r"^(?P<main>.+?)\s+(?:when|the year|the season|in the year|in the season)\s+(?P<sub>.+)$"
)


def split_clause(question: str) -> tuple[str, str | None]:
    """ "Which team did he drive for when he won his first title?" → main question, time clause."""
    text = fold(question)
    if text.startswith(("when ", "in which year", "in what year")):
        return question, None
    m = _WHEN_CLAUSE.match(text)
    if m is None or len(m.group("sub").split()) < 2 or len(m.group("main").split()) < 2:
        return question, None
    if re.fullmatch(r"(?:in|during|of|on)\s+(?:the\s+)?(?:year\s+|season\s+)?\d{4}s?", m.group("sub")):
        return question, None  # "... when in 2020": no clause, only a year (a misheard word before it)
    return m.group("main"), m.group("sub")


# Polite openers that wrap a question: "can you tell me who won ..." asks "who won ...".
_POLITE = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so)\s+)?"
    r"(?:(?:can|could|would|will) you (?:please )?(?:tell|show|give|let) (?:me|us) "
    r"(?:know )?|do you know |i (?:want|would like|d like|wonder) (?:to know )?|please tell me |tell me |"
    r"i m curious |any idea )"
)


_BEST_PLACED = re.compile(
    r"(?<![a-z0-9])(?:best|highest|top) (?:placed|placing|ranked|ranking|positioned)(?![a-z0-9])"
)


# Phrases that add emphasis, not meaning, in any dataset.
GENERIC_NOISE = (
    "of all time", "all time", "in history", "ever", "so far", "to date", "right now", "please",
    "in the data", "in the database", "in the dataset", "in this data", "in your data",
    "in his career", "in her career", "in their career", "in his whole career", "in her whole career",
)  # fmt: skip


def clean_text(question: str, noise: list[str] | tuple[str, ...] = ()) -> str:
    """The question folded, its noise phrases removed and its wording made plain for the slot readers."""
    text = fold(question)
    for phrase in sorted((fold(n) for n in (*noise, *GENERIC_NOISE)), key=len, reverse=True):
        if phrase:
            text = re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", " ", text)
    text = re.sub(r"(?<![a-z0-9])runners? up(?![a-z0-9])", "second", text)
    # "best placed", "highest ranked": ranked by position, the smallest first.
    text = _BEST_PLACED.sub("best position", text)
    text = spoken_years(text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _POLITE.sub("", text)
    return text


def lower_words(question: str) -> frozenset[str]:
    """Words the question writes only in lower case: names are written with capitals wherever the writer
    (or the transcriber) writes sentences with capitals at all."""
    said = re.findall(r"[^\W\d_]+", question)
    if not any(ch.isupper() for ch in question):
        return frozenset()  # all lower case: case says nothing here
    low = {fold(w) for w in said if w.islower()}
    return frozenset(low - {fold(w) for w in said if not w.islower()})


def code_words(question: str) -> frozenset[str]:
    """Short words written in capitals in a sentence that also has lower case ("in the US", "the UK"): a
    code, even where the same letters are an everyday word ("us"); in a question written all in capitals,
    none."""
    if not any(ch.islower() for ch in question):
        return frozenset()
    return frozenset(fold(w) for w in re.findall(r"\b[A-Z]{2,3}\b", question))
