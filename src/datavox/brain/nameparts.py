"""A person's name parts asked for by name: "first name", "last names", "first and last name", "full name".

"first" and "last" here are parts of a name, not an order: "What are the first names of the drivers?" asks
for a column, not for the first driver. The parser marks such words before it reads ordinals, and keeps
the parts asked ("first name", "last name", "full name") for the columns of the answer; the planner finds
the column for each part by its name or the name's everyday synonyms (`forename`, `first_name`,
`given_name`; `surname`, `last_name`, `family_name`), so nothing here knows a data set.
"""

from __future__ import annotations

from datavox.data import wordlist
from datavox.data.names import identifier
from datavox.data.schema import Catalog

# A word before "name(s)" that says which part; "and" / "," may join two ("first and last names").
_PART_WORDS = {
    "first": "first name", "given": "first name", "christian": "first name", "fore": "first name",
    "last": "last name", "family": "last name", "sur": "last name",
    "full": "full name", "complete": "full name",
}  # fmt: skip
_JOINERS = frozenset({"and", "or", ","})
_NAME_WORDS = frozenset({"name", "names"})
# Column names glued without a separator, which WordNet does not split.
_GLUED = {"firstname": "first name", "lastname": "last name", "fullname": "full name"}


def mark(words: list[str], used: set[int]) -> list[str]:
    """The name parts a question asks for, in order; their part words go into `used` (no ordinals).

    "first and last name" → ["first name", "last name"]; "first names" → ["first name"].
    """
    parts: list[str] = []
    for i, word in enumerate(words):
        if word not in _NAME_WORDS or i == 0:
            continue
        run: list[int] = []
        j = i - 1
        while j >= 0 and j not in used:
            if words[j] in _PART_WORDS:
                run.append(j)
            elif not (words[j] in _JOINERS and run):
                break
            j -= 1
        if not run:
            continue
        for k in sorted(run):
            part = _PART_WORDS[words[k]]
            if part not in parts:
                parts.append(part)
            used.add(k)
    return parts


def collapse(asked: list[str]) -> list[str]:
    """Projection lemmas with the name parts joined: ["id", "first", "last", "name"] → ["id", "first name",
    "last name"]. Parts not followed by "name" are left as they were."""
    out: list[str] = []
    pending: list[str] = []
    for word in asked:
        if word in _PART_WORDS:
            pending.append(word)
            continue
        if word in _NAME_WORDS and pending:
            out.extend(p for p in dict.fromkeys(_PART_WORDS[w] for w in pending) if p not in out)
            pending = []
            continue
        out.extend(pending)
        pending = []
        out.append(word)
    return out + pending


def _said(column: str) -> set[str]:
    """What people call a column: its words, and their WordNet synonyms ("forename" → "first name")."""
    said = identifier(column).replace("_", " ").strip()
    said = _GLUED.get(said.replace(" ", ""), said)
    return {said, *wordlist.synonyms(said)}


def columns(catalog: Catalog, table: str, part: str) -> list[str]:
    """The table's columns for a name part; a full name with no column of its own is first + last."""
    if table not in catalog.tables:
        return []
    names = [c.name for c in catalog.tables[table].columns]
    for column in names:
        if part in _said(column):
            return [column]
    if part == "full name":
        first, last = columns(catalog, table, "first name"), columns(catalog, table, "last name")
        if first and last:
            return [*first, *last]
    return []
