"""From slots to a reading of the question: which table holds the facts, which measure, which answer.

The semantic model's words (table, column and measure synonyms) are matched as bags of lemmas against the
content words of the question. Every table that some matched word points at is a candidate for the facts;
each candidate is scored by how many of the question's words it explains, whether every linked value and
year can reach it along the relationship graph, whether the filters pin a single row of it (a season total
beats summing race rows), and its priority. The best reading wins; none at all means "not understood".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datavox.brain import nameparts
from datavox.brain.joins import Edge, JoinGraph
from datavox.brain.linking import ValueMatch
from datavox.brain.parse import Frame
from datavox.brain.text import Token, lemma
from datavox.brain.vocab import MAX_SAID, MIN_SAID, Vocabulary, covered, unexplained_words, words_of
from datavox.data.names import identifier
from datavox.data.schema import Catalog
from datavox.data.semantic import Measure, SemanticModel, TableModel

_TIME_NAMES = ("year", "season", "date", "day", "month")
_PHRASE_ROLES = ("measure", "rank", "time", "dimension", "name", "flag", "")


_ARTICLES = frozenset({"the", "a", "an", "s"})


# A year said with these is a birth year ("drivers born in 1997"), not the year something happened.
BIRTH_WORDS = frozenset({"born", "birth"})


@dataclass
class Target:
    table: str | None = None  # the rows the answer names (drivers)
    column: str | None = None  # or one column of the fact table (a year, a name column)
    path: tuple[Edge, ...] = ()
    fallback: bool = False  # "who" answered with things, not people


@dataclass
class Reading:
    fact: str
    measure: str | None = None
    column: str | None = None  # a column of the fact table the question is about
    target: Target = field(default_factory=Target)
    values: list[tuple[ValueMatch, tuple[Edge, ...]]] = field(default_factory=list)
    year_column: tuple[tuple[Edge, ...], str] | None = None
    covering: bool = False  # the filters pin one row of the fact table
    projection: list[str] = field(default_factory=list)  # columns of the answer's table asked by name
    counted: str | None = None  # "the most races" counted through these facts: the table said (races)
    per: tuple[tuple[Edge, ...], str] | None = None  # the breakdown: path to a table and its column
    score: float = 0.0
    words: frozenset[str] = frozenset()
    unexplained: frozenset[str] = frozenset()


class Planner:
    def __init__(self, catalog: Catalog, model: SemanticModel, graph: JoinGraph) -> None:
        self.catalog = catalog
        self.model = model
        self.graph = graph
        self.vocab = Vocabulary.build(catalog, model)
        self.person_tables = [t for t, tm in model.tables.items() if tm.person and t in catalog.tables]
        self._pointed: set[str] = set()
        self._time_columns: dict[str, str | None] = {}

    def tm(self, table: str) -> TableModel:
        return self.model.tables.get(table) or TableModel()

    def role(self, table: str, column: str) -> str:
        cm = self.tm(table).columns.get(column)
        return cm.role if cm is not None else ""

    # -- readings --------------------------------------------------------------------------------
    def read(self, frame: Frame) -> Reading | None:
        words = frame.content_lemmas
        free = frame.free_lemmas
        hint = self._hint(frame, words)
        if hint:
            words, free = words | hint, free | hint
        m_hits = {n: c for n, s in self.vocab.measures.items() if (c := covered(s, free, words))}
        c_hits = {k: c for k, s in self.vocab.columns.items() if (c := covered(s, free, words))}
        t_hits = {t: c for t, s in self.vocab.tables.items() if (c := covered(s, free, words))}
        nouns = self._noun(frame, t_hits, c_hits)

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
            place = self._where_place(frame)
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

    def _hint(self, frame: Frame, words: set[str]) -> frozenset[str]:
        """The words of the column a superlative ranks by ("heaviest" → "body mass", "hottest" → "temp max"),
        when the question names no such column itself: the property's noun is the column's head word, or the
        rest of the column's words say the superlative's direction ("max" for "hottest")."""
        if not frame.hints:
            return frozenset()
        direction = MAX_SAID if frame.order == "max" else MIN_SAID
        ranked = []
        for (t, c), sets in self.vocab.columns.items():
            col = self.catalog.tables[t].column(c)
            if self.role(t, c) in ("measure", "dimension") and col is not None and col.is_numeric:
                ranked.append((c, sets))
        for hint in frame.hints:
            if any(syn <= words for _, sets in ranked for syn in sets if hint in syn):
                return frozenset()  # the question says the column itself ("the longest flipper length")
        for hint in frame.hints:
            for c, sets in ranked:
                head = [lemma(w) for w in words_of(c)[-1:]]
                for syn in sets:
                    if hint in syn and (syn - {hint} - words <= direction or head == [hint]):
                        return syn
        return frozenset()

    def _noun(
        self,
        frame: Frame,
        t_hits: dict[str, frozenset[str]],
        c_hits: dict[tuple[str, str], frozenset[str]],
    ) -> list[tuple[str, str | None, frozenset[str]]]:
        """What is asked for right after the question word ("which team", "how many drivers", "what year"),
        best first: a table, or for which/what also a column."""
        if frame.qword not in ("which", "what", "how_many", "list"):
            return []
        # The noun phrase: consecutive content words right after the question word (articles skipped).
        start = frame.after_qword
        window: list[Token] = []
        if frame.projection:
            # "the names and cities of customers": the thing asked about comes after "of".
            texts = [t.text for t in frame.toks]
            for j in range(start, min(start + 10, len(texts))):
                if texts[j] == "of":
                    window = self._window(frame, j + 1)
                    break
        # "What is the nationality of Kimi Räikkönen?": after "of" only a name, so the noun is before it.
        window = window or self._window(frame, start)
        if not window:
            return []
        near = {t.lemma for t in window[:2]}
        # The head noun may follow adjectives ("the most expensive product"): any of the first words.
        heads = [t.lemma for t in window[:3]]
        found: list[tuple[float, str, str | None, frozenset[str]]] = []
        # "How many world champions": the doers of a measure are rows of its subject table.
        for mname, sets in self.vocab.doers.items():
            for syn in sets:
                if heads[0] in syn and syn <= near:
                    found.append((len(syn) * 10 + 6, self.model.measures[mname].subject, None, syn))
        # "How many podiums", "how many constructors' championships": the noun is a measure, not rows.
        measure_len = 0
        if frame.qword == "how_many":
            # A measure's longer name said in full ("driver of the day awards") is the noun too, even
            # where a function word splits it.
            free = frame.free_lemmas
            measure_sets = [syn for sets in self.vocab.measures.values() for syn in sets]
            for (t, c), sets in self.vocab.columns.items():
                if self.role(t, c) == "measure":
                    measure_sets += sets
            measure_len = max(
                (
                    len(syn)
                    for syn in measure_sets
                    if heads[0] in syn and (syn <= near or (len(syn) >= 3 and syn <= free))
                ),
                default=0,
            )
        for t, sets in self.vocab.tables.items():
            if not self.tm(t).entity:
                continue  # rows without names (results, standings) are facts, never the answer's names
            for syn in sets:
                if syn <= near and len(syn) > measure_len:
                    first_bonus = 5 if heads[0] in syn else 0
                    found.append((len(syn) * 10 + first_bonus + self.tm(t).priority, t, None, syn))
        if frame.qword == "how_many" and not found:
            # "How many countries are there?" with no table of countries: the distinct values of a column.
            for (t, c), sets in self.vocab.columns.items():
                if self.role(t, c) in ("dimension", "name"):
                    for syn in sets:
                        if heads[0] in syn and syn <= near and len(syn) > measure_len:
                            found.append((len(syn) * 10 - 5, t, c, syn))
        if frame.qword in ("which", "what"):
            for (t, c), sets in self.vocab.columns.items():
                if self.role(t, c) not in ("time", "dimension", "name"):
                    continue
                for syn in sets:
                    if heads[0] in syn and syn <= near:
                        found.append((len(syn) * 10 - 5, t, c, syn))
        found.sort(key=lambda f: (-f[0], f[1], f[2] or ""))
        return [(t, c, syn) for _, t, c, syn in found]

    @staticmethod
    def _window(frame: Frame, start: int) -> list[Token]:
        """Consecutive content words from `start` (articles and other function words before them skipped)."""
        window: list[Token] = []
        for tok in frame.toks[start : start + 8]:
            if tok in frame.content:
                window.append(tok)
            elif window:
                break
        return window

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
            birth = self._birth_year(fact, words)
            yc = birth or self._year_column(fact)
            if yc is None:
                return None
            if birth is not None:
                explained |= words & BIRTH_WORDS
            reading.year_column = yc
            bound.add(yc[0][0].from_column if yc[0] else yc[1])
        # The answer.
        target, noun_words = self._target(frame, fact, nouns, column)
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
            if same and not self._sibling_keys(fact, path[0].from_column):
                return None
        reading.target = target
        explained |= noun_words
        reading.projection = self._projection(frame, fact, target)
        entity = self.tm(target.table).entity if target.table else []
        other_column = bool(entity) and target.column is not None and target.column != entity[0]
        if target.table and target.column is not None and other_column and not reading.projection:
            # "What nationality is Alonso?": the demonym, with the row's name beside it ("Spanish", "Spain").
            reading.projection = [target.column, entity[0]]
        if frame.per:
            reading.per = self._per(frame.per, fact)
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
        via = self._counted_via(fact, target.table, t_hits) if measure is None and column is None else None
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
            yc = self._year_column(fact)
            if yc is not None:
                bound.add(yc[0][0].from_column if yc[0] else yc[1])  # one row per year each
        reading.covering = self._covering(fact, bound)
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
        focus = _focus(frame)
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
            score += 1.0 if self._rank_column(fact, column) else -1.0
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

    def _who_target(self, fact: str) -> Target | None:
        """The people these facts are about, by the shortest join (none when no person table is reached)."""
        options = [(self.graph.path(fact, p), p) for p in self.person_tables]
        reachable = [(len(path), p, path) for path, p in options if path is not None]
        if not reachable:
            return None
        _, table, path = min(reachable)
        return Target(table=table, path=path)

    def _birth_year(self, fact: str, words: set[str]) -> tuple[tuple[Edge, ...], str] | None:
        """ "Born in 1997", "born after 1990": the year of the rows' own birth date, not of a season."""
        if not words & BIRTH_WORDS:
            return None
        col = self.birth_column(fact)
        return ((), col) if col is not None else None

    def _year_column(self, fact: str) -> tuple[tuple[Edge, ...], str] | None:
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

    def _rank_column(self, fact: str, column: str | None) -> str | None:
        if column is not None and self.role(fact, column) == "rank":
            return column
        for c in self.catalog.tables[fact].columns:
            if self.role(fact, c.name) == "rank":
                return c.name
        return None

    def _target(
        self,
        frame: Frame,
        fact: str,
        nouns: list[tuple[str, str | None, frozenset[str]]],
        column: str | None = None,
    ) -> tuple[Target | None, frozenset[str]]:
        """What the answer names: the noun's rows, a person for "who", a time for "when"."""
        for table, col, syn in nouns:
            if col is not None:
                if table == fact:
                    return Target(column=col), syn
                path = self.graph.path(fact, table)
                if path is not None:
                    return Target(table=table, column=col, path=path), syn
                continue
            if not self.tm(table).entity:
                continue  # rows without a name cannot be the answer's names
            path = self.graph.path(fact, table)
            if path is not None:
                # "What nationality is X?": the noun is also a column of those rows (the demonym), not
                # their name.
                said = [
                    c
                    for (t, c), sets in self.vocab.columns.items()
                    if t == table
                    and syn in sets
                    and c != self.tm(table).entity[0]
                    and self.role(t, c) in ("name", "dimension")
                ]
                return Target(table=table, column=said[0] if said else None, path=path), syn
        if nouns and frame.qword in ("which", "how_many"):
            return None, frozenset()  # the thing asked for cannot be reached from these facts
        if frame.qword == "who" or (frame.qword == "list" and not nouns):
            person = self._who_target(fact)
            if person is not None:
                return person, frozenset()
            if self.person_tables:
                # "Who won the constructors' title?": the named rows these facts are about, if not people.
                for edge in self.graph.out.get(fact, []):
                    if (
                        edge.forward
                        and self.tm(edge.to_table).entity
                        and self.tm(edge.to_table).priority >= 0
                    ):
                        return Target(table=edge.to_table, path=(edge,), fallback=True), frozenset()
                return None, frozenset()
            col = self._who_column(frame, fact)
            return (Target(column=col) if col else None), frozenset()
        if frame.where_place and frame.values:
            place = self._place(fact, frame)
            if place is not None:
                return place, frozenset()
        if frame.qword == "what" and frame.first_last and not nouns:
            # "What was her first win?": the event itself, named by a table it happened in.
            for edge in self.graph.out.get(fact, []):
                if edge.forward and self.tm(edge.to_table).entity and self.time_column(edge.to_table):
                    return Target(table=edge.to_table, path=(edge,)), frozenset()
        if frame.qword == "when":
            if column is not None and self.role(fact, column) == "time":
                return Target(column=column), frozenset()
            # A date says "when" better than a year.
            for col in self.tm(fact).order_by:
                c = self.catalog.tables[fact].column(col)
                if c is not None and c.is_temporal:
                    return Target(column=col), frozenset()
            tc = self.time_column(fact)
            return (Target(column=tc) if tc else None), frozenset()
        if frame.qword == "what" and column is not None and self.role(fact, column) == "flag":
            # "What was the fastest lap at Monza in 2020?": a yes/no flag answers nothing by itself ("was
            # yes"); the rows that have it do, named as "who" would name them.
            who = self._who_target(fact)
            if who is not None:
                return who, frozenset()
        return Target(), frozenset()

    def _per(self, word: str, fact: str) -> tuple[tuple[Edge, ...], str] | None:
        """What "each year" / "per team" breaks the facts down by: a time column or a named table."""
        if word in ("year", "season"):
            yc = self._year_column(fact)
            return (yc[0], yc[1]) if yc else None
        for table, sets in self.vocab.tables.items():
            if self.tm(table).entity and any(s == {word} for s in sets):
                path = self.graph.path(fact, table)
                if path is not None:
                    return path, self.tm(table).entity[0]
        for (table, column), sets in self.vocab.columns.items():
            if table == fact and any(s == {word} for s in sets):
                return (), column
        return None

    def _projection(self, frame: Frame, fact: str, target: Target) -> list[str]:
        """Columns of the answer's table the question names before "of" ("the name and date of")."""
        if not frame.projection or target.column is not None:
            return []
        table = target.table or fact
        if not self.tm(table).entity and target.table is None:
            return []
        cols = self.catalog.tables[table]
        own = {lemma(w) for w in identifier(table).split("_")}
        out: list[str] = []
        for word in frame.projection:
            pick: str | None = None
            if word in ("first name", "last name", "full name"):
                parts = nameparts.columns(self.catalog, table, word)
                if not parts:
                    return []
                out.extend(p for p in parts[:-1] if p not in out)
                pick = parts[-1]
            elif word in ("id", "ids", "identifier", "identifiers", "key"):
                pk = cols.primary_key or [c.name for c in cols.columns if identifier(c.name) == "id"]
                pick = pk[0] if pk else None
            elif word == "name":
                entity = self.tm(table).entity
                pick = entity[0] if entity else None
            else:
                for (t, c), sets in self.vocab.columns.items():
                    if t == table and any(word in s and s <= set(frame.projection) | own for s in sets):
                        pick = c
                        break
            if pick is None:
                return []  # a column we cannot name: keep the plain answer
            if pick not in out:
                out.append(pick)
        return out if len(out) > 1 or out != (self.tm(table).entity or [])[:1] else []

    def _counted_via(self, fact: str, target: str | None, t_hits: dict[str, frozenset[str]]) -> str | None:
        """The other table a question counts through these facts: `results` joins drivers to races, so
        "drivers with the most races" counts a driver's result rows. None unless the facts hold a key to
        both the answer's table and a table the question names."""
        if target is None or target == fact or fact in t_hits:
            return None
        keys = {e.to_table for e in self.graph.out.get(fact, []) if e.forward}
        if target not in keys:
            return None
        named = [t for t in t_hits if t not in (target, fact) and t in keys]
        return named[0] if len(named) == 1 else None

    def _sibling_keys(self, fact: str, own: str) -> list[str]:
        return [
            e.from_column
            for e in self.graph.out.get(fact, [])
            if e.forward
            and e.from_column != own
            and self.tm(e.to_table).entity
            and self.tm(e.to_table).priority >= 0
        ]

    def _where_place(self, frame: Frame) -> Reading | None:
        """ "Where is Monza?": the named row's place, straight from its own table."""
        for vm in frame.values[0]:
            target = self._place(vm.table, frame, vm)
            if target is not None:
                reading = Reading(fact=vm.table, target=target, values=[(vm, ())], score=1.0)
                return reading
        return None

    def _place(self, fact: str, frame: Frame, vm: ValueMatch | None = None) -> Target | None:
        """ "Where is Monza?": a place-like column of the named row, or the country it points at."""
        vm = vm or frame.values[0][0]
        if vm.table != fact:
            return None
        # A column the question names ("where was she born" → the place of birth) beats any place column.
        for c in self.catalog.tables[fact].columns:
            sets = self.vocab.columns.get((fact, c.name), [])
            if c.is_text and c.name != vm.column and any(len(s) > 1 and s <= frame.free_lemmas for s in sets):
                return Target(column=c.name)
        words = ("place", "city", "town", "location", "address", "country", "region", "state")
        for edge in self.graph.out.get(fact, []):
            if (
                edge.forward
                and any(w in edge.from_column.lower() for w in words)
                and self.tm(edge.to_table).entity
            ):
                return Target(table=edge.to_table, path=(edge,))
        for c in self.catalog.tables[fact].columns:
            if c.is_text and c.name != vm.column and any(w in c.name.lower() for w in words):
                return Target(column=c.name)
        return None

    def _who_column(self, frame: Frame, fact: str) -> str | None:
        """Without a table of people, "who" asks for a text column of the facts: not one the question
        already filters on, best one named like its verb ("won" → `winner`)."""
        filtered = {m.column for g in frame.values for m in g if m.table == fact}
        options = [
            c.name
            for c in self.catalog.tables[fact].columns
            if c.is_text and c.name not in filtered and self.role(fact, c.name) in ("name", "dimension", "")
        ]
        verbs = {t.lemma for t in frame.content}
        for name in options:
            if any(
                w.startswith(v) or v.startswith(lemma(w)) for w in identifier(name).split("_") for v in verbs
            ):
                return name
        return options[0] if options else None

    def _covering(self, fact: str, bound: set[str]) -> bool:
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

    # -- helpers for the SQL builder ------------------------------------------------------------
    def measure(self, name: str) -> Measure:
        return self.model.measures[name]


def _after_from(frame: Frame, group: list[ValueMatch]) -> bool:
    """Whether the name follows "from" ("drivers from Brazil")."""
    start = group[0].span[0] if group and group[0].span[0] >= 0 else -1
    return start > 0 and frame.text[:start].split()[-1:] == ["from"]


_ORDER_WORDS = frozenset(
    {"most", "least", "fewest", "highest", "lowest", "more", "fewer", "less", "biggest", "smallest"}
)


def _focus(frame: Frame) -> str:
    """The lemma of the noun counted or ranked: the word after "most" ("the most poles") or "how many"."""
    texts = [t.text for t in frame.toks]
    for i, word in enumerate(texts[:-1]):
        if word in _ORDER_WORDS and frame.order:
            return frame.toks[i + 1].lemma
    if frame.qword == "how_many" and frame.after_qword < len(frame.toks):
        return frame.toks[frame.after_qword].lemma
    return ""
