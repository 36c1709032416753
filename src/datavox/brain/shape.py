"""What a built query computes, for the spoken answer (`Shape`), and the labels its output columns get."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Shape:
    """What the query computes, for the spoken answer."""

    kind: str  # value | list | count | sum | avg | top | first | rank | compare | when | yesno
    value_label: str = ""  # what the number counts ("race wins", "points")
    target_label: str = ""  # what the names are ("driver")
    filters: list[str] = field(default_factory=list)  # spoken filters: the values named
    when: str = ""  # the years, said: "in 2020", "from 2010 to 2015"
    traits: list[str] = field(default_factory=list)  # values that describe the answer's rows: "Brazilian"
    name_column: str = ""  # output column holding names
    value_column: str = ""  # output column holding the number
    limit: int | None = None
    per_label: str = ""  # what a breakdown is by ("year", "team")
    per_row: bool = False  # a property of each row ("the heaviest"): said "with a body mass of 6300"


def plural_label(label: str) -> str:
    return label if label.endswith("s") else label + "s"


def column_label(name: str) -> str:
    """A column's name as words: "total_race_wins" is "race wins"."""
    words = name.replace("_", " ").split()
    if words and words[0] == "total" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def output_name(label: str) -> str:
    """A label as an output column's name: "race wins" is `race_wins`."""
    out = "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_")
    return out or "value"
