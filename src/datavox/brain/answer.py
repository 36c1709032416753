"""Short spoken answers: one or two sentences, names and numbers said naturally, nothing the rows lack."""

from __future__ import annotations

import re

from datavox.brain import phrasing
from datavox.brain.english import well_formed
from datavox.brain.shape import Shape
from datavox.brain.text import fold, lemma
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
    if any(w.endswith("s") and not w.endswith("ss") for w in label.split()[:-1]):
        return label  # "races held": the plural is already said
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


def count_words(value: Cell) -> str:
    """A count as it is said: none is "no" ("won no races")."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return "no"
    return say_number(value)


def _close(text: str, extra: str) -> str:
    """ "X won the title." + "with 17 race wins" → "X won the title, with 17 race wins." """
    return f"{text[:-1]}, {extra}." if extra else text


def speak(
    shape: Shape, columns: list[str], rows: list[list[Cell]], truncated: bool = False, question: str = ""
) -> str:
    """The answer in one or two sentences; with the question, in its own words where its grammar allows,
    and in plain words when the echo would not be a well-formed sentence (a misheard question's grammar)."""
    text = _speak(shape, columns, rows, truncated, question)
    if question and not well_formed(text):
        text = _speak(shape, columns, rows, truncated, "")
    # "Chicago: Chicago." (the filter is the answer): said once.
    text = re.sub(r"^(.+?): \1([.?!])$", r"\1\2", text)
    return sentence(text)


def sentence(text: str) -> str:
    """A capital first and a stop at the end, whatever the data's cells look like."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return "I have no answer to that."
    if text[0].islower():
        text = text[0].upper() + text[1:]
    if text[-1] not in ".?!":
        text += "."
    return text


def _speak(shape: Shape, columns: list[str], rows: list[list[Cell]], truncated: bool, question: str) -> str:
    where = context_words(shape)
    about = f" ({where})" if where else ""
    names_said = shape.filters
    if not rows:
        echo = phrasing.not_found(question) if question else None
        if echo:
            return echo
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
            return f"The average {label}{for_words(shape)} is {say_number(value)}."
        n = float(value) if isinstance(value, int | float) else 0.0
        echo = phrasing.count_answer(question, count_words(value), names_said, n == 1) if question else None
        if echo:
            return echo
        if kind == "sum" and not label.endswith("s"):
            return f"The total {label}{for_words(shape)} is {say_number(value)}."
        traits = " ".join(shape.traits) + " " if shape.traits else ""
        counted = f"{count_words(value)} {traits}{plural(label, n)}"
        when = f" {shape.when}" if shape.when else ""
        if shape.filters:
            verb = "had" if shape.when else "has"
            return f"{join_names(shape.filters)} {verb} {counted}{when}."
        return f"There {'was' if n == 1 else 'were'} {counted}{when}."
    if kind == "yesno":
        value = cell(rows[0], shape.value_column)
        yes = isinstance(value, int | float) and value > 0
        times = int(value) if isinstance(value, int | float) else None
        echo = phrasing.yesno_answer(question, yes, times, names_said) if question else None
        if echo:
            return echo
        label = plural(shape.value_label, float(value or 0))
        return f"{'Yes' if yes else 'No'}: {count_words(value)} {label}{for_words(shape)}."
    if kind == "rank":
        pos = cell(rows[0], shape.value_column)
        said = ordinal(int(pos)) if isinstance(pos, int | float) else f"position {say_number(pos)}"
        echo = phrasing.rank_answer(question, said, names_said) if question else None
        if echo:
            return echo
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
        over = f"{len(rows)} {plural(shape.per_label or 'row', len(rows))}"
        return f"Over {over}{for_words(shape)}, {top}."
    if kind in ("top", "compare"):
        parts = []
        for row in rows[:MAX_LISTED]:
            name = cell(row, shape.name_column)
            value = cell(row, shape.value_column, 1)
            n = float(value) if isinstance(value, int | float) else 0.0
            if shape.per_row:  # "with a latitude of 71.29", not "with 71.29 latitudes"
                parts.append((say_number(name), f"a {shape.value_label} of {say_number(value)}"))
            else:
                parts.append((say_number(name), f"{say_number(value)} {plural(shape.value_label, n)}"))
        if kind == "top" and len(rows) == 1:
            echo = phrasing.subject_answer(question, parts[0][0], False) if question else None
            if echo:
                # "… won the most races in 2019, with 15." — the label only when the question did not say it.
                echoed = {lemma(w) for w in fold(echo).split()}
                label_words = {lemma(w) for w in fold(shape.value_label).split()}
                number = say_number(cell(rows[0], shape.value_column, 1))
                said = (
                    f"with {number}" if label_words <= echoed and not shape.per_row else f"with {parts[0][1]}"
                )
                if "year" in idx and shape.name_column != "year":
                    said += f" in {say_number(rows[0][idx['year']])}"  # "in a single season": which one
                return _close(echo, said)
            return f"{parts[0][0]}, with {parts[0][1]}{for_words(shape)}."
        if kind == "compare" and len(rows) == 2:
            (n1, v1), (n2, v2) = parts
            first, second = cell(rows[0], shape.value_column, 1), cell(rows[1], shape.value_column, 1)
            if first == second:
                return f"{n1} and {n2} are level, with {v1} each{for_words(shape)}."
            more = (
                "more"
                if isinstance(first, int | float) and isinstance(second, int | float) and first > second
                else "fewer"
            )
            return f"{n1} has {more}, with {v1} against {v2.split(' ')[0]} for {n2}{for_words(shape)}."
        listed = join_names([f"{n} with {v}" for n, v in parts])
        distinct = {str(cell(r, shape.value_column, 1)) for r in rows}
        if kind == "top" and len(rows) > 1 and len(distinct) == 1 and (shape.limit or 1) == 1:
            # A tie for the best ("Which season did he win the most races?"): every one, the number once.
            tied = join_names([n for n, _ in parts] + (["others"] if len(rows) > MAX_LISTED else []))
            echo = phrasing.subject_answer(question, tied, True) if question else None
            if echo and well_formed(echo):
                return _close(echo, f"with {say_number(cell(rows[0], shape.value_column, 1))} each")
            return f"{tied}, with {parts[0][1]} each{for_words(shape)}."
        if kind == "top" and len(rows) > 1:
            return f"The top {len(rows)}{for_words(shape)}: {listed}."
        return f"{listed}{about}."
    if kind == "when":
        values = [say_number(r[0]) for r in rows]
        said = join_names(values[:MAX_LISTED]) + (" and more" if len(values) > MAX_LISTED else "")
        is_date = bool(rows and isinstance(rows[0][0], str) and _DATE.match(rows[0][0]))
        echo = phrasing.when_answer(question, said, names_said, is_date) if question else None
        return echo or f"{said}{about}."
    names = [say_number(cell(r, shape.name_column if kind != "value" else shape.value_column)) for r in rows]
    if kind == "value" and len(names) == 1 and question:
        echo = phrasing.value_answer(question, names[0])
        if echo:
            return echo
    if len(names) <= MAX_LISTED and question:
        said = join_names(names)
        echo = (
            phrasing.attribute_answer(question, said)
            or phrasing.where_answer(question, said, names_said)
            or phrasing.subject_answer(question, said, len(names) > 1)
            or phrasing.object_answer(question, said, names_said)
        )
        if echo:
            return echo
    if len(names) <= MAX_LISTED:
        # "Monaco Grand Prix in 2019: Lewis Hamilton." — the filters first, so it reads as a reply.
        lead = " ".join(f for f in [join_names(shape.traits + shape.filters), shape.when] if f)
        return f"{lead[0].upper()}{lead[1:]}: {join_names(names)}." if lead else f"{join_names(names)}."
    rest = len(names) - MAX_LISTED
    echo = (
        phrasing.subject_answer(question, f"{', '.join(names[:MAX_LISTED])} and {rest} others", True)
        if question and not truncated
        else None
    )
    if echo:
        return echo
    total = f"{len(names)}{'+' if truncated else ''}"
    return f"There are {total}{about}: {', '.join(names[:MAX_LISTED])} and {rest} more."
