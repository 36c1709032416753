"""What the answer names, given the facts: the rows of the asked noun, the people for "who", a time for
"when", a place for "where"; and the columns asked by name, the breakdown ("per team") and the table counted
through the facts ("the most races")."""

from __future__ import annotations

from datavox.brain import nameparts
from datavox.brain.frame import Frame
from datavox.brain.joins import Edge
from datavox.brain.linking import ValueMatch
from datavox.brain.reading import Reading, Target
from datavox.brain.table_facts import TableFacts
from datavox.brain.text import lemma
from datavox.data.names import identifier


def answer_target(
    facts: TableFacts,
    frame: Frame,
    fact: str,
    nouns: list[tuple[str, str | None, frozenset[str]]],
    column: str | None = None,
) -> tuple[Target | None, frozenset[str]]:
    """What the answer names: the noun's rows, a person for "who", a time for "when"."""
    for table, col, syn in nouns:
        if col is not None:
            if table == fact:
                return Target(column=col), syn
            path = facts.graph.path(fact, table)
            if path is not None:
                return Target(table=table, column=col, path=path), syn
            continue
        if not facts.tm(table).entity:
            continue  # rows without a name cannot be the answer's names
        path = facts.graph.path(fact, table)
        if path is not None:
            # "What nationality is X?": the noun is also a column of those rows (the demonym), not
            # their name.
            said = [
                c
                for (t, c), sets in facts.vocab.columns.items()
                if t == table
                and syn in sets
                and c != facts.tm(table).entity[0]
                and facts.role(t, c) in ("name", "dimension")
            ]
            return Target(table=table, column=said[0] if said else None, path=path), syn
    if nouns and frame.qword in ("which", "how_many"):
        return None, frozenset()  # the thing asked for cannot be reached from these facts
    if frame.qword == "who" or (frame.qword == "list" and not nouns):
        person = who_target(facts, fact)
        if person is not None:
            return person, frozenset()
        if facts.person_tables:
            # "Who won the constructors' title?": the named rows these facts are about, if not people.
            for edge in facts.graph.out.get(fact, []):
                if edge.forward and facts.tm(edge.to_table).entity and facts.tm(edge.to_table).priority >= 0:
                    return Target(table=edge.to_table, path=(edge,), fallback=True), frozenset()
            return None, frozenset()
        col = who_column(facts, frame, fact)
        return (Target(column=col) if col else None), frozenset()
    if frame.where_place and frame.values:
        place = place_target(facts, fact, frame)
        if place is not None:
            return place, frozenset()
    if frame.qword == "what" and frame.first_last and not nouns:
        # "What was her first win?": the event itself, named by a table it happened in.
        for edge in facts.graph.out.get(fact, []):
            if edge.forward and facts.tm(edge.to_table).entity and facts.time_column(edge.to_table):
                return Target(table=edge.to_table, path=(edge,)), frozenset()
    if frame.qword == "when":
        if column is not None and facts.role(fact, column) == "time":
            return Target(column=column), frozenset()
        # A date says "when" better than a year.
        for col in facts.tm(fact).order_by:
            c = facts.catalog.tables[fact].column(col)
            if c is not None and c.is_temporal:
                return Target(column=col), frozenset()
        tc = facts.time_column(fact)
        return (Target(column=tc) if tc else None), frozenset()
    if frame.qword == "what" and column is not None and facts.role(fact, column) == "flag":
        # "What was the fastest lap at Monza in 2020?": a yes/no flag answers nothing by itself ("was
        # yes"); the rows that have it do, named as "who" would name them.
        who = who_target(facts, fact)
        if who is not None:
            return who, frozenset()
    return Target(), frozenset()


def who_target(facts: TableFacts, fact: str) -> Target | None:
    """The people these facts are about, by the shortest join (none when no person table is reached)."""
    options = [(facts.graph.path(fact, p), p) for p in facts.person_tables]
    reachable = [(len(path), p, path) for path, p in options if path is not None]
    if not reachable:
        return None
    _, table, path = min(reachable)
    return Target(table=table, path=path)


def who_column(facts: TableFacts, frame: Frame, fact: str) -> str | None:
    """Without a table of people, "who" asks for a text column of the facts: not one the question
    already filters on, best one named like its verb ("won" → `winner`)."""
    filtered = {m.column for g in frame.values for m in g if m.table == fact}
    options = [
        c.name
        for c in facts.catalog.tables[fact].columns
        if c.is_text and c.name not in filtered and facts.role(fact, c.name) in ("name", "dimension", "")
    ]
    verbs = {t.lemma for t in frame.content}
    for name in options:
        if any(w.startswith(v) or v.startswith(lemma(w)) for w in identifier(name).split("_") for v in verbs):
            return name
    return options[0] if options else None


def where_place(facts: TableFacts, frame: Frame) -> Reading | None:
    """ "Where is Monza?": the named row's place, straight from its own table."""
    for vm in frame.values[0]:
        target = place_target(facts, vm.table, frame, vm)
        if target is not None:
            reading = Reading(fact=vm.table, target=target, values=[(vm, ())], score=1.0)
            return reading
    return None


def place_target(facts: TableFacts, fact: str, frame: Frame, vm: ValueMatch | None = None) -> Target | None:
    """ "Where is Monza?": a place-like column of the named row, or the country it points at."""
    vm = vm or frame.values[0][0]
    if vm.table != fact:
        return None
    # A column the question names ("where was she born" → the place of birth) beats any place column.
    for c in facts.catalog.tables[fact].columns:
        sets = facts.vocab.columns.get((fact, c.name), [])
        if c.is_text and c.name != vm.column and any(len(s) > 1 and s <= frame.free_lemmas for s in sets):
            return Target(column=c.name)
    words = ("place", "city", "town", "location", "address", "country", "region", "state")
    for edge in facts.graph.out.get(fact, []):
        if (
            edge.forward
            and any(w in edge.from_column.lower() for w in words)
            and facts.tm(edge.to_table).entity
        ):
            return Target(table=edge.to_table, path=(edge,))
    for c in facts.catalog.tables[fact].columns:
        if c.is_text and c.name != vm.column and any(w in c.name.lower() for w in words):
            return Target(column=c.name)
    return None


def projection(facts: TableFacts, frame: Frame, fact: str, target: Target) -> list[str]:
    """Columns of the answer's table the question names before "of" ("the name and date of")."""
    if not frame.projection or target.column is not None:
        return []
    table = target.table or fact
    if not facts.tm(table).entity and target.table is None:
        return []
    cols = facts.catalog.tables[table]
    own = {lemma(w) for w in identifier(table).split("_")}
    out: list[str] = []
    for word in frame.projection:
        pick: str | None = None
        if word in ("first name", "last name", "full name"):
            parts = nameparts.columns(facts.catalog, table, word)
            if not parts:
                return []
            out.extend(p for p in parts[:-1] if p not in out)
            pick = parts[-1]
        elif word in ("id", "ids", "identifier", "identifiers", "key"):
            pk = cols.primary_key or [c.name for c in cols.columns if identifier(c.name) == "id"]
            pick = pk[0] if pk else None
        elif word == "name":
            entity = facts.tm(table).entity
            pick = entity[0] if entity else None
        else:
            for (t, c), sets in facts.vocab.columns.items():
                if t == table and any(word in s and s <= set(frame.projection) | own for s in sets):
                    pick = c
                    break
        if pick is None:
            return []  # a column we cannot name: keep the plain answer
        if pick not in out:
            out.append(pick)
    return out if len(out) > 1 or out != (facts.tm(table).entity or [])[:1] else []


def breakdown(facts: TableFacts, word: str, fact: str) -> tuple[tuple[Edge, ...], str] | None:
    """What "each year" / "per team" breaks the facts down by: a time column or a named table."""
    if word in ("year", "season"):
        yc = facts.year_column(fact)
        return (yc[0], yc[1]) if yc else None
    for table, sets in facts.vocab.tables.items():
        if facts.tm(table).entity and any(s == {word} for s in sets):
            path = facts.graph.path(fact, table)
            if path is not None:
                return path, facts.tm(table).entity[0]
    for (table, column), sets in facts.vocab.columns.items():
        if table == fact and any(s == {word} for s in sets):
            return (), column
    return None


def counted_via(
    facts: TableFacts, fact: str, target: str | None, t_hits: dict[str, frozenset[str]]
) -> str | None:
    """The other table a question counts through these facts: `results` joins drivers to races, so
    "drivers with the most races" counts a driver's result rows. None unless the facts hold a key to
    both the answer's table and a table the question names."""
    if target is None or target == fact or fact in t_hits:
        return None
    keys = {e.to_table for e in facts.graph.out.get(fact, []) if e.forward}
    if target not in keys:
        return None
    named = [t for t in t_hits if t not in (target, fact) and t in keys]
    return named[0] if len(named) == 1 else None
