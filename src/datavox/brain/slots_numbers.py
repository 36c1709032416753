"""Slots of a question said with numbers and order words: its years ("in 2020", "the 1990s", "since 2010"),
a bound ("more than 50 wins"), an ordinal ("third place"), first/last, youngest/oldest, and most/least."""

from __future__ import annotations

import re

from datavox.brain.frame import Frame, YearFilter
from datavox.brain.text import lemma

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
}  # fmt: skip
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a": 1,
}  # fmt: skip
_ORDINAL_NUM = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_P_POSITION = re.compile(r"^p(\d{1,2})$")
_DECADE = re.compile(r"^(1[89]\d0|20\d0)s$")

# Words that ask for an aggregate or an order; they are slots, not content.
_MAX_WORDS = {"most", "highest", "biggest", "largest", "greatest", "max", "maximum", "more", "top", "best"}
_MIN_WORDS = {"least", "fewest", "lowest", "smallest", "min", "minimum", "less", "fewer", "worst"}
_FINISH_VERBS = {"finish", "come", "place", "end", "be", "rank", "classify", "qualify", "start"}


def read_years(frame: Frame, words: list[str], used: set[int]) -> None:
    years: list[tuple[int, int]] = []  # (token index, year)
    for i, word in enumerate(words):
        m = _DECADE.match(word)
        if m:
            lo = int(m.group(1))
            frame.years = YearFilter(lo, lo + 9)
            used.add(i)
            return
        if word.isdigit() and len(word) == 4 and 1800 <= int(word) <= 2100:
            years.append((i, int(word)))
    if not years:
        return
    used.update(i for i, _ in years)
    before = words[years[0][0] - 1] if years[0][0] > 0 else ""
    before2 = words[years[0][0] - 2] if years[0][0] > 1 else ""
    if len(years) >= 2:
        (i1, y1), (i2, y2) = years[0], years[1]
        between = words[i1 + 1 : i2]
        if between in (["to"], ["and"], ["through"], ["until"], ["till"], []) and (
            before in ("from", "between", "of") or between in (["to"], ["through"], ["until"], ["till"], [])
        ):
            frame.years = YearFilter(min(y1, y2), max(y1, y2))
        else:
            frame.years = YearFilter(None, None, tuple(y for _, y in years))
        return
    year = years[0][1]
    if before in ("since", "after") or (before == "from" and before2 != "up"):
        frame.years = YearFilter(year + (1 if before == "after" else 0), None)
    elif before in ("before",):
        frame.years = YearFilter(None, year - 1)
    elif before in ("until", "till", "through", "by") or (before == "to" and before2 == "up"):
        frame.years = YearFilter(None, year)
    else:
        frame.years = YearFilter(year, year)


_THRESHOLD = re.compile(
    r"\b(?P<op>more than|greater than|higher than|over|above|at least|fewer than|less than|lower than|under|"
    r"below|at most|exactly) "
    r"(?P<n>\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty)\b"
)
UNIT_WORDS = frozenset(
    """mm millimetre millimetres millimeter millimeters cm centimetres centimeters metre metres meter meters
    km kilometre kilometres kilometer kilometers mile miles g gram grams kg kilo kilos kilogram kilograms lb
    lbs pound pounds degree degrees celsius fahrenheit percent per cent dollars euros seconds secs minutes
    mins hours hrs days kmh mph""".split()  # noqa: SIM905
)
_OPS = {
    "more than": ">", "greater than": ">", "higher than": ">", "over": ">", "above": ">", "at least": ">=",
    "fewer than": "<", "less than": "<", "lower than": "<", "under": "<", "below": "<", "at most": "<=",
    "exactly": "=",
}  # fmt: skip


def threshold(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "drivers with more than 50 wins", "at least 3 titles": a bound on the number, not a year."""
    text = " ".join(w or "_" for w in words)
    m = _THRESHOLD.search(text)
    if m is None:
        return
    raw = m.group("n")
    value = float(raw) if raw[0].isdigit() else float(NUMBERS.get(raw, 0))
    frame.threshold = (_OPS[m.group("op")], value)
    # Mark the words as used: positions by counting words before the match.
    first = len(text[: m.start()].split())
    last = first + len(m.group(0).split())
    for i in range(first, last):
        used.add(i)
    if last < len(words) and words[last] in UNIT_WORDS:
        used.add(last)  # "more than 20 millimetres": the unit says how the number is counted, not what


def ordinals_and_order(frame: Frame, words: list[str], used: set[int]) -> None:
    n = len(words)
    for i, word in enumerate(words):
        lem = lemma(word)
        prev = words[i - 1] if i > 0 else ""
        nxt = words[i + 1] if i + 1 < n else ""
        num = ORDINALS.get(word)
        m = _ORDINAL_NUM.match(word) or _P_POSITION.match(word)
        if m:
            num = int(m.group(1))
        if num is not None:
            after_finish = (
                lemma(prev) in _FINISH_VERBS or prev in ("in", "at", "p") or nxt in ("place", "position")
            )
            if word in ("first", "last") and not after_finish:
                frame.first_last = word
            else:
                frame.ordinal = num
            used.add(i)
            if nxt in ("place", "position", "places"):
                used.add(i + 1)
            continue
        if word == "last" and lemma(prev) not in _FINISH_VERBS:
            frame.first_last = "last"
            used.add(i)
            continue
        if word in ("recent", "recently") and prev == "most":
            frame.first_last, frame.order = "last", ""  # "the most recent race": the last one, not a maximum
            used.add(i)
            continue
        if word in ("latest", "recent", "newest", "earliest", "oldest", "youngest"):
            frame.first_last = "last" if word in ("latest", "recent", "newest") else "first"
            if word in ("oldest", "youngest"):
                # About age, not order: the planner ranks people by their birth date (or age at the event).
                frame.first_last = ""
                frame.age = "young" if word == "youngest" else "old"
                used.add(i)
                continue
            used.add(i)
            continue
        if word == "top" and i + 1 < n:
            count = NUMBERS.get(nxt) or (int(nxt) if nxt.isdigit() and len(nxt) <= 2 else None)
            frame.order = "max"
            used.add(i)
            if count:
                frame.top_n = count
                used.add(i + 1)
            continue
        if word in _MAX_WORDS and word != "top":
            if word == "best" and nxt in ("result", "finish", "position"):
                frame.order = "min"
                used.add(i)
            elif word not in ("best",):
                frame.order = "max"
                used.add(i)
                if word in ("max", "maximum"):
                    frame.direction = "max"
                else:
                    frame.ranked = True
            # Otherwise "best" stays a word of the question: "best championship finish" may be a column.
        elif word in _MIN_WORDS or (lem == "few" and prev != "a"):
            frame.order = "min"
            used.add(i)
            if word in ("min", "minimum"):
                frame.direction = "min"
            else:
                frame.ranked = True
        if word.isdigit() and len(word) <= 2 and prev in ("the", "top") and frame.top_n is None:
            frame.top_n = int(word)
            used.add(i)
