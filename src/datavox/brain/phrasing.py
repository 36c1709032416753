"""Answers that echo the question's own words: "Who won the 2015 title?" → "Lewis Hamilton won the 2015
title."

Question grammar only, nothing about any dataset (its English, verbs and subjects, is in `english.py`): the
answer takes the place of the question word ("who", "which team"), or the number goes before the counted noun
("How many races did he win?" → "He won 11 races."). When a question does not fit these patterns, `None`
tells the caller to use its plain wording.
"""

from __future__ import annotations

import re

from datavox.brain.english import (
    ADVERBS,
    AUX,
    BE,
    PAST,
    PLAIN_VERBS,
    PRESENT,
    PRONOUNS,
    STRANDED,
    agree,
    is_verb,
    name_for,
    past,
    question_words,
    singular_noun,
    subject_span,
    third_person,
    verb_ok,
)
from datavox.brain.text import fold


def subject_answer(question: str, answer: str, many: bool) -> str | None:
    """ "Who won the 2015 drivers' title?" + "Lewis Hamilton" → "Lewis Hamilton won the 2015 drivers' title."
    "Which team won the most races in 2022?" → "Red Bull won the most races in 2022." """
    w = question_words(question)
    if len(w) < 3:
        return None
    first = w[0].lower()
    rel = next((i for i in range(1, min(len(w), 6)) if w[i].lower() in ("who", "that")), None)
    if first in ("name", "list", "give", "show", "tell") and rel is not None and rel + 1 < len(w):
        first, w = "who", w[rel:]  # "Name the driver who won the 2003 title" → "... won the 2003 title"
    if first == "who":
        rest = w[1:]
    elif first in ("which", "what"):
        # The noun after "which" ("team", "driver", "Grand Prix") gives way to the answer up to the verb.
        j = next((i for i in range(2, min(len(w), 6)) if is_verb(w[i])), None)
        if j is None:
            return None
        rest = w[j:]
    else:
        return None
    verb = rest[0].lower()
    if verb in ("did", "does", "do"):
        return None  # "Who did he drive for?": the answer is not the subject
    if verb in AUX and len(rest) > 1 and (rest[1][:1].isupper() or rest[1].lower() in PRONOUNS):
        # "Which team was Alonso with?" asks for an object; "Who were Max Verstappen's teammates?" does not.
        end = subject_span(rest, 1)
        if not (end > 1 and rest[end - 1].lower().endswith(("'s", "’s"))) or verb not in BE:
            return None
    if first == "what" and verb in ("is", "was", "are", "were"):
        return None  # "What is the nationality of X?" — said by `attribute_answer`
    rest = [agree(rest[0], many), *rest[1:]]
    return f"{answer} {' '.join(rest)}."


def attribute_answer(question: str, value: str) -> str | None:
    """ "What is the nationality of Kimi Räikkönen?" + "Finnish" → "The nationality of Kimi Räikkönen is
    Finnish." """
    w = question_words(question)
    if len(w) < 4 or w[0].lower() != "what" or w[1].lower() not in ("is", "was", "are", "were"):
        return None
    rest = w[2:]
    end = subject_span(rest, 0)
    if 0 < end < len(rest) and rest[end - 1].lower().endswith(("'s", "’s")):
        # "What was Michael Schumacher's best finish?" → "Michael Schumacher's best finish was 1."
        return f"{' '.join(rest)} {w[1].lower()} {value}."
    if rest[0].lower() in ("the", "a", "an"):
        rest = rest[1:]
    if "of" not in [x.lower() for x in rest]:
        return None
    return f"The {' '.join(rest)} {w[1].lower()} {value}."


def value_answer(question: str, value: str) -> str | None:
    """ "What was the total precipitation in 2012?" + "1226" → "The total precipitation in 2012 was 1226." """
    w = question_words(question)
    if len(w) < 4 or w[0].lower() != "what" or w[1].lower() not in ("is", "was") or w[2].lower() != "the":
        return None
    return f"The {' '.join(w[3:])} {w[1].lower()} {value}."


def count_answer(question: str, number: str, names: list[str], one: bool) -> str | None:
    """ "How many races did Lewis Hamilton win in 2020?" + "11" → "Lewis Hamilton won 11 races in 2020."
    "How many Grands Prix were held in 2024?" → "24 Grands Prix were held in 2024." """
    w = question_words(question)
    if len(w) < 4 or [x.lower() for x in w[:2]] != ["how", "many"]:
        return None
    # The counted noun: the words up to the verb or auxiliary.
    j = next((i for i in range(2, min(len(w), 8)) if is_verb(w[i], present=False)), None)
    if j is None or j == 2:
        return None
    noun = " ".join(w[2:j])
    if noun.lower() == "times":
        return _times_answer(w, j, number, names)
    # A capitalised word that continues the counted noun ("Grands Prix") is no subject.
    caps = next(
        (
            i
            for i in range(3, j)
            if (w[i][:1].isupper() and not w[i - 1][:1].isupper()) or w[i].lower() in PRONOUNS
        ),
        None,
    )
    if caps is not None and w[j].lower() not in AUX:
        # "how many races Verstappen won in 2021" (no auxiliary): the name before the verb is the subject.
        noun = " ".join(w[2:caps])
        noun = singular_noun(noun) if one else noun
        subject = name_for(" ".join(w[caps:j]), names)
        tail = " ".join(w[j + 1 :])
        return f"{subject} {w[j]} {number} {noun}{(' ' + tail) if tail else ''}."
    if one:
        noun = singular_noun(noun)
    aux = w[j].lower()
    if aux in ("did", "does", "do", "has", "have", "had") and j + 1 < len(w):
        end = subject_span(w, j + 1)
        if end == j + 1 or end >= len(w):
            if aux in ("has", "have", "had"):  # "How many drivers have won ..."
                return f"{number} {noun} {agree(aux, not one)} {' '.join(w[j + 1 :])}."
            return None
        subject = name_for(" ".join(w[j + 1 : end]), names)
        while end < len(w) - 1 and w[end].lower() in ADVERBS:
            end += 1
        verb, after_verb = w[end], w[end + 1 :]
        if not verb_ok(verb):
            return None
        if aux == "did":
            said = past(verb)
        elif aux in ("does", "do"):
            said = third_person(verb) if aux == "does" else verb
        else:
            said = f"{aux} {verb}"  # "has Ferrari won" → "Ferrari has won"
        if (
            after_verb
            and after_verb[0].lower() in STRANDED
            and (len(after_verb) == 1 or after_verb[1].lower() in STRANDED)
        ):
            # "How many teams did Alonso drive for (in 2010)?": the preposition goes back before what it
            # governs — "Alonso drove for 6 teams", not "drove 6 teams for".
            said, after_verb = f"{said} {after_verb[0]}", after_verb[1:]
        tail_text = (" " + " ".join(after_verb)) if after_verb else ""
        return f"{subject} {said} {number} {noun}{tail_text}."
    if aux in ("were", "was", "are", "is"):
        if [x.lower() for x in w[j + 1 :]][:1] == ["there"]:  # "How many champions are there (in ...)?"
            after = " ".join(w[j + 2 :])
            return f"There {agree(aux, not one)} {number} {noun}{(' ' + after) if after else ''}."
        return f"{number} {noun} {agree(aux, not one)} {' '.join(w[j + 1 :])}."
    if aux in PAST or aux in PRESENT or aux in PLAIN_VERBS or (aux.endswith("ed") and len(aux) > 4):
        return f"{number} {noun} {' '.join(w[j:])}."
    return None


def rank_answer(question: str, said: str, names: list[str]) -> str | None:
    """ "Where did Lando Norris finish in the 2024 standings?" + "2nd" → "Lando Norris finished 2nd in the
    2024 standings." """
    w = question_words(question)
    if len(w) < 4 or w[0].lower() != "where" or w[1].lower() not in ("did", "does", "do"):
        return None
    end = subject_span(w, 2)
    if end == 2 or end >= len(w):
        return None
    subject = name_for(" ".join(w[2:end]), names)
    tail = w[end + 1 :]
    if not verb_ok(w[end]):
        return None
    return f"{subject} {past(w[end])} {said}{(' ' + ' '.join(tail)) if tail else ''}."


def when_answer(question: str, said: str, names: list[str], is_date: bool) -> str | None:
    """ "When was Charles Leclerc born?" → "Charles Leclerc was born on October 16, 1997."
    "In which year did Kimi Räikkönen win the championship?" → "Kimi Räikkönen won the championship in
    2007." """
    w = question_words(question)
    low = [x.lower() for x in w]
    if low[:1] == ["when"]:
        start = 1
    elif low[:3] in (["in", "which", "year"], ["in", "what", "year"], ["which", "year", "did"]):
        start = 3 if low[0] == "in" else 2
    else:
        return None
    if start >= len(w):
        return None
    aux = low[start]
    if aux not in ("did", "was", "were", "is", "does", "has"):
        return None
    end = subject_span(w, start + 1)
    if end == start + 1 or end >= len(w):
        return None
    subject = name_for(" ".join(w[start + 1 : end]), names)
    verb, tail = w[end], w[end + 1 :]
    if not verb_ok(verb):
        return None
    said_verb = past(verb) if aux in ("did", "does") else f"{aux} {verb}"
    prep = "on" if is_date else "in"
    return f"{subject} {said_verb}{(' ' + ' '.join(tail)) if tail else ''} {prep} {said}."


def object_answer(question: str, answer: str, names: list[str]) -> str | None:
    """ "Which team did Lewis Hamilton drive for in 2012?" + "McLaren" → "Lewis Hamilton drove for McLaren in
    2012." The answer goes after the verb (and its preposition), where the question's noun stood."""
    w = question_words(question)
    low = [x.lower() for x in w]
    if len(w) < 4 or low[0] not in ("which", "what"):
        return None
    j = next((i for i in range(1, min(len(w), 6)) if low[i] in AUX), None)
    if j is None or j + 1 >= len(w):
        return None
    end = subject_span(w, j + 1)
    if end == j + 1:
        return None
    subject = name_for(" ".join(w[j + 1 : end]), names)
    if end >= len(w):
        # "What nationality is Jenson Button?" → "Jenson Button is British."
        return f"{subject} {low[j]} {answer}." if low[j] in BE else None
    while end < len(w) - 1 and low[end] in ADVERBS:
        end += 1
    verb = w[end]
    if not verb_ok(verb):
        return None
    if any(x in ("year", "season", "years", "seasons") for x in low[1:j]) and low[j] in ("did", "does", "do"):
        tail = " ".join(w[end + 1 :])
        return f"{subject} {past(verb)}{(' ' + tail) if tail else ''} in {answer}."  # "which year did ..."
    if low[j] in BE and end == len(w) - 1 and low[end] in ("from", "in", "at", "with", "for"):
        return f"{subject} {low[j]} {low[end]} {answer}."  # "Which country is Max Verstappen from?"
    if low[j] not in ("did", "does", "do") and not low[end].endswith("ing"):
        return None  # "Which team was he driving for?" yes; "What was X's best finish?" is no verb phrase
    said = past(verb) if low[j] in ("did", "does", "do") else f"{low[j]} {verb}"
    k = end + 1
    if k < len(w) and low[k] in ("for", "with", "at", "in", "to", "from", "on", "by"):
        k += 1
    head = " ".join([subject, said, *w[end + 1 : k]])
    tail = " ".join(w[k:])
    return f"{head} {answer}{(' ' + tail) if tail else ''}."


def yesno_answer(question: str, yes: bool, times: int | None, names: list[str]) -> str | None:
    """ "Did Nico Rosberg ever win the world championship?" → "Yes, Nico Rosberg won the world championship
    once." / "No, ... did not win ..." """
    w = question_words(question)
    low = [x.lower() for x in w]
    if len(w) < 3 or low[0] not in ("did", "has", "have", "does"):
        return None
    end = subject_span(w, 1)
    if end == 1 or end >= len(w):
        return None
    subject = name_for(" ".join(w[1:end]), names)
    while end < len(w) - 1 and low[end] in ADVERBS:
        end += 1
    verb, tail = w[end], " ".join(w[end + 1 :])
    if not verb_ok(verb):
        return None
    tail = (" " + tail) if tail else ""
    if not yes:
        neg = "did not" if low[0] in ("did", "does") else f"{low[0]} not"
        return f"No, {subject} {neg} {verb}{tail}."
    said = past(verb) if low[0] in ("did", "does") else f"{low[0]} {verb}"
    often = "" if times is None else " once" if times == 1 else " twice" if times == 2 else f" {times} times"
    return f"Yes, {subject} {said}{tail}{often}."


def not_found(question: str) -> str | None:
    """ "Who won the 2035 drivers' championship?" → "I couldn't find who won the 2035 drivers' championship
    in the data." """
    w = question_words(question)
    if len(w) < 3 or w[0].lower() not in ("who", "which", "what", "when", "where"):
        return None
    said = " ".join(w[1:])
    where = "" if said.lower().endswith("in the data") else " in the data"
    return f"I couldn't find {w[0].lower()} {said}{where}."


def _times_answer(w: list[str], j: int, number: str, names: list[str]) -> str | None:
    """ "How many times has Lewis Hamilton won the British Grand Prix?" → "Lewis Hamilton has won the British
    Grand Prix 9 times." """
    aux = w[j].lower()
    end = subject_span(w, j + 1)
    if end == j + 1 or end >= len(w):
        return None
    subject = name_for(" ".join(w[j + 1 : end]), names)
    while end < len(w) - 1 and w[end].lower() in ADVERBS:
        end += 1
    verb, tail = w[end], w[end + 1 :]
    if not verb_ok(verb):
        return None
    said = past(verb) if aux in ("did", "does", "do") else f"{aux} {verb}"
    often = "once" if number == "1" else "twice" if number == "2" else "never" if number == "no" else None
    count = often or f"{number} times"
    return f"{subject} {said}{(' ' + ' '.join(tail)) if tail else ''} {count}."


def replace_said(question: str, said: str, new: str) -> str | None:
    """The question with the words that named `said` ("Charles Leclerc", "Raikkonen") replaced by `new`."""
    words = question.split()
    target = fold(said)
    if not target:
        return None
    for n in range(1, min(len(words), 6) + 1):
        for i in range(len(words) - n + 1):
            if fold(" ".join(words[i : i + n])) == target:
                last = words[i + n - 1]
                trail = last[len(last.rstrip("?!.,")) :]
                return " ".join([*words[:i], new + trail, *words[i + n :]])
    return None


def replace_year(question: str, old: int, new: int) -> str | None:
    """ "... in 2022?" → "... in 2023?"; None when the question does not say the old year."""
    pattern = re.compile(rf"(?<!\d){old}(?!\d)")
    if not pattern.search(question):
        # "that year" / "that season" said the old year: say the new one instead.
        that = re.compile(r"\b(?:that|the same) (?:year|season)\b", re.IGNORECASE)
        return that.sub(f"in {new}", question, count=1) if that.search(question) else None
    return pattern.sub(str(new), question, count=1)


def where_answer(question: str, place: str, names: list[str]) -> str | None:
    """ "Where was Lewis Hamilton born?" + "Stevenage" → "Lewis Hamilton was born in Stevenage."
    "Where is Monza?" → "Monza is in Italy." """
    w = question_words(question)
    low = [x.lower() for x in w]
    if len(w) < 3 or low[0] != "where" or low[1] not in ("is", "was", "are", "were"):
        return None
    end = subject_span(w, 2)
    if end == 2:
        return None
    subject = name_for(" ".join(w[2:end]), names)
    rest = " ".join(w[end:])
    return f"{subject} {low[1]}{(' ' + rest) if rest else ''} in {place}."
