"""What the cloud model reads back from query_database: the answer, an error, a question to ask back, and
a few rows to phrase it with."""

from __future__ import annotations

from datavox.prompts import realtime_instructions
from datavox.realtime.sideband_turns import ROWS_TO_MODEL, tool_output
from datavox.types import Answer, Intent


def test_an_unclear_transcript_is_asked_back_not_answered() -> None:
    ask_back = "Did you mean how many races Lewis Hamilton won in 2020?"
    out = tool_output(
        Answer(
            "how many races did Lewis Hamilton when",
            Intent.STATISTICAL,
            ask_back,
            "offline",
            clarify=ask_back,
        )
    )
    assert out == {"answer": ask_back, "clarify": ask_back}
    assert '"clarify"' in realtime_instructions("tools")


def test_rows_are_capped_for_the_model_with_their_count() -> None:
    rows = [[f"driver {i}", i] for i in range(ROWS_TO_MODEL + 5)]
    out = tool_output(
        Answer(
            "who scored",
            Intent.STATISTICAL,
            "Many.",
            "offline",
            sql="SELECT 1",
            columns=["name", "points"],
            rows=rows,
        )
    )
    assert "clarify" not in out and "error" not in out
    assert len(out["rows"]) == ROWS_TO_MODEL and out["row_count"] == ROWS_TO_MODEL + 5
