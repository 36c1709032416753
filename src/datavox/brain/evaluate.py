"""Scoring, exactly as `../shared/eval/README.md` states it, and execution accuracy on Spider and BIRD.

Dialogues are asked turn by turn in one conversation. A STATISTICAL turn passes when its intent is right, the
values/set/empty rule holds on normalised cells and the result has at most max(12, 3 × expected values) rows;
a CONVERSATIONAL turn passes when no SQL ran.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datavox.types import Answer, Cell, HistoryTurn, Intent

Ask = Callable[[str, list[HistoryTurn]], Answer]
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def norm_text(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub(" ", folded).strip()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def cell_matches(expected: Any, cell: Cell) -> bool:
    """Numbers equal within 1e-6 relative (a string cell that parses as the number counts); strings
    compare normalised."""
    exp_num = expected if isinstance(expected, int | float) and not isinstance(expected, bool) else None
    if exp_num is not None:
        got = _as_number(cell)
        if got is None:
            return False
        return math.isclose(float(exp_num), got, rel_tol=1e-6, abs_tol=0.0) or float(exp_num) == got
    if cell is None:
        return expected is None
    if isinstance(cell, bool) or isinstance(expected, bool):
        return norm_text(str(expected)) == norm_text(str(cell))
    return norm_text(str(expected)) == norm_text(str(cell))


@dataclass
class TurnResult:
    id: str
    turn: int
    q: str
    expected_intent: str
    intent: str
    passed: bool
    reason: str
    sql: str | None
    columns: list[str]
    rows: list[list[Cell]]
    answer: str
    latency_ms: float
    cached: bool = False

    def out(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "turn": self.turn,
            "q": self.q,
            "intent": self.intent,
            "sql": self.sql,
            "columns": self.columns,
            "rows": self.rows,
            "answer": self.answer,
            "latency_ms": round(self.latency_ms, 3),
            "passed": self.passed,
            "reason": self.reason,
        }


def score_turn(expect: dict[str, Any], answer: Answer) -> tuple[bool, str]:
    """One turn against its expectation; the reason says why it failed."""
    want = str(expect.get("intent", "STATISTICAL"))
    if want == Intent.CONVERSATIONAL.value:
        if answer.sql:
            return False, "SQL ran for a conversational turn"
        return True, "ok"
    if answer.intent.value != want:
        return False, f"intent {answer.intent.value}, expected {want}"
    rows = answer.rows or []
    if expect.get("empty"):
        return (not rows), ("ok" if not rows else f"expected no rows, got {len(rows)}")
    values = expect.get("values")
    expected_set = expect.get("set")
    n_expected = len(values) if values is not None else len(expected_set or [])
    if len(rows) > max(12, 3 * n_expected):
        return False, f"{len(rows)} rows is more than max(12, 3 x {n_expected})"
    cells = [c for r in rows for c in r]
    if values is not None:
        missing = [v for v in values if not any(cell_matches(v, c) for c in cells)]
        if missing:
            return False, f"missing {missing}"
    if expected_set is not None:
        if not rows:
            return False, "no rows"
        want_set = {norm_text(str(v)) if not isinstance(v, int | float) else v for v in expected_set}
        for i in range(len(rows[0])):
            column = [r[i] for r in rows]
            if all(any(cell_matches(v, c) for v in expected_set) for c in column) and all(
                any(cell_matches(v, c) for c in column) for v in expected_set
            ):
                return True, "ok"
        return False, f"no column has exactly the set {sorted(map(str, want_set))}"
    if values is None and expected_set is None and not rows:
        return False, "no rows"
    return True, "ok"


def load_dialogues(path: str | Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc
    return out


def run_dialogues(dialogues: list[dict[str, Any]], ask: Ask) -> Iterator[TurnResult]:
    """Each dialogue in one conversation, turn by turn, with the answers' context carried in the history."""
    for d in dialogues:
        history: list[HistoryTurn] = []
        for i, turn in enumerate(d.get("turns", []), start=1):
            q = str(turn["q"])
            t0 = time.perf_counter()
            try:
                answer = ask(q, list(history))
            except Exception as exc:  # one broken turn must not end the run
                answer = Answer(question=q, intent=Intent.STATISTICAL, answer="", engine="?", error=str(exc))
            latency = (time.perf_counter() - t0) * 1000
            expect = turn.get("expect", {})
            passed, reason = score_turn(expect, answer)
            if answer.error and not passed:
                reason = f"{reason} ({answer.error})"
            yield TurnResult(
                id=str(d.get("id", "")),
                turn=i,
                q=q,
                expected_intent=str(expect.get("intent", "STATISTICAL")),
                intent=answer.intent.value,
                passed=passed,
                reason=reason,
                sql=answer.sql,
                columns=list(answer.columns),
                rows=[list(r) for r in answer.rows],
                answer=answer.answer,
                latency_ms=latency,
                cached=answer.cached,
            )
            history.append(HistoryTurn(role="user", text=q))
            history.append(HistoryTurn(role="assistant", text=answer.answer, meta=dict(answer.context)))


@dataclass
class Summary:
    passed: int
    total: int
    per_intent: dict[str, tuple[int, int]] = field(default_factory=dict)
    median_ms: float = 0.0
    p95_ms: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0


def summarise(results: list[TurnResult]) -> Summary:
    per: dict[str, list[int]] = {}
    for r in results:
        slot = per.setdefault(r.expected_intent, [0, 0])
        slot[0] += int(r.passed)
        slot[1] += 1
    lat = sorted(r.latency_ms for r in results)
    return Summary(
        passed=sum(r.passed for r in results),
        total=len(results),
        per_intent={k: (v[0], v[1]) for k, v in sorted(per.items())},
        median_ms=statistics.median(lat) if lat else 0.0,
        p95_ms=percentile(lat, 95),
    )


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# -- Spider / BIRD execution accuracy --------------------------------------------------------------------

BENCHMARKS = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks"


@dataclass
class BenchQuestion:
    question: str
    gold_sql: str


def benchmark_questions(name: str, root: Path = BENCHMARKS) -> tuple[list[BenchQuestion], Path]:
    """The slice's questions and the SQLite database (Spider's formula_1.sqlite for both)."""
    db = root / "spider_formula_1" / "formula_1.sqlite"
    if name == "spider":
        raw = json.loads((root / "spider_formula_1" / "questions.json").read_text(encoding="utf-8"))
        items = [BenchQuestion(q["question"], q.get("query") or q.get("SQL") or "") for q in raw]
    elif name == "bird":
        folder = root / "bird_formula_1"
        path = folder / "dev_formula_1.json"
        if not path.is_file():
            path = folder / "mini_dev_sqlite_formula_1.json"
        raw = json.loads(path.read_text(encoding="utf-8"))
        items = [
            BenchQuestion(
                q["question"] + (f" ({q['evidence']})" if q.get("evidence") else ""),
                q.get("SQL") or q.get("query", ""),
            )
            for q in raw
        ]
    else:
        raise ValueError(f"unknown benchmark {name!r}: use spider or bird")
    return items, db


def gold_rows(db: Path, sql: str) -> list[tuple[Any, ...]] | None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    except sqlite3.Error:
        return None
    finally:
        con.close()


def same_result(gold: list[tuple[Any, ...]], got: list[list[Cell]], ordered: bool) -> bool:
    def key(row: Any) -> tuple[Any, ...]:
        return tuple(_bench_cell(c) for c in row)

    g = [key(r) for r in gold]
    p = [key(r) for r in got]
    if ordered:
        return g == p
    return Counter(g) == Counter(p)


def _bench_cell(c: Any) -> Any:
    if isinstance(c, bool):
        return int(c)
    if isinstance(c, float):
        return round(c, 6) if not c.is_integer() else int(c)
    return c


def has_order_by(sql: str) -> bool:
    return bool(re.search(r"\border\s+by\b", sql, re.IGNORECASE))
