"""The scoring rules of ../shared/eval/README.md, exactly."""

from __future__ import annotations

from datavox.brain.evaluate import cell_matches, norm_text, run_dialogues, score_turn, summarise
from datavox.types import Answer, HistoryTurn, Intent


def stat(rows: list[list[object]], sql: str = "SELECT 1") -> Answer:
    return Answer(question="q", intent=Intent.STATISTICAL, answer="", engine="t", sql=sql, rows=rows)  # type: ignore[arg-type]


def test_normalisation() -> None:
    assert norm_text("Kimi Räikkönen") == norm_text("kimi-raikkonen") == norm_text("KIMI RAIKKONEN")
    assert cell_matches("Carlos Sainz Jr.", "carlos-sainz-jr")
    assert cell_matches(575, 575.0) and cell_matches(575, "575") and not cell_matches(575, 576)
    assert cell_matches(1.0, 1.0000001) and not cell_matches(1.0, 1.01)
    assert not cell_matches(5, None)


def test_values_set_empty_and_row_limit() -> None:
    assert score_turn({"intent": "STATISTICAL", "values": ["Max Verstappen"]}, stat([["Max Verstappen"]]))[0]
    assert not score_turn({"intent": "STATISTICAL", "values": [11]}, stat([[12]]))[0]
    assert score_turn({"intent": "STATISTICAL", "set": ["A", "B"]}, stat([["a", 1], ["b", 2]]))[0]
    assert not score_turn({"intent": "STATISTICAL", "set": ["A", "B"]}, stat([["a"], ["b"], ["c"]]))[0]
    assert score_turn({"intent": "STATISTICAL", "empty": True}, stat([]))[0]
    assert not score_turn({"intent": "STATISTICAL", "empty": True}, stat([[1]]))[0]
    many = stat([[i] for i in range(13)])
    assert not score_turn({"intent": "STATISTICAL", "values": [1]}, many)[0]  # more than max(12, 3)
    assert score_turn({"intent": "STATISTICAL", "values": list(range(5))}, many)[0]  # 13 <= 15


def test_conversational_passes_without_sql() -> None:
    chat = Answer(question="hi", intent=Intent.CONVERSATIONAL, answer="Hello", engine="t")
    assert score_turn({"intent": "CONVERSATIONAL"}, chat)[0]
    assert not score_turn({"intent": "CONVERSATIONAL"}, stat([[1]]))[0]
    assert not score_turn({"intent": "STATISTICAL", "values": [1]}, chat)[0]


def test_dialogues_carry_history() -> None:
    seen: list[list[HistoryTurn]] = []

    def ask(q: str, history: list[HistoryTurn]) -> Answer:
        seen.append(history)
        return stat([[len(history)]])

    dialogues = [
        {"id": "d1", "turns": [{"q": "a", "expect": {"values": [0]}}, {"q": "b", "expect": {"values": [2]}}]}
    ]
    results = list(run_dialogues(dialogues, ask))
    assert [r.passed for r in results] == [True, True]
    assert [t.role for t in seen[1]] == ["user", "assistant"]
    summary = summarise(results)
    assert (summary.passed, summary.total) == (2, 2) and summary.per_intent == {"STATISTICAL": (2, 2)}
    assert set(results[0].out()) >= {
        "id",
        "turn",
        "q",
        "intent",
        "sql",
        "columns",
        "rows",
        "answer",
        "latency_ms",
    }
