"""Slots of a question said by its opening and its pronouns: the question word ("how many", "which", a
yes/no verb), an aggregate asked outright ("average", "total"), a spoken follow-up ("and in 2023?"), and
references to the conversation ("he", "that season", "the year before")."""

from __future__ import annotations

from datavox.brain.frame import Frame
from datavox.brain.slots_numbers import NUMBERS

_PERSON_PRONOUNS = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
_THING_PRONOUNS = {"they", "them", "their", "theirs", "it", "its"}


def question_word(frame: Frame, words: list[str], used: set[int]) -> None:
    w = words
    n = len(w)

    def at(i: int, *options: str) -> bool:
        return i < n and w[i] in options

    start = 0
    # Spoken openers: "and", "so", "ok", "what about", "how about", "tell me".
    while at(start, "and", "so", "ok", "okay", "then", "also", "now", "well", "hey", "but"):
        if w[start] == "and":
            frame.ellipsis = True
        used.add(start)
        start += 1
    if at(start, "what", "how") and at(start + 1, "about"):
        frame.ellipsis = True
        used.update({start, start + 1})
        start += 2
    i = start
    if at(i, "how") and at(i + 1, "many"):
        frame.qword, frame.after_qword = "how_many", i + 2
    elif at(i, "how") and at(i + 1, "much", "often"):
        frame.qword, frame.after_qword = ("how_much" if w[i + 1] == "much" else "how_many"), i + 2
    elif at(i, "who", "whom", "whose"):
        frame.qword, frame.after_qword = "who", i + 1
    elif at(i, "which"):
        frame.qword, frame.after_qword = "which", i + 1
    elif at(i, "what"):
        frame.qword, frame.after_qword = "what", i + 1
    elif at(i, "when"):
        frame.qword, frame.after_qword = "when", i + 1
    elif at(i, "where"):
        frame.qword, frame.after_qword = "where", i + 1
    elif at(i, "top"):
        frame.qword, frame.after_qword = "list", i + 1
        if i + 1 < n and (w[i + 1].isdigit() or w[i + 1] in NUMBERS):
            frame.after_qword += 1
    elif at(i, "list", "name", "show", "give", "tell", "find", "get"):
        frame.qword, frame.after_qword = "list", i + 1
        if at(i + 1, "me", "us"):
            frame.after_qword += 1
        if at(frame.after_qword, "the"):
            frame.after_qword += 1
        if at(i, "tell") and at(frame.after_qword, "how") and at(frame.after_qword + 1, "many"):
            frame.qword, frame.after_qword = "how_many", frame.after_qword + 2
    elif at(i, "did", "does", "do", "has", "have", "had", "is", "was", "were", "are", "can"):
        frame.qword, frame.after_qword = "yesno", i + 1
    else:
        # "In which year ...", "For which team ...", "In what year ..."
        for j in range(i, min(i + 3, n)):
            if w[j] in ("which", "what", "who", "whom"):
                frame.qword, frame.after_qword = ("who" if w[j] in ("who", "whom") else "which"), j + 1
                break
            if w[j] == "how" and at(j + 1, "many"):
                frame.qword, frame.after_qword = "how_many", j + 2
                break
    if frame.qword in ("what", "which") and at(frame.after_qword, "position", "place", "rank", "ranking"):
        frame.qword = "where"  # "what position did she finish": a rank question
        frame.after_qword += 1
    for j in range(n):
        if w[j] in ("average", "mean", "avg") or (w[j] == "on" and at(j + 1, "average")):
            frame.agg = "avg"
        elif w[j] in ("total", "sum", "combined", "altogether", "overall") and not frame.agg:
            frame.agg = "sum"
    if frame.qword in ("how_many", "how_much") and not frame.agg:
        frame.agg = "count" if frame.qword == "how_many" else "sum"


def references(frame: Frame, words: list[str], used: set[int]) -> None:
    n = len(words)
    for i, word in enumerate(words):
        if word in _PERSON_PRONOUNS:
            frame.person_ref = True
        elif word in _THING_PRONOUNS:
            frame.thing_ref = True
        about_year = i + 1 < n and words[i + 1] in ("year", "season")
        if about_year and (
            word in ("that", "this", "same") or (word == "the" and _before_after(words, i + 2))
        ):
            frame.year_ref = True
            used.update({i, i + 1})
            if word == "the":
                frame.year_shift = -1 if words[i + 2] == "before" else 1
                used.add(i + 2)
        if about_year and word in ("previous", "prior", "following", "next"):
            frame.year_ref = True
            frame.year_shift = -1 if word in ("previous", "prior") else 1
            used.update({i, i + 1})
        if word == "then" and i == n - 1:
            frame.year_ref = True
            used.add(i)
        if (
            word in ("that", "this")
            and i + 1 < n
            and words[i + 1] in ("driver", "team", "person", "one", "guy")
        ):
            frame.person_ref = frame.person_ref or words[i + 1] in ("driver", "person", "guy")
            frame.thing_ref = frame.thing_ref or words[i + 1] in ("team", "one")


def _before_after(words: list[str], i: int) -> bool:
    return i < len(words) and words[i] in ("before", "after")
