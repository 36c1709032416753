"""Questions made of simpler ones: the offline engine answers the parts and combines their SQL on the AST.

- two questions in one utterance: "Who won the 2021 title and how many races did he win?" — asked in turn,
  the second with the first as its context;
- several aggregates: "the average and maximum body mass" — one row, a scalar sub-query per aggregate;
- both: "drivers who raced for both Ferrari and McLaren" — the question for each name, INTERSECT;
- negation: "species never seen on Torgersen", "drivers who did not win a race" — the question without its
  negated part EXCEPT the question with it; "the most starts without a win" — the ranking, its names NOT IN
  the names that have one.

Nothing here knows a dataset: the parts are ordinary questions the engine reads on the semantic model, and
a combination is made only when the parts' answers are the same column (or single values).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import sqlglot
from sqlglot import exp

from datavox.brain import phrasing
from datavox.brain.answer import join_names, say_number, sentence
from datavox.types import Answer, HistoryTurn, Intent, QueryResult

AskOne = Callable[[str, Sequence[HistoryTurn]], Answer]
RunSql = Callable[[str], QueryResult]

_QWORDS = r"(?:who|whom|what|which|when|where|how many|how much|did|does|do|is|was|were|has|have|had)"
_SECOND = re.compile(rf"^(?P<a>.+?\S)\s*,?\s+(?:and|then|also)\s+(?P<b>{_QWORDS}\b.+)$", re.IGNORECASE)
# Two sentences: "Who won in Singapore in 2019? How many points did he score that year?"
_SECOND_SENTENCE = re.compile(rf"^(?P<a>.+?\S)\s*[?.!]+\s+(?:and\s+|then\s+|also\s+)?(?P<b>{_QWORDS}\b.+)$",
                              re.IGNORECASE)  # fmt: skip
# "that year", "the same season": the first question's time, said again.
_THAT_TIME = re.compile(r"\b(?:in\s+)?(?:that|the same|this)\s+(?:year|season)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(he|she|they|it)\b", re.IGNORECASE)
_AGG = r"(?:average|mean|total|maximum|minimum|max|min|highest|lowest|largest|smallest|biggest)"
_AGGS = re.compile(rf"\b(?P<all>{_AGG}(?:\s*,\s*{_AGG})*\s*,?\s+and\s+(?:the\s+)?{_AGG})\b", re.IGNORECASE)
_BOTH = re.compile(
    r"\bboth\s+(?P<x>.+?)\s+and\s+(?P<y>.+?)"
    r"(?P<rest>\s+(?:in|at|during|since|before|after|from|between|on|over|with)\b.*|[?.!]*)$",
    re.IGNORECASE,
)
_NEVER = re.compile(
    r"^(?P<head>.+?)\s+(?P<neg>never|did not|didn't|didnt|have not|haven't|has not|hasn't|do not|don't|"
    r"does not|doesn't|are not|aren't|is not|isn't|were not|weren't|was not|wasn't|not)\s+(?P<tail>.+)$",
    re.IGNORECASE,
)
_WITHOUT = re.compile(r"^(?P<head>.+?)\s+without\s+(?:a |an |any )?(?P<tail>.+?)[?.!]*$", re.IGNORECASE)
_TIME = re.compile(
    r"\b(?:in|during|since|from|between|before|after)\s+(?:the\s+)?(?:\d{4}s|\d{4}(?:\s+(?:and|to)\s+\d{4})?)"
    r"(?:\s+season)?\b",
    re.IGNORECASE,
)
_PREP = r"(?:in|for|at|on|with|from|by|to|during)"
_BUT_NOT = re.compile(r"^(?P<head>.+?)\s*,?\s+but\s+not\s+(?P<tail>.+)$", re.IGNORECASE)
_HOW_MANY = re.compile(r"^how many\s+", re.IGNORECASE)
_TRAILING_AUX = re.compile(r"\s+(?:are|is|were|was|have|has|had|did|do|does|that|who)$", re.IGNORECASE)
# The negation dropped: "did not win" → "did win", "never won" → "won".
_POSITIVE = {
    "did not": "did", "didn't": "did", "didnt": "did", "have not": "have", "haven't": "have",
    "has not": "has",
    "hasn't": "has", "do not": "do", "don't": "do", "does not": "does", "doesn't": "does", "are not": "are",
    "aren't": "are", "is not": "is", "isn't": "is", "were not": "were", "weren't": "were", "was not": "was",
    "wasn't": "was", "never": "", "not": "",
}  # fmt: skip


class Compound:
    def __init__(self, ask_one: AskOne, run: RunSql, dialect: str) -> None:
        self.ask_one = ask_one
        self.run = run
        self.dialect = dialect

    def ask(self, question: str, history: Sequence[HistoryTurn]) -> Answer | None:
        """The combined answer, or None when the question is not one of these shapes (or a part fails)."""
        text = question.strip()
        for shape in (
            self._both,
            self._but_not,
            self._without,
            self._never,
            self._aggregates,
            self._two_questions,
        ):
            answer = shape(text, history)
            if answer is not None:
                return answer
        return None

    # -- two questions ---------------------------------------------------------------------------------------
    def _two_questions(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        m = _SECOND_SENTENCE.match(text) or _SECOND.match(text)
        if m is None or len(m.group("b").split()) < 3 or len(m.group("a").split()) < 3:
            return None
        first_q = m.group("a").rstrip(",") + "?"
        first = self.ask_one(first_q, history)
        if first.error is not None or first.intent is not Intent.STATISTICAL:
            return None
        turn = [HistoryTurn(role="user", text=first_q), HistoryTurn(role="assistant", text=first.answer,
                                                                    meta=first.context)]  # fmt: skip
        second_q = _capital(m.group("b"))
        when = _TIME.search(first_q)
        if when is not None and _THAT_TIME.search(second_q):
            # "... in 2019? How many points did he score that year?": that year is 2019.
            second_q = _THAT_TIME.sub(when.group(0), second_q, count=1)
        elif (
            when is not None
            and not _TIME.search(second_q)
            and not re.search(r"\b(?:1[89]|20)\d\d\b", second_q)
        ):
            # "How many races were there in 2020 and who won the most?": one time for both halves.
            second_q = f"{second_q.rstrip('?.! ')} {when.group(0)}?"
        second = self.ask_one(second_q, [*history, *turn])
        if second.error is not None:
            return None
        columns, rows = first.columns, first.rows
        if len(first.rows) == 1 and len(second.rows) == 1:
            columns, rows = [*first.columns, *second.columns], [[*first.rows[0], *second.rows[0]]]
        else:
            rows = [*first.rows, *second.rows] if first.columns == second.columns else second.rows
            columns = first.columns if first.columns == second.columns else second.columns
        return replace(
            second,
            question=text,
            answer=f"{first.answer} {_as_pronoun(second.answer, first, m.group('b'))}",
            sql=f"{first.sql};\n{second.sql}",
            columns=columns,
            rows=rows,
            resolved_question=f"{first_q} / {second.resolved_question or second.question}",
        )

    # -- several aggregates ----------------------------------------------------------------------------------
    def _aggregates(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        m = _AGGS.search(text)
        if m is None:
            return None
        names = re.findall(_AGG, m.group("all"), re.IGNORECASE)
        parts: list[Answer] = []
        for name in names:
            part = self.ask_one(text[: m.start()] + name + text[m.end() :], history)
            if part.error is not None or len(part.rows) != 1 or len(part.columns) != 1 or not part.sql:
                return None
            parts.append(part)
        select = exp.Select()
        used: set[str] = set()
        for name, part in zip(names, parts, strict=True):
            alias = _unique(f"{name.lower()}_{part.columns[0]}", used)
            sub = sqlglot.parse_one(part.sql or "", read=self.dialect)
            select = select.select(exp.Subquery(this=sub).as_(alias))
        sql = select.sql(dialect=self.dialect)
        result = self.run(sql)
        spoken = " ".join(p.answer for p in parts)
        return replace(parts[-1], question=text, answer=spoken, sql=sql, columns=result.columns,
                       rows=result.rows, chart=None)  # fmt: skip

    # -- both X and Y ----------------------------------------------------------------------------------------
    def _both(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        m = _BOTH.search(text)
        if m is None:
            return None
        head, rest = text[: m.start()], m.group("rest")
        count = bool(_HOW_MANY.match(head))
        head = _HOW_MANY.sub("Which ", head) if count else head
        parts = [self.ask_one(f"{head}{m.group(k)}{rest}", history) for k in ("x", "y")]
        queries = [self._names_query(p) for p in parts]
        if any(q is None for q in queries) or len({_said(q) for q in queries if q}) != 1:
            return None
        combined: exp.Expression = exp.intersect(*[q for q in queries if q is not None], distinct=True)
        said = f"both {m.group('x')} and {m.group('y')}"
        return self._answer(text, combined, count, parts[0], said)

    # -- negation --------------------------------------------------------------------------------------------
    def _never(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        m = _NEVER.match(text)
        if m is None or not re.match(r"^(?:which|what|who|how many|list|name)\b", text, re.IGNORECASE):
            return None
        head = m.group("head")
        count = bool(_HOW_MANY.match(head))
        head = _HOW_MANY.sub("Which ", head) if count else head
        positive = _POSITIVE[m.group("neg").lower()]
        with_it = self.ask_one(" ".join(w for w in (head, positive, m.group("tail")) if w), history)
        everyone = self.ask_one(_TRAILING_AUX.sub("", head) + "?", history)
        q_with, q_all = self._names_query(with_it), self._names_query(everyone)
        if q_with is None or q_all is None or _said(q_with) != _said(q_all):
            return None
        combined = exp.except_(q_all, q_with, distinct=True)
        aux = _TRAILING_AUX.search(head)
        said = " ".join(
            w for w in ((aux.group(0).strip() if aux else ""), m.group("neg").lower(), m.group("tail")) if w
        )
        return self._answer(text, combined, count, with_it, said.rstrip("?.!"), echo=False)

    def _but_not(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        """ "Which drivers raced for Ferrari but not for McLaren?": the first set EXCEPT the second, the
        second said with the first's words up to the preposition the names follow."""
        m = _BUT_NOT.match(text)
        if m is None:
            return None
        head, tail = m.group("head"), m.group("tail").rstrip("?.! ")
        lead = re.match(rf"^{_PREP}\s", tail, re.IGNORECASE)
        cut = list(re.finditer(rf"\s{_PREP}\s", head, re.IGNORECASE))
        if not cut:
            return None
        prefix = head[: cut[-1].start()] if lead else head[: cut[-1].end() - 1]
        count = bool(_HOW_MANY.match(head))
        first_q = (_HOW_MANY.sub("Which ", head) if count else head) + "?"
        second_q = (_HOW_MANY.sub("Which ", prefix) if count else prefix) + f" {tail}?"
        parts = [self.ask_one(first_q, history), self.ask_one(second_q, history)]
        queries = [self._names_query(p) for p in parts]
        if any(q is None for q in queries) or len({_said(q) for q in queries if q}) != 1:
            return None
        combined = exp.except_(*[q for q in queries if q is not None], distinct=True)
        return self._answer(text, combined, count, parts[0], f"not {tail}")

    def _without(self, text: str, history: Sequence[HistoryTurn]) -> Answer | None:
        m = _WITHOUT.match(text)
        if m is None:
            return None
        main = self.ask_one(m.group("head") + "?", history)
        if main.error is not None or not main.sql or not main.rows:
            return None
        tail = m.group("tail")
        others = None
        for ask in (f"Who has {tail}?", f"Which have {tail}?", f"Who {tail}?"):
            others = self._names_query(self.ask_one(ask, history))
            if others is not None:
                break
        query = sqlglot.parse_one(main.sql, read=self.dialect)
        if others is None or not isinstance(query, exp.Select):
            return None
        name_sql = _bare(others.expressions[0]).sql()
        # The ranking's own query (inside the "ties" wrapper too): the names it ranks must not be the others.
        ranked = [
            sel
            for sel in query.find_all(exp.Select)
            if sel.expressions and _bare(sel.expressions[0]).sql() == name_sql and sel.args.get("group")
        ]
        if not ranked:
            return None
        for sel in ranked:
            name = _bare(sel.expressions[0]).copy()
            sel.where(exp.Not(this=exp.In(this=name, query=exp.Subquery(this=others.copy()))), copy=False)
        sql = query.sql(dialect=self.dialect)
        result = self.run(sql)
        if not result.rows:
            return replace(main, question=text, sql=sql, rows=[], answer="I couldn't find any in the data.")
        said = say_number(result.rows[0][0])
        pairs = zip(result.columns[1:], result.rows[0][1:], strict=True)
        extra = ", ".join(f"{say_number(v)} {c.replace('_', ' ')}" for c, v in pairs)
        spoken = phrasing.subject_answer(text, said, False) or f"{said}."
        if extra and len(result.rows) == 1:
            spoken = f"{spoken[:-1]}, with {extra}."
        return replace(main, question=text, answer=sentence(spoken), sql=sql, columns=result.columns,
                       rows=result.rows)  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------------------------
    def _names_query(self, answer: Answer) -> exp.Select | None:
        """The part's query as a set of names: the columns that name (not its counts), no order or limit."""
        if answer.error is not None or not answer.sql or answer.intent is not Intent.STATISTICAL:
            return None
        query = sqlglot.parse_one(answer.sql, read=self.dialect)
        if not isinstance(query, exp.Select) or not query.expressions:
            return None
        if query.expressions[0].find(exp.AggFunc) is not None:
            return None  # a count is not a set of names
        # "the id and first name of drivers ...": every plain column asked for; a number ranked by is not.
        named = [e for e in query.expressions if e.find(exp.AggFunc) is None]
        if query.args.get("having") is None:
            query.set("group", None)
        elif len(named) > 1:
            named = named[:1]  # "more than 3 wins": grouped by the name, which alone may be selected
        query.set("expressions", named)
        query.set("order", None)
        query.set("limit", None)
        query.set("distinct", exp.Distinct())
        return query

    def _answer(
        self, text: str, combined: exp.Expression, count: bool, like: Answer, said: str, echo: bool = True
    ) -> Answer:
        """Runs the combined set (or its count) and says it: the names, then what they share."""
        if count:
            query: exp.Expression = exp.select(exp.Count(this=exp.Star()).as_("count")).from_(
                exp.Subquery(this=combined, alias=exp.TableAlias(this=exp.to_identifier("matching")))
            )
        else:
            query = (
                exp.select("*")
                .from_(exp.Subquery(this=combined, alias=exp.TableAlias(this=exp.to_identifier("matching"))))
                .order_by("1")
            )
        sql = query.sql(dialect=self.dialect)
        result = self.run(sql)
        if count:
            n = result.rows[0][0] if result.rows else 0
            spoken = phrasing.count_answer(text, say_number(n), [], n == 1) or f"There are {say_number(n)}."
        else:
            names = [say_number(r[0]) for r in result.rows]
            more = "many" if result.truncated else str(len(names) - 5)
            listed = join_names(names) if len(names) <= 5 else f"{', '.join(names[:5])} and {more} others"
            if not names:
                spoken = f"I couldn't find any that {said} in the data."
            elif echo:
                spoken = phrasing.subject_answer(text, listed, len(names) > 1) or f"{listed}."
            else:
                spoken = f"{listed} {said}."
        return replace(like, question=text, answer=sentence(spoken), sql=sql, columns=result.columns,
                       rows=result.rows, truncated=result.truncated, chart=None)  # fmt: skip


def _as_pronoun(answer: str, first: Answer, asked: str) -> str:
    """ "Sebastian Vettel scored 240 points" after "Sebastian Vettel won ..." → "He scored 240 points", with
    the pronoun the user chose ("how many points did he score"): the data does not say who is a he."""
    pronoun = _PRONOUN.search(asked)
    if pronoun is None or len(first.rows) != 1 or not first.rows[0]:
        return answer
    name = str(first.rows[0][0])
    if not answer.startswith(name + " "):
        return answer
    word = pronoun.group(1).lower()
    if word == "they" and re.match(r"\S+\s+(?:is|was|has)\b", answer[len(name) + 1 :]):
        return answer  # "They was" would be wrong; keep the name
    return word.capitalize() + answer[len(name) :]


def _said(query: exp.Select) -> tuple[str, ...]:
    """What a names query selects, to check that two parts list the same things."""
    return tuple(e.sql() for e in query.expressions)


def _bare(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "value"
    out, i = base, 2
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out
