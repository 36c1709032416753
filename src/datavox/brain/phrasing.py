"""Answers that echo the question's own words: "Who won the 2015 title?" → "Lewis Hamilton won the 2015
title."

English question grammar only, nothing about any dataset: the answer takes the place of the question word
("who", "which team"), or the number goes before the counted noun ("How many races did he win?" → "He won
11 races."). When a question does not fit these patterns, `None` tells the caller to use its plain wording.
"""

from __future__ import annotations

import itertools
import re

from datavox.brain.text import fold

_AUX = {"did", "does", "do", "has", "have", "had", "is", "was", "are", "were", "will", "can"}
_BE = {"is": "are", "was": "were", "are": "are", "were": "were", "has": "have", "have": "have"}
_SINGULAR = {"are": "is", "were": "was", "have": "has", "is": "is", "was": "was", "has": "has"}
_PRONOUNS = {"he", "she", "they", "it", "him", "her", "them"}
_IRREGULAR = {
    "win": "won", "get": "got", "have": "had", "set": "set", "take": "took", "make": "made", "drive": "drove",
    "lead": "led", "hold": "held", "come": "came", "do": "did", "run": "ran", "beat": "beat", "go": "went",
    "be": "was", "give": "gave", "begin": "began", "hit": "hit", "put": "put", "see": "saw", "ride": "rode",
    "grow": "grew", "find": "found", "build": "built", "lose": "lost", "spend": "spent", "sell": "sold",
    "buy": "bought", "bring": "brought", "earn": "earned", "finish": "finished",
}  # fmt: skip
# Past forms that start a verb phrase right after the question's noun ("which team won ...").
_PAST = set(_IRREGULAR.values()) | {"became", "started", "scored", "hosted", "finished", "placed"}
_PRESENT = {
    v + "s" for v in ("win", "hold", "lead", "drive", "race", "score", "make", "get", "host", "start")
}


def past(verb: str) -> str:
    """The simple past of a verb: "win" → "won", "score" → "scored", "carry" → "carried"."""
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("e"):
        return verb + "d"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


# Words that are never a verb: a question echoed around one of them ("did Lewis Hamilton in 2020") would say
# "Lewis Hamilton ined 11 races"; the caller's plain wording is used instead.
_NOT_VERBS = frozenset(
    """when where what which who whom whose why how in on at of for with from to by during into over under
    about after before since until than then the a an and or but this that these those there here his her
    its their our my your one two three very not no yes ever""".split()  # noqa: SIM905
)


def _verb_ok(word: str) -> bool:
    low = word.lower()
    return low.isalpha() and low not in _NOT_VERBS and not word[:1].isupper()


_BROKEN = re.compile(
    r"\b(?:in|on|at|of|for|with|to|when|where|what|who|which|one|the|a|an)(?:ed|es)\b|\s[,.;:?!]|[,;:][,.;:?!]|"
    r"\.\.|\s{2,}|\bNone\b|\bnan\b",
    re.IGNORECASE,
)


def well_formed(text: str) -> bool:
    """A sentence that can be spoken as it is: a capital (or digit, or quote) first, an end stop, no verb made
    of a function word ("ined"), no word said twice in a row, no stray punctuation."""
    if not text or not (text[0].isupper() or text[0].isdigit() or text[0] in "\"'"):
        return False
    if text[-1] not in ".?!" and not text.endswith(('."', '?"')):
        return False
    if _BROKEN.search(text):
        return False
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9']+", text)]
    return not any(a == b and a not in ("had", "that") for a, b in itertools.pairwise(words))


def third_person(verb: str) -> str:
    low = verb.lower()
    if low == "have":
        return "has"
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


_OPENER = re.compile(
    r"^(?:(?:and|so|ok|okay|well|now|also|hey)[,]?\s+)*(?:(?:can|could|would) you (?:please )?tell me\s+|"
    r"(?:please )?tell me\s+|do you know\s+)?",
    re.IGNORECASE,
)
_ADVERBS = {"ever", "actually", "really", "also", "still", "once", "already", "first"}


_FRONTED = re.compile(r"^((?:in|at|during|since|for|from|after|before)\s+[^,]{1,40}),\s*(.+)$", re.IGNORECASE)


def _words(question: str) -> list[str]:
    text = _OPENER.sub("", question.strip()).rstrip("?!. ").strip()
    if len(re.findall(r"\b(?:who|which|what|when|where|how)\b", text, re.IGNORECASE)) > 1:
        return []  # "Who won ... and who was second?": two questions; one echo would answer the wrong one
    m = _FRONTED.match(text)
    if m:  # "In 2012, who won the Canadian Grand Prix?" reads as "who won the Canadian Grand Prix in 2012"
        text = f"{m.group(2)} {m.group(1)[0].lower()}{m.group(1)[1:]}"
    return text.split()


# Present-tense verbs of a plural subject that a counted noun is followed by ("how many penguins weigh ...").
_PLAIN_VERBS = {"weigh", "cost", "earn", "live", "measure", "last"}


def _is_verb(word: str, present: bool = True) -> bool:
    """A verb that can end a question's noun phrase. Present forms ("wins", "races") are nouns too, so a
    counted noun ("how many race wins") is read without them."""
    low = word.lower()
    return (
        low in _AUX
        or low in _PAST
        or (present and low in _PRESENT)
        or (low.endswith("ed") and len(low) > 4)
        or low in {"holds", "owns"}
        or low in _PLAIN_VERBS
    )


def _agree(verb: str, many: bool) -> str:
    low = verb.lower()
    if many:
        return _BE.get(low, verb)
    return _SINGULAR.get(low, verb)


def subject_answer(question: str, answer: str, many: bool) -> str | None:
    """ "Who won the 2015 drivers' title?" + "Lewis Hamilton" → "Lewis Hamilton won the 2015 drivers' title."
    "Which team won the most races in 2022?" → "Red Bull won the most races in 2022." """
    w = _words(question)
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
        j = next((i for i in range(2, min(len(w), 6)) if _is_verb(w[i])), None)
        if j is None:
            return None
        rest = w[j:]
    else:
        return None
    verb = rest[0].lower()
    if verb in ("did", "does", "do"):
        return None  # "Who did he drive for?": the answer is not the subject
    if verb in _AUX and len(rest) > 1 and (rest[1][:1].isupper() or rest[1].lower() in _PRONOUNS):
        # "Which team was Alonso with?" asks for an object; "Who were Max Verstappen's teammates?" does not.
        end = _subject_span(rest, 1)
        if not (end > 1 and rest[end - 1].lower().endswith(("'s", "’s"))) or verb not in _BE:
            return None
    if first == "what" and verb in ("is", "was", "are", "were"):
        return None  # "What is the nationality of X?" — said by `attribute_answer`
    rest = [_agree(rest[0], many), *rest[1:]]
    return f"{answer} {' '.join(rest)}."


def attribute_answer(question: str, value: str) -> str | None:
    """ "What is the nationality of Kimi Räikkönen?" + "Finnish" → "The nationality of Kimi Räikkönen is
    Finnish." """
    w = _words(question)
    if len(w) < 4 or w[0].lower() != "what" or w[1].lower() not in ("is", "was", "are", "were"):
        return None
    rest = w[2:]
    end = _subject_span(rest, 0)
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
    w = _words(question)
    if len(w) < 4 or w[0].lower() != "what" or w[1].lower() not in ("is", "was") or w[2].lower() != "the":
        return None
    return f"The {' '.join(w[3:])} {w[1].lower()} {value}."


def _subject_span(w: list[str], start: int) -> int:
    """The end of the subject that starts at `start`: a pronoun, or capitalised words (a name)."""
    if start < len(w) and w[start].lower() in _PRONOUNS:
        return start + 1
    end = start
    if end + 1 < len(w) and w[end].lower() == "the" and w[end + 1][:1].isupper():
        end += 1  # "the British Grand Prix"
    while end < len(w) and (w[end][:1].isupper() or w[end][:1].isdigit() or w[end] in ("de", "van", "von")):
        end += 1
    return end


def _name_for(subject: str, names: list[str]) -> str:
    """The data's spelling of the subject ("Raikkonen" → "Kimi Räikkönen"); a pronoun → the one name."""
    if subject.lower() in _PRONOUNS:
        return names[0] if len(names) == 1 else subject.capitalize()
    if subject.lower().startswith("the "):
        return "The " + subject[4:]
    fs = fold(subject)
    for n in names:
        fn = fold(n)
        if fs and (fs in fn or fn in fs):
            return n
    return subject


# Prepositions a question can leave at its end ("drive for?", "race against?", "score with?").
_STRANDED = frozenset({"for", "with", "at", "in", "on", "to", "from", "against", "under", "by", "during"})


def count_answer(question: str, number: str, names: list[str], one: bool) -> str | None:
    """ "How many races did Lewis Hamilton win in 2020?" + "11" → "Lewis Hamilton won 11 races in 2020."
    "How many Grands Prix were held in 2024?" → "24 Grands Prix were held in 2024." """
    w = _words(question)
    if len(w) < 4 or [x.lower() for x in w[:2]] != ["how", "many"]:
        return None
    # The counted noun: the words up to the verb or auxiliary.
    j = next((i for i in range(2, min(len(w), 8)) if _is_verb(w[i], present=False)), None)
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
            if (w[i][:1].isupper() and not w[i - 1][:1].isupper()) or w[i].lower() in _PRONOUNS
        ),
        None,
    )
    if caps is not None and w[j].lower() not in _AUX:
        # "how many races Verstappen won in 2021" (no auxiliary): the name before the verb is the subject.
        noun = " ".join(w[2:caps])
        noun = _singular_noun(noun) if one else noun
        subject = _name_for(" ".join(w[caps:j]), names)
        tail = " ".join(w[j + 1 :])
        return f"{subject} {w[j]} {number} {noun}{(' ' + tail) if tail else ''}."
    if one:
        noun = _singular_noun(noun)
    aux = w[j].lower()
    if aux in ("did", "does", "do", "has", "have", "had") and j + 1 < len(w):
        end = _subject_span(w, j + 1)
        if end == j + 1 or end >= len(w):
            if aux in ("has", "have", "had"):  # "How many drivers have won ..."
                return f"{number} {noun} {_agree(aux, not one)} {' '.join(w[j + 1 :])}."
            return None
        subject = _name_for(" ".join(w[j + 1 : end]), names)
        while end < len(w) - 1 and w[end].lower() in _ADVERBS:
            end += 1
        verb, after_verb = w[end], w[end + 1 :]
        if not _verb_ok(verb):
            return None
        if aux == "did":
            said = past(verb)
        elif aux in ("does", "do"):
            said = third_person(verb) if aux == "does" else verb
        else:
            said = f"{aux} {verb}"  # "has Ferrari won" → "Ferrari has won"
        if (
            after_verb
            and after_verb[0].lower() in _STRANDED
            and (len(after_verb) == 1 or after_verb[1].lower() in _STRANDED)
        ):
            # "How many teams did Alonso drive for (in 2010)?": the preposition goes back before what it
            # governs — "Alonso drove for 6 teams", not "drove 6 teams for".
            said, after_verb = f"{said} {after_verb[0]}", after_verb[1:]
        tail_text = (" " + " ".join(after_verb)) if after_verb else ""
        return f"{subject} {said} {number} {noun}{tail_text}."
    if aux in ("were", "was", "are", "is"):
        if [x.lower() for x in w[j + 1 :]][:1] == ["there"]:  # "How many champions are there (in ...)?"
            after = " ".join(w[j + 2 :])
            return f"There {_agree(aux, not one)} {number} {noun}{(' ' + after) if after else ''}."
        return f"{number} {noun} {_agree(aux, not one)} {' '.join(w[j + 1 :])}."
    if aux in _PAST or aux in _PRESENT or aux in _PLAIN_VERBS or (aux.endswith("ed") and len(aux) > 4):
        return f"{number} {noun} {' '.join(w[j:])}."
    return None


def _singular_noun(noun: str) -> str:
    """ "races" → "race", "Grands Prix" → "Grand Prix": the head noun, or the first plural word before it."""
    words = noun.split()
    for i in [len(words) - 1, *range(len(words) - 1)]:
        low = words[i].lower()
        if low.endswith("ies") and len(low) > 4:
            words[i] = words[i][:-3] + "y"
            break
        if low.endswith("s") and not low.endswith(("ss", "us", "is")) and low not in ("s", "'s"):
            words[i] = words[i][:-1]
            break
    return " ".join(words)


def rank_answer(question: str, said: str, names: list[str]) -> str | None:
    """ "Where did Lando Norris finish in the 2024 standings?" + "2nd" → "Lando Norris finished 2nd in the
    2024 standings." """
    w = _words(question)
    if len(w) < 4 or w[0].lower() != "where" or w[1].lower() not in ("did", "does", "do"):
        return None
    end = _subject_span(w, 2)
    if end == 2 or end >= len(w):
        return None
    subject = _name_for(" ".join(w[2:end]), names)
    tail = w[end + 1 :]
    if not _verb_ok(w[end]):
        return None
    return f"{subject} {past(w[end])} {said}{(' ' + ' '.join(tail)) if tail else ''}."


def when_answer(question: str, said: str, names: list[str], is_date: bool) -> str | None:
    """ "When was Charles Leclerc born?" → "Charles Leclerc was born on October 16, 1997."
    "In which year did Kimi Räikkönen win the championship?" → "Kimi Räikkönen won the championship in
    2007." """
    w = _words(question)
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
    end = _subject_span(w, start + 1)
    if end == start + 1 or end >= len(w):
        return None
    subject = _name_for(" ".join(w[start + 1 : end]), names)
    verb, tail = w[end], w[end + 1 :]
    if not _verb_ok(verb):
        return None
    said_verb = past(verb) if aux in ("did", "does") else f"{aux} {verb}"
    prep = "on" if is_date else "in"
    return f"{subject} {said_verb}{(' ' + ' '.join(tail)) if tail else ''} {prep} {said}."


def object_answer(question: str, answer: str, names: list[str]) -> str | None:
    """ "Which team did Lewis Hamilton drive for in 2012?" + "McLaren" → "Lewis Hamilton drove for McLaren in
    2012." The answer goes after the verb (and its preposition), where the question's noun stood."""
    w = _words(question)
    low = [x.lower() for x in w]
    if len(w) < 4 or low[0] not in ("which", "what"):
        return None
    j = next((i for i in range(1, min(len(w), 6)) if low[i] in _AUX), None)
    if j is None or j + 1 >= len(w):
        return None
    end = _subject_span(w, j + 1)
    if end == j + 1:
        return None
    subject = _name_for(" ".join(w[j + 1 : end]), names)
    if end >= len(w):
        # "What nationality is Jenson Button?" → "Jenson Button is British."
        return f"{subject} {low[j]} {answer}." if low[j] in _BE else None
    while end < len(w) - 1 and low[end] in _ADVERBS:
        end += 1
    verb = w[end]
    if not _verb_ok(verb):
        return None
    if any(x in ("year", "season", "years", "seasons") for x in low[1:j]) and low[j] in ("did", "does", "do"):
        tail = " ".join(w[end + 1 :])
        return f"{subject} {past(verb)}{(' ' + tail) if tail else ''} in {answer}."  # "which year did ..."
    if low[j] in _BE and end == len(w) - 1 and low[end] in ("from", "in", "at", "with", "for"):
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
    w = _words(question)
    low = [x.lower() for x in w]
    if len(w) < 3 or low[0] not in ("did", "has", "have", "does"):
        return None
    end = _subject_span(w, 1)
    if end == 1 or end >= len(w):
        return None
    subject = _name_for(" ".join(w[1:end]), names)
    while end < len(w) - 1 and low[end] in _ADVERBS:
        end += 1
    verb, tail = w[end], " ".join(w[end + 1 :])
    if not _verb_ok(verb):
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
    w = _words(question)
    if len(w) < 3 or w[0].lower() not in ("who", "which", "what", "when", "where"):
        return None
    said = " ".join(w[1:])
    where = "" if said.lower().endswith("in the data") else " in the data"
    return f"I couldn't find {w[0].lower()} {said}{where}."


def _times_answer(w: list[str], j: int, number: str, names: list[str]) -> str | None:
    """ "How many times has Lewis Hamilton won the British Grand Prix?" → "Lewis Hamilton has won the British
    Grand Prix 9 times." """
    aux = w[j].lower()
    end = _subject_span(w, j + 1)
    if end == j + 1 or end >= len(w):
        return None
    subject = _name_for(" ".join(w[j + 1 : end]), names)
    while end < len(w) - 1 and w[end].lower() in _ADVERBS:
        end += 1
    verb, tail = w[end], w[end + 1 :]
    if not _verb_ok(verb):
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
    w = _words(question)
    low = [x.lower() for x in w]
    if len(w) < 3 or low[0] != "where" or low[1] not in ("is", "was", "are", "were"):
        return None
    end = _subject_span(w, 2)
    if end == 2:
        return None
    subject = _name_for(" ".join(w[2:end]), names)
    rest = " ".join(w[end:])
    return f"{subject} {low[1]}{(' ' + rest) if rest else ''} in {place}."
