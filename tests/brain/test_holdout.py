"""Held-out F1 questions (tests/brain/holdout_f1.jsonl, built by make_holdout.py): a floor on the pass rate.

The dev set is what the engine was tuned on; these questions were written apart from it, with their expected
values computed by our own SQL, so a general regression in linking, planning or follow-ups shows here.
"""

from __future__ import annotations

from pathlib import Path

from datavox.brain.brain import Brain
from datavox.brain.evaluate import load_dialogues, run_dialogues, summarise

HOLDOUT = Path(__file__).with_name("holdout_f1.jsonl")
FLOOR = 0.98  # just under what the engine reaches (213/213), so a regression fails


def test_holdout_pass_rate(f1_brain: Brain) -> None:
    results = list(run_dialogues(load_dialogues(HOLDOUT), f1_brain.ask))
    summary = summarise(results)
    failed = [(r.id, r.q, r.reason) for r in results if not r.passed]
    assert summary.total >= 70
    assert summary.accuracy >= FLOOR, failed
    assert summary.per_intent["CONVERSATIONAL"][0] == summary.per_intent["CONVERSATIONAL"][1], failed
