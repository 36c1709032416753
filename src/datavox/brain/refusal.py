"""Honest refusals: what was understood of a question the engine cannot answer, and a question it can.

When no reading of a question fits the data, the answer says which parts it did recognise (the names, the
years, the data's own words such as "pole positions") and suggests one question that is built from this
data's words, preferably about the same names, and that the engine has answered: each candidate is parsed,
planned, built and run before it is offered, so the suggestion never leads to another refusal. Table names
("f1db chassis") are never suggested as such: the model's words for them are.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from datavox.brain.english import is_verb
from datavox.brain.frame import Frame
from datavox.brain.parse import parse
from datavox.brain.sqlbuild import Builder
from datavox.data.semantic import TableModel

if TYPE_CHECKING:
    from datavox.brain.offline import OfflineEngine

MAX_TRIES = 8  # candidates checked per refusal: each costs a parse, a plan and a small query


def understood(engine: OfflineEngine, frame: Frame) -> str:
    """The parts of the question the engine recognised, as words: 'Lewis Hamilton, 2020 and "podiums"'."""
    parts: list[str] = []
    for group in frame.values:
        if group and group[0].score >= 0.9 and (group[0].said or group[0].value) not in parts:
            parts.append(group[0].said or group[0].value)
    if frame.years is not None and frame.years.describe():
        parts.append(frame.years.describe())
    lemmas = frame.content_lemmas
    said: list[str] = []
    for sets in [*engine.planner.vocab.measures.values(), *engine.planner.vocab.columns.values()]:
        for syn in sets:
            phrase = " ".join(sorted(syn))
            if syn and syn <= lemmas and len(syn) >= 1 and phrase not in said:
                said.append(phrase)
    parts += [f'"{p}"' for p in sorted(said, key=len, reverse=True)[:2]]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def noun(tm: TableModel, table: str) -> str:
    """The plural people say for a table's rows: its first words (the name's own forms come first; other
    words such as WordNet synonyms follow them)."""
    words = [s for s in tm.synonyms[:2] if s] or [table.replace("_", " ")]
    return next((w for w in words if w.endswith("s")), words[-1])


def candidates(engine: OfflineEngine, frame: Frame) -> Iterator[str]:
    """Questions in this data's words, those about the names just said first."""
    model = engine.model
    named = [g[0] for g in frame.values if g and g[0].score >= 0.9]
    for vm in named:
        tm = model.tables.get(vm.table) or TableModel()
        # Totals the named row carries ("How many race wins does Lewis Hamilton have?").
        # Counted totals first (`total_race_wins`: its shorter words "race wins" are listed last).
        totals = sorted(
            (c for c, cm in tm.columns.items() if cm.role == "measure" and cm.synonyms),
            key=lambda c: not c.lower().startswith(("total", "num", "count")),
        )
        for c in totals:
            words = [w for w in tm.columns[c].synonyms if _countable(w)]
            if words:
                yield f"How many {words[-1]} does {vm.said or vm.value} have?"
        for measure in model.measures.values():
            words = [w for w in measure.synonyms if _countable(w)]
            if measure.subject == vm.table and words:
                phrase = next((w for w in words if " " in w), words[0])
                yield f"How many {phrase} does {vm.said or vm.value} have?"
    for tname, tm in model.tables.items():
        if tm.exposed and tm.entity and tname in engine.catalog.tables:
            yield f"How many {noun(tm, tname)} are there?"


def _countable(phrase: str) -> bool:
    """A phrase that can follow "How many" and stand before "does X have": it ends in a noun ("race wins"),
    not a participle ("times held" would say "How many times held does ... have?")."""
    last = phrase.split()[-1] if phrase.split() else ""
    return bool(last) and not is_verb(last, present=False)


def suggestion(engine: OfflineEngine, frame: Frame, works: Callable[[str], bool]) -> str:
    """The first candidate the engine really answers, or ""."""
    for tries, question in enumerate(candidates(engine, frame)):
        if tries >= MAX_TRIES:
            break
        if works(question):
            return question
    return ""


# Candidates already checked, per engine (its data is fixed for its life); gone with the engine.
_CHECKED: weakref.WeakKeyDictionary[OfflineEngine, dict[str, bool]] = weakref.WeakKeyDictionary()
MAX_CHECKED = 1024


def answers(engine: OfflineEngine, question: str) -> bool:
    """Whether the engine answers `question` on its own (no conversation) with at least one value;
    remembered per engine, so a refusal costs a few dictionary look-ups after the first."""
    seen = _CHECKED.setdefault(engine, {})
    if question not in seen:
        if len(seen) > MAX_CHECKED:
            seen.clear()
        seen[question] = _answers(engine, question)
    return seen[question]


def _answers(engine: OfflineEngine, question: str) -> bool:
    frame = parse(question, engine.index, engine.model.noise)
    reading = engine.planner.read(frame)
    if reading is None:
        return False
    try:
        sql, _ = Builder(engine.planner, engine.dialect).build(frame, reading)
        result = engine.run(sql)
    except Exception:  # a candidate that cannot be written or run is simply not offered
        return False
    return bool(result.rows) and any(v not in (None, 0, "") for v in result.rows[0])


def refusal_text(engine: OfflineEngine, frame: Frame | None, unknown: Sequence[str] = ()) -> str:
    """What was recognised, the names not found in the data (`unknown`), and a question that works."""
    got = understood(engine, frame) if frame is not None else ""
    hint = suggestion(engine, frame, lambda q: answers(engine, q)) if frame is not None else ""
    if not hint:
        hint = next((q for q in engine.examples if answers(engine, q)), "")
    missing = " or ".join(f'"{w}"' for w in unknown)
    if missing:
        # "Not recognised", not "not in the data": the value index leaves out some columns (codes, long
        # names), so the word may be there unlinked.
        head = (
            f"I recognised {got}, but not {missing}, so I can't answer that from this data."
            if got
            else f"I didn't recognise {missing} in this data, so I can't answer that."
        )
    elif got:
        head = f"I recognised {got}, but I didn't understand how to answer that from this data."
    else:
        head = "Sorry, I didn't understand that question about the data."
    return f'{head} You could ask, for example: "{hint}"' if hint else head


def example_questions(engine: OfflineEngine, n: int = 4) -> list[str]:
    """Questions to suggest on a model that lists none ("what can I ask?"), in the data's words and each
    answered by the engine first: the things most tables point at, their largest totals, their counts."""
    model, catalog = engine.model, engine.catalog
    pointed: dict[str, int] = {}
    for rel in model.relationships:
        pointed[rel.to_table] = pointed.get(rel.to_table, 0) + 1
    named = [t for t, tm in model.tables.items() if tm.exposed and tm.entity and t in catalog.tables]
    named.sort(key=lambda t: (not model.tables[t].person, -pointed.get(t, 0), t))
    candidates: list[str] = []
    for t in named[:4]:
        tm = model.tables[t]
        plural = noun(tm, t)
        single = next((w for w in tm.synonyms[:2] if not w.endswith("s")), plural)
        totals = [c for c, cm in tm.columns.items() if cm.role == "measure" and cm.synonyms]
        totals.sort(key=lambda c: not c.lower().startswith(("total", "num", "count")))
        if totals:
            candidates.append(f"Which {single} has the most {tm.columns[totals[0]].synonyms[-1]}?")
        candidates.append(f"How many {plural} are there?")
    # Tables of facts without names (a single imported CSV): their count, a dimension's largest group and
    # a measure's average.
    facts = [t for t, tm in model.tables.items() if tm.exposed and not tm.entity and t in catalog.tables]
    facts.sort(key=lambda t: -catalog.tables[t].rows)
    for t in facts[:2]:
        tm = model.tables[t]
        plural = noun(tm, t)
        candidates.append(f"How many {plural} are there?")
        for c in catalog.tables[t].columns:
            cm = tm.columns.get(c.name)
            if cm is None or (not cm.synonyms and "_" in c.name):
                continue
            said = min(cm.synonyms or [c.name], key=len)  # "bill length", not "bill length mm"
            if cm.role == "dimension" and c.distinct and 1 < len(c.distinct) <= 20:
                candidates.append(f"Which {said} has the most {plural}?")
            elif cm.role == "measure":
                candidates.append(f"What is the average {said}?")
    out: list[str] = []
    for question in candidates:
        if len(out) >= n:
            break
        if answers(engine, question):
            out.append(question)
    return out
