"""Follow-ups: what a turn leaves out, filled from the conversation's context ("he", "that year", "and in
2023?", "what about Ferrari?"), with a note of each substitution for the resolved question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from datavox.brain import phrasing
from datavox.brain.frame import Frame, YearFilter
from datavox.brain.linking import ValueMatch
from datavox.brain.parse import parse
from datavox.brain.text import fold
from datavox.brain.turn_context import chosen, context_from_text, stored_value
from datavox.types import HistoryTurn

if TYPE_CHECKING:  # the engine calls these; they only need its type
    from datavox.brain.offline import OfflineEngine


def resolve(
    engine: OfflineEngine, frame: Frame, ctx: dict[str, Any] | None, history: Sequence[HistoryTurn]
) -> tuple[Frame, list[str]]:
    """Fill what the turn leaves out from the conversation: "he", "that year", "and in 2023?"."""
    if ctx is None:
        ctx = context_from_text(engine, history)
    if not ctx:
        return frame, []
    notes: list[str] = []
    base: Frame | None = None
    base_words = (
        parse(str(ctx["question"]), engine.index, engine.model.noise).content_lemmas
        if ctx.get("question")
        else set()
    )
    # "Who won the previous year?" after "Who won the 2008 drivers' championship?": the same question
    # again, its words a part of the earlier one's, about another time.
    same_again = frame.year_ref and bool(frame.content_lemmas) and frame.content_lemmas <= base_words
    if ctx.get("question") and (frame.ellipsis or elliptical(frame) or same_again):
        base = parse(str(ctx["question"]), engine.index, engine.model.noise)
        base = inherit_refs(base, ctx)
        shift = frame.year_shift
        if same_again:
            frame.content, frame.free = [], []  # keep the earlier question's words
        frame = merge(engine, base, frame)
        if shift and frame.years is not None:
            frame.years = shifted(frame.years, shift)
        notes.append(f"following on from: {ctx['question']}")
    person = [stored_value(v) for v in ctx.get("person", [])]
    thing = [stored_value(v) for v in ctx.get("thing", [])]
    present = {m.table for g in frame.values for m in g}
    has_person = any(m.table in engine.planner.person_tables for m in flat_values(frame))
    if not engine.planner.person_tables:
        has_person = (
            any((m.table, m.column) == (person[0].table, person[0].column) for m in flat_values(frame))
            if person
            else True
        )
    referred = False
    if frame.person_ref and person and not has_person:
        frame.values = [*frame.values, person[:1]]
        notes.append(f"{pronoun(frame)} = {person[0].value}")
        referred = True
    # "their" after a name in the same question ("did Ferrari win their first title") is that name.
    named_here = any(m.table not in engine.planner.person_tables for m in flat_values(frame))
    if frame.thing_ref and thing and thing[0].table not in present and not named_here:
        frame.values = [*frame.values, thing[:1]]
        notes.append(f"they = {thing[0].value}")
        referred = True
    if needs_event(frame) and ctx.get("values"):
        # "Who won the 2021 Brazilian Grand Prix?" → "Who was on pole?": a result of one event, named
        # nowhere in the turn, is about the event just talked about.
        frame.values = [[stored_value(v)] for v in ctx["values"]]
        if ctx.get("years") and frame.years is None:
            lo, hi, values = ctx["years"]
            frame.years = YearFilter(lo, hi, tuple(values))
        notes.append(f"same as before: {ctx.get('question', '')}")
        return frame, notes
    # "That year" — and a plain "he"/"they" about the same moment ("How many points did he score?").
    referred = referred and not all_time(frame)
    if (frame.year_ref or referred) and frame.years is None and ctx.get("years"):
        lo, hi, values = ctx["years"]
        frame.years = shifted(YearFilter(lo, hi, tuple(values)), frame.year_shift)
        notes.append(f"year = {frame.years.describe()}")
    return frame, notes


def needs_event(frame: Frame) -> bool:
    """A "who"/"where" question about one result ("who was on pole?", "who came second?") that names no
    thing, no time and no ranking of all time: alone it would list every row there is."""
    return (
        frame.qword in ("who", "where")
        and not frame.values
        and frame.years is None
        and not (frame.order or frame.first_last or frame.top_n or frame.agg or frame.per)
        and not (frame.person_ref or frame.thing_ref or frame.ellipsis)
        and not all_time(frame)
    )


def elliptical(frame: Frame) -> bool:
    """A turn with nothing to ask on its own: no question word and no words about the data."""
    return frame.qword in ("", "what") and not frame.content and bool(frame.values or frame.years)


def inherit_refs(base: Frame, ctx: dict[str, Any]) -> Frame:
    # The earlier question may itself have leant on its own context; its resolved values are stored.
    base.values = [[stored_value(v)] for v in ctx.get("values", [])] or base.values
    if ctx.get("years"):
        lo, hi, values = ctx["years"]
        base.years = YearFilter(lo, hi, tuple(values))
    return base


def merge(engine: OfflineEngine, base: Frame, new: Frame) -> Frame:
    new_tables = {m.table for g in new.values for m in g}
    base_tables = {m.table for g in base.values for m in g}
    replaced = set(new_tables)
    agents = agent_tables(engine)
    if new_tables and not (new_tables & base_tables) and {chosen(g).table for g in new.values} <= agents:
        # "How many races did Hamilton win?" → "What about Ferrari?": the one who achieves it changes
        # kind (a driver for a team); the new name replaces the old, it does not narrow it.
        replaced |= agents
    values = [g for g in base.values if not ({m.table for m in g} & replaced)] + new.values
    merged = replace(base, values=values, ellipsis=False)
    if new.years is not None:
        merged.years = new.years
    if new.ordinal is not None:
        merged.ordinal = new.ordinal
    if new.content:
        merged.content = new.content
        merged.free = new.free
        merged.toks = new.toks
        merged.projection = new.projection
        if new.qword:
            merged.qword, merged.after_qword = new.qword, new.after_qword
            merged.agg, merged.order, merged.first_last = new.agg, new.order, new.first_last
    merged.person_ref, merged.thing_ref, merged.year_ref = new.person_ref, new.thing_ref, new.year_ref
    merged.compare = new.compare or (base.compare and not new.values)
    return merged


def echo_question(ctx: dict[str, Any] | None, frame: Frame) -> str | None:
    """ "How many races did Charles Leclerc win in 2019?" then "What about Carlos Sainz?": the earlier
    question with the new name (or year) in place of the old, so the answer can echo its words."""
    asked = (ctx or {}).get("asked")
    if not isinstance(asked, str) or not ctx:
        return None
    old_values = [v for v in ctx.get("values", []) if len(v) >= 3]
    new_values = [chosen(g) for g in frame.values]
    old_keys = {(str(v[0]), str(v[2])) for v in old_values}
    new_keys = {(m.table, m.value) for m in new_values}
    dropped = [v for v in old_values if (str(v[0]), str(v[2])) not in new_keys]
    added = [m for m in new_values if (m.table, m.value) not in old_keys]
    if len(dropped) != len(added):
        return None  # a name added or removed: the earlier words no longer fit
    text: str | None = asked
    for old, new in zip(dropped, added, strict=True):
        said = str(old[3]) if len(old) > 3 and old[3] else str(old[2])
        text = phrasing.replace_said(text, said, new.value) if text else None
    years = ctx.get("years")
    if text and frame.years is not None and years:
        lo, hi, _ = years
        y = frame.years
        if (y.lo, y.hi) != (lo, hi):
            if lo is None or lo != hi or y.lo is None or y.lo != y.hi or y.values:
                return None
            text = phrasing.replace_year(text, int(lo), int(y.lo))
    elif frame.years is not None and not years:
        return None
    return text


def agent_tables(engine: OfflineEngine) -> set[str]:
    """Tables of those who achieve things: people, and the subjects of the model's measures."""
    subjects = {m.subject for m in engine.model.measures.values() if m.subject}
    return (set(engine.planner.person_tables) | subjects) & set(engine.catalog.tables)


def flat_values(frame: Frame) -> list[ValueMatch]:
    return [m for g in frame.values for m in g]


def shifted(years: YearFilter, shift: int) -> YearFilter:
    """ "The year before": the same years moved by `shift`."""
    if not shift or years.sub is not None:
        return years
    lo = None if years.lo is None else years.lo + shift
    hi = None if years.hi is None else years.hi + shift
    return YearFilter(lo, hi, tuple(v + shift for v in years.values))


def all_time(frame: Frame) -> bool:
    """ "career", "ever", "in total": the question is about all time, not the year talked about."""
    words = set(fold(frame.question).split())
    return bool(words & {"career", "ever", "total", "overall", "alltime", "all", "history", "lifetime"})


def pronoun(frame: Frame) -> str:
    for t in frame.toks:
        if t.text in ("he", "she", "him", "his", "her"):
            return t.text
    return "they"


_SUBJECT_PRONOUNS = re.compile(r"\b(he|she)\b", re.IGNORECASE)


def named_pronoun(question: str, notes: list[str]) -> str:
    """ "How many races has he won?" with he = Lewis Hamilton → "How many races has Lewis Hamilton won?", so
    a later "and Sebastian Vettel?" can echo it with the other name."""
    for note in notes:
        pronoun, sep, value = note.partition(" = ")
        if sep and pronoun in ("he", "she") and _SUBJECT_PRONOUNS.search(question):
            return _SUBJECT_PRONOUNS.sub(value, question, count=1)
    return question
