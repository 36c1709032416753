"""What the catalog and the semantic model say about each table, for reading questions and building SQL:
its model entry and column roles, the column that says when a row happened, a person's birth date, the
rank column, the keys a row shares with its siblings, and whether filters pin single rows."""

from __future__ import annotations

from datavox.brain.joins import Edge, JoinGraph
from datavox.brain.vocab import Vocabulary
from datavox.data.schema import Catalog
from datavox.data.semantic import Measure, SemanticModel, TableModel

_TIME_NAMES = ("year", "season", "date", "day", "month")

# A year said with these is a birth year ("drivers born in 1997"), not the year something happened.
BIRTH_WORDS = frozenset({"born", "birth"})


class TableFacts:
    def __init__(self, catalog: Catalog, model: SemanticModel, graph: JoinGraph) -> None:
        self.catalog = catalog
        self.model = model
        self.graph = graph
        self.vocab = Vocabulary.build(catalog, model)
        self.person_tables = [t for t, tm in model.tables.items() if tm.person and t in catalog.tables]
        self._time_columns: dict[str, str | None] = {}

    def tm(self, table: str) -> TableModel:
        return self.model.tables.get(table) or TableModel()

    def role(self, table: str, column: str) -> str:
        cm = self.tm(table).columns.get(column)
        return cm.role if cm is not None else ""

    def measure(self, name: str) -> Measure:
        return self.model.measures[name]

    def birth_year(self, fact: str, words: set[str]) -> tuple[tuple[Edge, ...], str] | None:
        """ "Born in 1997", "born after 1990": the year of the rows' own birth date, not of a season."""
        if not words & BIRTH_WORDS:
            return None
        col = self.birth_column(fact)
        return ((), col) if col is not None else None

    def year_column(self, fact: str) -> tuple[tuple[Edge, ...], str] | None:
        own = self.time_column(fact)
        if own is not None:
            return (), own
        best: tuple[int, tuple[Edge, ...], str] | None = None
        for edge in self.graph.out.get(fact, []):
            if not edge.forward:
                continue
            col = self.time_column(edge.to_table)
            if col is not None and (best is None or -edge.priority < best[0]):
                best = (-edge.priority, (edge,), col)
        return (best[1], best[2]) if best else None

    def time_column(self, table: str) -> str | None:
        """The column that says when a row happened (a year or a date), not an attribute like a birthday."""
        if table not in self._time_columns:
            self._time_columns[table] = self._find_time_column(table)
        return self._time_columns[table]

    def _find_time_column(self, table: str) -> str | None:
        t = self.catalog.tables[table]
        tm = self.tm(table)
        names = [c.name for c in t.columns]
        for pref in ("year", "season"):
            for name in names:
                if name.lower() == pref:
                    return name
        for col in tm.order_by:
            if col in names and (col.lower() in _TIME_NAMES or self.role(table, col) == "time"):
                return col
        for c in t.columns:
            low = c.name.lower()
            timely = c.is_temporal or low.endswith(("_year", "_date", "_at"))
            personal = any(w in low for w in ("birth", "death", "born", "died"))
            if timely and not personal and self.role(table, c.name) in ("time", ""):
                return c.name
        return None

    def birth_column(self, table: str) -> str | None:
        """The date a person was born ("date_of_birth", "dob", "birthday"), for "youngest" and "oldest"."""
        for c in self.catalog.tables[table].columns:
            low = c.name.lower()
            if ("birth" in low or low in ("dob", "born")) and (
                c.is_temporal or self.role(table, c.name) == "time"
            ):
                return c.name
        return None

    def rank_column(self, fact: str, column: str | None) -> str | None:
        if column is not None and self.role(fact, column) == "rank":
            return column
        for c in self.catalog.tables[fact].columns:
            if self.role(fact, c.name) == "rank":
                return c.name
        return None

    def sibling_keys(self, fact: str, own: str) -> list[str]:
        return [
            e.from_column
            for e in self.graph.out.get(fact, [])
            if e.forward
            and e.from_column != own
            and self.tm(e.to_table).entity
            and self.tm(e.to_table).priority >= 0
        ]

    def covering(self, fact: str, bound: set[str]) -> bool:
        """Whether the filters pin single rows of the fact table (a season total: no summing of races)."""
        if "*self*" in bound:
            return True
        table = self.catalog.tables[fact]
        fks = {e.from_column: e.to_table for e in self.graph.out.get(fact, []) if e.forward}
        if self.tm(fact).entity:
            # Rows of a named thing are pinned by its name, or by a time and a key (a Grand Prix in a year).
            tc = self.time_column(fact)
            return tc is not None and tc in bound and bool(set(fks) & bound)
        if not fks or not set(fks) & bound:
            return False
        tc = self.time_column(fact)
        if tc is not None and tc not in bound:
            return False
        # A key to rows that happen in time (a race) or to people must be bound too, or many rows fall under
        # the filters (every driver's result in one race).
        for col, ref in fks.items():
            timed = ref in self.catalog.tables and self.time_column(ref) is not None
            if col not in bound and (timed or ref in self.person_tables):
                return False
        return table.rows > 0
