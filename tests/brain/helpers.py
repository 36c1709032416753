"""Assertions shared by the brain tests: the eval's own cell matching."""

from __future__ import annotations

from datavox.brain.evaluate import cell_matches
from datavox.types import Answer, Intent


def has_values(answer: Answer, *expected: object, max_rows: int = 12) -> None:
    assert answer.intent is Intent.STATISTICAL, answer
    assert answer.sql, f"no SQL for {answer.question!r}: {answer.answer} ({answer.error})"
    assert len(answer.rows) <= max_rows, f"{len(answer.rows)} rows for {answer.question!r}: {answer.sql}"
    cells = [c for row in answer.rows for c in row]
    for value in expected:
        assert any(cell_matches(value, c) for c in cells), (
            f"{value!r} not in the rows of {answer.question!r}\n{answer.sql}\n{answer.rows[:5]}"
        )
