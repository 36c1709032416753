"""What the question asks for, in the semantic model's words: the noun after the question word ("which team",
"how many drivers"), the column a superlative ranks by ("heaviest" → body mass), and the noun counted."""

from __future__ import annotations

from datavox.brain.frame import Frame
from datavox.brain.table_facts import TableFacts
from datavox.brain.text import Token, lemma
from datavox.brain.vocab import MAX_SAID, MIN_SAID, words_of


def hint_words(facts: TableFacts, frame: Frame, words: set[str]) -> frozenset[str]:
    """The words of the column a superlative ranks by ("heaviest" → "body mass", "hottest" → "temp max"),
    when the question names no such column itself: the property's noun is the column's head word, or the
    rest of the column's words say the superlative's direction ("max" for "hottest")."""
    if not frame.hints:
        return frozenset()
    direction = MAX_SAID if frame.order == "max" else MIN_SAID
    ranked = []
    for (t, c), sets in facts.vocab.columns.items():
        col = facts.catalog.tables[t].column(c)
        if facts.role(t, c) in ("measure", "dimension") and col is not None and col.is_numeric:
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


def asked_nouns(
    facts: TableFacts,
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
                window = words_from(frame, j + 1)
                break
    # "What is the nationality of Kimi Räikkönen?": after "of" only a name, so the noun is before it.
    window = window or words_from(frame, start)
    if not window:
        return []
    near = {t.lemma for t in window[:2]}
    # The head noun may follow adjectives ("the most expensive product"): any of the first words.
    heads = [t.lemma for t in window[:3]]
    found: list[tuple[float, str, str | None, frozenset[str]]] = []
    # "How many world champions": the doers of a measure are rows of its subject table.
    for mname, sets in facts.vocab.doers.items():
        for syn in sets:
            if heads[0] in syn and syn <= near:
                found.append((len(syn) * 10 + 6, facts.model.measures[mname].subject, None, syn))
    # "How many podiums", "how many constructors' championships": the noun is a measure, not rows.
    measure_len = 0
    if frame.qword == "how_many":
        # A measure's longer name said in full ("driver of the day awards") is the noun too, even
        # where a function word splits it.
        free = frame.free_lemmas
        measure_sets = [syn for sets in facts.vocab.measures.values() for syn in sets]
        for (t, c), sets in facts.vocab.columns.items():
            if facts.role(t, c) == "measure":
                measure_sets += sets
        measure_len = max(
            (
                len(syn)
                for syn in measure_sets
                if heads[0] in syn and (syn <= near or (len(syn) >= 3 and syn <= free))
            ),
            default=0,
        )
    for t, sets in facts.vocab.tables.items():
        if not facts.tm(t).entity:
            continue  # rows without names (results, standings) are facts, never the answer's names
        for syn in sets:
            if syn <= near and len(syn) > measure_len:
                first_bonus = 5 if heads[0] in syn else 0
                found.append((len(syn) * 10 + first_bonus + facts.tm(t).priority, t, None, syn))
    if frame.qword == "how_many" and not found:
        # "How many countries are there?" with no table of countries: the distinct values of a column.
        for (t, c), sets in facts.vocab.columns.items():
            if facts.role(t, c) in ("dimension", "name"):
                for syn in sets:
                    if heads[0] in syn and syn <= near and len(syn) > measure_len:
                        found.append((len(syn) * 10 - 5, t, c, syn))
    if frame.qword in ("which", "what"):
        for (t, c), sets in facts.vocab.columns.items():
            if facts.role(t, c) not in ("time", "dimension", "name"):
                continue
            for syn in sets:
                if heads[0] in syn and syn <= near:
                    found.append((len(syn) * 10 - 5, t, c, syn))
    found.sort(key=lambda f: (-f[0], f[1], f[2] or ""))
    return [(t, c, syn) for _, t, c, syn in found]


def words_from(frame: Frame, start: int) -> list[Token]:
    """Consecutive content words from `start` (articles and other function words before them skipped)."""
    window: list[Token] = []
    for tok in frame.toks[start : start + 8]:
        if tok in frame.content:
            window.append(tok)
        elif window:
            break
    return window


_ORDER_WORDS = frozenset(
    {"most", "least", "fewest", "highest", "lowest", "more", "fewer", "less", "biggest", "smallest"}
)


def counted_noun(frame: Frame) -> str:
    """The lemma of the noun counted or ranked: the word after "most" ("the most poles") or "how many"."""
    texts = [t.text for t in frame.toks]
    for i, word in enumerate(texts[:-1]):
        if word in _ORDER_WORDS and frame.order:
            return frame.toks[i + 1].lemma
    if frame.qword == "how_many" and frame.after_qword < len(frame.toks):
        return frame.toks[frame.after_qword].lemma
    return ""
