"""Roles of a column in the generated model (name, identifier, flag, time, rank, measure, dimension), from
its name, type and values; and which text columns are linked as names people say."""

from __future__ import annotations

import re

from datavox.data.names import identifier
from datavox.data.schema import Column, Table
from datavox.data.semantic import TableModel

RANK_NAMES = ("position", "position_number", "rank", "ranking", "place", "pos", "finish_position")


def wordy(values: list[str]) -> bool:
    """Values that read as names (mostly letters), not times, codes or numbers."""
    sample = values[:200]
    n = sum(1 for v in sample if sum(ch.isalpha() for ch in v) > len(v) / 2)
    return bool(sample) and n >= 0.8 * len(sample)


def slugs(values: list[str]) -> bool:
    sample = values[:200]
    slug = sum(1 for v in sample if v == v.lower() and " " not in v and any(ch.isalpha() for ch in v))
    return len(sample) >= 20 and slug >= 0.95 * len(sample)


# Plain English: the verb people use for a column about a birth or a death, and participles that end a
# total's name ("total races held": "how many times held").
VERB_OF = {"birth": "born", "death": "died", "born": "born", "died": "died"}


PARTICIPLES = frozenset(
    {"held", "won", "lost", "played", "sold", "made", "scored", "hosted", "run", "started"}
)


PERSON_NAME_PARTS = ("first_name", "last_name", "full_name", "surname", "given_name", "middle_name")


def not_spoken(col: Column, tm: TableModel, label: Column | None = None) -> bool:
    """Text that names nothing people say: the parts of a person's name beside the name people use (a
    question saying "Williams" means the team, not a driver's surname), and long forms that only decorate
    the row's name ("Renault Sport Formula One Team" for "Renault": its extra words would make "Formula
    One" in a question name that team)."""
    values = [v for v in (col.distinct or col.samples or []) if isinstance(v, str)]
    if tm.person and bool(tm.entity) and identifier(col.name) in PERSON_NAME_PARTS:
        return True
    return label is not None and label is not col and decorates(values, label.distinct or [])


def codes(col: Column) -> bool:
    """Short capital codes ("LAX", "AK", "HAM"): linked, but only where a question writes them in capitals."""
    values = [v for v in (col.distinct or []) if isinstance(v, str)]
    sample = values[:200]
    coded = [v for v in sample if 1 < len(v) <= 4 and v.isalnum() and v.isupper()]
    return len(sample) >= 2 and len(coded) >= 0.95 * len(sample)


def decorates(longer: list[str], names: list[str]) -> bool:
    """Most values contain one of the names whole (`Autodromo Nazionale Monza` ⊇ `Monza`)."""
    if not longer or not names or len(longer) * len(names) > 2_000_000:
        return False
    folded = [f" {n.lower()} " for n in names if n]
    hits = sum(1 for v in longer[:500] if any(n in f" {v.lower()} " for n in folded))
    return hits >= 0.8 * min(len(longer), 500)


_COORDINATES = re.compile(r"^(lat|latitude|lon|lng|long|longitude|x|y|zip|zipcode|postcode|phone)$")


def column_role(col: Column, table: Table, fk_cols: set[str], entity: list[str]) -> str:
    low = identifier(col.name)
    if col.name in entity:
        return "name"
    if col.name in fk_cols or low == "id" or low.endswith("_id") or col.name in table.primary_key:
        return "identifier"
    if col.is_bool:
        return "flag"
    if col.is_text and col.distinct and slugs(col.distinct):
        return "identifier"  # lower-case codes (driverRef "hamilton"): keys, not names people say
    if col.is_temporal or low in ("year", "season", "month", "date") or low.endswith(("_year", "_date")):
        return "time"
    if low in RANK_NAMES or (
        low.endswith(("_position", "_rank")) and not low.startswith(("best_", "total_"))
    ):
        return "rank"
    if low.endswith(("_display_order", "_millis", "_ms")):
        return "dimension"
    if col.is_numeric and not _COORDINATES.match(low):
        return "measure"
    return "dimension"
