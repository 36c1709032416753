"""The LLM engine: one model call per turn for intent, follow-up rewrite, SQL and the answer's wording.

The seed system makes three calls per turn (classify, rewrite, SQL). Here one structured output carries all
of it (`prompts.TURN_SCHEMA`): `{intent, standalone_question, sql, answer_template, empty_answer, chart}`.
The prompt holds the dialect, only the linked part of the semantic model (`schema_link`), the database
values the question names (`linking.ValueIndex`), the closest verified examples (`examples`) and the
conversation. The executor checks (guard) and runs the SQL; on a guard or database error the error goes back
to the model, up to three attempts in all. The spoken answer is filled in from the rows with the model's
template, so a turn stays one round trip; a second, small call phrases the answer only when the template
does not fit the rows.

`llm.LlmUnavailable` is not caught here: the brain falls back to the offline engine and says why.
Per-turn cost (model calls, HTTP round trips, prompt size) is in `Answer.context["llm"]`; stage times in
`Answer.timings_ms` (`link_ms`, `llm_ms`, `sql_ms`, `answer_ms`, `total_ms`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from datavox import cancel, prompts
from datavox.brain.examples import ExampleSet, examples_for, render_examples
from datavox.brain.llm_prompt import (
    LinkedValue,
    SqlRunner,
    ValueLinker,
    render_history,
    render_values,
    suggestions,
)
from datavox.brain.schema_link import LinkedSchema, SchemaLinker, render_schema
from datavox.brain.template_answer import PLACEHOLDER, has_data, plain_answer, render_template
from datavox.config import Settings
from datavox.data.guard import GuardError
from datavox.data.query_errors import QueryCancelled, QueryError
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel
from datavox.llm import Completion, LlmClient, LlmUnavailable
from datavox.llm_json import LlmBadOutput
from datavox.types import Answer, ChartKind, HistoryTurn, Intent, QueryResult

log = logging.getLogger(__name__)

ENGINE_NAME = "llm"
MAX_ATTEMPTS = 3  # as the seed: the first try and two corrections
MAX_VALUE_MATCHES = 8


class LlmEngine:
    """Questions to checked SQL and short spoken answers with a language model. See the module doc."""

    name = ENGINE_NAME

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        semantic: SemanticModel,
        executor: SqlRunner,
        index: ValueLinker | None,
        *,
        client: LlmClient | None = None,
        examples: ExampleSet | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.semantic = semantic
        self.executor = executor
        self.index = index
        self.client = client or LlmClient(settings)
        self.examples = examples if examples is not None else examples_for(settings, catalog)
        self.linker = SchemaLinker(catalog, semantic)
        self.max_attempts = max_attempts
        self.dialect = executor.dialect
        self.system_prompt = prompts.system_prompt(self.dialect)

    # -- the turn --------------------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[HistoryTurn] = ()) -> Answer:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        cost = _Cost()

        t = time.perf_counter()
        matches = self._matches(question)
        previous = [turn.text for turn in history if turn.role == "user"]
        linked = self.linker.link(
            question, value_tables=[(m.table, m.column) for m in matches], history=previous
        )
        user_message = prompts.turn_user_message(
            question=question,
            dialect=self.dialect,
            schema=render_schema(linked, self.catalog, self.semantic),
            values=render_values(matches, self.catalog, self.executor, self.dialect),
            examples=render_examples(self.examples.select(question)),
            history=render_history(history),
            suggestions=suggestions(linked, self.semantic),
        )
        timings["link_ms"] = _ms(t)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": user_message},
        ]
        cost.prompt_chars = len(self.system_prompt) + len(user_message)

        sql: str | None = None
        error = "the model gave no usable answer"
        turn: dict[str, Any] = {}
        for attempt in range(1, self.max_attempts + 1):
            cancel.check()  # cancelled (barge-in): no further attempt
            cost.attempts = attempt
            t = time.perf_counter()
            try:
                completion = self._call(messages, cost)
            except LlmBadOutput as bad:
                timings["llm_ms"] = timings.get("llm_ms", 0.0) + _ms(t)
                error = "the reply was not the JSON object asked for"
                messages += [
                    {"role": "assistant", "content": bad.content[:2000]},
                    {"role": "user", "content": "Reply with the JSON object only, with all six fields."},
                ]
                continue
            timings["llm_ms"] = timings.get("llm_ms", 0.0) + _ms(t)
            turn = completion.data or {}
            intent = _intent(turn.get("intent"))
            if intent is Intent.CONVERSATIONAL:
                return self._small_talk(question, turn, timings, cost, started, linked)
            sql = _text(turn.get("sql"))
            if not sql:
                error = "a STATISTICAL turn needs an sql statement"
                messages += [
                    {"role": "assistant", "content": completion.content},
                    {"role": "user", "content": prompts.retry_message(error, self.dialect)},
                ]
                continue
            t = time.perf_counter()
            try:
                result = self.executor.run(sql, source=ENGINE_NAME)
            except QueryCancelled:
                raise
            except GuardError as exc:
                error = f"the guard refused it: {exc.reason}"
            except QueryError as exc:
                error = f"the database said: {exc}"
            else:
                timings["sql_ms"] = timings.get("sql_ms", 0.0) + _ms(t)
                return self._answer(question, turn, result, timings, cost, started, linked)
            timings["sql_ms"] = timings.get("sql_ms", 0.0) + _ms(t)
            log.info("LLM SQL attempt %d failed: %s", attempt, error)
            messages += [
                {"role": "assistant", "content": completion.content},
                {"role": "user", "content": prompts.retry_message(error, self.dialect)},
            ]
        timings["total_ms"] = _ms(started)
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer="Sorry, I couldn't work out a query for that. Could you ask it another way?",
            engine=ENGINE_NAME,
            sql=sql,
            timings_ms=timings,
            error=f"no working SQL after {cost.attempts} attempts: {error}",
            resolved_question=_resolved(question, turn),
            context=self._context(turn, sql, cost, linked),
        )

    # -- steps -----------------------------------------------------------------------------------------
    def _call(self, messages: list[dict[str, Any]], cost: _Cost) -> Completion:
        try:
            completion = self.client.chat(
                messages, schema=prompts.TURN_SCHEMA, schema_name=prompts.TURN_SCHEMA_NAME
            )
        except LlmUnavailable as exc:
            cost.round_trips += exc.round_trips
            exc.round_trips = cost.round_trips  # the turn's total, for the brain's fallback metadata
            raise
        cost.add(completion)
        return completion

    def _matches(self, question: str) -> list[LinkedValue]:
        if self.index is None:
            return []
        try:
            found = list(self.index.match(question))
        except Exception:  # value linking helps; a failure in it must not lose the turn
            log.exception("value linking failed")
            return []
        return found[:MAX_VALUE_MATCHES]

    def _small_talk(
        self,
        question: str,
        turn: dict[str, Any],
        timings: dict[str, float],
        cost: _Cost,
        started: float,
        linked: LinkedSchema,
    ) -> Answer:
        reply = PLACEHOLDER.sub("", _text(turn.get("answer_template")) or "").strip()
        timings["total_ms"] = _ms(started)
        return Answer(
            question=question,
            intent=Intent.CONVERSATIONAL,
            answer=" ".join(reply.split()) or "Hello! Ask me anything about the data.",
            engine=ENGINE_NAME,
            timings_ms=timings,
            context=self._context(turn, None, cost, linked),
        )

    def _answer(
        self,
        question: str,
        turn: dict[str, Any],
        result: QueryResult,
        timings: dict[str, float],
        cost: _Cost,
        started: float,
        linked: LinkedSchema,
    ) -> Answer:
        t = time.perf_counter()
        resolved = _resolved(question, turn) or question
        if not has_data(result.rows):
            text = _text(turn.get("empty_answer")) or "I couldn't find that in the data."
        else:
            text = (
                render_template(_text(turn.get("answer_template")) or "", result.columns, result.rows) or ""
            )
            if not text:
                text = self._phrase(resolved, result, cost) or plain_answer(result.columns, result.rows)
        timings["answer_ms"] = _ms(t)
        timings["total_ms"] = _ms(started)
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer=text,
            engine=ENGINE_NAME,
            sql=result.sql,
            columns=result.columns,
            rows=result.rows,
            truncated=result.truncated,
            chart=_chart(turn.get("chart"), result),
            timings_ms=timings,
            resolved_question=_resolved(question, turn),
            context=self._context(turn, result.sql, cost, linked),
        )

    def _phrase(self, question: str, result: QueryResult, cost: _Cost) -> str:
        """The second, optional round trip: the model words the answer from the rows."""
        messages = [
            {"role": "system", "content": prompts.PHRASE_SYSTEM},
            {
                "role": "user",
                "content": prompts.phrase_user_message(
                    question, result.columns, result.rows, result.truncated
                ),
            },
        ]
        try:
            completion = self.client.chat(messages, max_tokens=120)
        except LlmUnavailable as exc:
            cost.round_trips += exc.round_trips
            return ""
        cost.add(completion)
        return " ".join(completion.content.split())

    def _context(
        self, turn: dict[str, Any], sql: str | None, cost: _Cost, linked: LinkedSchema
    ) -> dict[str, Any]:
        return {
            "sql": sql,
            "standalone_question": _text(turn.get("standalone_question")),
            "llm": {
                "calls": cost.calls,
                "round_trips": cost.round_trips,
                "attempts": cost.attempts,
                "prompt_chars": cost.prompt_chars,
                "prompt_tokens": cost.prompt_tokens,
                "completion_tokens": cost.completion_tokens,
                "linked_tables": linked.table_names,
                "model": self.client.model,
                "provider": self.client.provider,
            },
        }


class _Cost:
    """What one turn cost: model calls, HTTP round trips (retries included), tokens, prompt size."""

    def __init__(self) -> None:
        self.calls = 0
        self.round_trips = 0
        self.attempts = 0
        self.prompt_chars = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def add(self, completion: Completion) -> None:
        self.calls += 1
        self.round_trips += completion.round_trips
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens


def _intent(value: Any) -> Intent:
    return Intent.CONVERSATIONAL if str(value).upper() == "CONVERSATIONAL" else Intent.STATISTICAL


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _resolved(question: str, turn: dict[str, Any]) -> str | None:
    standalone = _text(turn.get("standalone_question"))
    if not standalone or _norm(standalone) == _norm(question):
        return None
    return standalone


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _chart(value: Any, result: QueryResult) -> ChartKind | None:
    if value not in ("bar", "line") or len(result.rows) < 2:
        return None
    numeric = any(isinstance(v, int | float) and not isinstance(v, bool) for v in result.rows[0])
    return ("bar" if value == "bar" else "line") if numeric else None


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def sql_tables(sql: str, dialect: str) -> set[str]:
    """The tables a statement reads (for tests and diagnostics)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return set()
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table)} - ctes
