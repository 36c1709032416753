"""Value linking: which database values a question names ("Hamilton", "the Monaco Grand Prix", "Räikkönen").

The index holds the distinct values of the columns people name things by (entity-name columns of the
semantic model, and other text columns with few, word-like values). A question's n-grams are looked up
exactly (accent-insensitive), as parts of longer values ("Hamilton" → "Lewis Hamilton"), and fuzzily with
rapidfuzz for misspellings and transcription slips. When one spoken name fits several rows ("Schumacher"),
the table's prominence column (career starts, say) picks the one most people mean.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from datavox.brain import fullnames
from datavox.brain.text import Token, fold, lemma, tokens
from datavox.data import wordlist
from datavox.data.names import identifier
from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel, words

MAX_NGRAM = 5
MAX_VALUES_PER_COLUMN = 3000
# A part of a value ("grand prix") shared by more values than this names none of them.
MAX_PARTIAL_SHARE = 4
FUZZY_CUTOFF = 88.0

STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been did do does done has
    have had how many much what which who whom whose where when why it its he she they them his her
    their this that these those there than then me my i you your we our us all any each every most least
    more less first last best worst top most ever total number count average list show tell give name
    please about between during before after since until up down over under into out as per vs versus
    against not no yes so if also just year years season seasons time times one two three among amongst
    across""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class ValueMatch:
    table: str
    column: str
    value: str
    score: float  # 0..1
    span: tuple[int, int]  # character offsets in the folded question
    text: str = ""  # the words of the question that matched
    prominence: float = 0.0
    said: str = ""  # how to say the value when it is no name itself (a person's key: "Lewis Hamilton")


Fetch = Callable[[str], list[list[object]]]


class ValueIndex:
    """Distinct values of linkable columns, looked up by n-grams of a question."""

    def __init__(self, catalog: Catalog, model: SemanticModel, *, fetch: Fetch | None = None) -> None:
        # folded value -> [(table, column, value)]
        self.exact: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        # folded part of a value -> [(table, column, value, share of the value's words)]
        self.partial: dict[str, list[tuple[str, str, str, float]]] = defaultdict(list)
        self.prominence: dict[tuple[str, str, str], float] = {}
        self.said: dict[tuple[str, str, str], str] = {}
        self.columns: list[tuple[str, str]] = []
        self.entity_columns = {(t, c) for t, tm in model.tables.items() for c in tm.entity}
        self.vocabulary: set[str] = _vocabulary(model)
        self.common = wordlist.common_words()
        self.column_phrases = _column_phrases(catalog, model)
        for table_name, column_name in linkable_columns(catalog, model):
            col = catalog.tables[table_name].column(column_name)
            if col is None or col.distinct is None:
                continue
            self.columns.append((table_name, column_name))
            for value in col.distinct[:MAX_VALUES_PER_COLUMN]:
                self._add(table_name, column_name, value)
        self._prune_partials()
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}
        if fetch is not None:
            self._load_prominence(model, fetch)
            # "Lewis Hamilton" where the data has forename and surname: that one row, by its key.
            for key, table_name, column_name, value, said in fullnames.rows(catalog, fetch):
                if (table_name, column_name, value) not in self.exact[key]:
                    self.exact[key].append((table_name, column_name, value))
                    self.said[(table_name, column_name, value)] = said
        self._keys = list(self.exact)

    def _add(self, table: str, column: str, value: str) -> None:
        key = fold(value)
        if not key or key.isdigit():
            return
        self.exact[key].append((table, column, value))
        words = key.split()
        if len(words) < 2:
            return
        for n in range(1, len(words)):
            for i in range(len(words) - n + 1):
                part = words[i : i + n]
                if all(w in STOPWORDS or len(w) < 3 for w in part):
                    continue
                self.partial[" ".join(part)].append((table, column, value, n / len(words)))

    def _prune_partials(self) -> None:
        # Per column: "grand prix" is part of every Grand Prix name and names none of them, while "Prost"
        # is one driver even if a team and a chassis carry the name too.
        for key in list(self.partial):
            per_column: dict[tuple[str, str], int] = {}
            for t, c, _, _ in self.partial[key]:
                per_column[(t, c)] = per_column.get((t, c), 0) + 1
            kept = [e for e in self.partial[key] if per_column[(e[0], e[1])] <= MAX_PARTIAL_SHARE]
            if kept:
                self.partial[key] = kept
            else:
                del self.partial[key]

    def _load_prominence(self, model: SemanticModel, fetch: Fetch) -> None:
        for table, column in self.columns:
            tm = model.tables.get(table)
            if tm is None or not tm.prominence:
                continue
            try:
                rows = fetch(f"SELECT {column}, MAX({tm.prominence}) FROM {table} GROUP BY {column}")
            except Exception:  # a wrong prominence column must not stop the engine
                continue
            for value, weight in rows:
                if value is not None and isinstance(weight, int | float):
                    self.prominence[(table, column, str(value))] = float(weight)

    # -- lookup ----------------------------------------------------------------------------------------------
    def match(self, text: str) -> list[ValueMatch]:
        """Values the question names, best first; one span may carry several candidates (same span)."""
        folded = fold(text)
        return self.match_tokens(tokens(folded))

    def match_tokens(
        self,
        toks: list[Token],
        *,
        skip: Iterable[tuple[int, int]] = (),
        lower: frozenset[str] = frozenset(),
        codes: frozenset[str] = frozenset(),
    ) -> list[ValueMatch]:
        """`lower`: words the question writes in lower case only; an everyday word among them ("world" in
        "world champions") is no part of a name ("World Wide Racing"), though it still names a row whole.
        `codes`: short words written in capitals ("US"): looked up even when they are also stopwords."""
        # Every n-gram's candidates first, then the best spans greedily: an exact "Sebastian Vettel" must win
        # over a fuzzy "Sebastian Vettel get".
        grams: list[tuple[float, int, tuple[int, int], list[ValueMatch]]] = []
        for n in range(min(MAX_NGRAM, len(toks)), 0, -1):
            for i in range(len(toks) - n + 1):
                gram = toks[i : i + n]
                cands = self._lookup(gram, lower, codes)
                if cands:
                    best = max(c.score for c in cands)
                    grams.append((best, n, (gram[0].start, gram[-1].end), cands))
        grams.sort(key=lambda g: (-g[0], -g[1], g[2]))
        # "fastest lap speed" said whole names a column: its "speed" is not a driver called Speed.
        claimed: list[tuple[int, int]] = list(skip) + self._phrase_spans(toks)
        found: list[ValueMatch] = []
        for best, _, span, cands in grams:
            if any(span[0] < e and s < span[1] for s, e in claimed):
                continue
            keep = [c for c in cands if c.score >= best - 0.05]
            keep.sort(key=lambda c: (-c.score, -c.prominence))
            found.extend(keep)
            claimed.append(span)
        found.sort(key=lambda m: (m.span[0], -m.score))
        return found

    def _phrase_spans(self, toks: list[Token]) -> list[tuple[int, int]]:
        lemmas = [lemma(t.text) for t in toks]
        spans = []
        for phrase in self.column_phrases:
            n = len(phrase)
            for i in range(len(toks) - n + 1):
                if tuple(lemmas[i : i + n]) == phrase:
                    spans.append((toks[i].start, toks[i + n - 1].end))
        return spans

    def _lookup(
        self, gram: list[Token], lower: frozenset[str] = frozenset(), codes: frozenset[str] = frozenset()
    ) -> list[ValueMatch]:
        words = [t.text for t in gram]
        key = " ".join(words)
        span = (gram[0].start, gram[-1].end)
        code = len(words) == 1 and words[0] in codes  # "US" in "races held in the US"
        stop = all(w in STOPWORDS or w.isdigit() for w in words) and not code
        if stop or any(w.isdigit() for w in words[:1]):
            return []
        out: list[ValueMatch] = []
        if len(words) == 1 and key not in self.exact:
            base = _adjective_base(key)
            if base is not None and base in self.exact and not is_schema(base, self.vocabulary):
                # "rainy days", "sunny days": the value "rain", "sun" said as an adjective.
                return [self._vm(t, c, v, 0.95, span, key) for t, c, v in self.exact[base]]
        # A single word that is also a schema word ("race", "team") names a row only in an entity column.
        is_schema_word = len(words) == 1 and (lemma(words[0]) in self.vocabulary or len(words[0]) < 3)
        # Words that all describe the data ("grand prix", "race results") name no row by being part of one.
        schema_phrase = all(lemma(w) in self.vocabulary or w in STOPWORDS for w in words)
        if is_schema_word and len(words[0]) >= 3 and lower and words[0] in lower:
            # "which driver ..." written plainly where the question capitalises names: the table's word,
            # not a person called "Driver" (names are written with capitals).
            return []
        for table, column, value in self.exact.get(key, []):
            # Short codes ("UK") are names when the data writes them in capitals; "of" and "is" never are.
            code = len(words[0]) < 3 and value.isupper() and lemma(words[0]) not in self.vocabulary
            if is_schema_word and (table, column) not in self.entity_columns and not code:
                continue
            # A code ("GET", "SET") is written in capitals; "get" written plainly is the verb. Without
            # capitals anywhere in the question, only a code that is no everyday word counts ("lax").
            plainly = all(w in lower for w in words) if lower else key in self.common
            if value.isupper() and len(value) <= 4 and plainly:
                continue
            out.append(self._vm(table, column, value, 1.0, span, key))
        if out:
            return out
        if lower and all(w in STOPWORDS or (w in lower and w in self.common) for w in words):
            return out  # everyday words written plainly: a whole value at most, never part of one
        if not is_schema_word and not schema_phrase:
            for table, column, value, share in self.partial.get(key, []):
                out.append(self._vm(table, column, value, 0.8 + 0.15 * share, span, key))
            if out:
                return _best_per_column(out)
        fuzzy_ok = len(gram) <= 3 and len(key) >= 5 and not is_schema_word and not schema_phrase
        if fuzzy_ok and not any(w in STOPWORDS or lemma(w) in self.vocabulary for w in (words[0], words[-1])):
            hit = self._fuzzy(key)
            if hit is not None:
                for table, column, value in self.exact[hit[0]]:
                    out.append(self._vm(table, column, value, 0.75 * hit[1] / 100, span, key))
        return out

    def candidates(self, key: str, span: tuple[int, int] = (-1, -1)) -> list[ValueMatch]:
        """Every value a folded phrase can name: exact and partial, however they rank."""
        out = [self._vm(t, c, v, 1.0, span, key) for t, c, v in self.exact.get(key, [])]
        out += [
            self._vm(t, c, v, 0.8 + 0.15 * share, span, key) for t, c, v, share in self.partial.get(key, [])
        ]
        return _best_per_column(out) if out else out

    @property
    def keys(self) -> list[str]:
        """Every folded value the index knows."""
        return self._keys

    def spelling(self, key: str) -> str:
        """The data's spelling of a folded value ("british grand prix" → "British Grand Prix")."""
        return self.exact[key][0][2]

    def _fuzzy(self, key: str) -> tuple[str, float] | None:
        """The closest value to a misheard name; remembered, as spoken questions repeat their words."""
        if key not in self._fuzzy_cache:
            hit = process.extractOne(key, self._keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if len(self._fuzzy_cache) > 20000:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[key] = (hit[0], float(hit[1])) if hit is not None else None
        return self._fuzzy_cache[key]

    def _vm(
        self, table: str, column: str, value: str, score: float, span: tuple[int, int], key: str
    ) -> ValueMatch:
        found = (table, column, value)
        return ValueMatch(
            table, column, value, score, span, key, self.prominence.get(found, 0.0), self.said.get(found, "")
        )


def _best_per_column(matches: list[ValueMatch]) -> list[ValueMatch]:
    """Of several rows one part of a name fits, keep per column the most prominent (then the closest)."""
    best: dict[tuple[str, str], ValueMatch] = {}
    for m in matches:
        cur = best.get((m.table, m.column))
        if cur is None or (m.prominence, m.score) > (cur.prominence, cur.score):
            best[(m.table, m.column)] = m
    return list(best.values())


def linkable_columns(catalog: Catalog, model: SemanticModel) -> list[tuple[str, str]]:
    """Entity-name columns, and word-like text columns of few values the model does not exclude."""
    out: list[tuple[str, str]] = []
    for tname, table in catalog.tables.items():
        tm = model.tables.get(tname)
        if tm is not None and not tm.exposed:
            continue
        for col in table.columns:
            if col.distinct is None or not col.is_text:
                continue
            cm = tm.columns.get(col.name) if tm is not None else None
            if cm is not None and (cm.link is False or not cm.exposed):
                continue
            role = cm.role if cm is not None else ""
            is_entity = tm is not None and col.name in tm.entity
            if (
                is_entity
                or (cm is not None and cm.link)
                or (role in ("name", "dimension", "") and _wordy(col.distinct))
            ):
                out.append((tname, col.name))
    return out


def _wordy(values: list[str]) -> bool:
    sample = values[:200]
    if not sample:
        return False
    wordy = sum(1 for v in sample if sum(ch.isalpha() for ch in v) > len(v) / 2 and len(v) > 2)
    # Web addresses and e-mail addresses are letters too, but nobody says them as names.
    addresses = sum(1 for v in sample if "://" in v or v.startswith("www.") or ("@" in v and " " not in v))
    return wordy >= 0.8 * len(sample) and addresses < 0.5 * len(sample)


def _adjective_base(word: str) -> str | None:
    """ "rainy" → "rain", "sunny" → "sun", "foggy" → "fog": the noun of an adjective in -y."""
    if len(word) < 5 or not word.endswith("y") or word.endswith(("ay", "ey", "oy", "uy", "ly")):
        return None
    stem = word[:-1]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "ls":
        return stem[:-1]  # sunny → sun, foggy → fog
    return stem


def is_schema(word: str, vocabulary: set[str]) -> bool:
    return lemma(word) in vocabulary


def _vocabulary(model: SemanticModel) -> set[str]:
    """Lemmas of table, column and measure words: they describe the data, they rarely name a row."""
    vocab: set[str] = set()

    def add(phrase: str) -> None:
        vocab.update(lemma(w) for w in fold(phrase).split())

    for tname, tm in model.tables.items():
        add(words(identifier(tname)))
        for s in tm.synonyms:
            add(s)
        for cname, cm in tm.columns.items():
            add(words(identifier(cname)))
            for s in cm.synonyms:
                add(s)
    for mname, m in model.measures.items():
        add(mname)
        for s in m.synonyms:
            add(s)
    return vocab


def _column_phrases(catalog: Catalog, model: SemanticModel) -> set[tuple[str, ...]]:
    """Column names and synonyms of three words or more, as lemmas ("fastest lap speed"): said whole, they
    name the column, and none of their words is a value. Shorter ones ("last name") are too common to
    claim."""
    out: set[tuple[str, ...]] = set()
    for tname, table in catalog.tables.items():
        tm = model.tables.get(tname)
        for col in table.columns:
            cm = tm.columns.get(col.name) if tm is not None else None
            if cm is not None and cm.role == "identifier":
                continue
            for phrase in [words(col.name), *(cm.synonyms if cm is not None else [])]:
                lemmas = tuple(lemma(w) for w in fold(phrase).split())
                if len(lemmas) >= 3 and "id" not in lemmas:
                    out.add(lemmas)
    return out
