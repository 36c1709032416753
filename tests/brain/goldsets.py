"""Shared by the scripts that build question sets (make_holdout.py, make_blind.py): expected values are
computed by each turn's gold SQL, never typed in by hand.

A turn is (question, gold SQL, rule): rule "values" takes every cell of the gold SQL's first row, "set" the
distinct values of its first column, "empty" checks that it returns nothing, "chat" is small talk (no SQL
may run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

Turn = tuple[str, str, str]


def plain(value: Any) -> Any:
    """JSON-friendly cell: booleans as 0/1, dates as ISO text, decimals as numbers."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return float(value)


def expect(con: duckdb.DuckDBPyConnection, sql: str, rule: str) -> dict[str, Any]:
    if rule == "chat":
        return {"intent": "CONVERSATIONAL"}
    rows = con.execute(sql).fetchall()
    if rule == "empty":
        assert not rows, sql
        return {"intent": "STATISTICAL", "empty": True}
    assert rows, f"gold SQL returned nothing: {sql}"
    if rule == "set":
        return {"intent": "STATISTICAL", "set": sorted({plain(r[0]) for r in rows}, key=str)}
    return {"intent": "STATISTICAL", "values": [plain(v) for v in rows[0]]}


def write_dialogues(
    con: duckdb.DuckDBPyConnection, dialogues: list[list[Turn]], prefix: str, out: Path
) -> None:
    """One JSON line per dialogue: {"id": "<prefix>-001", "turns": [{"q", "expect", "gold_sql"}]}."""
    lines = []
    for n, dialogue in enumerate(dialogues, 1):
        turns = [
            {"q": q, "expect": expect(con, sql, rule), **({"gold_sql": sql} if sql else {})}
            for q, sql, rule in dialogue
        ]
        lines.append(json.dumps({"id": f"{prefix}-{n:03d}", "turns": turns}, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} dialogues, {sum(len(d) for d in dialogues)} turns → {out}")
