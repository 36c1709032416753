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

from datavox.data import wordlist
from datavox.data.column_roles import PARTICIPLES, VERB_OF, codes, column_role, not_spoken, slugs, wordy
from datavox.data.model_measures import RESULT_WORDS, add_measures
from datavox.data.names import identifier, name_words, shared_prefix
from datavox.data.schema import Catalog, Column, Table, singular
from datavox.data.semantic import ColumnModel, Relationship, SemanticModel, TableModel
from datavox.data.word_forms import forms, plural

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
# Columns that count how often a row took part: the most prominent row of a shared name has the most.
PARTICIPATION = ("entries", "starts", "appearances", "games", "matches", "events", "visits", "orders")


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
        add_measures(self, model)
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


def generate(catalog: Catalog) -> SemanticModel:
    """A first semantic model from the catalog alone."""
    return Generator(catalog).model()
