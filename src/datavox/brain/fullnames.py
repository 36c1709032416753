"""People named in full where the data keeps the name in parts: "Lewis Hamilton" is the row whose first name
is Lewis and last name Hamilton, not every Lewis and every Hamilton.

For each table with a first-name and a last-name column (`nameparts.columns`) and no full-name column of
its own, every row's "first last" is linked to the row's key, so a question's filter pins that one person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from datavox.brain import nameparts
from datavox.brain.text import fold
from datavox.data.names import identifier
from datavox.data.schema import Catalog

Fetch = Callable[[str], list[list[object]]]
MAX_ROWS = 50_000  # people tables are small; a table of millions is no list of names to say


def rows(catalog: Catalog, fetch: Fetch) -> Iterator[tuple[str, str, str, str, str]]:
    """(folded full name, table, key column, key value, the name as written) for every person row named in
    parts."""
    for name, table in catalog.tables.items():
        parts = nameparts.columns(catalog, name, "full name")
        key = table.primary_key or [c.name for c in table.columns if identifier(c.name) == "id"][:1]
        if len(parts) != 2 or len(key) != 1 or table.rows > MAX_ROWS:
            continue
        first, last = parts
        try:
            found = fetch(f"SELECT {key[0]}, {first}, {last} FROM {name}")
        except Exception:  # a table that cannot be read here must not stop the engine
            continue
        for pk, given, family in found:
            if pk is None or not given or not family:
                continue
            written = f"{given} {family}"
            full = fold(written)
            if len(full.split()) >= 2:
                yield full, name, key[0], str(pk), written
