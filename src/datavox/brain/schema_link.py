"""Schema linking: the part of the schema a question is about, so LLM prompts stay small on large schemas.

Tables are ranked by the words they share with the question (table and column names, synonyms,
descriptions, measures of the semantic model), by the database values the question names (a matched
"Lewis Hamilton" pulls in `drivers`), and by the conversation's earlier questions (with less weight, so
follow-ups keep their tables). The best tables are kept, then the relationship graph adds the tables that
join them (a bridge between two linked tables) and the tables their keys point at when those name rows
(`races_race_results.driver_id` → `drivers`, so the SQL can say a name, not a slug). Wide tables keep their
keys, names, time columns and the columns the question mentions.

Everything here is lexical and cheap (well under a millisecond per table): no model call.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datavox.data.schema import Catalog, Column, Table, singular
from datavox.data.semantic import SemanticModel, TableModel

# Words that say nothing about which table a question is about.
_STOP_TEXT = """
a about after against all an and any are as at be been before between by can could did do does
during each ever for from get got had has have he her him his how i if in into is it its just me
more most my no not of on or our out over per she so than that the their them then there these they
this those to under up us was we were what when where which who whom whose why will with would you
your least many much tell show list give say please there's what's who's ever all-time time
"""
STOPWORDS = frozenset(_STOP_TEXT.split())

MAX_TABLES = 6  # tables linked by score, before relationship neighbours
MAX_NEIGHBOURS = 4  # tables added through relationships
WIDE_TABLE = 24  # tables with more columns than this keep only their relevant columns
WIDE_KEEP = 16  # columns kept of a wide table (keys, names, time, mentioned ones, then the first ones)

_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-case, accent-free, singular word tokens without stopwords; camelCase and snake_case split."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return [singular(w) for w in _WORD.findall(ascii_text) if w not in STOPWORDS and len(w) > 1]


@dataclass
class LinkedTable:
    name: str
    score: float
    columns: list[str]  # the columns the prompt shows, in table order
    reason: str = ""  # "score", "value", "bridge", "reference", "history"


@dataclass
class LinkedSchema:
    tables: list[LinkedTable] = field(default_factory=list)
    joins: list[tuple[str, str]] = field(default_factory=list)  # ("a.col", "b.col") among linked tables
    measures: list[str] = field(default_factory=list)  # names of semantic measures on linked tables

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]


@dataclass
class _TableTerms:
    strong: set[str]  # table name and synonyms, measure names
    columns: dict[str, set[str]]  # column -> its name and synonym tokens
    weak: set[str]  # descriptions


class SchemaLinker:
    """Ranks the tables and columns of a catalog (with its semantic model) for a question."""

    def __init__(self, catalog: Catalog, semantic: SemanticModel | None = None) -> None:
        self.catalog = catalog
        self.semantic = semantic or SemanticModel()
        exposed = set(self.semantic.exposed_tables()) if self.semantic.tables else set(catalog.tables)
        self.tables = {
            n: t for n, t in catalog.tables.items() if n in exposed or n not in self.semantic.tables
        }
        self.edges = self._edges()
        self.terms = {name: self._terms(table) for name, table in self.tables.items()}
        # A word found in many tables ("year", "position") says little; one found in a single table
        # ("pit") says a lot: weight words by inverse table frequency.
        df: dict[str, int] = {}
        for terms in self.terms.values():
            for word in terms.strong | terms.weak | set().union(*terms.columns.values()):
                df[word] = df.get(word, 0) + 1
        n = max(len(self.terms), 1)
        self.idf = {word: math.log(1 + n / count) for word, count in df.items()}

    # -- index -----------------------------------------------------------------------------------------
    def _model(self, table: str) -> TableModel:
        return self.semantic.tables.get(table) or TableModel()

    def _edges(self) -> list[tuple[str, str, str, str]]:
        """(from_table, from_column, to_table, to_column) from the semantic model, else the catalog's keys."""
        seen: set[tuple[str, str, str, str]] = set()
        out: list[tuple[str, str, str, str]] = []
        pairs: Iterable[tuple[str, str, str, str]] = [
            (r.from_table, r.from_column, r.to_table, r.to_column) for r in self.semantic.relationships
        ]
        pairs = [*pairs] + [
            (t.name, fk.column, fk.ref_table, fk.ref_column)
            for t in self.catalog.tables.values()
            for fk in t.foreign_keys
        ]
        for edge in pairs:
            if edge[0] in self.tables and edge[2] in self.tables and edge not in seen:
                seen.add(edge)
                out.append(edge)
        return out

    def _terms(self, table: Table) -> _TableTerms:
        model = self._model(table.name)
        strong = set(tokens(table.name))
        for synonym in model.synonyms:
            strong.update(tokens(synonym))
        weak = set(tokens(model.description))
        for measure_name, measure in self.semantic.measures.items():
            if measure.table == table.name:
                strong.update(tokens(measure_name))
                for synonym in measure.synonyms:
                    strong.update(tokens(synonym))
        columns: dict[str, set[str]] = {}
        for col in table.columns:
            cm = model.columns.get(col.name)
            words = set(tokens(col.name))
            if cm is not None:
                for synonym in cm.synonyms:
                    words.update(tokens(synonym))
                weak.update(tokens(cm.description))
            # Key columns (`driver_id`) name other tables: they must not pull this table in by themselves.
            if col.name.endswith("_id") or col.name == "id":
                words = {w for w in words if w != "id"} if col.name == "id" else set()
            columns[col.name] = words
        return _TableTerms(strong=strong, columns=columns, weak=weak)

    # -- linking ---------------------------------------------------------------------------------------
    def link(
        self,
        question: str,
        *,
        value_tables: Sequence[tuple[str, str]] = (),
        history: Sequence[str] = (),
        max_tables: int = MAX_TABLES,
    ) -> LinkedSchema:
        """The tables and columns for `question`.

        `value_tables` are (table, column) pairs of database values the question names; `history` the
        earlier user questions of the conversation, newest last.
        """
        words = tokens(question)
        scores = {name: self._score(name, words) for name in self.tables}
        reasons = dict.fromkeys(scores, "score")
        for weight, older in zip((0.5, 0.25, 0.125), reversed(history), strict=False):
            for name in self.tables:
                extra = weight * self._score(name, tokens(older))
                if extra > 0 and scores[name] == 0:
                    reasons[name] = "history"
                scores[name] += extra
        mentioned_columns: dict[str, set[str]] = {}
        top_lexical = max(scores.values(), default=0.0)
        for table, column in value_tables:
            if table in scores:
                # A named value is strong evidence: it ranks its table with the best lexical match.
                if scores[table] == 0:
                    reasons[table] = "value"
                scores[table] += max(top_lexical, 4.0)
                mentioned_columns.setdefault(table, set()).add(column)
        ranked = sorted(
            (n for n in scores if scores[n] > 0),
            key=lambda n: (-scores[n], -self._model(n).priority, n),
        )
        if ranked:
            # Keep tables that score at least a third of the best one: the long tail is noise.
            best = scores[ranked[0]]
            ranked = [n for n in ranked if scores[n] >= best / 3]
        else:  # nothing matched (small talk, a vague question): a few central tables to suggest from
            ranked = sorted(self.tables, key=lambda n: (-self._model(n).priority, -self.tables[n].rows, n))
            max_tables = min(max_tables, 3)
        chosen = ranked[:max_tables]
        linked: list[LinkedTable] = []
        neighbours = self._neighbours(chosen, words, question)
        for rank, (name, reason) in enumerate([(n, reasons.get(n, "score")) for n in chosen] + neighbours):
            # Tables pulled in only to join or to name rows show just their keys and names; tables below
            # the best two show fewer columns.
            detail = "brief" if reason in ("bridge", "reference") else ("full" if rank < 2 else "short")
            columns = self._columns(name, words, mentioned_columns.get(name, set()), detail=detail)
            linked.append(LinkedTable(name, round(scores.get(name, 0.0), 2), columns, reason))
        names = {t.name for t in linked}
        shown = {t.name: set(t.columns) for t in linked}
        joins = [
            (f"{a}.{ac}", f"{b}.{bc}")
            for a, ac, b, bc in self.edges
            if a in names and b in names and ac in shown[a] and bc in shown[b]
        ]
        # Only the measures the question (or the last question) speaks of: each costs a line of prompt.
        said = set(words) | (set(tokens(history[-1])) if history else set())
        measures = [
            m
            for m, measure in self.semantic.measures.items()
            if measure.table in names and said & self._measure_words(m)
        ]
        return LinkedSchema(tables=linked, joins=joins, measures=measures)

    def _measure_words(self, name: str) -> set[str]:
        measure = self.semantic.measures[name]
        out = set(tokens(name))
        for synonym in measure.synonyms:
            out.update(tokens(synonym))
        return out

    def _score(self, name: str, words: Sequence[str]) -> float:
        """Each question word counts once per table: most in a table name, synonym or measure, less in a
        column name, least in a description; weighted by how rare the word is across tables."""
        terms = self.terms[name]
        score = 0.0
        for word in set(words):
            idf = self.idf.get(word, 0.0)
            if word in terms.strong:
                score += 2.0 * idf
            elif any(word in cols for cols in terms.columns.values()):
                score += 1.0 * idf
            elif word in terms.weak:
                score += 0.3 * idf
        return score

    def _neighbours(self, chosen: list[str], words: Sequence[str], question: str) -> list[tuple[str, str]]:
        """Tables that join two chosen tables ("bridge"), then the name tables the best-ranked tables'
        keys point at when the question hints at them ("reference"), at most MAX_NEIGHBOURS."""
        asks_who = re.search(r"\bwho(m|se)?\b", question, re.IGNORECASE) is not None
        adjacent: dict[str, set[str]] = {}
        for a, _, b, _ in self.edges:
            adjacent.setdefault(a, set()).add(b)
            adjacent.setdefault(b, set()).add(a)
        taken = set(chosen)
        added: list[tuple[str, str]] = []
        top = chosen[:3]  # bridges only between the best tables: each one costs prompt size
        for i, a in enumerate(top):
            for b in top[i + 1 :]:
                near_a, near_b = adjacent.get(a, set()), adjacent.get(b, set())
                if b in near_a or (near_a & near_b & taken):
                    continue  # already joined directly or through a linked table
                shared = sorted((near_a & near_b) - taken)
                if shared:
                    bridge = max(
                        shared, key=lambda n: (self._model(n).priority, -len(self.tables[n].columns))
                    )
                    added.append((bridge, "bridge"))
                    taken.add(bridge)
        # The three best tables' keys: the referenced table is needed to say names instead of ids.
        for a, _, b, _ in self.edges:
            model = self._model(b)
            # Wanted when the question names the table itself ("which team") or asks "who" of people.
            wanted = bool(self.terms[b].strong & set(words)) or (asks_who and model.person)
            if a in chosen[:3] and b not in taken and model.entity and wanted:
                added.append((b, "reference"))
                taken.add(b)
        return added[:MAX_NEIGHBOURS]

    def _columns(
        self, name: str, words: Sequence[str], mentioned: set[str], *, detail: str = "full"
    ) -> list[str]:
        """The columns shown: all of a narrow table; of a wide one keys, names and mentioned ones first."""
        table = self.tables[name]
        wide, keep_at_most = (
            (WIDE_TABLE, WIDE_KEEP) if detail == "full" else (WIDE_TABLE // 2, WIDE_KEEP // 2)
        )
        brief = detail == "brief"
        if len(table.columns) <= wide and not brief:
            return table.column_names
        model = self._model(name)
        fk_cols = {e[1] for e in self.edges if e[0] == name}
        word_set = set(words)
        keep: list[str] = []

        def important(col: Column) -> int:
            cm = model.columns.get(col.name)
            role = cm.role if cm else ""
            if col.name in mentioned or (self.terms[name].columns.get(col.name, set()) & word_set):
                return 0
            if (
                col.primary_key
                or col.name in table.primary_key
                or col.name in model.entity
                or col.name == "id"
            ):
                return 1
            if role == "name" or col.name in fk_cols or col.name in ("year", "season", "date"):
                return 2
            if cm is not None and cm.description:  # described by hand: someone thought it matters
                return 3
            if role in ("measure", "rank", "flag"):
                return 4
            return 5

        ranked = sorted(table.columns, key=lambda c: (important(c), table.columns.index(c)))
        for col in ranked:
            tier = important(col)
            if tier <= 1 or (not brief and (tier <= 2 or len(keep) < keep_at_most)):
                keep.append(col.name)
        order = {c: i for i, c in enumerate(table.column_names)}
        return sorted(keep, key=order.__getitem__)


# -- rendering ---------------------------------------------------------------------------------------------


def render_schema(linked: LinkedSchema, catalog: Catalog, semantic: SemanticModel | None = None) -> str:
    """The linked part of the schema as compact text for a prompt."""
    semantic = semantic or SemanticModel()
    lines: list[str] = []
    for lt in linked.tables:
        table = catalog.tables[lt.name]
        model = semantic.tables.get(lt.name) or TableModel()
        head = f"Table {lt.name} ({table.rows:,} rows)"
        if model.description:
            head += f": {model.description}"
        extras = []
        if model.synonyms:
            extras.append("also called " + ", ".join(model.synonyms[:4]))
        if model.entity:
            extras.append("rows are named by " + ", ".join(model.entity))
        if model.default_filter:
            extras.append(f"usually filtered by {model.default_filter}")
        if extras:
            head += f" [{'; '.join(extras)}]"
        lines.append(head)
        hidden = len(table.columns) - len(lt.columns)
        for name in lt.columns:
            col = table.column(name)
            if col is None:
                continue
            lines.append("  " + _column_line(col, model, table))
        if hidden > 0:
            lines.append(f"  ... {hidden} more columns not relevant here")
    if linked.joins:
        lines.append("Joins:")
        lines += [f"  {a} = {b}" for a, b in linked.joins]
    if linked.measures:
        lines.append("Measures (how to count what people ask for):")
        for name in linked.measures:
            m = semantic.measures[name]
            what = "COUNT(*)" if m.aggregate == "count" else f"{m.aggregate.upper()}({m.column})"
            where = f" WHERE {m.filter}" if m.filter else ""
            desc = f" — {m.description}" if m.description else ""
            lines.append(f"  {name}: {what} FROM {m.table}{where}{desc}")
    return "\n".join(lines)


def _column_line(col: Column, model: TableModel, table: Table) -> str:
    cm = model.columns.get(col.name)
    parts = [f"{col.name} {col.type.upper()}"]
    if col.primary_key or col.name in table.primary_key:
        parts.append("primary key")
    fk = next((fk for fk in table.foreign_keys if fk.column == col.name), None)
    if fk is not None:
        parts.append(f"-> {fk.ref_table}.{fk.ref_column}")
    if cm is not None and cm.description:
        parts.append(f"— {cm.description}")
    if cm is not None and cm.synonyms:
        said = [s for s in cm.synonyms if s.replace(" ", "_") != col.name][:3]
        if said:
            parts.append("(" + ", ".join(said) + ")")
    sample = _sample(col)
    if sample:
        parts.append(f"e.g. {sample}")
    return " ".join(parts)


def _sample(col: Column) -> str:
    """Example values only where they teach the model something: the spelling of text and keys."""
    if not col.is_text:
        return ""
    if col.distinct is not None and 0 < len(col.distinct) <= 8:
        return "one of " + ", ".join(repr(v) for v in col.distinct)
    values: list[Any] = list(dict.fromkeys(v for v in col.samples if v is not None))[:2]
    return ", ".join(repr(v)[:40] for v in values)
