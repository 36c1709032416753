"""A spoken question as slots: question word, linked values, years, ordinals, superlatives, references.

Nothing here knows any dataset: words about the data are matched later against the semantic model
(`plan.py`); this module only reads the grammar of questions people ask about tables.
"""

from __future__ import annotations

from datavox.brain import degree, nameparts, slots_answer, slots_numbers, slots_question
from datavox.brain.frame import Frame
from datavox.brain.linking import ValueIndex, ValueMatch
from datavox.brain.question_text import clean_text, code_words, lower_words
from datavox.brain.text import tokens

# Function words: they carry the grammar, never a reference to a table or a column.
FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with and or but be do have how many much what which who whom
    whose where when why it its he she they them his her hers their theirs this that these those there
    than then me my i you your we our us all any each every ever most least more less fewest highest
    lowest biggest largest smallest greatest top number count total average mean sum list show tell give
    name please about between during before after since until till up down over into out as per vs
    versus against not no yes so if also just can could would will shall should may might get make go s
    t 's very only one same ok okay alltime whole overall
    different distinct unique individual separate among amongst across recorded observed measured logged
    registered""".split()  # noqa: SIM905
)


def parse(question: str, index: ValueIndex | None, noise: list[str] | tuple[str, ...] = ()) -> Frame:
    text = clean_text(question, noise)
    toks = tokens(text)
    frame = Frame(question=question, text=text, toks=toks)
    words = [t.text for t in toks]
    used: set[int] = set()

    slots_question.question_word(frame, words, used)
    slots_numbers.read_years(frame, words, used)
    # Values before the other slots, so "Max Verstappen" is a name, not "max".
    if index is not None:
        skip = [(toks[i].start, toks[i].end) for i in used]
        groups: dict[tuple[int, int], list[ValueMatch]] = {}
        for m in index.match_tokens(toks, skip=skip, lower=lower_words(question), codes=code_words(question)):
            groups.setdefault(m.span, []).append(m)
        frame.values = [groups[s] for s in sorted(groups)]
        for span in groups:
            used.update(i for i, t in enumerate(toks) if t.start >= span[0] and t.end <= span[1])
    slots_answer.excluded(frame, used)
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    slots_numbers.threshold(frame, masked, used)
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    degree.mode(frame, masked, used)
    degree.superlative(frame, masked, used)
    frame.name_parts = nameparts.mark(masked, used)  # "first names": a column, not an order
    masked = [w if i not in used else "" for i, w in enumerate(words)]
    slots_numbers.ordinals_and_order(frame, masked, used)
    if frame.direction and frame.agg in ("avg", "sum") and not frame.top_n and not frame.ranked:
        frame.order = ""  # "the average maximum temperature": an average of the maximum column, no ranking
    slots_question.references(frame, masked, used)
    slots_answer.per(frame, masked, used)
    slots_answer.which_year(frame, words, used)
    slots_answer.single(frame, masked, used)
    frame.compare = slots_answer.is_comparison(frame, words, index)
    slots_answer.alphabetical(frame, words, used)
    frame.free = [t for i, t in enumerate(toks) if i not in used and not t.text.isdigit()]
    frame.content = [t for t in frame.free if t.text not in FUNCTION_WORDS]
    slots_answer.projection(frame, words)
    if frame.qword == "where":
        ranked = {"finish", "come", "place", "end", "rank", "classify", "qualify", "start", "position"}
        frame.where_place = not any(t.lemma in ranked for t in toks)
    frame.content = [t for t in frame.content if t.lemma not in FUNCTION_WORDS]
    return frame
