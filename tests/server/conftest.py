"""Fakes for the server tests: a brain that answers from a script and a voice engine that mints secrets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from datavox.config import Secrets, ServerSettings, Settings
from datavox.types import Answer, HistoryTurn, Intent


class FakeBrain:
    """Answers every question with a small table of championships; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[HistoryTurn]]] = []
        self.catalog = {"tables": [{"name": "drivers", "columns": [{"name": "id", "type": "VARCHAR"}]}]}

    def ask(self, question: str, history: list[HistoryTurn]) -> Answer:
        self.calls.append((question, list(history)))
        if "hello" in question.lower():
            return Answer(
                question=question, intent=Intent.CONVERSATIONAL, answer="Hi! Ask me about F1.", engine="fake"
            )
        return Answer(
            question=question,
            intent=Intent.STATISTICAL,
            answer="Lewis Hamilton won seven titles.",
            engine="fake",
            sql="SELECT driver, titles FROM champions ORDER BY titles DESC LIMIT 3",
            columns=["driver", "titles"],
            rows=[["Lewis Hamilton", 7], ["Michael Schumacher", 7], ["Juan Manuel Fangio", 5]],
            chart="bar",
            timings_ms={"sql_ms": 1.5, "execute_ms": 2.0, "answer_ms": 0.5},
        )


class BusyError(RuntimeError):
    code = "session_limit"


class FakeEngine:
    def __init__(self) -> None:
        self.minted: list[dict[str, Any]] = []
        self.busy = False
        self.closed = False

    async def mint_secret(self, *, conversation_id: str, voice: str, ttl_s: int) -> dict[str, Any]:
        if self.busy:
            raise BusyError("8 sessions are running")
        value = f"ek_local_{len(self.minted):04d}abcdef"
        self.minted.append(
            {"conversation_id": conversation_id, "voice": voice, "ttl_s": ttl_s, "value": value}
        )
        return {"value": value, "expires_at": 1_900_000_000, "session": {"type": "realtime"}}

    async def aclose(self) -> None:
        self.closed = True


def make_settings(tmp_path: Path, *, token: str = "", engine: str = "azure", **server: Any) -> Settings:
    base = Settings()
    srv = replace(ServerSettings(), app_db=str(tmp_path / "app.sqlite"), **server)
    realtime = replace(base.realtime, engine=engine)  # type: ignore[arg-type]
    secrets = Secrets(
        api_token=token, llm_api_key="sk-llm-secret-value-123", realtime_api_key="rt-secret-key-456"
    )
    return replace(base, server=srv, realtime=realtime, secrets=secrets)


@pytest.fixture
def brain() -> FakeBrain:
    return FakeBrain()


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()
