"""A question read as slots (`Frame`): the question word, linked values, years, ordinals, superlatives,
references; `YearFilter` is its years. `parse.parse` fills one; the planner reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datavox.brain.linking import ValueMatch
from datavox.brain.text import Token


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
