"""Names a question writes that the data does not know: a capitalised word ("the UK", "Narnia") that no
value, year or slot of the parsed question took and that is no word of the semantic model. Dropped, it
would leave a broader question than the one asked ("How many races were held in the UK?" would count every
race), so the engine refuses instead and says which word it did not recognise.

Capitals only count where the writer uses case: not on a sentence's first word, and not at all in a
question written in capitals or in Title Case. A word that continues a linked name ("Denver Intl") narrows
that name and is not refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from datavox.brain.frame import Frame
from datavox.brain.parse import FUNCTION_WORDS
from datavox.brain.text import fold, lemma
from datavox.brain.vocab import Vocabulary
from datavox.data.semantic import SemanticModel

_WORD = re.compile(r"[^\W\d_]+")
# A sentence starts at the question's start and after these (a capital there says nothing).
_SENTENCE_END = '.?!:;"“'


def unlinked_names(question: str, frame: Frame, known: Callable[[str], bool]) -> list[str]:
    """The capitalised words of `question` (as written, in order) that `frame` left free and that
    `known(folded_word)` does not recognise as a word of the data."""
    words = list(_WORD.finditer(question))
    # Case says something only where some word after the first is written in lower case.
    if not any(m.group().islower() for m in words[1:]):
        return []
    capitalised = {fold(m.group()) for m in words if m.group()[0].isupper()}
    free = {t.text for t in frame.free}
    unknown: dict[str, str] = {}  # folded → as written
    for m in words:
        word, folded = m.group(), fold(m.group())
        if not word[0].isupper() or _starts_sentence(question, m.start()):
            continue
        if folded in free and folded not in FUNCTION_WORDS and not known(folded):
            unknown.setdefault(folded, word)
    # "Denver Intl", "Chicago Midway": the data's value linked the name's head; the rest of the name
    # narrows it, it is not a second name. Only a word that continues no linked name is refused.
    toks = frame.toks
    spans = [g[0].span for g in frame.values if g]
    linked = [any(s[0] <= t.start and t.end <= s[1] for s in spans) for t in toks]
    continuing: set[str] = set()
    for i, tok in enumerate(toks):
        if tok.text not in unknown:
            continue
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(toks) and toks[j].text in unknown:
                j += step
            if 0 <= j < len(toks) and linked[j] and toks[j].text in capitalised:
                continuing.add(tok.text)
    return [word for folded, word in unknown.items() if folded not in continuing]


class ModelWords:
    """The semantic model's words and the words of the data's values, to tell words the data has written
    with a capital ("Grands Prix", "GPs", "Formula" of "Formula One Team") from names the data lacks."""

    def __init__(self, data_words: Iterable[str], vocab: Vocabulary, model: SemanticModel) -> None:
        sets = [
            *vocab.tables.values(),
            *vocab.columns.values(),
            *vocab.measures.values(),
            *vocab.doers.values(),
        ]
        self.lemmas = set(data_words) | {w for group in sets for syn in group for w in syn}
        phrases = [s for tm in model.tables.values() for s in tm.synonyms]
        phrases += [s for tm in model.tables.values() for cm in tm.columns.values() for s in cm.synonyms]
        phrases += [s for m in model.measures.values() for s in (*m.synonyms, *m.doers)]
        # Initials of the model's phrases of two or more words: "GP" for "grand prix".
        self.initials = {"".join(w[0] for w in fold(p).split()) for p in phrases if len(fold(p).split()) > 1}

    def knows(self, word: str) -> bool:
        """Whether a folded word is a word of the model, or the initials of one of its phrases ("GPs")."""
        if lemma(word) in self.lemmas or word in self.initials:
            return True
        return len(word) > 2 and word.endswith("s") and word[:-1] in self.initials


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in _SENTENCE_END
