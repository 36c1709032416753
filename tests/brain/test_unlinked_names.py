"""A capitalised word the data knows nothing of ("the UK" where the data writes GB and "United Kingdom") is
a name the question is about: dropping it would answer a broader question (every race there is), so the
brain refuses and says what it did and did not recognise. Capitals that name nothing (a sentence's first
word, the data's own words such as "Grands Prix", a question in capitals or in Title Case) change nothing.
"""

from __future__ import annotations

import pytest

from datavox.brain.brain import Brain


def _refused(answer_text: str, error: str | None, word: str) -> bool:
    return error == "not understood" and f'"{word}"' in answer_text and "can't answer" in answer_text


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("How many races were held in the UK?", "UK"),
        ("How many races were held in Narnia?", "Narnia"),
        ("Which drivers from Atlantis have won a race?", "Atlantis"),
        ("Who won the Narnia Grand Prix in 2019?", "Narnia"),
    ],
)
def test_an_unknown_name_is_refused_not_dropped(f1_brain: Brain, question: str, word: str) -> None:
    answer = f1_brain.ask(question)
    assert answer.sql is None and not answer.rows, (question, answer.sql)
    assert _refused(answer.answer, answer.error, word), answer.answer


def test_the_refusal_says_what_was_recognised(f1_brain: Brain) -> None:
    answer = f1_brain.ask("How many races did Lewis Hamilton win in Narnia?")
    assert answer.sql is None and _refused(answer.answer, answer.error, "Narnia"), answer.answer
    assert "Lewis Hamilton" in answer.answer
    # The same question without the unknown name is answered: the refusal is about "Narnia" alone.
    plain = f1_brain.ask("How many races did Lewis Hamilton win?")
    assert plain.error is None and plain.rows


@pytest.mark.parametrize(
    ("question", "lower"),
    [
        # the data's own words, capitalised
        ("How many Grands Prix were held in 2020?", "How many grands prix were held in 2020?"),
        ("Which Constructor won the most races in 2020?", "Which constructor won the most races in 2020?"),
        ("How many Drivers have won a race?", "How many drivers have won a race?"),
        ("Who won the 2021 Drivers' Championship?", "Who won the 2021 drivers' championship?"),
        # a sentence's first word
        ("Races held in 2020: how many were there?", "races held in 2020: how many were there?"),
        # case that says nothing: all capitals, Title Case
        ("HOW MANY RACES WERE HELD IN 2020?", "how many races were held in 2020?"),
        ("How Many Races Were Held In 2020?", "how many races were held in 2020?"),
    ],
)
def test_capitals_that_name_nothing_change_nothing(f1_brain: Brain, question: str, lower: str) -> None:
    answer, plain = f1_brain.ask(question), f1_brain.ask(lower)
    assert plain.error is None and plain.rows, (lower, plain.answer)
    assert answer.error is None and answer.rows == plain.rows, (question, answer.answer)


@pytest.mark.parametrize(
    "question",
    [
        "How many races were held in the United Kingdom?",
        "How many races were held in the US?",
        "Who won the Monaco Grand Prix in 2018?",
    ],
)
def test_names_the_data_has_are_still_answered(f1_brain: Brain, question: str) -> None:
    answer = f1_brain.ask(question)
    assert answer.error is None and answer.rows and answer.sql and "WHERE" in answer.sql, answer.answer
