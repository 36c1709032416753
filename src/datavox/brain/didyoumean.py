"""A name heard wrong: "Who won the Brutus Grand Prix in 2020?" asks back "Did you mean the British Grand
Prix?" instead of saying it knows no "Brutus", and a "yes" then answers the question with that name.

Speech-to-text gets the head of a name wrong more often than its tail (one `datavox bench voice` run heard
"British" as "Brutus" in 21 of 240 turns). When a word the data does not know is followed by words that end
some of the data's names ("Grand Prix"), the heads of those names are compared with the heard word alone
(the shared tail would make every candidate look alike). Only a clear winner is offered, and only as a
question: an answer about the wrong race said with confidence is worse than a question back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from datavox.brain.text import fold
from datavox.types import HistoryTurn

DID_YOU_MEAN = "Did you mean "
MIN_SCORE = 55.0  # fuzz.ratio of the heads: "brutus" / "british" 62, "italien" / "italian" 86
MIN_LEAD = 10.0  # over the next head: "brazain" is 75 to "brazilian" and 71 to "bahrain": no guess
_YES_WORDS = ["yes", "yeah", "yep", "yup", "yes please", "yes i did", "i did", "correct", "that's right"]
_YES = frozenset(fold(w) for w in [*_YES_WORDS, "right", "exactly", "sure"])
_ARTICLES = ("the", "a", "an")


@dataclass(frozen=True)
class Guess:
    heard: str  # the words as the question wrote them: "Brutus Grand Prix"
    meant: str  # the data's name: "British Grand Prix"
    question: str  # the question with the name put right
    article: str  # "the " when the question said "the Brutus Grand Prix"

    def ask(self) -> str:
        return f"{DID_YOU_MEAN}{self.article}{self.meant}?"


def sound_alike(question: str, word: str, keys: Sequence[str], spell: Callable[[str], str]) -> Guess | None:
    """The data's name that `word` and the words after it most likely were; `keys` are the folded names
    of the value index, `spell(key)` the data's spelling of one."""
    written = re.findall(r"[\w'’-]+", question)
    words = [fold(w) for w in written]
    head = fold(word)
    if head not in words or len(head) < 4:  # "Bra": too little to go on
        return None
    i = words.index(head)
    for n in (3, 2, 1):  # the longest tail the data knows
        tail = words[i + 1 : i + 1 + n]
        if len(tail) < n:
            continue
        suffix = " " + " ".join(tail)
        heads = {k[: -len(suffix)]: k for k in keys if k.endswith(suffix) and " " not in k[: -len(suffix)]}
        if not heads:
            continue
        best = process.extract(head, list(heads), scorer=fuzz.ratio, limit=2)
        lead = best[0][1] - (best[1][1] if len(best) > 1 else 0.0)
        if best[0][1] < MIN_SCORE or lead < MIN_LEAD:
            return None
        meant = spell(heads[best[0][0]])
        pattern = r"\b" + r"\W+".join(re.escape(w) for w in written[i : i + 1 + n]) + r"\b"
        m = re.search(pattern, question)
        if m is None:
            return None
        article = written[i - 1].lower() + " " if i > 0 and written[i - 1].lower() in _ARTICLES else ""
        fixed = question[: m.start()] + meant + question[m.end() :]
        return Guess(m.group(0), meant, fixed, article)
    return None


def is_yes(question: str) -> bool:
    return fold(question.strip(" .!?,")).replace(",", "") in _YES


def asked(history: Sequence[HistoryTurn]) -> str | None:
    """The question whose name a "yes" confirms: the user's turn before the last answer, if that answer
    asked "Did you mean ...?"."""
    if len(history) < 2 or history[-1].role != "assistant" or history[-2].role != "user":
        return None
    return history[-2].text if history[-1].text.startswith(DID_YOU_MEAN) else None
