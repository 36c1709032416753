"""A chart hint for the UI: a bar chart for names with numbers, a line for numbers over time."""

from __future__ import annotations

from datavox.types import Cell, ChartKind

_TIME_WORDS = ("year", "season", "date", "month", "day", "round")


def chart_hint(columns: list[str], rows: list[list[Cell]]) -> ChartKind | None:
    """`bar` or `line` when the result has one label column and one numeric column over 2+ rows."""
    if len(rows) < 2 or len(columns) != 2:
        return None
    numeric = [all(_is_number(r[i]) for r in rows if r[i] is not None) for i in range(2)]
    if not numeric[1]:
        return None
    label = columns[0].lower()
    if any(w in label for w in _TIME_WORDS) and numeric[0]:
        return "line"
    return "bar"


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
