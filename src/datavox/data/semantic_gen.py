"""A semantic model generated from the catalog and the data alone, good enough to talk to on day one.

Nothing here knows a data set. From names, types and distinct values it infers:

- words for every table and column: names split into words, the prefix every table shares dropped
  (`f1db_races_race_results` → "races race results"), the parent table's words dropped too when another
  table is named by them ("race results"), singular and plural forms, and WordNet synonyms of the head noun;
- which column names a row (a distinct, word-like text column: `name`, `full_name`, `title` ...), whether rows
  are people, which column says how prominent a row is (when two rows share a spoken name);
- roles: measures (numbers people add up), dimensions, time, ranks (positions), flags, identifiers;
- measures people count: each flag ("pole_position" → "pole positions"), the first place of a ranking
  ("wins", "winners", "won"), the top three of a ranking ("podiums");
- relationships from keys and names (`driver_id` → `drivers.id`, across the shared prefix), via the catalog.

What English words mean in any ranked data ("won" is first place, "top three" ranks 1 to 3) is the only
knowledge it brings; everything else comes from the data's own names.
"""

from __future__ import annotations

import re

from datavox.data import wordlist
from datavox.data.names import identifier, name_words, shared_prefix
from datavox.data.schema import Catalog, Column, Table, singular
from datavox.data.semantic import ColumnModel, Measure, Relationship, SemanticModel, TableModel

NAME_COLUMNS = (
    "name",
    "full_name",
    "title",
    "label",
    "product_name",
    "customer_name",
    "surname",
    "last_name",
)
PERSON_HINTS = ("first_name", "last_name", "surname", "given_name", "date_of_birth", "birth_date", "email")
# Words of a table of outcomes: its rank column orders competitors, first place is a win.
RESULT_WORDS = frozenset({"result", "standing", "ranking", "classification", "leaderboard", "finish"})
# A table named by a superlative holds one ranking per event: its first place is "the" fastest lap.
SUPERLATIVES = frozenset({"fastest", "best", "top", "highest", "longest", "quickest", "most"})
RANK_NAMES = ("position", "position_number", "rank", "ranking", "place", "pos", "finish_position")
# Columns that count how often a row took part: the most prominent row of a shared name has the most.
PARTICIPATION = ("entries", "starts", "appearances", "games", "matches", "events", "visits", "orders")


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


class Generator:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.prefix = shared_prefix(catalog.tables)
        self.words = {name: name_words(name, self.prefix) for name in catalog.tables}
        self.singular_key = {name: tuple(singular(w) for w in ws) for name, ws in self.words.items()}
        # Nouns that name a table's rows on their own ("races"): never the short name of a column.
        self.row_nouns = {key[-1] for key in self.singular_key.values() if len(key) == 1}
        # Every word used in a table or column name: a WordNet synonym that is one of them would blur two
        # things the data keeps apart.
        self.used_words: set[str] = {singular(w) for ws in self.words.values() for w in ws}
        for table in catalog.tables.values():
            self.used_words.update(singular(w) for c in table.columns for w in identifier(c.name).split("_"))

    # -- tables -------------------------------------------------------------------------------------------
    def parent(self, name: str) -> str | None:
        """The table this one is named under (`races` for `races_race_results`), longest first, but not one
        that leaves only "standings": `seasons_driver_standings` is under `seasons`, not `seasons_drivers`."""
        key = self.singular_key[name]
        options = sorted(
            (
                o
                for o, okey in self.singular_key.items()
                if o != name and len(okey) < len(key) and key[: len(okey)] == okey
            ),
            key=lambda o: -len(self.singular_key[o]),
        )
        for other in options:
            if set(key[len(self.singular_key[other]) :]) - RESULT_WORDS:
                return other
        return options[0] if options else None

    def rest(self, name: str) -> list[str]:
        """The words after the parent's ("race results"), or all of them."""
        parent = self.parent(name)
        ws = self.words[name]
        return ws[len(self.words[parent]) :] if parent else ws

    def table_synonyms(self, name: str) -> list[str]:
        ws, rest = self.words[name], self.rest(name)
        out = forms(ws)
        keys = set(self.singular_key.values())
        if rest != ws and tuple(singular(w) for w in rest) not in keys:
            out += forms(rest)  # "race results"; not "drivers" for seasons_drivers (the drivers table is)
        head = " ".join(rest[-2:]) if len(rest) >= 2 and wordlist.synonyms(" ".join(rest[-2:])) else rest[-1]
        named = bool(self.catalog.tables[name].columns) and self.parent(name) is None
        # Other words only for the things people name (countries, teams), never for facts (results).
        if named and not any(ch.isdigit() for ch in head):
            for syn in wordlist.synonyms(singular(head) if " " not in head else head):
                if not set(syn.split()) & self.used_words:
                    out += [syn, plural(syn)] if " " not in syn else [syn]
        return list(dict.fromkeys(out))

    def table(self, table: Table) -> TableModel:
        fk_cols = {fk.column for fk in table.foreign_keys}
        tm = TableModel(synonyms=self.table_synonyms(table.name))
        names = {identifier(c.name): c for c in table.columns}
        tm.entity = self.entity(table, names, fk_cols)
        tm.person = any(h in names for h in PERSON_HINTS) and bool(tm.entity)
        for col in table.columns:
            role = column_role(col, table, fk_cols, tm.entity)
            cm = ColumnModel(synonyms=self.column_synonyms(col, role), role=role)
            label = table.column(tm.entity[0]) if tm.entity else None
            if role == "dimension" and col.is_text and not_spoken(col, tm, label):
                cm.link = False
            elif role == "dimension" and col.is_text and codes(col):
                cm.link = True  # "LAX", "AK": names when said in capitals (short ones are not word-like)
            tm.columns[col.name] = cm
        tm.order_by = self.order_by(table, tm)
        label = table.column(tm.entity[0]) if tm.entity else None
        shared = label is not None and (label.distinct_count or 0) < table.rows
        if label is not None and (tm.person or shared):
            # Only where one spoken name fits several rows ("Schumacher"): it never ranks tables.
            tm.prominence = self.prominence(table, tm)
        return tm

    def entity(self, table: Table, names: dict[str, Column], fk_cols: set[str]) -> list[str]:
        for candidate in NAME_COLUMNS:
            col = names.get(candidate)
            if col is not None and col.is_text and not slugs(col.distinct or []):
                return [col.name]
        # The first text column whose values are (nearly) unique names the row.
        for col in table.columns:
            if (
                col.is_text
                and col.distinct is not None
                and col.name not in fk_cols
                and col.distinct_count
                and col.distinct_count >= 0.9 * max(table.rows, 1)
                and not col.name.lower().endswith("id")
                and wordy(col.distinct)
                and not slugs(col.distinct)
            ):
                return [col.name]
        return []

    def column_synonyms(self, col: Column, role: str) -> list[str]:
        parts = [w for w in identifier(col.name).split("_") if w]
        if role == "identifier" or not parts:
            return []
        out = [" ".join(parts)]
        if role == "measure" and parts[0] in ("total", "num", "number", "count", "n") and len(parts) > 1:
            out += forms(parts[1:])  # total_race_wins → "race wins"
            if len(parts) > 2 and parts[-1] in PARTICIPLES:
                out += [parts[-1], f"times {parts[-1]}"]  # total_races_held → "held", "times held"
            elif len(parts) > 2 and parts[-1].endswith("s") and singular(parts[-1]) not in self.row_nouns:
                out.append(parts[-1])  # total_race_laps → "laps"; not "races", the rows of a table
        # "When was she born?", "where did he die?": the verb of a birth or death column.
        out += [VERB_OF[p] for p in parts if p in VERB_OF]
        if role == "flag" and parts[0] in ("is", "has", "was") and len(parts) > 1:
            out.append(" ".join(parts[1:]))
        return list(dict.fromkeys(out)) if len(out) > 1 or "_" in col.name else []

    @staticmethod
    def order_by(table: Table, tm: TableModel) -> list[str]:
        """Chronological order of the rows, for "the first" and "the last"."""
        roles = {c: m.role for c, m in tm.columns.items()}
        dates = [
            c.name
            for c in table.columns
            if c.is_temporal
            and roles.get(c.name) == "time"
            and not {"birth", "death"} & set(c.name.split("_"))
        ]
        if dates:
            return dates[:1]
        cols = [c.name for c in table.columns]
        years = [c for c in cols if c.lower() in ("year", "season")]
        if not years:
            return []
        within = [c for c in cols if c.lower() in ("round", "month", "week", "day", "sequence", "stage")]
        order = [c for c in cols if c.lower() in ("position_display_order", "display_order", "sort_order")]
        return years[:1] + within[:1] + order[:1]

    @staticmethod
    def prominence(table: Table, tm: TableModel) -> str:
        measures = [c.name for c in table.columns if tm.columns[c.name].role == "measure"]
        for word in PARTICIPATION:
            for c in measures:
                if word in identifier(c).split("_"):
                    return c
        totals = [c for c in measures if identifier(c).startswith("total_")]
        return totals[0] if totals else ""

    # -- the whole model ---------------------------------------------------------------------------------
    def model(self) -> SemanticModel:
        model = SemanticModel()
        for table in self.catalog.tables.values():
            model.tables[table.name] = self.table(table)
        self.priorities(model)
        seen: set[tuple[str, str]] = set()
        for table in self.catalog.tables.values():
            for fk in table.foreign_keys:
                key = (f"{table.name}.{fk.column}", f"{fk.ref_table}.{fk.ref_column}")
                if key not in seen:
                    seen.add(key)
                    # `second_nationality_country_id` is the lesser of two keys to the same table.
                    low = identifier(fk.column)
                    prio = -1 if low.startswith(("second_", "other_", "parent_", "previous_", "next_")) else 0
                    model.relationships.append(Relationship(from_=key[0], to=key[1], priority=prio))
        self.measures(model)
        return model

    def priorities(self, model: SemanticModel) -> None:
        """Tables with the same words under different parents (standings after each race, final standings
        of each season): the one under the coarser parent (fewer rows) is the summary people mean."""
        by_rest: dict[tuple[str, ...], list[str]] = {}
        for name in self.catalog.tables:
            parent = self.parent(name)
            rest = {singular(w) for w in self.rest(name)}
            if parent is not None and rest & RESULT_WORDS and rest & set(self.singular_key[parent]):
                # `races_race_results`: the results of the parent itself, not of a session around it.
                model.tables[name].priority += 2
            elif parent is None and len(rest) == 1 and rest & RESULT_WORDS:
                # A table called just `results`: the results of the events it links to, which is what
                # "took part in", "raced in", "finished" mean before qualifying or lap tables.
                model.tables[name].priority += 2
            if parent is not None:
                by_rest.setdefault(tuple(singular(w) for w in self.rest(name)), []).append(name)
        for names in by_rest.values():
            if len(names) < 2:
                continue
            names.sort(key=lambda n: self.catalog.tables[self.parent(n) or n].rows)
            model.tables[names[0]].priority += 1
            for n in names[1:]:
                model.tables[n].priority -= 1

    def measures(self, model: SemanticModel) -> None:
        persons = {t for t, tm in model.tables.items() if tm.person}
        for table in self.catalog.tables.values():
            tm = model.tables[table.name]
            refs = [fk.ref_table for fk in table.foreign_keys if model.tables[fk.ref_table].entity]
            # Who achieves what the table records: its people, else the first named thing it refers to
            # that is not the event it hangs under (constructor standings → constructors, not races).
            parent = self.parent(table.name)
            things = [r for r in refs if r != parent and r not in persons]
            subject = next((r for r in refs if r in persons), things[0] if things else "")
            rest = [w for w in self.rest(table.name) if not w.isdigit()]
            heads = [w for w in rest if singular(w) not in RESULT_WORDS]
            what = " ".join(heads)
            for col in table.columns:
                role = tm.columns[col.name].role
                if role == "flag" and refs:
                    self.flag_measure(model, table.name, col.name, subject)
                if role == "rank" and refs and identifier(col.name) in RANK_NAMES:
                    if RESULT_WORDS & {singular(w) for w in rest}:
                        self.rank_measures(model, table.name, col.name, what, subject)
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

    def flag_measure(self, model: SemanticModel, table: str, column: str, subject: str) -> None:
        parts = [w for w in identifier(column).split("_") if w not in ("is", "has", "was")]
        if not parts:
            return
        synonyms = forms(parts)
        doers: list[str] = []
        if parts[-1] in ("won", "win", "winner") and len(parts) > 1:
            noun = parts[:-1]
            synonyms += [*forms(noun), f"won {' '.join(noun)}", f"win {' '.join(noun)}"]
            for other in wordlist.synonyms(" ".join(noun)):  # championship → title
                if " " not in other and other not in self.used_words:
                    synonyms += [other, plural(other), f"won {other}", f"win {other}"]
            thing = noun[-1]
            if thing.endswith("ship") and len(thing) > 6:  # championship → champion, leadership → leader
                doers += forms([*noun[:-1], thing[:-4]])
                doers += forms([thing[:-4]])
            doers += forms([*noun, "winner"])
            # Said with the table's own words: "constructor championships" in constructor standings.
            qual = [w for w in self.rest(table) if singular(w) not in RESULT_WORDS]
            if qual and qual != noun:
                said = [singular(w) for w in qual]
                synonyms += forms([*said, *noun])
                if thing.endswith("ship") and len(thing) > 6:
                    doers += forms([*said, *noun[:-1], thing[:-4]])
        column_tables = [t for t in self.catalog.tables.values() if t.column(column) is not None]
        name = "_".join(parts) if len(column_tables) == 1 else "_".join([*self.words[table], *parts])
        model.measures.setdefault(
            name,
            Measure(
                table=table,
                description=f"Rows of {' '.join(self.words[table])} where {' '.join(parts)} is true.",
                synonyms=list(dict.fromkeys(synonyms)),
                filter=column,
                subject=subject if doers else "",
                doers=list(dict.fromkeys(doers)) if subject else [],
            ),
        )

    def rank_measures(self, model: SemanticModel, table: str, column: str, what: str, subject: str) -> None:
        """First place of a ranking is a win, the first three a podium ("top three")."""
        key = "_".join(what.split()) or "_".join(self.words[table])
        said = what.split()
        wins = ["win", "wins", "won", "victory", "victories"]
        if said:
            wins += [*forms([*said, "win"]), f"{forms(said)[-1]} won", f"won {what}", f"win {what}"]
        doers = ["winner", "winners", *forms([*said, "winner"])] if subject else []
        model.measures.setdefault(
            f"{key}_wins",
            Measure(
                table=table,
                description=f"First places in {' '.join(self.words[table])}.",
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
                description=f"Places one to three in {' '.join(self.words[table])}.",
                synonyms=list(dict.fromkeys(top)),
                filter=f"{column} <= 3",
            ),
        )


def generate(catalog: Catalog) -> SemanticModel:
    """A first semantic model from the catalog alone."""
    return Generator(catalog).model()


# -- column roles ----------------------------------------------------------------------------------------


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
