"""A conversation helper: ask questions in turn, carrying each answer's context."""

from __future__ import annotations

from datavox.brain.brain import Brain
from datavox.types import Answer, HistoryTurn


def converse(brain: Brain, *questions: str, with_meta: bool = True) -> list[Answer]:
    history: list[HistoryTurn] = []
    answers = []
    for q in questions:
        answer = brain.ask(q, history)
        answers.append(answer)
        history += [
            HistoryTurn("user", q),
            HistoryTurn("assistant", answer.answer, meta=dict(answer.context) if with_meta else {}),
        ]
    return answers
