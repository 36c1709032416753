"""The semantic model's words as bags of lemmas, which the planner matches the question's words against.

Table, column and measure synonyms are expanded (abbreviations said in full, units left out, `max`/`min`
said as words) and each phrase becomes a set of lemmas; `covered` says which of a question's words a phrase
explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datavox.brain.frame import Frame
from datavox.brain.text import fold, lemma
from datavox.data.names import identifier
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel, TableModel, words

_PHRASE_ROLES = ("measure", "rank", "time", "dimension", "name", "flag", "")
_ARTICLES = frozenset({"the", "a", "an", "s"})


def phrase_lemmas(phrase: str) -> frozenset[str]:
    """A synonym's words; they must all occur in the question (function words too: "drove for")."""
    return frozenset(lemma(w) for w in fold(phrase).split() if w not in _ARTICLES)


@dataclass
class Vocabulary:
    """The semantic model's words as lemma sets: per measure, per column and per table."""

    measures: dict[str, list[frozenset[str]]] = field(default_factory=dict)
    doers: dict[str, list[frozenset[str]]] = field(default_factory=dict)
    columns: dict[tuple[str, str], list[frozenset[str]]] = field(default_factory=dict)
    tables: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def build(cls, catalog: Catalog, model: SemanticModel) -> Vocabulary:
        vocab = cls()
        for name, m in model.measures.items():
            if m.table in catalog.tables:
                vocab.measures[name] = _sets([*(m.synonyms or [words(identifier(name))]), *m.doers])
                if m.doers and m.subject in catalog.tables:
                    vocab.doers[name] = _sets(m.doers)
        for tname, table in catalog.tables.items():
            tm = model.tables.get(tname) or TableModel()
            if not tm.exposed:
                continue
            # A table's own name counts only when the model gives it no words (grands_prix ≠ "grands prix").
            vocab.tables[tname] = _sets(tm.synonyms or [words(identifier(tname))])
            for col in table.columns:
                cm = tm.columns.get(col.name)
                role = cm.role if cm is not None else ""
                if role == "identifier" or (cm is not None and not cm.exposed) or role not in _PHRASE_ROLES:
                    continue
                names = (cm.synonyms if cm else []) or [words(identifier(col.name))]
                names = [*names, *_without_units(names)]
                names = [*names, *_expanded(names)]
                if col.is_temporal and role == "time":
                    names = [*names, "day", "date"]  # the rows of a table of days: "how many rainy days"
                vocab.columns[(tname, col.name)] = _sets(names)
        return vocab


# Units that column names end with ("body_mass_g", "length_km"): said without them ("the body mass").
_UNITS = frozenset(
    "mm cm km g kg mg lb lbs oz ms sec secs hr hrs pct usd eur gbp kwh mph kmh kph".split()  # noqa: SIM905
)


MAX_SAID = frozenset({"max", "maximum", "high", "highest", "top", "peak"})
MIN_SAID = frozenset({"min", "minimum", "low", "lowest"})


def words_of(column: str) -> list[str]:
    """A column's name as words, its unit left out: "body_mass_g" → ["body", "mass"]."""
    parts = fold(words(identifier(column))).split()
    return parts[:-1] if len(parts) > 1 and parts[-1] in _UNITS else parts


# Abbreviations in column names, said in full ("temp_max" → "maximum temperature").
_ABBREVIATIONS = {
    "temp": "temperature", "max": "maximum", "min": "minimum", "avg": "average", "qty": "quantity",
    "amt": "amount", "num": "number", "pct": "percent", "dept": "department", "desc": "description",
    "yr": "year", "precip": "precipitation", "pop": "population", "pos": "position", "pts": "points",
}  # fmt: skip
_DIRECTIONS = frozenset({"max", "maximum", "min", "minimum"})


def _expanded(phrases: list[str]) -> list[str]:
    """The phrase with its abbreviations in full, and that without a maximum/minimum word (which the
    question's own "maximum" says: the parser reads it as a direction, see `Frame.direction`)."""
    out = []
    for p in phrases:
        parts = fold(p).split()
        full = [_ABBREVIATIONS.get(w, w) for w in parts]
        if full != parts:
            out.append(" ".join(full))
        bare = [w for w in full if w not in _DIRECTIONS]
        if bare and len(bare) < len(full):
            out.append(" ".join(bare))
    return out


def _without_units(phrases: list[str]) -> list[str]:
    out = []
    for p in phrases:
        parts = fold(p).split()
        if len(parts) > 1 and parts[-1] in _UNITS:
            out.append(" ".join(parts[:-1]))
    return out


def _sets(phrases: list[str]) -> list[frozenset[str]]:
    out = []
    for p in phrases:
        s = phrase_lemmas(p)
        if s and s not in out:
            out.append(s)
    return out


def unexplained_words(frame: Frame, explained: set[str]) -> list[str]:
    return [t.text for t in frame.content if t.lemma not in explained]


def covered(
    options: list[frozenset[str]], words: set[str], content: set[str] | None = None
) -> frozenset[str]:
    """The content words explained by every synonym whose words all occur in the question."""
    hit: set[str] = set()
    for s in options:
        if s <= words:
            hit |= s
    return frozenset(hit & content) if content is not None else frozenset(hit)
