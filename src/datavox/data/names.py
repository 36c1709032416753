"""How file names and CSV headers become SQL identifiers.

The rules are the same for every engine, so a table imported into DuckDB, SQLite, PostgreSQL or MariaDB has
the same name everywhere and needs no quoting: lower-case snake_case, ASCII letters, digits and underscores.
The original header text is kept in the semantic model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_IDENTIFIER = 63  # PostgreSQL's limit, the smallest of the supported engines


def identifier(text: str, *, fallback: str = "column") -> str:
    """`raceId` → `race_id`, `Fastest Lap Time (s)` → `fastest_lap_time_s`, `2019` → `c_2019`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    snake = _CAMEL.sub("_", ascii_text.strip()).lower()
    snake = _NON_WORD.sub("_", snake).strip("_")
    if not snake:
        snake = fallback
    if snake[0].isdigit():
        snake = f"c_{snake}"
    return snake[:MAX_IDENTIFIER].rstrip("_")


def table_name(file_stem: str, *, strip_prefix: str = "") -> str:
    """`f1db-races-race-results` with prefix `f1db-` → `races_race_results`."""
    stem = (
        file_stem[len(strip_prefix) :] if strip_prefix and file_stem.startswith(strip_prefix) else file_stem
    )
    return identifier(stem, fallback="table")


def column_names(headers: Iterable[str]) -> list[str]:
    """Sanitised, unique column names in header order; empty headers become `column_<n>`."""
    out: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers, start=1):
        name = identifier(header, fallback=f"column_{i}")
        base, n = name, 2
        while name in seen:
            name = f"{base}_{n}"
            n += 1
        seen.add(name)
        out.append(name)
    return out


def shared_prefix(names: Iterable[str]) -> tuple[str, ...]:
    """The leading words every table name shares (`f1db_races`, `f1db_drivers` → `("f1db",)`).

    They name the data set, not the rows: people say "race results", not "f1db races race results". Never
    the whole name of a table, and nothing when there is only one table."""
    split = [identifier(n).split("_") for n in names]
    if len(split) < 2:
        return ()
    shortest = min(len(parts) for parts in split)
    out: list[str] = []
    for i in range(shortest - 1):
        word = split[0][i]
        if all(parts[i] == word for parts in split):
            out.append(word)
        else:
            break
    return tuple(out)


def name_words(name: str, prefix: tuple[str, ...] = ()) -> list[str]:
    """The words of a table or column name without the shared prefix: `f1db_races_race_results` → races,
    race, results."""
    parts = [p for p in identifier(name).split("_") if p]
    if prefix and tuple(parts[: len(prefix)]) == prefix and len(parts) > len(prefix):
        parts = parts[len(prefix) :]
    return parts
