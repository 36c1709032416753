"""What the next turn inherits: the context an offline answer carries (its question, the values and years
it was about, who "he" and "they" will mean), found again in the history, or rebuilt from plain text turns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from datavox.brain.frame import Frame
from datavox.brain.linking import ValueMatch
from datavox.brain.parse import parse
from datavox.brain.shape import Shape
from datavox.types import HistoryTurn, QueryResult

if TYPE_CHECKING:  # the engine calls these; they only need its type
    from datavox.brain.offline import OfflineEngine

CONTEXT_KEY = "offline"


def find_context(history: Sequence[HistoryTurn]) -> dict[str, Any] | None:
    for turn in reversed(history):
        if turn.role != "assistant":
            continue
        ctx = turn.meta.get(CONTEXT_KEY) if isinstance(turn.meta, dict) else None
        if ctx is None and isinstance(turn.meta, dict):
            ctx = (turn.meta.get("context") or {}).get(CONTEXT_KEY)
        if isinstance(ctx, dict):
            return ctx
        return None  # the latest answer carries no context: rebuild it from text
    return None


def next_context(
    engine: OfflineEngine,
    frame: Frame,
    fact: str,
    target_table: str | None,
    target_column: str | None,
    shape: Shape,
    result: QueryResult,
) -> dict[str, Any]:
    values = [chosen(g) for g in frame.values]
    ctx: dict[str, Any] = {
        "question": standalone(frame),
        "values": [[m.table, m.column, m.value, m.text] for m in values],
        "years": [frame.years.lo, frame.years.hi, list(frame.years.values)] if frame.years else None,
        "person": [],
        "thing": [],
    }
    result_entity: list[str] | None = None
    if result.rows and shape.name_column in result.columns:
        cell = result.rows[0][result.columns.index(shape.name_column)]
        if target_table is not None:
            entity = engine.model.tables.get(target_table)
            name_col = entity.entity[0] if entity and entity.entity else None
            if name_col and isinstance(cell, str):
                result_entity = [target_table, name_col, cell]
        elif target_column is not None and isinstance(cell, str):
            result_entity = [fact, target_column, cell]
    candidates = ([result_entity] if result_entity else []) + ctx["values"]
    sort_refs(engine, ctx, candidates)
    return ctx


def sort_refs(engine: OfflineEngine, ctx: dict[str, Any], candidates: list[list[str]]) -> None:
    """The first person and the first other thing named: what "he" and "they" will mean next turn."""
    for t, c, v, *_ in candidates:
        if not engine.planner.person_tables:
            # No table of people: "he" can only mean a name the answer or question gave.
            for key in ("person", "thing"):
                if not ctx[key]:
                    ctx[key] = [[t, c, v]]
            continue
        key = "person" if t in engine.planner.person_tables else "thing"
        if not ctx[key]:
            ctx[key] = [[t, c, v]]


def context_from_text(engine: OfflineEngine, history: Sequence[HistoryTurn]) -> dict[str, Any]:
    """Context rebuilt from plain text turns (clients that keep no metadata)."""
    last_user = next((t.text for t in reversed(history) if t.role == "user"), "")
    last_bot = next((t.text for t in reversed(history) if t.role == "assistant"), "")
    if not last_user:
        return {}
    prev = parse(last_user, engine.index, engine.model.noise)
    ctx: dict[str, Any] = {
        "question": last_user,
        "values": [[m.table, m.column, m.value] for m in (chosen(g) for g in prev.values)],
        "years": [prev.years.lo, prev.years.hi, list(prev.years.values)] if prev.years else None,
        "person": [],
        "thing": [],
    }
    spoken = [chosen(g) for g in groups(engine.index.match(last_bot))]
    sort_refs(engine, ctx, [[m.table, m.column, m.value] for m in spoken] + ctx["values"])
    return ctx


def stored_value(v: list[Any]) -> ValueMatch:
    said = str(v[3]) if len(v) > 3 and v[3] else str(v[2])  # the words that named it, when stored
    return ValueMatch(str(v[0]), str(v[1]), str(v[2]), 1.0, (-1, -1), said)


def chosen(group: list[ValueMatch]) -> ValueMatch:
    return group[0]


def groups(matches: list[ValueMatch]) -> list[list[ValueMatch]]:
    groups: dict[tuple[int, int], list[ValueMatch]] = {}
    for m in matches:
        groups.setdefault(m.span, []).append(m)
    return [groups[s] for s in sorted(groups)]


def standalone(frame: Frame) -> str:
    """The question as later turns should read it (its own text; resolved values travel separately)."""
    return " ".join(t.text for t in frame.toks) or frame.question


def year_of(cell: object) -> int | None:
    if isinstance(cell, int) and 1800 <= cell <= 2100:
        return cell
    text = str(cell)
    if len(text) >= 4 and text[:4].isdigit() and 1800 <= int(text[:4]) <= 2100:
        return int(text[:4])
    return None
