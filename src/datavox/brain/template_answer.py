"""The LLM turn's spoken answer from the rows: the model's template filled in (`{alias}`, `{alias*}`,
`{row_count}`), or, when neither template nor model could word it, a plain sentence; cells said aloud."""

from __future__ import annotations

import re

from datavox.types import Cell

PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(\*)?\s*\}")


def render_template(template: str, columns: list[str], rows: list[list[Cell]]) -> str | None:
    """Fill `{alias}` (first row), `{alias*}` (all values) and `{row_count}`; None when a name is unknown."""
    if not template.strip() or not rows:
        return None
    index = {c.lower(): i for i, c in enumerate(columns)}
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        name, every = m.group(1).strip().lower(), bool(m.group(2))
        if name == "row_count":
            return say_number(len(rows))
        i = index.get(name, index.get(name.replace(" ", "_")))
        if i is None:
            missing = True
            return ""
        if every:
            return join_words([say(row[i]) for row in rows if row[i] is not None])
        return say(rows[0][i])

    text = PLACEHOLDER.sub(fill, template)
    if missing or "{" in text or "}" in text:
        return None
    return " ".join(text.split())


def plain_answer(columns: list[str], rows: list[list[Cell]]) -> str:
    """A deterministic answer from the rows alone, when neither template nor model could word it."""
    if len(rows) == 1 and len(columns) == 1:
        return f"The answer is {say(rows[0][0])}."
    if len(rows) == 1:
        parts = [f"{c.replace('_', ' ')} {say(v)}" for c, v in zip(columns, rows[0], strict=False)]
        return f"I found {join_words(parts)}."
    firsts = [say(row[0]) for row in rows[:5]]
    more = f", among {say_number(len(rows))} results" if len(rows) > 5 else ""
    return f"I found {join_words(firsts)}{more}."


def say(value: Cell) -> str:
    """A cell as it should be spoken."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return say_number(value)
    return str(value)


def say_number(value: float) -> str:
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            return f"{value:,.2f}".rstrip("0").rstrip(".")
    # Four-digit numbers are usually years: "2019", not "2,019".
    return f"{value:,}" if abs(value) >= 10000 else str(value)


def join_words(items: list[str], limit: int = 8) -> str:
    """`A, B and C`; long lists say how many more there are."""
    if len(items) > limit:
        shown = items[:limit]
        return ", ".join(shown) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def has_data(rows: list[list[Cell]]) -> bool:
    return any(any(cell is not None for cell in row) for row in rows)
