"""`datavox bench brain`: per-turn latency of the offline brain over a question file, and LLM round trips.

- The offline engine over every turn of the dev set (each dialogue in one conversation), `--runs` times:
  median and p95 per turn uncached (the cache emptied before every run) and cached (the same run again), and
  the median of each stage (parse, plan, SQL).
- The LLM engine's cost in round trips per turn, counted against the FAKE OpenAI-compatible server of the
  tests (`tests/fakes/openai_server.py`): it answers each request with the SQL the offline engine writes for
  the turn, so the count is what a model that gets it right costs. Where the fake is not there: n/a.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from datavox.brain.evaluate import load_dialogues, percentile
from datavox.cli import db_option, settings_from
from datavox.data.connect import redact_url
from datavox.types import HistoryTurn

REPO = Path(__file__).resolve().parents[3]
DEV_SET = REPO.parent / "shared" / "eval" / "f1db-dev.jsonl"


def _turns(dialogues: list[dict[str, Any]]) -> list[list[str]]:
    return [[str(t["q"]) for t in d.get("turns", [])] for d in dialogues]


def _run(ask: Any, conversations: list[list[str]]) -> tuple[list[float], list[Any]]:
    latencies: list[float] = []
    answers: list[Any] = []
    for questions in conversations:
        history: list[HistoryTurn] = []
        for q in questions:
            t0 = time.perf_counter()
            answer = ask(q, history)
            latencies.append((time.perf_counter() - t0) * 1000)
            answers.append(answer)
            history += [
                HistoryTurn("user", q),
                HistoryTurn("assistant", answer.answer, meta=dict(answer.context)),
            ]
    return latencies, answers


def _stats(values: list[float]) -> str:
    s = sorted(values)
    return f"median {statistics.median(s):6.2f} ms   p95 {percentile(s, 95):6.2f} ms"


@click.command("brain")
@db_option
@click.option("--file", "file", default=str(DEV_SET), show_default=True, help="Question file (eval format).")
@click.option("--runs", default=3, show_default=True, help="Passes over the file.")
@click.pass_context
def command(ctx: click.Context, db: str | None, file: str, runs: int) -> None:
    """Per-turn latency of the offline brain; LLM round trips per turn."""
    from datavox.brain.brain import Brain

    settings = settings_from(ctx, db)
    settings = replace(settings, database=replace(settings.database, audit_log=""))
    conversations = _turns(load_dialogues(file))
    n_turns = sum(len(c) for c in conversations)
    brain = Brain.from_settings(settings, engine="offline")
    try:
        uncached: list[float] = []
        cached: list[float] = []
        stages: dict[str, list[float]] = {}
        for _ in range(runs):
            brain._cache.clear()
            lat, answers = _run(brain.ask, conversations)
            uncached += lat
            for a in answers:
                for k, v in a.timings_ms.items():
                    stages.setdefault(k, []).append(v)
            lat, _ = _run(brain.ask, conversations)
            cached += lat
        click.echo(f"offline brain, {n_turns} turns x {runs} runs ({redact_url(settings.database.url)})")
        click.echo(f"  uncached per turn: {_stats(uncached)}")
        click.echo(f"  cached per turn:   {_stats(cached)}")
        for stage in ("parse_ms", "plan_ms", "sql_ms"):
            if stage in stages:
                click.echo(f"    {stage[:-3]:>5}: median {statistics.median(stages[stage]):.2f} ms")
        click.echo(f"  LLM engine round trips per turn: {_llm_round_trips(settings, brain, conversations)}")
    finally:
        brain.close()


def _llm_round_trips(settings: Any, brain: Any, conversations: list[list[str]]) -> str:
    if str(REPO) not in sys.path and (REPO / "tests" / "fakes" / "openai_server.py").is_file():
        sys.path.insert(0, str(REPO))
    try:
        from tests.fakes.openai_server import FakeOpenAIServer, Reply
    except ImportError:
        return "n/a (no fake OpenAI server in tests/fakes)"
    from datavox.brain.sql_llm import LlmEngine
    from datavox.config import LlmSettings, Secrets

    current: dict[str, str] = {"q": ""}

    def respond(_request: Any) -> Any:
        # A model that gets it right: the offline engine's SQL for the turn, or small talk.
        answer = brain.offline.ask(current["q"])
        first = answer.columns[0] if answer.columns else ""
        return Reply.json(
            {
                "intent": answer.intent.value,
                "standalone_question": current["q"],
                "sql": answer.sql,
                "answer_template": f"The answer is {{{first}*}}." if answer.sql else answer.answer,
                "empty_answer": None,
                "chart": None,
            }
        )

    with FakeOpenAIServer(default=respond) as server:
        llm_settings = replace(
            settings,
            llm=replace(LlmSettings(), provider="openai", model="fake", base_url=server.url("/v1")),
            secrets=Secrets(llm_api_key="sk-fake-bench-0000"),
        )
        engine = LlmEngine(llm_settings, brain.catalog, brain.model, brain.executor, brain.index)
        per_turn: list[int] = []
        for questions in conversations:
            history: list[HistoryTurn] = []
            for q in questions:
                current["q"] = q
                before = len(server.requests)
                answer = engine.ask(q, history)
                per_turn.append(len(server.requests) - before)
                history += [HistoryTurn("user", q), HistoryTurn("assistant", answer.answer)]
    mean = sum(per_turn) / len(per_turn) if per_turn else 0.0
    return f"{mean:.2f} mean, max {max(per_turn, default=0)} (fake server, {len(per_turn)} turns)"
