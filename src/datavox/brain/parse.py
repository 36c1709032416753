"""A spoken question as slots: question word, linked values, years, ordinals, superlatives, references.

Nothing here knows any dataset: words about the data are matched later against the semantic model
(`plan.py`); this module only reads the grammar of questions people ask about tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from datavox.brain import degree, nameparts
from datavox.brain.linking import ValueIndex, ValueMatch
from datavox.brain.text import Token, fold, lemma, spoken_years, tokens

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

# Function words: they carry the grammar, never a reference to a table or a column.
FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with and or but be do have how many much what which who whom
    whose where when why it its he she they them his her hers their theirs this that these those there
    than then me my i you your we our us all any each every ever most least more less fewest highest
    lowest biggest largest smallest greatest top number count total average mean sum list show tell give
    name please about between during before after since until till up down over into out as per vs
    versus against not no yes so if also just can could would will shall should may might get make go s
    t 's very only one same ok okay alltime whole overall
    different distinct unique individual separate among amongst across recorded observed measured logged
    registered""".split()  # noqa: SIM905
)
# Words that ask for an aggregate or an order; they are slots, not content.
_MAX_WORDS = {"most", "highest", "biggest", "largest", "greatest", "max", "maximum", "more", "top", "best"}
_MIN_WORDS = {"least", "fewest", "lowest", "smallest", "min", "minimum", "less", "fewer", "worst"}
_PERSON_PRONOUNS = {"he", "she", "him", "his", "her", "hers", "himself", "herself"}
_THING_PRONOUNS = {"they", "them", "their", "theirs", "it", "its"}
_FINISH_VERBS = {"finish", "come", "place", "end", "be", "rank", "classify", "qualify", "start"}


@dataclass
class YearFilter:
    lo: int | None
    hi: int | None
    values: tuple[int, ...] = ()  # an explicit list ("in 2019 and 2021")
    sub: Any = None  # a query giving the years ("when he won his first title"), a sqlglot expression
    said: str = ""  # how the sub-query's years are said

    def describe(self) -> str:
        if self.sub is not None:
            return self.said
        if self.values:
            return " and ".join(str(v) for v in self.values)
        if self.lo is not None and self.lo == self.hi:
            return str(self.lo)
        if self.lo is not None and self.hi is not None:
            return f"from {self.lo} to {self.hi}"
        if self.lo is not None:
            return f"since {self.lo}"
        if self.hi is not None:
            return f"up to {self.hi}"
        return ""


@dataclass
class Frame:
    question: str
    text: str  # folded, noise removed
    toks: list[Token]
    qword: str = ""  # who | which | what | how_many | how_much | when | where | list | yesno | ""
    values: list[list[ValueMatch]] = field(default_factory=list)  # one group of candidates per span
    years: YearFilter | None = None
    ordinal: int | None = None
    order: str = ""  # max | min
    first_last: str = ""  # first | last
    top_n: int | None = None
    agg: str = ""  # avg | sum | count (asked explicitly)
    person_ref: bool = False  # he / she / his ...
    thing_ref: bool = False  # they / them / it ...
    year_ref: bool = False  # that year / that season / then
    year_shift: int = 0  # "the year before" -1, "the following season" +1
    ellipsis: bool = False  # "and in 2023?", "what about Carlos Sainz?"
    compare: bool = False
    content: list[Token] = field(default_factory=list)  # content words left for the semantic model
    free: list[Token] = field(default_factory=list)  # every word not taken by a value, year or slot
    after_qword: int = 0  # index in toks right after the question word(s)
    where_place: bool = False  # "where is X" asks for a place, "where did X finish" for a rank
    projection: list[str] = field(default_factory=list)  # "the name and date of ...": lemmas of columns asked
    name_parts: list[str] = field(default_factory=list)  # "first name", "last name", "full name" asked for
    alpha: str = ""  # asc | desc: "in alphabetical order", "reverse alphabetical"
    per: str = ""  # "each year", "per team", "by season": the lemma of what the answer is broken down by
    threshold: tuple[str, float] | None = None  # "more than 50 wins": (">", 50)
    single: str = ""  # "the most wins in a single season": the lemma of the period ranked one by one
    age: str = ""  # young | old: "the youngest winner", ranked by age
    mode: bool = False  # "the most common weather": the value that occurs most often
    excluded: set[tuple[int, int]] = field(default_factory=set)  # spans said after "outside", "except" ...
    # "maximum"/"minimum" said: also a word of a column's name ("temp_max": "the average maximum temperature")
    direction: str = ""
    ranked: bool = False  # an order word other than maximum/minimum ("highest", "most") was said
    # "the heaviest penguin", "the windiest day": a superlative that names what it ranks by (the words of
    # that property: "weight", "mass"); each row on its own, not summed.
    hints: list[str] = field(default_factory=list)

    @property
    def content_lemmas(self) -> set[str]:
        return {t.lemma for t in self.content}

    @property
    def free_lemmas(self) -> set[str]:
        return {t.lemma for t in self.free}


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


def parse(question: str, index: ValueIndex | None, noise: list[str] | tuple[str, ...] = ()) -> Frame:
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
    toks = tokens(text)
    frame = Frame(question=question, text=text, toks=toks)
    words = [t.text for t in toks]
    used: set[int] = set()

    _question_word(frame, words, used)
    _years(frame, words, used)
    # Values before the other slots, so "Max Verstappen" is a name, not "max".
    if index is not None:
        skip = [(toks[i].start, toks[i].end) for i in used]
        groups: dict[tuple[int, int], list[ValueMatch]] = {}
        for m in index.match_tokens(toks, skip=skip, lower=lower_words(question), codes=code_words(question)):
            groups.setdefault(m.span, []).append(m)
        frame.values = [groups[s] for s in sorted(groups)]
        for span in groups:
            used.update(i for i, t in enumerate(toks) if t.start >= span[0] and t.end <= span[1])
    _excluded(frame, used)
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    _threshold(frame, masked, used)
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    degree.mode(frame, masked, used)
    degree.superlative(frame, masked, used)
    frame.name_parts = nameparts.mark(masked, used)  # "first names": a column, not an order
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    _ordinals_and_order(frame, masked, used)
    if frame.direction and frame.agg in ("avg", "sum") and not frame.top_n and not frame.ranked:
        frame.order = ""  # "the average maximum temperature": an average of the maximum column, no ranking
    _references(frame, masked, used)
    _per(frame, masked, used)
    _which_year(frame, words, used)
    _single(frame, masked, used)
    frame.compare = _is_comparison(frame, words, index)
    _alphabetical(frame, words, used)
    frame.free = [t for i, t in enumerate(toks) if i not in used and not t.text.isdigit()]
    frame.content = [t for t in frame.free if t.text not in FUNCTION_WORDS]
    _projection(frame, words)
    if frame.qword == "where":
        ranked = {"finish", "come", "place", "end", "rank", "classify", "qualify", "start", "position"}
        frame.where_place = not any(t.lemma in ranked for t in toks)
    frame.content = [t for t in frame.content if t.lemma not in FUNCTION_WORDS]
    return frame


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


def _question_word(frame: Frame, words: list[str], used: set[int]) -> None:
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


def _years(frame: Frame, words: list[str], used: set[int]) -> None:
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


def _threshold(frame: Frame, words: list[str], used: set[int]) -> None:
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


def _ordinals_and_order(frame: Frame, words: list[str], used: set[int]) -> None:
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


def _references(frame: Frame, words: list[str], used: set[int]) -> None:
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


_PROJECTION_SKIP = frozenset(
    {"the", "a", "an", "and", "or", "is", "are", "was", "were", "all", "me", "us", "list"}
)


def _per(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "How many races did he win each year?", "wins per team": a breakdown, one row per year or team."""
    for i, w in enumerate(words[:-1]):
        if w in ("each", "per", "every") or (w == "by" and words[i + 1] in ("year", "season", "decade")):
            nxt = words[i + 1]
            if nxt and not nxt.isdigit():
                frame.per = lemma(nxt)
                used.update({i, i + 1})
                return
        if w == "for" and words[i + 1] == "each" and i + 2 < len(words):
            frame.per = lemma(words[i + 2])
            used.update({i, i + 1, i + 2})
            return


_EXCLUDING = re.compile(
    r"(?:outside(?: of)?|except(?: for| in)?|excluding|other than|apart from|not in|anywhere but|but not in)"
    r"(?: the)?\s*$"
)


_EXCLUDING_WORDS = frozenset({"outside", "except", "excluding", "other", "than", "apart", "not"})


def _excluded(frame: Frame, used: set[int]) -> None:
    """ "airports outside the USA", "drivers other than Hamilton": the name is excluded, not required."""
    for group in frame.values:
        start = group[0].span[0]
        if start > 0 and _EXCLUDING.search(frame.text[:start].rstrip()):
            frame.excluded.add(group[0].span)
            for i, t in enumerate(frame.toks):
                if t.end <= start and t.text in _EXCLUDING_WORDS:
                    used.add(i)


def _which_year(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "Which year had the most precipitation?": the years ranked by the number, the best one."""
    i = frame.after_qword
    if frame.per or not frame.order or frame.qword not in ("which", "what") or frame.top_n:
        return
    if i < len(words) and words[i] in ("year", "season") and i not in used:
        frame.per = "year"
        used.add(i)


def _single(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "the most wins in a single season" / "in one year": each (name, period) ranked on its own."""
    for i in range(len(words) - 2):
        if words[i] in ("in", "during", "over") and words[i + 1] in ("a", "one") and i + 2 < len(words):
            j = i + 3 if words[i + 2] == "single" and i + 3 < len(words) else i + 2
            if words[j] in ("season", "year") and (frame.order or frame.threshold):
                frame.single = "year"
                used.update(range(i, j + 1))
                return


def _alphabetical(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "in (reverse) alphabetical order": an order of the names, not a word about the data."""
    if not any(w.startswith(("alphabetic", "lexicographic")) for w in words):
        return
    reverse = any(w in ("reverse", "reversed", "descending", "backwards") for w in words)
    frame.alpha = "desc" if reverse else "asc"
    for i, w in enumerate(words):
        if w.startswith(("alphabetic", "lexicographic")) or w in ("reverse", "reversed", "order", "ordered"):
            used.add(i)


def _projection(frame: Frame, words: list[str]) -> None:
    """ "What are the names and years of races ..." / "Find the id and location of circuits": the columns
    asked for, between the question word and "of"; and "in alphabetical order"."""
    if frame.qword not in ("what", "list"):
        return
    start = frame.after_qword
    if start < len(words) and words[start] in ("list", "the", "a") and "of" in words[start : start + 3]:
        start = words.index("of", start) + 1  # "a list of names and years of races"
    end = None
    for j in range(start, min(start + 8, len(words))):
        if words[j] == "of":
            end = j
            break
    if end is None:
        return
    asked = nameparts.collapse([lemma(w) for w in words[start:end] if w not in _PROJECTION_SKIP])
    # Aggregates ("the average number of points") are not columns.
    if asked and len(asked) <= 4 and not set(asked) & {"average", "number", "total", "sum", "count", "mean"}:
        frame.projection = asked


def _before_after(words: list[str], i: int) -> bool:
    return i < len(words) and words[i] in ("before", "after")


_COMPARE_CUES = frozenset(
    {"vs", "versus", "compare", "compared", "than", "more", "most", "better", "fewer", "less", "higher"}
)


def _is_comparison(frame: Frame, words: list[str], index: ValueIndex | None) -> bool:
    """Two or more names of one kind and a word to compare them by ("more", "compare", "vs")."""
    if len(frame.values) < 2 or not any(w in _COMPARE_CUES for w in words):
        return False
    groups = frame.values
    if index is not None:
        # "Senna or Prost": "Prost" is also a team; the names compared are of one kind, so look wider.
        wider = [index.candidates(g[0].text, g[0].span) for g in groups]
        common = set.intersection(*[{(m.table, m.column) for m in g} for g in wider])
        if common:
            pick = max(
                common,
                key=lambda tc: sum(max(m.score for m in g if (m.table, m.column) == tc) for g in wider),
            )
            frame.values = [[m for m in g if (m.table, m.column) == pick][:1] for g in wider]
            return True
    shared = set.intersection(*[{(m.table, m.column) for m in g} for g in groups])
    return bool(shared)
