"""Column types of a CSV file, inferred from each column's distinct values (see importer.py, step 3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Literal

ColumnType = Literal["integer", "decimal", "boolean", "date", "timestamp", "text"]


# --------------------------------------------------------------------------------------- type inference

_INT = re.compile(r"[-+]?(?:0|[1-9]\d{0,17})")  # no leading zeros (codes keep them), fits BIGINT
_DECIMAL = re.compile(r"[-+]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_BOOL = re.compile(r"(?i:true|false)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}")  # ISO, or with slashes (2012/01/31)
# How spreadsheets and R write a missing value. In a column that is otherwise numbers or dates they are
# empty cells (NULL), and then so everywhere in that file: one file, one convention.
MISSING_MARKERS = frozenset({"NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "None", "none"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")

# Most specific first: the first type still possible for a column wins.
_ORDER: tuple[ColumnType, ...] = ("integer", "decimal", "boolean", "date", "timestamp")
_PATTERNS: dict[ColumnType, re.Pattern[str]] = {
    "integer": _INT,
    "decimal": _DECIMAL,
    "boolean": _BOOL,
    "date": _DATE,
    "timestamp": _TIMESTAMP,
}


def _all_parse(values: Iterable[str], parse: Callable[[str], object]) -> bool:
    try:
        for v in values:
            parse(v)
    except ValueError:
        return False
    return True


def _fits(kind: ColumnType, values: set[str]) -> bool:
    if not all(map(_PATTERNS[kind].fullmatch, values)):
        return False
    if kind == "date":
        slashes = {"/" in v for v in values}
        if len(slashes) > 1:
            return False  # one way of writing dates per column
        return _all_parse((v.replace("/", "-") for v in values), date.fromisoformat)  # 2021-02-30 is no date
    if kind == "timestamp":
        return _all_parse(values, datetime.fromisoformat)
    return True


class TypeInference:
    """Narrows each column's possible types as distinct values stream by."""

    def __init__(self, width: int) -> None:
        self.candidates: list[set[ColumnType]] = [set(_ORDER) for _ in range(width)]
        self.seen_value = [False] * width
        self.markers: list[set[str]] = [set() for _ in range(width)]
        self.slashed = [False] * width

    def update(self, rows: Sequence[Sequence[str]]) -> None:
        # Only columns that are not text yet are looked at, and only their distinct values.
        open_columns = [i for i, possible in enumerate(self.candidates) if possible]
        if not rows or not open_columns:
            return
        for i in open_columns:
            distinct = set(map(itemgetter(i), rows))
            distinct.discard("")
            self.markers[i] |= distinct & MISSING_MARKERS
            distinct -= MISSING_MARKERS
            if not distinct:
                continue
            self.slashed[i] = self.slashed[i] or any("/" in v for v in distinct)
            self.seen_value[i] = True
            possible = self.candidates[i]
            for kind in [k for k in _ORDER if k in possible]:
                if not _fits(kind, distinct):
                    possible.discard(kind)

    def types(self) -> list[ColumnType]:
        out: list[ColumnType] = []
        for possible, seen in zip(self.candidates, self.seen_value, strict=True):
            chosen: ColumnType = next((k for k in _ORDER if k in possible), "text") if seen else "text"
            out.append(chosen)
        # Dates with slashes in one column and with dashes in another: the slashed ones stay text (a file is
        # read with one date format).
        dates = [i for i, t in enumerate(out) if t == "date"]
        if len({self.slashed[i] for i in dates}) > 1:
            for i in dates:
                if self.slashed[i]:
                    out[i] = "text"
        return out

    def missing(self, types: Sequence[ColumnType]) -> frozenset[str]:
        """The missing-value markers to read as empty: those seen in a column typed other than text."""
        seen: set[str] = set()
        for kind, markers in zip(types, self.markers, strict=True):
            if kind != "text":
                seen |= markers
        return frozenset(seen)

    def slash_dates(self, types: Sequence[ColumnType]) -> bool:
        return any(kind == "date" and self.slashed[i] for i, kind in enumerate(types))


def infer_types(rows: Sequence[Sequence[str]], width: int) -> list[ColumnType]:
    """The inferred type of each column of `rows` (all of the same width)."""
    inference = TypeInference(width)
    inference.update(rows)
    return inference.types()
