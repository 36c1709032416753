"""Short spoken answers: one or two sentences, names and numbers said naturally, nothing the rows lack."""

from __future__ import annotations

import re

from datavox.brain.sqlbuild import Shape
from datavox.types import Cell

MAX_LISTED = 5


_MONTHS = """January February March April May June July August September October November December""".split()  # noqa: SIM905
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")


def say_number(value: Cell) -> str:
    """A cell as it is said: numbers plainly, dates in words, booleans as yes or no."""
    if isinstance(value, str):
        m = _DATE.match(value)
        if m and 1 <= int(m.group(2)) <= 12:
            return f"{_MONTHS[int(m.group(2)) - 1]} {int(m.group(3))}, {m.group(1)}"
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if value.is_integer():
            return say_number(int(value))
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"
    if value is None:
        return "nothing"
    return say_number(str(value))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def join_names(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def plural(label: str, n: float) -> str:
    """`race wins` stays, `driver` → `drivers` when n is not one."""
    if not label:
        return ""
    if n == 1:
        head, _, last = label.rpartition(" ")
        if last.endswith("ies"):
            last = last[:-3] + "y"
        elif last.endswith("s") and not last.endswith(("ss", "us", "is")):
            last = last[:-1]
        return f"{head} {last}".strip()
    if label.endswith(("s", "x")):
        return label
    if label.endswith("y") and label[-2:-1] not in "aeiou":
        return label[:-1] + "ies"
    return label + "s"


def context_words(shape: Shape) -> str:
    """The filters said back, so an answer stands on its own: "Lewis Hamilton, in 2020"."""
    return ", ".join(f for f in [join_names(shape.traits + shape.filters), shape.when] if f).strip()


def for_words(shape: Shape) -> str:
    """ "for Lewis Hamilton in 2020", "in 2024", "" — after a number."""
    parts = []
    if shape.filters:
        parts.append("for " + join_names(shape.filters))
    if shape.when:
        parts.append(shape.when)
    return (" " + " ".join(parts)) if parts else ""


def speak(shape: Shape, columns: list[str], rows: list[list[Cell]], truncated: bool = False) -> str:
    where = context_words(shape)
    about = f" ({where})" if where else ""
    if not rows:
        what = shape.value_label or shape.target_label or "matching rows"
        return f"I couldn't find any {what}{for_words(shape)} in the data."
    idx = {c: i for i, c in enumerate(columns)}

    def cell(row: list[Cell], name: str, default: int = 0) -> Cell:
        return row[idx[name]] if name in idx else (row[default] if row else None)

    kind = shape.kind
    if kind in ("count", "sum", "avg"):
        value = cell(rows[0], shape.value_column)
        if value is None:
            return f"I couldn't find any {shape.value_label or 'values'}{for_words(shape)}."
        label = shape.value_label
        if kind == "avg":
            return f"The average {label} is {say_number(value)}{about}."
        n = float(value) if isinstance(value, int | float) else 0.0
        if kind == "sum" and not label.endswith("s"):
            return f"The total {label}{for_words(shape)} is {say_number(value)}."
        traits = " ".join(shape.traits) + " " if shape.traits else ""
        return f"{say_number(value)} {traits}{plural(label, n)}{for_words(shape)}.".strip()
    if kind == "yesno":
        value = cell(rows[0], shape.value_column)
        yes = isinstance(value, int | float) and value > 0
        label = plural(shape.value_label, float(value or 0))
        return f"{'Yes' if yes else 'No'}: {say_number(value)} {label}{about}."
    if kind == "rank":
        pos = cell(rows[0], shape.value_column)
        said = ordinal(int(pos)) if isinstance(pos, int | float) else f"position {say_number(pos)}"
        if shape.filters:
            at = f" at {join_names(shape.filters[1:])}" if len(shape.filters) > 1 else ""
            return f"{shape.filters[0]} was {said}{at}{' ' + shape.when if shape.when else ''}."
        return f"{said[0].upper()}{said[1:]}{about}."
    if kind == "per":
        best = max(rows, key=lambda row: row[idx[shape.value_column]] or 0)
        n = float(best[idx[shape.value_column]] or 0)
        label = plural(shape.value_label, n)
        when = "in " if shape.name_column == "year" else ""
        top = f"the most was {say_number(best[idx[shape.value_column]])} {label}, {when}{say_number(best[0])}"
        return f"{len(rows)} {plural(shape.per_label or 'row', len(rows))}{about}: {top}."
    if kind in ("top", "compare"):
        parts = []
        for row in rows[:MAX_LISTED]:
            name = cell(row, shape.name_column)
            value = cell(row, shape.value_column, 1)
            n = float(value) if isinstance(value, int | float) else 0.0
            parts.append(f"{name} with {say_number(value)} {plural(shape.value_label, n)}")
        if kind == "top" and len(rows) == 1:
            return f"{parts[0]}{about}."
        return f"{join_names(parts)}{about}."
    if kind == "when":
        values = [say_number(r[0]) for r in rows]
        return f"{join_names(values[:MAX_LISTED])}{' and more' if len(values) > MAX_LISTED else ''}{about}."
    if kind in ("first",):
        return f"{say_number(cell(rows[0], shape.name_column))}{about}."
    if kind == "value":
        values = [say_number(cell(r, shape.value_column)) for r in rows]
        if len(values) == 1:
            return f"{values[0]}{about}."
        return f"{join_names(values[:MAX_LISTED])}{' and more' if len(values) > MAX_LISTED else ''}{about}."
    # A list of names.
    names = [say_number(cell(r, shape.name_column)) for r in rows]
    if len(names) == 1:
        return f"{names[0]}{about}."
    if len(names) <= MAX_LISTED:
        return f"{join_names(names)}{about}."
    more = len(names) - MAX_LISTED
    total = f"{len(names)}{'+' if truncated else ''}"
    return f"There are {total}{about}: {', '.join(names[:MAX_LISTED])} and {more} more."
