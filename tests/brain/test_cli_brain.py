"""`datavox schema`, `datavox ask` and `datavox eval` end to end through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datavox.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_schema_json(f1_db: Path) -> None:
    code, out = run("schema", "--db", f"duckdb:///{f1_db}", "--json")
    assert code == 0
    data = json.loads(out)
    drivers = next(t for t in data["tables"] if t["name"] == "drivers")
    assert drivers["rows"] == 915 and any(c["name"] == "total_race_wins" for c in drivers["columns"])
    assert "race_wins" in data["measures"]


def test_ask_json_and_history(f1_db: Path, tmp_path: Path) -> None:
    db = f"duckdb:///{f1_db}"
    code, out = run(
        "ask", "--db", db, "--engine", "offline", "--json", "Who won the 2008 drivers' championship?"
    )
    assert code == 0
    first = json.loads(out)
    assert first["intent"] == "STATISTICAL" and ["Lewis Hamilton"] in first["rows"]
    history = tmp_path / "history.json"
    turns = [
        {"role": "user", "text": first["question"]},
        {"role": "assistant", "text": first["answer"], "meta": first["context"]},
    ]
    history.write_text(json.dumps(turns))
    code, out = run(
        "ask", "--db", db, "--json", "--history", str(history), "How many races did he win that year?"
    )
    assert code == 0 and json.loads(out)["rows"] == [[5]]


def test_eval_writes_results(f1_db: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "t1", "turns": [
            {"q": "Who won the 2021 drivers' championship?", "expect": {"intent": "STATISTICAL",
                                                                        "values": ["Max Verstappen"]}},
            {"q": "Thanks!", "expect": {"intent": "CONVERSATIONAL"}}]}) + "\n"
    )  # fmt: skip
    out_file = tmp_path / "results.json"
    code, out = run(
        "eval", str(questions), "--db", f"duckdb:///{f1_db}", "--engine", "offline", "--out", str(out_file)
    )
    assert code == 0 and "turns passed: 2/2" in out and "STATISTICAL: 1/1" in out and "median" in out
    results = json.loads(out_file.read_text())
    assert [r["turn"] for r in results] == [1, 2]
    assert set(results[0]) >= {"id", "turn", "q", "intent", "sql", "columns", "rows", "answer", "latency_ms"}
    assert results[1]["sql"] is None
