"""Small talk is answered without SQL, with examples drawn from the data; data questions are STATISTICAL."""

from __future__ import annotations

import pytest

from datavox.brain import intent
from datavox.brain.brain import Brain
from datavox.types import Intent


@pytest.mark.parametrize(
    "text",
    ["Hello there!", "hi", "Good morning", "Thanks, that's really helpful.", "thank you",
     "What can you help me with?", "What can you do?", "bye", "ok great", "How are you?"],
)  # fmt: skip
def test_small_talk(f1_brain: Brain, text: str) -> None:
    answer = f1_brain.ask(text)
    assert answer.intent is Intent.CONVERSATIONAL
    assert answer.sql is None and answer.rows == []
    assert 0 < len(answer.answer) < 600


def test_help_reply_gives_examples_from_the_model(f1_brain: Brain) -> None:
    reply = f1_brain.ask("What can you do?").answer
    assert "For example" in reply
    assert any(example in reply for example in f1_brain.model.examples)


@pytest.mark.parametrize(
    "text",
    ["Hi, who won the 2021 drivers' championship?", "Thanks! And how many races did Lewis Hamilton win?"],
)
def test_greeting_with_a_question_is_statistical(text: str) -> None:
    assert intent.classify(text, names_data=True) is Intent.STATISTICAL


def test_examples_without_a_hand_written_model(shop_brain: Brain) -> None:
    reply = shop_brain.ask("hello").answer
    assert "For example" in reply


def test_more_small_talk_needs_no_sql(f1_brain: Brain) -> None:
    for q in ("Who made you?", "What's your name?", "Are you a robot?", "Nice one", "You're great"):
        answer = f1_brain.ask(q)
        assert answer.intent is Intent.CONVERSATIONAL and answer.sql is None, q
