"""Words of a question: accent folding, tokens, plain English lemmas.

Everything the offline parser compares (question words, synonyms, database values) goes through `fold` and
`lemma`, so "Räikkönen" meets "Raikkonen", "drivers'" meets "driver" and "won" meets "win".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")

# Irregular forms of verbs people use about data; regular ones are handled by suffix rules.
_IRREGULAR = {
    "won": "win",
    "wins": "win",
    "winning": "win",
    "drove": "drive",
    "driven": "drive",
    "driving": "drive",
    "ran": "run",
    "took": "take",
    "taken": "take",
    "got": "get",
    "gotten": "get",
    "had": "have",
    "has": "have",
    "did": "do",
    "does": "do",
    "done": "do",
    "was": "be",
    "were": "be",
    "is": "be",
    "are": "be",
    "been": "be",
    "held": "hold",
    "began": "begin",
    "begun": "begin",
    "came": "come",
    "sold": "sell",
    "bought": "buy",
    "made": "make",
    "paid": "pay",
    "spent": "spend",
    "set": "set",
    "led": "lead",
    "born": "born",
    "children": "child",
    "people": "person",
    "men": "man",
    "women": "woman",
    "prix": "prix",
    "series": "series",
    "news": "news",
    "status": "status",
    "chassis": "chassis",
    "its": "its",
    "his": "his",
    "this": "this",
}


def fold(text: str) -> str:
    """Accents dropped, lower case, every run of other characters one space."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", ascii_text.lower()).strip()


_EED_PAST = frozenset({"agreed", "disagreed", "freed", "guaranteed", "refereed", "decreed"})


@lru_cache(maxsize=20000)
def lemma(word: str) -> str:
    """A plain lemma: irregular forms, plurals and the common verb endings."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3 or w.isdigit():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes")):
        return w[:-2]
    if w.endswith("ss") or w.endswith("us") or w.endswith("is"):
        return w
    if w.endswith("s"):
        return w[:-1]
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("eed"):
        # "speed", "need", "exceed" are no past tenses; "agreed", "freed" are.
        return w[:-1] if w in _EED_PAST else w
    if w.endswith("ed") and len(w) > 4:
        stem = w[:-2]
        if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "ls":
            return stem[:-1]  # stopped → stop
        if stem.endswith(
            (
                "at",
                "iv",
                "us",
                "uc",
                "ur",
                "as",
                "ir",
                "ar",
                "ag",
                "ot",
                "os",
                "ok",
                "id",
                "ik",
                "or",
                "ac",
                "ic",
            )
        ):
            return stem + "e"  # scored → score, raced → race, drived → drive
        return stem
    if w.endswith("ing") and len(w) > 5:
        stem = w[:-3]
        if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "ls":
            return stem[:-1]
        if stem.endswith(("at", "iv", "us", "uc", "ur", "ac", "or", "ir")):
            return stem + "e"
        return stem
    return w


@dataclass(frozen=True)
class Token:
    text: str  # folded surface form
    lemma: str
    start: int  # character offsets in the folded question
    end: int


def tokens(folded: str) -> list[Token]:
    return [Token(m.group(), lemma(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(folded)]


def lemmas(phrase: str) -> tuple[str, ...]:
    return tuple(lemma(t) for t in _TOKEN.findall(fold(phrase)))


# -- spoken numbers: "twenty twenty one" → 2021 --------------------------------------------------------------

_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS.split(" "))}
_UNITS["oh"] = 0
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SPOKEN_YEAR = re.compile(
    r"\b(?:(?P<thousand>two thousand(?: and)?(?: (?P<t_rest>(?:twenty|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine)"
    r"(?: (?:one|two|three|four|five|six|seven|eight|nine))?))?)"
    r"|(?P<century>nineteen|twenty) (?P<rest>(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"oh (?:one|two|three|four|five|six|seven|eight|nine))"
    r"(?: (?:one|two|three|four|five|six|seven|eight|nine))?))\b"
)


def _two_digits(words: str) -> int:
    total = 0
    for w in words.split():
        total += _TENS.get(w, 0) + _UNITS.get(w, 0)
    return total


def spoken_years(folded: str) -> str:
    """Years said in words, as speech-to-text may write them, become digits: "nineteen eighty eight" → 1988,
    "twenty twenty one" → 2021, "two thousand and eight" → 2008."""

    def repl(m: re.Match[str]) -> str:
        if m.group("thousand"):
            return str(2000 + (_two_digits(m.group("t_rest")) if m.group("t_rest") else 0))
        century = 1900 if m.group("century") == "nineteen" else 2000
        return str(century + _two_digits(m.group("rest")))

    return _SPOKEN_YEAR.sub(repl, folded)
