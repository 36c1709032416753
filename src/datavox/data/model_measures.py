"""Measures of the generated model that people count: each flag ("pole_position" → "pole positions"), the
first place of a ranking ("wins", "winners", "won"), its top three ("podiums"), and "the fastest" of a
table named by a superlative; each with who achieves it (its subject) and what they are called (doers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datavox.data import wordlist
from datavox.data.column_roles import RANK_NAMES
from datavox.data.names import identifier
from datavox.data.schema import singular
from datavox.data.semantic import Measure, SemanticModel
from datavox.data.word_forms import forms, plural

if TYPE_CHECKING:  # the generator calls these; they only need its type
    from datavox.data.semantic_gen import Generator

# Words of a table of outcomes: its rank column orders competitors, first place is a win.
RESULT_WORDS = frozenset({"result", "standing", "ranking", "classification", "leaderboard", "finish"})
# A table named by a superlative holds one ranking per event: its first place is "the" fastest lap.
SUPERLATIVES = frozenset({"fastest", "best", "top", "highest", "longest", "quickest", "most"})


def add_measures(gen: Generator, model: SemanticModel) -> None:
    persons = {t for t, tm in model.tables.items() if tm.person}
    for table in gen.catalog.tables.values():
        tm = model.tables[table.name]
        refs = [fk.ref_table for fk in table.foreign_keys if model.tables[fk.ref_table].entity]
        # Who achieves what the table records: its people, else the first named thing it refers to
        # that is not the event it hangs under (constructor standings → constructors, not races).
        parent = gen.parent(table.name)
        things = [r for r in refs if r != parent and r not in persons]
        subject = next((r for r in refs if r in persons), things[0] if things else "")
        rest = [w for w in gen.rest(table.name) if not w.isdigit()]
        heads = [w for w in rest if singular(w) not in RESULT_WORDS]
        what = " ".join(heads)
        for col in table.columns:
            role = tm.columns[col.name].role
            if role == "flag" and refs:
                flag_measure(gen, model, table.name, col.name, subject)
            if role == "rank" and refs and identifier(col.name) in RANK_NAMES:
                if RESULT_WORDS & {singular(w) for w in rest}:
                    rank_measures(gen, model, table.name, col.name, what, subject)
                elif rest and rest[0] in SUPERLATIVES:
                    name = "_".join(rest)
                    model.measures.setdefault(
                        name,
                        Measure(
                            table=table.name,
                            description=f"Times ranked first in {' '.join(rest)}.",
                            synonyms=forms(rest),
                            filter=f"{col.name} = 1",
                        ),
                    )


def flag_measure(gen: Generator, model: SemanticModel, table: str, column: str, subject: str) -> None:
    parts = [w for w in identifier(column).split("_") if w not in ("is", "has", "was")]
    if not parts:
        return
    synonyms = forms(parts)
    doers: list[str] = []
    if parts[-1] in ("won", "win", "winner") and len(parts) > 1:
        noun = parts[:-1]
        synonyms += [*forms(noun), f"won {' '.join(noun)}", f"win {' '.join(noun)}"]
        for other in wordlist.synonyms(" ".join(noun)):  # championship → title
            if " " not in other and other not in gen.used_words:
                synonyms += [other, plural(other), f"won {other}", f"win {other}"]
        thing = noun[-1]
        if thing.endswith("ship") and len(thing) > 6:  # championship → champion, leadership → leader
            doers += forms([*noun[:-1], thing[:-4]])
            doers += forms([thing[:-4]])
        doers += forms([*noun, "winner"])
        # Said with the table's own words: "constructor championships" in constructor standings.
        qual = [w for w in gen.rest(table) if singular(w) not in RESULT_WORDS]
        if qual and qual != noun:
            said = [singular(w) for w in qual]
            synonyms += forms([*said, *noun])
            if thing.endswith("ship") and len(thing) > 6:
                doers += forms([*said, *noun[:-1], thing[:-4]])
    column_tables = [t for t in gen.catalog.tables.values() if t.column(column) is not None]
    name = "_".join(parts) if len(column_tables) == 1 else "_".join([*gen.words[table], *parts])
    model.measures.setdefault(
        name,
        Measure(
            table=table,
            description=f"Rows of {' '.join(gen.words[table])} where {' '.join(parts)} is true.",
            synonyms=list(dict.fromkeys(synonyms)),
            filter=column,
            subject=subject if doers else "",
            doers=list(dict.fromkeys(doers)) if subject else [],
        ),
    )


def rank_measures(
    gen: Generator, model: SemanticModel, table: str, column: str, what: str, subject: str
) -> None:
    """First place of a ranking is a win, the first three a podium ("top three")."""
    key = "_".join(what.split()) or "_".join(gen.words[table])
    said = what.split()
    wins = ["win", "wins", "won", "victory", "victories"]
    if said:
        wins += [*forms([*said, "win"]), f"{forms(said)[-1]} won", f"won {what}", f"win {what}"]
    doers = ["winner", "winners", *forms([*said, "winner"])] if subject else []
    model.measures.setdefault(
        f"{key}_wins",
        Measure(
            table=table,
            description=f"First places in {' '.join(gen.words[table])}.",
            synonyms=list(dict.fromkeys(wins)),
            filter=f"{column} = 1",
            subject=subject,
            doers=list(dict.fromkeys(doers)),
        ),
    )
    top = ["podium", "podiums", "podium finish", "podium finishes", "top three", "top 3"]
    if said:
        top += forms([*said, "podium"])
    model.measures.setdefault(
        f"{key}_podiums",
        Measure(
            table=table,
            description=f"Places one to three in {' '.join(gen.words[table])}.",
            synonyms=list(dict.fromkeys(top)),
            filter=f"{column} <= 3",
        ),
    )
