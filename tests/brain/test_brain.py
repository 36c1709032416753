"""The Brain: cache keyed by question, context and data version; LLM fallback; the dev set end to end."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from tests.brain.conftest import settings_for
from tests.brain.dbbuild import SHARED

from datavox import cancel
from datavox.brain import brain as brain_module
from datavox.brain.brain import Brain
from datavox.brain.evaluate import load_dialogues, run_dialogues, summarise
from datavox.llm import LlmUnavailable
from datavox.types import Answer, HistoryTurn

DEV_SET = SHARED / "eval" / "f1db-dev.jsonl"


def test_dev_set(f1_brain: Brain) -> None:
    if not DEV_SET.is_file():
        pytest.skip("no dev set")
    results = list(run_dialogues(load_dialogues(DEV_SET), f1_brain.ask))
    summary = summarise(results)
    failed = [(r.id, r.q, r.reason) for r in results if not r.passed]
    assert summary.accuracy >= 0.85, failed
    assert all(p == n for p, n in summary.per_intent.values()) or summary.accuracy >= 0.85


def test_cache_hits_same_question_same_context(f1_brain: Brain) -> None:
    q = "How many races did Ayrton Senna win in 1988?"
    first = f1_brain.ask(q)
    again = f1_brain.ask("how many races did Ayrton Senna win in 1988")
    assert not first.cached and again.cached and again.rows == first.rows
    other = f1_brain.ask(q, [HistoryTurn("user", "hi"), HistoryTurn("assistant", "Hello!")])
    assert not other.cached


def test_import_invalidates_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()

    def write(rows: list[list[object]]) -> None:
        with (folder / "pets.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([["name", "kind", "age"], *rows])

    write([["Rex", "dog", 3], ["Tom", "cat", 5]])
    db = tmp_path / "pets.duckdb"
    from datavox.data.importer import import_paths

    import_paths(f"duckdb:///{db}", [folder])
    brain = Brain.from_settings(settings_for(db), engine="offline")
    try:
        assert brain.ask("How many pets are there?").rows == [[2]]
        assert brain.ask("How many pets are there?").cached
        write([["Rex", "dog", 3], ["Tom", "cat", 5], ["Kiki", "bird", 1]])
        brain.close()  # the import runs as another process would: no reader holds the file
        import_paths(f"duckdb:///{db}", [folder])
        answer = brain.ask("How many pets are there?")
        assert not answer.cached and answer.rows == [[3]]
    finally:
        brain.close()


class _Down:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def ask(self, question: str, history: Any = ()) -> Answer:
        from datavox.llm import LlmUnavailable

        raise LlmUnavailable("connection refused")


def test_llm_unavailable_falls_back_offline(f1_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datavox.brain.sql_llm as sql_llm

    monkeypatch.setattr(sql_llm, "LlmEngine", _Down)
    brain = Brain.from_settings(settings_for(f1_db), engine="llm")
    try:
        answer = brain.ask("Who won the 2021 drivers' championship?")
    finally:
        brain.close()
    assert answer.engine == "offline" and answer.fallback_reason and "refused" in answer.fallback_reason
    assert ["Max Verstappen"] in answer.rows


def test_engine_from_settings(f1_db: Path) -> None:
    brain = Brain.from_settings(settings_for(f1_db))
    try:
        assert brain.engine_name == "offline"
        assert brain_module.context_of(brain.ask("Who won the 2021 drivers' championship?"))
    finally:
        brain.close()


def test_llm_not_configured_falls_back_and_says_why(f1_db: Path) -> None:
    brain = Brain.from_settings(settings_for(f1_db), engine="llm")  # provider "none"
    try:
        answer = brain.ask("Who won the 2021 drivers' championship?")
    finally:
        brain.close()
    assert (
        answer.engine == "offline" and answer.fallback_reason and "not configured" in answer.fallback_reason
    )
    assert ["Max Verstappen"] in answer.rows


class _DownWhileCancelled:
    """The LLM fails while the user talks over the question (the voice engine cancels its token)."""

    def __init__(self, *args: Any) -> None:
        pass

    def ask(self, question: str, history: Any) -> Any:
        token = cancel.current()
        assert token is not None
        token.cancel()
        raise LlmUnavailable("timed out")


def test_a_cancelled_question_gets_no_offline_fallback(f1_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datavox.brain.sql_llm as sql_llm

    monkeypatch.setattr(sql_llm, "LlmEngine", _DownWhileCancelled)
    brain = Brain.from_settings(settings_for(f1_db), engine="llm")
    fallbacks: list[str] = []
    monkeypatch.setattr(brain.offline, "ask", lambda q, h=(): fallbacks.append(q))
    try:
        with cancel.running_under(cancel.CancelToken()), pytest.raises(cancel.Cancelled):
            brain.ask("Who won the 2021 drivers' championship?")
        token = cancel.CancelToken()
        token.cancel()
        with cancel.running_under(token), pytest.raises(cancel.Cancelled):
            brain.ask("How many races did Lewis Hamilton win in 2020?")  # cancelled while queued
    finally:
        brain.close()
    assert fallbacks == []
