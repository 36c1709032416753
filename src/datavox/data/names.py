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
