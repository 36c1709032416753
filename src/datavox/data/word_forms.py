"""English forms of a name's words for the generated model: plural, and a phrase with its head singular and
plural ("race result", "race results")."""

from __future__ import annotations

from datavox.data.schema import singular


def plural(word: str) -> str:
    if word.endswith("s") or not word:
        return word
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("ch", "sh", "x", "z")):
        return word + "es"
    return word + "s"


def forms(parts: list[str]) -> list[str]:
    """A name's phrase with its head (last word) singular and plural: "race results", "race result"."""
    if not parts:
        return []
    head = parts[-1]
    if not head.endswith("s") and len(parts) > 1 and parts[-2].endswith("s"):
        # "grands prix", "attorneys general": the plural is on an earlier word.
        one = [*parts[:-2], singular(parts[-2]), head]
        return list(dict.fromkeys([" ".join(one), " ".join(parts)]))
    one, many = [*parts[:-1], singular(head)], [*parts[:-1], plural(head)]
    return list(dict.fromkeys([" ".join(one), " ".join(many)]))
