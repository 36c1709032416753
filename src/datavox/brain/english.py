"""English for spoken answers, nothing about any dataset: verb forms ("win" → "won"), agreement, singular
nouns, the words of a question with its opener dropped, the subject a question names, and whether a
sentence can be spoken as it is (`well_formed`)."""

from __future__ import annotations

import itertools
import re

from datavox.brain.text import fold

AUX = {"did", "does", "do", "has", "have", "had", "is", "was", "are", "were", "will", "can"}


BE = {"is": "are", "was": "were", "are": "are", "were": "were", "has": "have", "have": "have"}


SINGULAR = {"are": "is", "were": "was", "have": "has", "is": "is", "was": "was", "has": "has"}


PRONOUNS = {"he", "she", "they", "it", "him", "her", "them"}


_IRREGULAR = {
    "win": "won", "get": "got", "have": "had", "set": "set", "take": "took", "make": "made", "drive": "drove",
    "lead": "led", "hold": "held", "come": "came", "do": "did", "run": "ran", "beat": "beat", "go": "went",
    "be": "was", "give": "gave", "begin": "began", "hit": "hit", "put": "put", "see": "saw", "ride": "rode",
    "grow": "grew", "find": "found", "build": "built", "lose": "lost", "spend": "spent", "sell": "sold",
    "buy": "bought", "bring": "brought", "earn": "earned", "finish": "finished",
}  # fmt: skip


# Past forms that start a verb phrase right after the question's noun ("which team won ...").
PAST = set(_IRREGULAR.values()) | {"became", "started", "scored", "hosted", "finished", "placed"}


PRESENT = {v + "s" for v in ("win", "hold", "lead", "drive", "race", "score", "make", "get", "host", "start")}


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


def verb_ok(word: str) -> bool:
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


ADVERBS = {"ever", "actually", "really", "also", "still", "once", "already", "first"}


_FRONTED = re.compile(r"^((?:in|at|during|since|for|from|after|before)\s+[^,]{1,40}),\s*(.+)$", re.IGNORECASE)


def question_words(question: str) -> list[str]:
    text = _OPENER.sub("", question.strip()).rstrip("?!. ").strip()
    if len(re.findall(r"\b(?:who|which|what|when|where|how)\b", text, re.IGNORECASE)) > 1:
        return []  # "Who won ... and who was second?": two questions; one echo would answer the wrong one
    m = _FRONTED.match(text)
    if m:  # "In 2012, who won the Canadian Grand Prix?" reads as "who won the Canadian Grand Prix in 2012"
        text = f"{m.group(2)} {m.group(1)[0].lower()}{m.group(1)[1:]}"
    return text.split()


# Present-tense verbs of a plural subject that a counted noun is followed by ("how many penguins weigh ...").
PLAIN_VERBS = {"weigh", "cost", "earn", "live", "measure", "last"}


def is_verb(word: str, present: bool = True) -> bool:
    """A verb that can end a question's noun phrase. Present forms ("wins", "races") are nouns too, so a
    counted noun ("how many race wins") is read without them."""
    low = word.lower()
    return (
        low in AUX
        or low in PAST
        or (present and low in PRESENT)
        or (low.endswith("ed") and len(low) > 4)
        or low in {"holds", "owns"}
        or low in PLAIN_VERBS
    )


def agree(verb: str, many: bool) -> str:
    low = verb.lower()
    if many:
        return BE.get(low, verb)
    return SINGULAR.get(low, verb)


def subject_span(w: list[str], start: int) -> int:
    """The end of the subject that starts at `start`: a pronoun, or capitalised words (a name)."""
    if start < len(w) and w[start].lower() in PRONOUNS:
        return start + 1
    end = start
    if end + 1 < len(w) and w[end].lower() == "the" and w[end + 1][:1].isupper():
        end += 1  # "the British Grand Prix"
    while end < len(w) and (w[end][:1].isupper() or w[end][:1].isdigit() or w[end] in ("de", "van", "von")):
        end += 1
    return end


def name_for(subject: str, names: list[str]) -> str:
    """The data's spelling of the subject ("Raikkonen" → "Kimi Räikkönen"); a pronoun → the one name."""
    if subject.lower() in PRONOUNS:
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
STRANDED = frozenset({"for", "with", "at", "in", "on", "to", "from", "against", "under", "by", "during"})


def singular_noun(noun: str) -> str:
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
