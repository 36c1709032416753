"""From slots to a reading of the question: which table holds the facts, which measure, which answer.

The semantic model's words (table, column and measure synonyms) are matched as bags of lemmas against the
content words of the question. Every table that some matched word points at is a candidate for the facts;
each candidate is scored by how many of the question's words it explains, whether every linked value and
year can reach it along the relationship graph, whether the filters pin a single row of it (a season total
beats summing race rows), and its priority. The best reading wins; none at all means "not understood".
"""

from __future__ import annotations

from datavox.brain.frame import Frame
from datavox.brain.joins import Edge, JoinGraph
from datavox.brain.linking import ValueMatch
from datavox.brain.nouns import asked_nouns, counted_noun, hint_words
from datavox.brain.reading import Reading
from datavox.brain.table_facts import BIRTH_WORDS, TableFacts
from datavox.brain.targets import answer_target, breakdown, counted_via, projection, where_place
from datavox.brain.text import lemma
from datavox.brain.vocab import covered, unexplained_words, words_of
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel


class Planner(TableFacts):
    """Reads a question's frame against the data (the facts it leans on come from `TableFacts`)."""

    def __init__(self, catalog: Catalog, model: SemanticModel, graph: JoinGraph) -> None:
        super().__init__(catalog, model, graph)
        self._pointed: set[str] = set()

    # -- readings --------------------------------------------------------------------------------
    def read(self, frame: Frame) -> Reading | None:
        words = frame.content_lemmas
        free = frame.free_lemmas
        hint = hint_words(self, frame, words)
        if hint:
            words, free = words | hint, free | hint
        m_hits = {n: c for n, s in self.vocab.measures.items() if (c := covered(s, free, words))}
        c_hits = {k: c for k, s in self.vocab.columns.items() if (c := covered(s, free, words))}
        t_hits = {t: c for t, s in self.vocab.tables.items() if (c := covered(s, free, words))}
        nouns = asked_nouns(self, frame, t_hits, c_hits)

        candidates: set[str] = {self.model.measures[m].table for m in m_hits}
        candidates |= {t for t, _ in c_hits}
        candidates |= set(t_hits)
        candidates |= {n[0] for n in nouns[:1]}
        for group in frame.values:
            candidates |= {m.table for m in group}
        pointed = set(candidates)
        # Facts about the things named: tables whose keys lead to a value's or the noun's table.
        anchors = {m.table for g in frame.values for m in g} | {n[0] for n in nouns[:1]}
        for t in self.catalog.tables:
            if t not in candidates and any(self.graph.path(t, a) for a in anchors if a != t):
                candidates.add(t)
        self._pointed = pointed
        if frame.where_place and frame.values:
            place = where_place(self, frame)
            if place is not None:
                return place
        best: Reading | None = None
        for fact in sorted(candidates):
            if fact not in self.catalog.tables or not self.tm(fact).exposed:
                continue
            measures = [None, *(m for m in m_hits if self.model.measures[m].table == fact)]
            columns = [None, *(c for (t, c) in c_hits if t == fact)]
            for measure in measures:
                for column in columns:
                    reading = self._score(frame, fact, measure, column, m_hits, c_hits, t_hits, nouns, words)
                    if reading is not None and (best is None or reading.score > best.score):
                        best = reading
        return best

    def _score(
        self,
        frame: Frame,
        fact: str,
        measure: str | None,
        column: str | None,
        m_hits: dict[str, frozenset[str]],
        c_hits: dict[tuple[str, str], frozenset[str]],
        t_hits: dict[str, frozenset[str]],
        nouns: list[tuple[str, str | None, frozenset[str]]],
        words: set[str],
    ) -> Reading | None:
        reading = Reading(fact=fact, measure=measure, column=column)
        explained: set[str] = set()
        if measure is not None:
            explained |= m_hits[measure]
        if column is not None:
            explained |= c_hits[(fact, column)]
        if fact in t_hits:
            explained |= t_hits[fact]
        penalty = 0.0
        # Values: each group needs one candidate reachable from the facts.
        bound: set[str] = set()
        for group in frame.values:
            choice = self._reach(fact, group, origin=_after_from(frame, group))
            if choice is None:
                return None
            vm, path, cost = choice
            penalty += cost
            reading.values.append((vm, path))
            if not path and vm.column in self.tm(fact).entity:
                bound.add("*self*")
            bound.add(path[0].from_column if path else vm.column)
            explained |= {lemma(w) for t in (vm.table,) for w in t.split("_")} & words
        if frame.years is not None:
            birth = self.birth_year(fact, words)
            yc = birth or self.year_column(fact)
            if yc is None:
                return None
            if birth is not None:
                explained |= words & BIRTH_WORDS
            reading.year_column = yc
            bound.add(yc[0][0].from_column if yc[0] else yc[1])
        # The answer.
        target, noun_words = answer_target(self, frame, fact, nouns, column)
        if target is None:
            return None
        for vm, path in reading.values:
            # The named row is also the answer's kind ("Max Verstappen's teammate"): others that share its
            # keys. Without a key to share (only a year), that reading means nothing.
            same = (
                target.table == vm.table
                and path
                and path == target.path
                and vm.column in self.tm(vm.table).entity
            )
            if same and not self.sibling_keys(fact, path[0].from_column):
                return None
        reading.target = target
        explained |= noun_words
        reading.projection = projection(self, frame, fact, target)
        entity = self.tm(target.table).entity if target.table else []
        other_column = bool(entity) and target.column is not None and target.column != entity[0]
        if target.table and target.column is not None and other_column and not reading.projection:
            # "What nationality is Alonso?": the demonym, with the row's name beside it ("Spanish", "Spain").
            reading.projection = [target.column, entity[0]]
        if frame.per:
            reading.per = breakdown(self, frame.per, fact)
            if reading.per is None:
                return None  # a breakdown by something these facts do not have
        if target.table is not None and target.table in t_hits:
            explained |= t_hits[target.table]
        if not explained and target.table is None and frame.qword not in ("who", "when", "where"):
            return None  # nothing in the question names these facts: no silent guess
        if (
            frame.first_last
            and column is not None
            and self.role(fact, column) == "measure"
            and not frame.order
        ):
            return None  # "the first/last race won": events in time, not a total column
        if frame.age and (target.table is None or self.birth_column(target.table) is None):
            return None  # "the youngest ..." of rows that have no birth date: no silent guess
        if any(w.endswith("est") and len(w) > 5 for w in unexplained_words(frame, explained)):
            return None  # "the youngest champion": ranked by something the model does not know
        via = counted_via(self, fact, target.table, t_hits) if measure is None and column is None else None
        if via is not None and (frame.order or frame.top_n or frame.threshold):
            # "the driver who took part in the most races": rows of the facts that join each driver to a race.
            explained |= t_hits[via]
            reading.counted = via
        if (
            (frame.order or frame.top_n)
            and measure is None
            and not frame.mode
            and not frame.per
            and via is None
        ):
            ranked_by_column = column is not None and self.role(fact, column) in ("measure", "rank", "time")
            ranked_by_column = ranked_by_column or (column is not None and bool(frame.hints))
            nothing = target.table is None and target.column is None
            if not ranked_by_column and (target.table == fact or fact not in t_hits or nothing):
                return None  # "the most X" with nothing to count or rank by: no silent guess
        if target.path:
            bound.add(target.path[0].from_column)  # grouped by the answer's rows: one row each
        if frame.per in ("year", "season") or frame.single:
            yc = self.year_column(fact)
            if yc is not None:
                bound.add(yc[0][0].from_column if yc[0] else yc[1])  # one row per year each
        reading.covering = self.covering(fact, bound)
        unexplained = words - explained
        if len(unexplained) >= 2 and len(unexplained) > len(explained) and not noun_words:
            # More of the question is unknown than known, and it names no kind of thing the data has:
            # saying so beats a guess.
            return None
        score = 3.0 * len(explained) - 1.0 * len(unexplained)
        score += 1.5 if reading.covering else 0.0
        priority = (
            self.tm(fact).priority
            if fact in self._pointed or fact in t_hits
            else min(self.tm(fact).priority, 0)
        )
        score += 0.3 * priority + 0.01 * self.tm(fact).priority - penalty - 0.3 * len(target.path)
        score += 0.5 if measure is not None else 0.0
        focus = counted_noun(frame)
        named = self.vocab.measures.get(measure or "", [])
        if measure is not None and focus and any(focus in syn for syn in named):
            # "the most poles" (won or not): the noun right after "most" or "how many" is what is counted.
            score += 1.0
        score -= 1.5 if target.fallback else 0.0
        if frame.qword == "when" and target.column is not None:
            col = self.catalog.tables[fact].column(target.column)
            score += 0.5 if col is not None and col.is_temporal else 0.0  # a date says "when" best
        # A column only adds to a measure when it is the rank the question asks about.
        asks_rank = self.role(fact, column or "") == "rank" and (frame.ordinal or frame.qword == "where")
        if column is not None and measure is not None and not asks_rank:
            score -= 2.0
        if frame.ordinal is not None or frame.qword == "where":
            score += 1.0 if self.rank_column(fact, column) else -1.0
        if frame.direction and column is not None:
            # "the highest maximum temperature": temp_max, not temp_min, though both are "temperature".
            column_words = set(words_of(column))
            along = {"max", "maximum"} if frame.direction == "max" else {"min", "minimum"}
            against = {"min", "minimum"} if frame.direction == "max" else {"max", "maximum"}
            score += 0.5 if column_words & along else -0.5 if column_words & against else 0.0
        if frame.threshold is not None and column is not None and self.role(fact, column) == "measure":
            score += 1.0  # "more than 20 millimetres of precipitation": the bound is on the number named
        if measure is None and column is None and fact not in t_hits and target.table != fact:
            score -= 2.0  # nothing in the question points at this table itself
        reading.score = score
        reading.words = frozenset(explained)
        reading.unexplained = frozenset(unexplained)
        return reading

    def _reach(
        self, fact: str, group: list[ValueMatch], origin: bool = False
    ) -> tuple[ValueMatch, tuple[Edge, ...], float] | None:
        best: tuple[float, ValueMatch, tuple[Edge, ...]] | None = None
        for vm in group:
            path = self.graph.path(fact, vm.table)
            cost = 0.0
            if path is None:
                path = self.graph.path(fact, vm.table, allow_reverse=True)
                cost = 3.0
                if path is None:
                    continue
            if origin and any(e.to_table in self.person_tables for e in path[:-1]):
                cost -= 1.0  # "drivers from Brazil": where the people come from, not a race held there
            cost += 0.2 * len(path) - 0.5 * vm.score - 0.05 * self.tm(vm.table).priority
            cost -= 0.01 * min(vm.prominence, 1000) / 1000
            if vm.column in self.tm(vm.table).entity:
                cost -= 0.1
            if best is None or cost < best[0]:
                best = (cost, vm, path)
        if best is None:
            return None
        return best[1], best[2], max(best[0], 0.0)


def _after_from(frame: Frame, group: list[ValueMatch]) -> bool:
    """Whether the name follows "from" ("drivers from Brazil")."""
    start = group[0].span[0] if group and group[0].span[0] >= 0 else -1
    return start > 0 and frame.text[:start].split()[-1:] == ["from"]
