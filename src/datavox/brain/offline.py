"""The offline engine: a semantic parser driven only by the catalog and the semantic model.

question → slots (`parse.py`) → follow-ups filled from the conversation's context (`followup.py`) → a reading
on the semantic model (`plan.py`) → one SELECT (`sqlbuild.py`) → the executor → a short spoken answer
(`answer.py`).
Nothing here knows a dataset: a new CSV works after import, at most with edits to its semantic model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from datavox.brain import intent as intent_module
from datavox.brain import refusal
from datavox.brain.answer import speak
from datavox.brain.askback import asked_back, unresolved_subject
from datavox.brain.chart import chart_hint
from datavox.brain.compound import Compound
from datavox.brain.didyoumean import Guess, asked, is_yes, sound_alike
from datavox.brain.followup import echo_question, named_pronoun, resolve
from datavox.brain.frame import Frame, YearFilter
from datavox.brain.hearing import Hearing, NameSpan, data_words
from datavox.brain.joins import JoinGraph
from datavox.brain.linking import ValueIndex
from datavox.brain.parse import parse
from datavox.brain.plan import Planner
from datavox.brain.profile import Profiler
from datavox.brain.question_text import split_clause
from datavox.brain.refusal import refusal_text
from datavox.brain.sqlbuild import Builder
from datavox.brain.text import lemma
from datavox.brain.turn_context import CONTEXT_KEY, find_context, next_context, sort_refs, year_of
from datavox.brain.unlinked import ModelWords, unlinked_names
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel, TableModel
from datavox.types import Answer, HistoryTurn, Intent, QueryResult

RunSql = Callable[[str], QueryResult]


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
        # Words the data writes ("Formula" in "Formula One Team") are no names it lacks, linked or not.
        self.model_words = ModelWords(self.hearing.words, self.planner.vocab, model)
        if not model.examples:  # questions in the data's words that this engine has answered
            self.examples = refusal.example_questions(self) or self.examples

    # -- the turn ------------------------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[HistoryTurn] = ()) -> Answer:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        earlier = asked(history) if is_yes(question) else None
        if earlier is not None:  # "yes" to "Did you mean the British Grand Prix?"
            guess = self._sound_alike(self.hearing.repair(earlier).text)
            question = guess.question if guess is not None else question
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

    def _sound_alike(self, question: str, unknown: Sequence[str] | None = None) -> Guess | None:
        """The data's name for a name-like word it does not know ("Brutus Grand Prix"), if one is clear;
        `unknown`: the question's unlinked names, when the caller has parsed it already."""
        if unknown is None:
            main, _ = split_clause(question)
            unknown = unlinked_names(main, parse(main, self.index, self.model.noise), self.model_words.knows)
        return sound_alike(question, unknown[0], self.index.keys, self.index.spelling) if unknown else None

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
            sort_refs(self, about, [named])
            profile.context = {CONTEXT_KEY: about}
            return profile
        ctx = find_context(history)
        main, clause = split_clause(question)
        if clause is not None:
            frame = parse(main, self.index, self.model.noise)
        own_content = bool(frame.content)
        # A name the data lacks ("the UK" where it writes GB): answering without it would answer a broader
        # question than the one asked, so say so instead.
        unknown = unlinked_names(main, frame, self.model_words.knows)
        if unknown:
            timings["plan_ms"] = _ms(t1)
            guess = self._sound_alike(question, unknown)
            if guess is not None:  # a name heard wrong: ask back rather than say it is unknown
                return asked_back(question, guess.ask(), "unclear name", timings)
            return self.not_understood(question, timings, frame, unknown)
        frame, notes = resolve(self, frame, ctx, history)
        who = unresolved_subject(frame, notes)
        if who is not None and not frame.values:
            # "How many races did he win?" with nobody talked about yet: ask back, don't count everyone's.
            return asked_back(question, f'Who do you mean by "{who}"?', "unclear reference", timings)
        # The words the answer may echo: this question, or for "and in 2023?" the earlier one, rewritten.
        following = any(n.startswith("following on from") for n in notes)
        if following and not own_content:
            echo = echo_question(ctx, frame) or ""
        else:
            echo = named_pronoun(question, notes)
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
        context = next_context(
            self, frame, reading.fact, reading.target.table, reading.target.column, shape, result
        )
        context["asked"] = echo or None
        event_time = reading.target.column is not None and reading.target.column in (
            self.planner.time_column(reading.fact),
            *self.model.tables.get(reading.fact, TableModel()).order_by,
        )
        if event_time and shape.kind == "when" and len(result.rows) == 1 and context.get("years") is None:
            year = year_of(result.rows[0][0])
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

    def not_understood(
        self,
        question: str,
        timings: dict[str, float],
        frame: Frame | None = None,
        unknown: Sequence[str] = (),
    ) -> Answer:
        t0 = time.perf_counter()
        text = refusal_text(self, frame, unknown)  # what was understood, and a question checked to work
        timings["suggest_ms"] = _ms(t0)
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer=text,
            engine=self.name,
            error="not understood",
            timings_ms=timings,
        )


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


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
