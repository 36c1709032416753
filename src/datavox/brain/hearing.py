"""Repairs what speech-to-text got slightly wrong, before the question is parsed.

A transcript like "How many races did Lewis Hamilton, When in 2020." has a stray comma and "when" where the
speaker said "win". Read as it stands it becomes a confidently wrong answer ("... had 16 races when in 2020").
Two things tell us better, neither of them about any one dataset:

- the question's shape: after "did <someone>" or right after "who" a verb must come; a question word or a
  preposition in that place was misheard (or the verb was lost);
- the data's vocabulary (the semantic model's words and the names in the data): a sound-alike of the heard
  word that the data speaks about ("win" for "when", "male" for "mail") is what was meant.

A repair with one fitting candidate is made and noted; a verb slot that stays wrong gives a clarifying
question to ask back instead of an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from datavox.brain.english import past
from datavox.brain.linking import ValueIndex
from datavox.brain.text import fold, lemma

# English sound-alikes that speech models confuse, heard → meant (in the order to try). Only a word the data
# speaks about is ever put in, so a list longer than any one dataset needs is harmless.
SOUND_ALIKES: dict[str, tuple[str, ...]] = {
    "when": ("win", "won"), "wen": ("win", "won"), "whin": ("win",), "one": ("won",), "want": ("won", "win"),
    "ones": ("wins",), "wend": ("win",), "went": ("won",), "scorned": ("scored",), "poll": ("pole",),
    "polls": ("poles",), "mail": ("male",), "mails": ("males",), "reign": ("rain",), "rein": ("rain",),
    "reigned": ("rained",), "whether": ("weather",), "sun": ("sun",), "son": ("sun",), "sunny": ("sunny",),
    "sail": ("sale",), "sails": ("sales",), "by": ("buy",), "cell": ("sell",), "cells": ("sells",),
    "plain": ("plane",), "plains": ("planes",), "road": ("rode",), "weight": ("wait",), "wait": ("weight",),
    "way": ("weigh",), "fair": ("fare",), "fare": ("fair",), "herd": ("heard",), "rays": ("race", "races"),
    "raise": ("race",), "raised": ("raced",), "isle": ("aisle",), "aisle": ("isle",), "week": ("weak",),
    "peak": ("peek",), "pair": ("pear",), "pairs": ("pears",), "flower": ("flour",), "meat": ("meet",),
    "steal": ("steel",), "tied": ("tide",), "dew": ("due",), "site": ("sight",), "sight": ("site",),
    "brake": ("break",), "break": ("brake",), "led": ("lead",), "lead": ("led",), "lap": ("lap",),
    "laps": ("laps",), "lapse": ("laps",), "collapse": ("laps",), "pole": ("poll",), "clothes": ("close",),
    "1": ("won", "win"),
}  # fmt: skip
# How Whisper's tiny model writes "Who won" at the start of a question when a prompt full of names leads it
# astray ("A won the 2016 Drivers Championship.", "Huon the Monaco Grand Prix in 2019."), measured on piper-
# spoken questions. Put right only where the data speaks of winning and a determiner or a name follows.
_WHO_WON = frozenset({"a won", "i won", "huon", "hewon", "howon", "hoowon", "huwon", "hulen", "hoon"})
# Words that can never be the verb after "did <someone>" or "who".
_NOT_VERBS = frozenset(
    """when where what which who whom whose why how one ones in on at of for with from to by during
    the a an and or but than then that this these those there their his her its our my your""".split()  # noqa: SIM905
)
_AUX = frozenset({"did", "does", "do"})
_PERFECT = frozenset({"has", "have", "had"})  # "How many titles has Michael Schumacher won?"
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "these", "those"})
_PRONOUNS = frozenset({"he", "she", "they", "it", "i", "we", "you"})
_FILLERS = re.compile(r"(?<![a-z'])(?:um+|uh+|erm+|er|hmm+|uhm+)(?![a-z'])[,.]?\s*", re.IGNORECASE)
_INNER_STOP = re.compile(r"(?<=[A-Za-z0-9'’])\s*[,;:]+\s*|(?<=[A-Za-z'’])\.\s+(?=\S)")
_FRONTED = re.compile(r"^((?:in|at|during|since|for|from|after|before)\s+[^,]{1,40}),\s*(.+)$", re.IGNORECASE)
_KEEP_DOUBLE = frozenset(
    "had that twenty thirty forty fifty sixty seventy eighty ninety nineteen ten eleven twelve".split()  # noqa: SIM905
)
_DOUBLED = re.compile(r"\b(\w+)(\s+\1\b)+", re.IGNORECASE)
_YEAR_ECHO = re.compile(r"\b((?:1[89]|20)(\d\d))\s+(\d\d)\b(?![.,]\d)")  # "the 2016 16 championship"
_QUESTION_START = re.compile(
    r"^(?:and |so |ok |okay )?(?:who|whom|whose|which|what|when|where|why|how|did|does|do|is|was|were|are|"
    r"has|have|had|can|could|in which|in what)\b",
    re.IGNORECASE,
)


NameSpan = tuple[tuple[int, int], str]  # (character span in the folded text, the data's spelling)


@dataclass
class Heard:
    """A transcript after repair: the text to parse, the words changed, and a question to ask back."""

    text: str
    changes: list[tuple[str, str]] = field(default_factory=list)  # (heard, meant)
    clarify: str | None = None

    @property
    def note(self) -> str:
        return "; ".join(f'heard "{a}" as "{b}"' for a, b in self.changes)


def data_words(index: ValueIndex) -> set[str]:
    """The lemmas the data speaks with: the semantic model's words and every word of the linked values."""
    out = set(index.vocabulary)
    for key in index.exact:
        out.update(lemma(w) for w in key.split() if not w.isdigit())
    return out


def tidy(question: str) -> str:
    """Punctuation and fillers that speech-to-text puts in the middle of a question: "Lewis Hamilton, When
    in 2020." → "Lewis Hamilton when in 2020?"."""
    text = _FILLERS.sub("", question).strip()
    stripped = text.rstrip("?!. ")
    fronted = _FRONTED.match(stripped)
    head = ""
    if fronted:  # "In 2012, who won ...": that comma is the speaker's, and the answer's wording uses it
        head, stripped = fronted.group(1) + ", ", fronted.group(2)
    # A comma or full stop inside the question splits nothing the parser reads; a decimal point stays.
    inner = _INNER_STOP.sub(" ", stripped)
    # A question word capitalised after a stray stop ("..., When in 2020") is not a name.
    inner = re.sub(
        r"(?<=\s)(When|Where|What|Which|Who|How|In|On|At|For|With|The|And|Of)\b",
        lambda m: m.group(1).lower(),
        inner,
    )
    # "the the": a stutter; but "twenty twenty one" is a year, and "had had" grammar.
    inner = _DOUBLED.sub(lambda m: m.group(0) if m.group(1).lower() in _KEEP_DOUBLE else m.group(1), inner)
    # A year's last two digits said again (the recogniser's stutter): "2016 16" is 2016; "2016 20" stays.
    inner = _YEAR_ECHO.sub(lambda m: m.group(1) if m.group(2) == m.group(3) else m.group(0), inner)
    inner = head + re.sub(r"\s+", " ", inner).strip()
    if not inner:
        return question.strip()
    end = "?" if _QUESTION_START.match(inner) or question.rstrip().endswith("?") else "."
    if question.rstrip().endswith("!"):
        end = "!"
    return inner + end


class Hearing:
    """Repairs transcripts against one dataset's vocabulary. `names(text)` gives the character spans of the
    names the value index finds in folded text (they are never repaired, and they make up a subject)."""

    def __init__(self, words: Iterable[str], names: Callable[[str], list[NameSpan]]) -> None:
        self.words = set(words)
        self.names = names

    def repair(self, question: str) -> Heard:
        text = tidy(question)
        changes: list[tuple[str, str]] = []
        words = text.split()
        spans = self._name_words(words)
        folded = [fold(w) for w in words]
        opening = self._who_won(folded, spans)
        if opening:
            changes.append((" ".join(words[:opening]).rstrip(",.").lower(), "who won"))
            words[:opening] = ["Who", "won"]
            folded[:opening] = ["who", "won"]
            spans = {i - opening + 2 for i in spans}
            if words[-1].endswith("."):
                words[-1] = words[-1][:-1] + "?"  # it is a question now
        # 1. The verb slot: after "did/does/do <someone>", or right after "who".
        slot = _verb_slot(folded, spans)
        if slot is not None:
            i, form = slot
            if i >= len(folded) or self._suspect(folded[i]):
                heard = folded[i] if i < len(folded) else ""
                meant = self._verb_for(heard, form)
                # "How many points had Lewis Hamilton in 2020?": after "had" the verb may be "had" itself.
                lost = form != "perfect" and (not heard or heard in _NOT_VERBS or heard.isdigit())
                if meant is None and lost:
                    said = " ".join(words).rstrip("?.!")
                    return Heard(text=" ".join(words), changes=changes, clarify=_ask_back(said))
                if meant is not None:
                    changes.append((heard, meant))
                    words[i] = _same_case(words[i], meant)
                    folded[i] = meant
                spans.add(i)
        # 2. A sound-alike the data does not use, for one it does: "mail penguins" → "male penguins".
        for i, f in enumerate(folded):
            # A number is a number ("more than 1 game"), except in a verb's place (step 1).
            if i in spans or f in _NOT_VERBS or f.isdigit() or lemma(f) in self.words:
                continue
            meant = self._fits(f)
            if meant is not None:
                changes.append((f, meant))
                words[i] = _same_case(words[i], meant)
                folded[i] = meant
        return Heard(text=" ".join(words), changes=changes)

    def _who_won(self, folded: list[str], names: set[int]) -> int:
        """How many words at the start are a misheard "Who won" (0: none)."""
        if "win" not in self.words:
            return 0
        for n in (2, 1):
            nxt = folded[n] if n < len(folded) else ""
            if " ".join(folded[:n]) in _WHO_WON and (nxt in _DETERMINERS or n in names):
                return n
        return 0

    def _suspect(self, word: str) -> bool:
        """Not a verb the data speaks of, where one must stand."""
        if word in _NOT_VERBS or word.isdigit():
            return True
        return word in SOUND_ALIKES and lemma(word) not in self.words

    def _fits(self, heard: str) -> str | None:
        """The one sound-alike of `heard` that the data speaks about."""
        options = [m for m in SOUND_ALIKES.get(heard, ()) if m != heard and lemma(m) in self.words]
        return options[0] if len({lemma(m) for m in options}) == 1 else None

    def _verb_for(self, heard: str, form: str) -> str | None:
        for meant in SOUND_ALIKES.get(heard, ()):
            if lemma(meant) not in self.words:
                continue
            base = lemma(meant)
            if form == "base":
                return base
            return meant if meant != base else past(base)
        return None

    def _name_words(self, words: list[str]) -> set[int]:
        """Indexes of the words that are part of a name the data knows; a name said exactly but in lower
        case ("lewis hamilton", as some transcripts write) gets the data's spelling, so the answer can echo
        it."""
        folded_text = " ".join(fold(w) for w in words)
        starts: list[tuple[int, int]] = []
        pos = 0
        for i, w in enumerate(words):
            f = fold(w)
            starts.append((pos, i))
            pos += len(f) + 1
        out: set[int] = set()
        for (lo, hi), value in self.names(folded_text):
            at = [i for p, i in starts if lo <= p < hi]
            out.update(at)
            said = " ".join(words[i] for i in at)
            if at and said.islower() and fold(said) == fold(value) and len(value.split()) == len(at):
                for i, part in zip(at, value.split(), strict=True):
                    words[i] = part + words[i][len(words[i].rstrip("?!.,")) :]
        return out


def _verb_slot(folded: list[str], names: set[int]) -> tuple[int, str] | None:
    """Where a verb must stand, and its form ("base" after did, "past" after who), if the question says so."""
    for i, f in enumerate(folded):
        if f in _AUX or (f in _PERFECT and i > 0):
            # After "has <someone>" the verb may be missing ("How many wins has Lewis Hamilton?": "has" is
            # the verb), so only a word that is there can be put right.
            form = "base" if f in _AUX else "perfect"
            j = i + 1
            if j < len(folded) and folded[j] in _PRONOUNS:
                j += 1
            elif j < len(folded) and j in names:
                while j < len(folded) and j in names:
                    j += 1
            else:
                return None
            return None if form == "perfect" and j >= len(folded) else (j, form)
        if f == "who" and all(w in ("and", "so", "then") for w in folded[:i]) and i + 1 < len(folded):
            # "who one the title" (a sound-alike), "who the Monaco Grand Prix" (the verb lost)
            nxt = folded[i + 1]
            return (i + 1, "past") if nxt in SOUND_ALIKES or nxt in _DETERMINERS else None
    return None


def _same_case(original: str, new: str) -> str:
    trail = original[len(original.rstrip("?!.,")) :]
    word = new.capitalize() if original[:1].isupper() and original[1:2].islower() else new
    return word + trail


def _ask_back(said: str) -> str:
    return f'I heard "{said}", and I\'m not sure what was asked. Could you say it again, another way?'
