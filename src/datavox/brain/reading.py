"""A reading of a question: the table holding the facts, the measure or column, what the answer names, and
the named values with the join paths that reach them. The planner makes one; the SQL builder writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from datavox.brain.joins import Edge
from datavox.brain.linking import ValueMatch


@dataclass
class Target:
    table: str | None = None  # the rows the answer names (drivers)
    column: str | None = None  # or one column of the fact table (a year, a name column)
    path: tuple[Edge, ...] = ()
    fallback: bool = False  # "who" answered with things, not people


@dataclass
class Reading:
    fact: str
    measure: str | None = None
    column: str | None = None  # a column of the fact table the question is about
    target: Target = field(default_factory=Target)
    values: list[tuple[ValueMatch, tuple[Edge, ...]]] = field(default_factory=list)
    year_column: tuple[tuple[Edge, ...], str] | None = None
    covering: bool = False  # the filters pin one row of the fact table
    projection: list[str] = field(default_factory=list)  # columns of the answer's table asked by name
    counted: str | None = None  # "the most races" counted through these facts: the table said (races)
    per: tuple[tuple[Edge, ...], str] | None = None  # the breakdown: path to a table and its column
    score: float = 0.0
    words: frozenset[str] = frozenset()
    unexplained: frozenset[str] = frozenset()
