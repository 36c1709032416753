"""The offline engine: a semantic parser driven only by the catalog and the semantic model.

question → slots (`parse.py`) → follow-up resolution from the conversation's context → a reading on the
semantic model (`plan.py`) → one SELECT (`sqlbuild.py`) → the executor → a short spoken answer (`answer.py`).
Nothing here knows a dataset: a new CSV works after import, at most with edits to its semantic model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlglot import exp

from datavox.brain import intent as intent_module
from datavox.brain import phrasing, refusal
from datavox.brain.answer import speak
from datavox.brain.askback import asked_back, unresolved_subject
from datavox.brain.chart import chart_hint
from datavox.brain.compound import Compound
from datavox.brain.frame import Frame, YearFilter
from datavox.brain.hearing import Hearing, NameSpan, data_words
from datavox.brain.joins import JoinGraph
from datavox.brain.linking import ValueIndex, ValueMatch
from datavox.brain.parse import parse
from datavox.brain.plan import Planner
from datavox.brain.profile import Profiler
from datavox.brain.question_text import split_clause
from datavox.brain.refusal import refusal_text
from datavox.brain.shape import Shape
from datavox.brain.sqlbuild import Builder
from datavox.brain.text import fold, lemma
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel, TableModel
from datavox.types import Answer, HistoryTurn, Intent, QueryResult

RunSql = Callable[[str], QueryResult]
CONTEXT_KEY = "offline"


class NotUnderstood(Exception):
    """The parser found no reading of the question on this data."""


class OfflineEngine:
    name = "offline"

    def __init__(
        self,
        catalog: Catalog,
        model: SemanticModel,
        run: RunSql,
        *,
        dialect: str,
        index: ValueIndex | None = None,
    ) -> None:
        self.catalog = catalog
        self.model = model
        self.run = run
        self.dialect = dialect
        self.index = index or ValueIndex(catalog, model)
        self.graph = JoinGraph(catalog, model)
        self.planner = Planner(catalog, model, self.graph)
        self.examples = model.examples or default_examples(catalog, model)
        self.hearing = Hearing(data_words(self.index), self._name_spans)
        self.compound = Compound(self.ask_one, run, dialect)
        self.profiler = Profiler(catalog, model, self.graph, run, dialect)
        if not model.examples:  # questions in the data's words that this engine has answered
            self.examples = refusal.example_questions(self) or self.examples

    # -- the turn ------------------------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[HistoryTurn] = ()) -> Answer:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        heard = self.hearing.repair(question)
        if heard.clarify is not None:
            timings["parse_ms"] = _ms(t0)
            return asked_back(question, heard.clarify, "unclear transcript", timings)
        answer = self.compound.ask(heard.text, history) or self._ask(heard.text, history, timings, t0)
        answer.question = question
        if heard.changes:
            said = answer.resolved_question or heard.text
            answer.resolved_question = f"{said} ({heard.note})"
        return answer

    def ask_one(self, question: str, history: Sequence[HistoryTurn] = ()) -> Answer:
        """One simple question, as heard (no repair, no compound shapes): the parts of a compound one."""
        return self._ask(question, history, {}, time.perf_counter())

    def _name_spans(self, folded: str) -> list[NameSpan]:
        # A single word of the schema ("driver") is the table's word, not a person called "Driver": it gets
        # no capital from the data (the parser then links it only where the question capitalises it).
        return [
            (m.span, m.said or m.value)
            for m in self.index.match(folded)
            if m.score >= 0.9 and not (" " not in m.text and lemma(m.text) in self.index.vocabulary)
        ]

    def _ask(
        self, question: str, history: Sequence[HistoryTurn], timings: dict[str, float], t0: float
    ) -> Answer:
        frame = parse(question, self.index, self.model.noise)
        timings["parse_ms"] = _ms(t0)
        # Only a clear name counts as data here: "great" is not a mention of "Great Britain".
        names_data = bool(frame.years) or any(m.score >= 0.95 for g in frame.values for m in g)
        if intent_module.classify(question, names_data=names_data) is Intent.CONVERSATIONAL:
            text = intent_module.reply(question, self.examples, self.model.description)
            return Answer(question=question, intent=Intent.CONVERSATIONAL, answer=text, engine=self.name,
                          timings_ms=timings)  # fmt: skip
        t1 = time.perf_counter()
        profile = self.profiler.ask(question, frame)
        if profile is not None:
            profile.timings_ms = {**timings, "plan_ms": _ms(t1)}
            vm = frame.values[0][0]
            named = [vm.table, vm.column, vm.value]
            about: dict[str, Any] = {"question": question, "values": [[*named, vm.text]], "years": None,
                                     "person": [], "thing": [], "asked": question}  # fmt: skip
            self._sort_refs(about, [named])
            profile.context = {CONTEXT_KEY: about}
            return profile
        ctx = find_context(history)
        main, clause = split_clause(question)
        if clause is not None:
            frame = parse(main, self.index, self.model.noise)
        own_content = bool(frame.content)
        frame, notes = self.resolve(frame, ctx, history)
        who = unresolved_subject(frame, notes)
        if who is not None and not frame.values:
            # "How many races did he win?" with nobody talked about yet: ask back, don't count everyone's.
            return asked_back(question, f'Who do you mean by "{who}"?', "unclear reference", timings)
        # The words the answer may echo: this question, or for "and in 2023?" the earlier one, rewritten.
        following = any(n.startswith("following on from") for n in notes)
        if following and not own_content:
            echo = self._echo_question(ctx, frame) or ""
        else:
            echo = _named_pronoun(question, notes)
        if clause is not None:
            self.time_clause(frame, clause)
        reading = self.planner.read(frame)
        if reading is None:
            timings["plan_ms"] = _ms(t1)
            return self.not_understood(question, timings, frame)
        try:
            sql, shape = Builder(self.planner, self.dialect).build(frame, reading)
        except (
            Exception
        ):  # a reading the builder cannot write: said plainly, like any question not understood
            timings["plan_ms"] = _ms(t1)
            return self.not_understood(question, timings, frame)
        timings["plan_ms"] = _ms(t1)
        t2 = time.perf_counter()
        try:
            result = self.run(sql)
        except Exception as exc:  # guard or database refusal: said plainly, never guessed around
            timings["sql_ms"] = _ms(t2)
            reason = getattr(exc, "reason", None) or str(exc)
            return Answer(question=question, intent=Intent.STATISTICAL, engine=self.name, sql=sql,
                          answer="I couldn't run the query for that question.", error=str(reason),
                          timings_ms=timings)  # fmt: skip
        timings["sql_ms"] = _ms(t2)
        text = speak(shape, result.columns, result.rows, result.truncated, question=echo)
        context = self.next_context(
            frame, reading.fact, reading.target.table, reading.target.column, shape, result
        )
        context["asked"] = echo or None
        event_time = reading.target.column is not None and reading.target.column in (
            self.planner.time_column(reading.fact),
            *self.model.tables.get(reading.fact, TableModel()).order_by,
        )
        if event_time and shape.kind == "when" and len(result.rows) == 1 and context.get("years") is None:
            year = _year_of(result.rows[0][0])
            if year is not None:  # "When did he win his first title?" → "which team was he with then?"
                context["years"] = [year, year, []]
        resolved = question if not notes else f"{question} ({'; '.join(notes)})"
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer=text,
            engine=self.name,
            sql=sql,
            columns=result.columns,
            rows=result.rows,
            truncated=result.truncated,
            chart=chart_hint(result.columns, result.rows),
            timings_ms=timings,
            resolved_question=resolved if notes else None,
            context={CONTEXT_KEY: context},
        )

    def time_clause(self, frame: Frame, clause: str) -> None:
        """ "... when he won his first title": the clause's years, as a sub-query, filter the question."""
        sub = parse(clause, self.index, self.model.noise)
        if not sub.values or sub.person_ref or sub.thing_ref:
            sub.values = [*sub.values, *frame.values]
        sub.qword = "when"
        reading = self.planner.read(sub)
        if reading is None or reading.target.column is None:
            return
        builder = Builder(self.planner, self.dialect)
        try:
            builder.build(sub, reading)
        except Exception:  # a clause the builder cannot write: the question is read without it
            return
        query = builder.expression()
        if len(query.expressions) != 1:
            return  # the clause must give one column of times
        col = self.catalog.tables[reading.fact].column(reading.target.column)
        if col is not None and col.is_temporal:
            # A date ("when she won") compares with years as its year.
            only = query.expressions[0]
            inner = only.this if isinstance(only, exp.Alias) else only
            query.set("expressions", [exp.Year(this=inner.copy()).as_("year")])
            query.set("order", None)
            query.set("distinct", None)
            if sub.first_last:
                agg = exp.Min if sub.first_last == "first" else exp.Max
                query.set("expressions", [agg(this=exp.Year(this=inner.copy())).as_("year")])
                query.set("limit", None)
        said = "when " + " ".join(t.text for t in sub.toks)
        frame.years = YearFilter(None, None, sub=query, said=said)

    def not_understood(self, question: str, timings: dict[str, float], frame: Frame | None = None) -> Answer:
        t0 = time.perf_counter()
        text = refusal_text(self, frame)  # what was understood, and a question checked to work
        timings["suggest_ms"] = _ms(t0)
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer=text,
            engine=self.name,
            error="not understood",
            timings_ms=timings,
        )

    # -- follow-ups ----------------------------------------------------------------------------------------
    def resolve(
        self, frame: Frame, ctx: dict[str, Any] | None, history: Sequence[HistoryTurn]
    ) -> tuple[Frame, list[str]]:
        """Fill what the turn leaves out from the conversation: "he", "that year", "and in 2023?"."""
        if ctx is None:
            ctx = self.context_from_text(history)
        if not ctx:
            return frame, []
        notes: list[str] = []
        base: Frame | None = None
        base_words = (
            parse(str(ctx["question"]), self.index, self.model.noise).content_lemmas
            if ctx.get("question")
            else set()
        )
        # "Who won the previous year?" after "Who won the 2008 drivers' championship?": the same question
        # again, its words a part of the earlier one's, about another time.
        same_again = frame.year_ref and bool(frame.content_lemmas) and frame.content_lemmas <= base_words
        if ctx.get("question") and (frame.ellipsis or self._elliptical(frame) or same_again):
            base = parse(str(ctx["question"]), self.index, self.model.noise)
            base = self._inherit_refs(base, ctx)
            shift = frame.year_shift
            if same_again:
                frame.content, frame.free = [], []  # keep the earlier question's words
            frame = self._merge(base, frame)
            if shift and frame.years is not None:
                frame.years = _shifted(frame.years, shift)
            notes.append(f"following on from: {ctx['question']}")
        person = [_vm(v) for v in ctx.get("person", [])]
        thing = [_vm(v) for v in ctx.get("thing", [])]
        present = {m.table for g in frame.values for m in g}
        has_person = any(m.table in self.planner.person_tables for m in _flat(frame))
        if not self.planner.person_tables:
            has_person = (
                any((m.table, m.column) == (person[0].table, person[0].column) for m in _flat(frame))
                if person
                else True
            )
        referred = False
        if frame.person_ref and person and not has_person:
            frame.values = [*frame.values, person[:1]]
            notes.append(f"{_pronoun(frame)} = {person[0].value}")
            referred = True
        # "their" after a name in the same question ("did Ferrari win their first title") is that name.
        named_here = any(m.table not in self.planner.person_tables for m in _flat(frame))
        if frame.thing_ref and thing and thing[0].table not in present and not named_here:
            frame.values = [*frame.values, thing[:1]]
            notes.append(f"they = {thing[0].value}")
            referred = True
        if self._needs_event(frame) and ctx.get("values"):
            # "Who won the 2021 Brazilian Grand Prix?" → "Who was on pole?": a result of one event, named
            # nowhere in the turn, is about the event just talked about.
            frame.values = [[_vm(v)] for v in ctx["values"]]
            if ctx.get("years") and frame.years is None:
                lo, hi, values = ctx["years"]
                frame.years = YearFilter(lo, hi, tuple(values))
            notes.append(f"same as before: {ctx.get('question', '')}")
            return frame, notes
        # "That year" — and a plain "he"/"they" about the same moment ("How many points did he score?").
        referred = referred and not _all_time(frame)
        if (frame.year_ref or referred) and frame.years is None and ctx.get("years"):
            lo, hi, values = ctx["years"]
            frame.years = _shifted(YearFilter(lo, hi, tuple(values)), frame.year_shift)
            notes.append(f"year = {frame.years.describe()}")
        return frame, notes

    def _needs_event(self, frame: Frame) -> bool:
        """A "who"/"where" question about one result ("who was on pole?", "who came second?") that names no
        thing, no time and no ranking of all time: alone it would list every row there is."""
        return (
            frame.qword in ("who", "where")
            and not frame.values
            and frame.years is None
            and not (frame.order or frame.first_last or frame.top_n or frame.agg or frame.per)
            and not (frame.person_ref or frame.thing_ref or frame.ellipsis)
            and not _all_time(frame)
        )

    def _elliptical(self, frame: Frame) -> bool:
        """A turn with nothing to ask on its own: no question word and no words about the data."""
        return frame.qword in ("", "what") and not frame.content and bool(frame.values or frame.years)

    def _inherit_refs(self, base: Frame, ctx: dict[str, Any]) -> Frame:
        # The earlier question may itself have leant on its own context; its resolved values are stored.
        base.values = [[_vm(v)] for v in ctx.get("values", [])] or base.values
        if ctx.get("years"):
            lo, hi, values = ctx["years"]
            base.years = YearFilter(lo, hi, tuple(values))
        return base

    def _merge(self, base: Frame, new: Frame) -> Frame:
        new_tables = {m.table for g in new.values for m in g}
        base_tables = {m.table for g in base.values for m in g}
        replaced = set(new_tables)
        agents = self._agent_tables()
        if new_tables and not (new_tables & base_tables) and {_chosen(g).table for g in new.values} <= agents:
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

    def _echo_question(self, ctx: dict[str, Any] | None, frame: Frame) -> str | None:
        """ "How many races did Charles Leclerc win in 2019?" then "What about Carlos Sainz?": the earlier
        question with the new name (or year) in place of the old, so the answer can echo its words."""
        asked = (ctx or {}).get("asked")
        if not isinstance(asked, str) or not ctx:
            return None
        old_values = [v for v in ctx.get("values", []) if len(v) >= 3]
        new_values = [_chosen(g) for g in frame.values]
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

    def _agent_tables(self) -> set[str]:
        """Tables of those who achieve things: people, and the subjects of the model's measures."""
        subjects = {m.subject for m in self.model.measures.values() if m.subject}
        return (set(self.planner.person_tables) | subjects) & set(self.catalog.tables)

    def next_context(
        self,
        frame: Frame,
        fact: str,
        target_table: str | None,
        target_column: str | None,
        shape: Shape,
        result: QueryResult,
    ) -> dict[str, Any]:
        values = [_chosen(g) for g in frame.values]
        ctx: dict[str, Any] = {
            "question": _standalone(frame),
            "values": [[m.table, m.column, m.value, m.text] for m in values],
            "years": [frame.years.lo, frame.years.hi, list(frame.years.values)] if frame.years else None,
            "person": [],
            "thing": [],
        }
        result_entity: list[str] | None = None
        if result.rows and shape.name_column in result.columns:
            cell = result.rows[0][result.columns.index(shape.name_column)]
            if target_table is not None:
                entity = self.model.tables.get(target_table)
                name_col = entity.entity[0] if entity and entity.entity else None
                if name_col and isinstance(cell, str):
                    result_entity = [target_table, name_col, cell]
            elif target_column is not None and isinstance(cell, str):
                result_entity = [fact, target_column, cell]
        candidates = ([result_entity] if result_entity else []) + ctx["values"]
        self._sort_refs(ctx, candidates)
        return ctx

    def _sort_refs(self, ctx: dict[str, Any], candidates: list[list[str]]) -> None:
        """The first person and the first other thing named: what "he" and "they" will mean next turn."""
        for t, c, v, *_ in candidates:
            if not self.planner.person_tables:
                # No table of people: "he" can only mean a name the answer or question gave.
                for key in ("person", "thing"):
                    if not ctx[key]:
                        ctx[key] = [[t, c, v]]
                continue
            key = "person" if t in self.planner.person_tables else "thing"
            if not ctx[key]:
                ctx[key] = [[t, c, v]]

    def context_from_text(self, history: Sequence[HistoryTurn]) -> dict[str, Any]:
        """Context rebuilt from plain text turns (clients that keep no metadata)."""
        last_user = next((t.text for t in reversed(history) if t.role == "user"), "")
        last_bot = next((t.text for t in reversed(history) if t.role == "assistant"), "")
        if not last_user:
            return {}
        prev = parse(last_user, self.index, self.model.noise)
        ctx: dict[str, Any] = {
            "question": last_user,
            "values": [[m.table, m.column, m.value] for m in (_chosen(g) for g in prev.values)],
            "years": [prev.years.lo, prev.years.hi, list(prev.years.values)] if prev.years else None,
            "person": [],
            "thing": [],
        }
        spoken = [_chosen(g) for g in _groups(self.index.match(last_bot))]
        self._sort_refs(ctx, [[m.table, m.column, m.value] for m in spoken] + ctx["values"])
        return ctx


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


def default_examples(catalog: Catalog, model: SemanticModel) -> list[str]:
    """Example questions from the data when the model lists none: counts, and an entity's totals."""
    out: list[str] = []
    for tname, tm in model.tables.items():
        table = catalog.tables.get(tname)
        if table is None or not tm.exposed or not tm.entity:
            continue
        col = table.column(tm.entity[0])
        noun = refusal.noun(tm, tname)
        out.append(f"How many {noun} are there?")
        if col is not None and col.distinct:
            out.append(f"Tell me about {col.distinct[0]}.")
        if len(out) >= 4:
            break
    return out or ["How many rows are there?"]


def _vm(v: list[Any]) -> ValueMatch:
    said = str(v[3]) if len(v) > 3 and v[3] else str(v[2])  # the words that named it, when stored
    return ValueMatch(str(v[0]), str(v[1]), str(v[2]), 1.0, (-1, -1), said)


def _flat(frame: Frame) -> list[ValueMatch]:
    return [m for g in frame.values for m in g]


def _chosen(group: list[ValueMatch]) -> ValueMatch:
    return group[0]


def _groups(matches: list[ValueMatch]) -> list[list[ValueMatch]]:
    groups: dict[tuple[int, int], list[ValueMatch]] = {}
    for m in matches:
        groups.setdefault(m.span, []).append(m)
    return [groups[s] for s in sorted(groups)]


def _shifted(years: YearFilter, shift: int) -> YearFilter:
    """ "The year before": the same years moved by `shift`."""
    if not shift or years.sub is not None:
        return years
    lo = None if years.lo is None else years.lo + shift
    hi = None if years.hi is None else years.hi + shift
    return YearFilter(lo, hi, tuple(v + shift for v in years.values))


def _all_time(frame: Frame) -> bool:
    """ "career", "ever", "in total": the question is about all time, not the year talked about."""
    words = set(fold(frame.question).split())
    return bool(words & {"career", "ever", "total", "overall", "alltime", "all", "history", "lifetime"})


def _pronoun(frame: Frame) -> str:
    for t in frame.toks:
        if t.text in ("he", "she", "him", "his", "her"):
            return t.text
    return "they"


def _standalone(frame: Frame) -> str:
    """The question as later turns should read it (its own text; resolved values travel separately)."""
    return " ".join(t.text for t in frame.toks) or frame.question


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


_SUBJECT_PRONOUNS = re.compile(r"\b(he|she)\b", re.IGNORECASE)


def _named_pronoun(question: str, notes: list[str]) -> str:
    """ "How many races has he won?" with he = Lewis Hamilton → "How many races has Lewis Hamilton won?", so
    a later "and Sebastian Vettel?" can echo it with the other name."""
    for note in notes:
        pronoun, sep, value = note.partition(" = ")
        if sep and pronoun in ("he", "she") and _SUBJECT_PRONOUNS.search(question):
            return _SUBJECT_PRONOUNS.sub(value, question, count=1)
    return question


def _year_of(cell: object) -> int | None:
    if isinstance(cell, int) and 1800 <= cell <= 2100:
        return cell
    text = str(cell)
    if len(text) >= 4 and text[:4].isdigit() and 1800 <= int(text[:4]) <= 2100:
        return int(text[:4])
    return None
