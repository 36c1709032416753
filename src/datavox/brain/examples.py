"""Verified question → SQL examples: a project-editable YAML file the LLM engine learns from.

    dialect: duckdb            # the dialect the SQL is written in (optional, default duckdb)
    examples:
      - question: How many world titles has Alain Prost won?
        sql: SELECT total_championship_wins AS titles FROM drivers WHERE id = 'alain-prost'

Which file: `settings.llm.examples_file`, else `<db stem>.examples.yaml` next to the database, else a file
shipped in `datavox/examples/` whose tables the database has (the F1DB demo). Examples whose tables the
database lacks are left out; SQL is translated with sqlglot when the database speaks another dialect. For
each question the few most similar examples go into the prompt (word overlap, rare words weigh more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from datavox.brain.schema_link import tokens
from datavox.config import Settings
from datavox.data.connect import parse_url
from datavox.data.schema import Catalog
from datavox.yamlfile import read_yaml

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "examples"


class ExamplesError(ValueError):
    """The examples file is not valid; the message says where."""


@dataclass(frozen=True)
class Example:
    question: str
    sql: str


class ExampleSet:
    """The examples usable on one database, with similarity search."""

    def __init__(self, examples: list[Example], source: str = "") -> None:
        self.examples = examples
        self.source = source
        self._tokens = [set(tokens(e.question)) for e in examples]
        df: dict[str, int] = {}
        for words in self._tokens:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = max(len(examples), 1)
        self._idf = {w: math.log(1 + n / c) for w, c in df.items()}

    def __len__(self) -> int:
        return len(self.examples)

    def select(self, question: str, k: int = 3) -> list[Example]:
        """The `k` examples closest to `question`; none when nothing is shared."""
        words = set(tokens(question))
        scored = []
        for i, ex_words in enumerate(self._tokens):
            shared = sum(self._idf.get(w, 0.0) for w in words & ex_words)
            if shared > 0:
                total = sum(self._idf.get(w, 0.0) for w in words | ex_words) or 1.0
                scored.append((shared / total, i))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [self.examples[i] for _, i in scored[:k]]


def load_examples(path: str | Path) -> tuple[list[Example], str]:
    """The examples of one file and the dialect they are written in."""
    path = Path(path)
    data = read_yaml(path, ExamplesError, "the examples file")
    if not isinstance(data, dict) or not isinstance(data.get("examples", []), list):
        raise ExamplesError(f"{path}: expected `examples:` with a list of {{question, sql}} items")
    out: list[Example] = []
    for i, item in enumerate(data.get("examples") or [], start=1):
        if not isinstance(item, dict) or not item.get("question") or not item.get("sql"):
            raise ExamplesError(f"{path}: example {i} needs a `question` and an `sql`")
        out.append(Example(question=str(item["question"]).strip(), sql=str(item["sql"]).strip().rstrip(";")))
    return out, str(data.get("dialect") or "duckdb")


def usable(examples: list[Example], dialect_from: str, catalog: Catalog) -> list[Example]:
    """The examples whose tables all exist in `catalog`, in its dialect."""
    known = {name.lower() for name in catalog.tables}
    out: list[Example] = []
    for ex in examples:
        try:
            tree = sqlglot.parse_one(ex.sql, read=dialect_from)
        except sqlglot.errors.ParseError:
            continue
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        tables = {t.name.lower() for t in tree.find_all(exp.Table)} - ctes
        if not tables or not tables <= known:
            continue
        sql = ex.sql if dialect_from == catalog.dialect else tree.sql(dialect=catalog.dialect)
        out.append(Example(ex.question, sql))
    return out


def examples_path(settings: Settings) -> Path | None:
    """The configured file, or `<db stem>.examples.yaml` next to the database when it exists."""
    if settings.llm.examples_file:
        return Path(settings.llm.examples_file)
    db = parse_url(settings.database.url)
    if db.is_file and db.path != ":memory:":
        candidate = Path(db.path).with_name(f"{Path(db.path).stem}.examples.yaml")
        if candidate.is_file():
            return candidate
    return None


def examples_for(settings: Settings, catalog: Catalog) -> ExampleSet:
    """The example set the LLM engine uses for this database (possibly empty)."""
    path = examples_path(settings)
    if path is not None:
        examples, dialect = load_examples(path)
        return ExampleSet(usable(examples, dialect, catalog), source=str(path))
    best: tuple[int, ExampleSet] = (0, ExampleSet([]))
    for shipped in sorted(SHIPPED_DIR.glob("*.examples.yaml")):
        examples, dialect = load_examples(shipped)
        fitting = usable(examples, dialect, catalog)
        # A shipped file counts only when nearly all of it fits: it was written for this database.
        if len(fitting) > best[0] and len(fitting) >= 0.8 * len(examples):
            best = (len(fitting), ExampleSet(fitting, source=str(shipped)))
    return best[1]


def render_examples(examples: list[Example]) -> str:
    return "\n".join(f"Q: {ex.question}\nSQL: {' '.join(ex.sql.split())}" for ex in examples)
