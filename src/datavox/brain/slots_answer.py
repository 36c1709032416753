"""Slots of a question that shape the answer's rows: a breakdown ("each year", "per team", "which year had
the most"), one period at a time ("in a single season"), names excluded ("outside the USA"), alphabetical
order, the columns asked by name ("the names and years of"), and named values compared."""

from __future__ import annotations

import re

from datavox.brain import nameparts
from datavox.brain.frame import Frame
from datavox.brain.linking import ValueIndex
from datavox.brain.text import lemma


def per(frame: Frame, words: list[str], used: set[int]) -> None:
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


def excluded(frame: Frame, used: set[int]) -> None:
    """ "airports outside the USA", "drivers other than Hamilton": the name is excluded, not required."""
    for group in frame.values:
        start = group[0].span[0]
        if start > 0 and _EXCLUDING.search(frame.text[:start].rstrip()):
            frame.excluded.add(group[0].span)
            for i, t in enumerate(frame.toks):
                if t.end <= start and t.text in _EXCLUDING_WORDS:
                    used.add(i)


def which_year(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "Which year had the most precipitation?": the years ranked by the number, the best one."""
    i = frame.after_qword
    if frame.per or not frame.order or frame.qword not in ("which", "what") or frame.top_n:
        return
    if i < len(words) and words[i] in ("year", "season") and i not in used:
        frame.per = "year"
        used.add(i)


def single(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "the most wins in a single season" / "in one year": each (name, period) ranked on its own."""
    for i in range(len(words) - 2):
        if words[i] in ("in", "during", "over") and words[i + 1] in ("a", "one") and i + 2 < len(words):
            j = i + 3 if words[i + 2] == "single" and i + 3 < len(words) else i + 2
            if words[j] in ("season", "year") and (frame.order or frame.threshold):
                frame.single = "year"
                used.update(range(i, j + 1))
                return


def alphabetical(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "in (reverse) alphabetical order": an order of the names, not a word about the data."""
    if not any(w.startswith(("alphabetic", "lexicographic")) for w in words):
        return
    reverse = any(w in ("reverse", "reversed", "descending", "backwards") for w in words)
    frame.alpha = "desc" if reverse else "asc"
    for i, w in enumerate(words):
        if w.startswith(("alphabetic", "lexicographic")) or w in ("reverse", "reversed", "order", "ordered"):
            used.add(i)


_PROJECTION_SKIP = frozenset(
    {"the", "a", "an", "and", "or", "is", "are", "was", "were", "all", "me", "us", "list"}
)


def projection(frame: Frame, words: list[str]) -> None:
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


_COMPARE_CUES = frozenset(
    {"vs", "versus", "compare", "compared", "than", "more", "most", "better", "fewer", "less", "higher"}
)


def is_comparison(frame: Frame, words: list[str], index: ValueIndex | None) -> bool:
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
