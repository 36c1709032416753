""" "Who is Lewis Hamilton?", "Tell me about Monza": a short profile of one named row.

The row's own columns, chosen from the catalog and the semantic model alone: its dates (a birth date, an
opening), what it belongs to (keys to other named rows, said by their names: a nationality, a country), its
categories, and a few of its measures. Identifiers and near-unique text (first names, slugs) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from datavox.brain.answer import join_names, say_number, sentence
from datavox.brain.frame import Frame
from datavox.brain.joins import JoinGraph
from datavox.brain.linking import ValueMatch
from datavox.data.names import identifier
from datavox.data.schema import Catalog, Column
from datavox.data.semantic import SemanticModel, TableModel, words
from datavox.types import Answer, Intent, QueryResult

RunSql = Callable[[str], QueryResult]
_ASKS = re.compile(
    r"^(?:who|what)\s+(?:is|was|are|were)\s+"
    r"|^(?:tell me|talk|what do you know|what can you tell me)\s+about\s+",
    re.IGNORECASE,
)
MAX_DATES, MAX_LINKS, MAX_KINDS, MAX_MEASURES = 2, 2, 2, 3


class Profiler:
    def __init__(self, catalog: Catalog, model: SemanticModel, graph: JoinGraph, run: RunSql, dialect: str):
        self.catalog = catalog
        self.model = model
        self.graph = graph
        self.run = run
        self.dialect = dialect

    def ask(self, question: str, frame: Frame) -> Answer | None:
        """The profile when the question only names one row ("who is X?"), else None."""
        if not _ASKS.match(question.strip()) or len(frame.values) != 1 or frame.years is not None:
            return None
        if frame.content or frame.order or frame.agg or frame.threshold or frame.ordinal is not None:
            return None  # "who is the youngest ...", "what is X's best finish": not a profile
        vm = next((m for m in frame.values[0] if m.column in self._tm(m.table).entity), None)
        if vm is None or vm.score < 0.9:
            return None
        query, labels = self._query(vm)
        sql = query.sql(dialect=self.dialect)
        result = self.run(sql)
        if not result.rows:
            return None
        row = result.rows[0]
        said = [
            f"{label} {say_number(v)}"
            for label, v in zip(labels, row[1:], strict=True)
            if v not in (None, "", 0) and str(v) not in str(row[0])
        ]
        text = (
            f"{row[0]}: {join_names(said)}."
            if said
            else f"{row[0]} is in the data, with nothing more to say."
        )
        return Answer(question=question, intent=Intent.STATISTICAL, answer=sentence(text), engine="offline",
                      sql=sql, columns=result.columns, rows=result.rows)  # fmt: skip

    def _tm(self, table: str) -> TableModel:
        return self.model.tables.get(table) or TableModel()

    def _query(self, vm: ValueMatch) -> tuple[exp.Select, list[str]]:
        table = self.catalog.tables[vm.table]
        tm = self._tm(vm.table)
        keys = {e.from_column: e for e in self.graph.out.get(vm.table, []) if e.forward}
        select = exp.select(exp.column(vm.column, table="t").as_("name")).from_(
            exp.Table(this=exp.to_identifier(vm.table), alias=exp.TableAlias(this=exp.to_identifier("t")))
        )
        labels: list[str] = []
        dates = links = kinds = measures = 0
        for col in table.columns:
            role = tm.columns[col.name].role if col.name in tm.columns else ""
            if col.name == vm.column or _identifying(col, role, tm, col.name in keys):
                continue
            label = self._label(tm, col.name)
            if col.name in keys and links < MAX_LINKS:
                edge = keys[col.name]
                entity = self._tm(edge.to_table).entity
                if not entity:
                    continue
                alias = f"l{links}"
                select = select.join(
                    exp.Table(
                        this=exp.to_identifier(edge.to_table),
                        alias=exp.TableAlias(this=exp.to_identifier(alias)),
                    ),
                    on=exp.EQ(
                        this=exp.column(edge.to_column, table=alias),
                        expression=exp.column(col.name, table="t"),
                    ),
                    join_type="left",
                )
                select = select.select(exp.column(entity[0], table=alias).as_(f"{col.name}_name"))
                labels.append(label)
                links += 1
            elif col.is_temporal and dates < MAX_DATES:
                select, dates = select.select(exp.column(col.name, table="t")), dates + 1
                labels.append(label)
            elif _category(col, table.rows) and role in ("dimension", "") and kinds < MAX_KINDS:
                select, kinds = select.select(exp.column(col.name, table="t")), kinds + 1
                labels.append(label)
            elif col.is_numeric and role == "measure" and measures < MAX_MEASURES:
                select, measures = select.select(exp.column(col.name, table="t")), measures + 1
                labels.append(label)
        select = select.where(
            exp.EQ(this=exp.column(vm.column, table="t"), expression=exp.Literal.string(vm.value))
        ).limit(1)
        return select, labels

    def _label(self, tm: TableModel, column: str) -> str:
        cm = tm.columns.get(column)
        said = (cm.synonyms[0] if cm is not None and cm.synonyms else words(identifier(column))).split()
        if said[-1:] == ["id"]:
            said = said[:-1]  # a key is said by the name it points at
        if len(said) > 1 and said[-1] in said[:-1]:
            said = said[:-1]  # "country of birth country"
        return " ".join(said) or column


def _category(col: Column, rows: int) -> bool:
    """A text column of few values shared by many rows (a type, a gender), not another name per row."""
    if not col.is_text or col.distinct is None:
        return False
    count = col.distinct_count if col.distinct_count is not None else len(col.distinct)
    return rows > 0 and count <= max(2, rows // 10)


def _identifying(col: Column, role: str, tm: TableModel, is_key: bool) -> bool:
    """Columns that only identify the row (ids, slugs, other spellings of its name), never said."""
    if is_key and not col.primary_key:
        return False  # a key to another named row is said by that row's name
    if col.primary_key or role in ("identifier", "name") or col.name.lower() == "id":
        return True
    if col.name in tm.entity:
        return True
    if col.name.lower().endswith("_id") and not is_key:
        return True
    return col.is_bool or (tm.columns.get(col.name, None) is not None and not tm.columns[col.name].exposed)
