"""What the LLM turn's prompt shows besides the linked schema: the database values the question names (with
their rows' keys), the conversation so far (with the SQL each answer ran), and example questions when the
turn matched nothing; and the small protocols the engine reads its value index and executor through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlglot import exp

from datavox.brain.schema_link import LinkedSchema
from datavox.data.guard import GuardError
from datavox.data.query_errors import QueryError
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel
from datavox.types import HistoryTurn, QueryResult

HISTORY_TURNS = 6  # earlier turns shown to the model


class LinkedValue(Protocol):
    """What the engine reads of a `linking.ValueMatch`."""

    @property
    def table(self) -> str: ...
    @property
    def column(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def text(self) -> str: ...


class ValueLinker(Protocol):
    def match(self, text: str) -> Sequence[LinkedValue]: ...


class SqlRunner(Protocol):
    @property
    def dialect(self) -> str: ...

    def run(self, sql: str, *, source: str = "api") -> QueryResult: ...


def render_history(history: Sequence[HistoryTurn], turns: int = HISTORY_TURNS) -> str:
    """The last turns as plain lines; an assistant turn shows the SQL it ran, so follow-ups can reuse it."""
    lines: list[str] = []
    for turn in list(history)[-turns:]:
        who = "User" if turn.role == "user" else "Assistant"
        lines.append(f"{who}: {' '.join(turn.text.split())[:400]}")
        # meta is the earlier answer's context (eval, voice), or holds it under "context" (some clients).
        meta = turn.meta if isinstance(turn.meta, dict) else {}
        nested = meta.get("context")
        sql = meta.get("sql") or (nested.get("sql") if isinstance(nested, dict) else None)
        if turn.role != "assistant":
            sql = None
        if isinstance(sql, str) and sql:
            lines.append(f"  (SQL it ran: {' '.join(sql.split())[:600]})")
    return "\n".join(lines)


def render_values(matches: Sequence[LinkedValue], catalog: Catalog, executor: SqlRunner, dialect: str) -> str:
    """The database values the question names, each with its row's key where it has one."""
    lines = []
    for m in matches:
        line = f"- {m.text!r} in the question is {m.table}.{m.column} = {m.value!r}"
        key = key_of(m, catalog, executor, dialect)
        if key:
            line += f" ({key})"
        lines.append(line)
    return "\n".join(lines)


def key_of(match: LinkedValue, catalog: Catalog, executor: SqlRunner, dialect: str) -> str:
    """The row's key for a matched name (`drivers.id = 'lewis-hamilton'`): fact tables join on keys."""
    table = catalog.tables.get(match.table)
    if table is None:
        return ""
    keys = table.primary_key if len(table.primary_key) == 1 else [c for c in table.column_names if c == "id"]
    if not keys or keys[0] == match.column:
        return ""
    query = (
        exp.select(exp.column(keys[0]))
        .from_(exp.to_table(match.table))
        .where(exp.column(match.column).eq(exp.Literal.string(match.value)))
        .limit(3)
    )
    try:
        result = executor.run(query.sql(dialect=dialect), source="linking")
    except (GuardError, QueryError):
        return ""
    values = [row[0] for row in result.rows if row and row[0] is not None]
    if not values:
        return ""
    shown = " or ".join(repr(v) for v in values)
    return f"{match.table}.{keys[0]} = {shown}"


def suggestions(linked: LinkedSchema, semantic: SemanticModel) -> str:
    """The semantic model's example questions, when the turn matched nothing in the schema."""
    if any(t.score > 0 for t in linked.tables) or not semantic.examples:
        return ""
    return "\n".join(f"- {q}" for q in semantic.examples[:5])
