"""Follow-ups carried by the answers' context (HistoryTurn.meta) and from plain text history."""

from __future__ import annotations

from tests.brain.followups import converse
from tests.brain.helpers import has_values

from datavox.brain.brain import Brain


def test_he_and_that_year(f1_brain: Brain) -> None:
    first, second = converse(
        f1_brain, "Who won the 2008 drivers' championship?", "How many races did he win that year?"
    )
    has_values(first, "Lewis Hamilton")
    has_values(second, 5)
    assert second.resolved_question and "Lewis Hamilton" in second.resolved_question


def test_what_about_and_in_year(f1_brain: Brain) -> None:
    a, b, c = converse(
        f1_brain, "How many wins did Max Verstappen have in 2022?", "What about Carlos Sainz?", "And in 2023?"
    )
    has_values(a, 15)
    has_values(b, 1)
    assert "Carlos Sainz" in b.answer
    has_values(c, 1)
    assert "2023" in c.answer


def test_and_in_year_keeps_the_driver(f1_brain: Brain) -> None:
    _, b = converse(f1_brain, "How many wins did Max Verstappen have in 2022?", "And in 2023?")
    has_values(b, 19)


def test_them_that_season(f1_brain: Brain) -> None:
    a, b = converse(
        f1_brain, "Which team won the constructors' title in 2009?", "Who drove for them that season?"
    )
    has_values(a, "Brawn")
    assert {r[0] for r in b.rows} == {"Jenson Button", "Rubens Barrichello"}


def test_pronoun_keeps_the_year_talked_about(f1_brain: Brain) -> None:
    _, b = converse(f1_brain, "Who won the 2008 drivers' championship?", "How many points did he score?")
    has_values(b, 98)


def test_what_about_another_place(f1_brain: Brain) -> None:
    _, _, c = converse(
        f1_brain, "Who won the Monaco Grand Prix in 2018?", "And in 2019?", "What about Singapore?"
    )
    has_values(c, "Sebastian Vettel")


def test_plain_text_history_without_meta(f1_brain: Brain) -> None:
    _, b = converse(
        f1_brain,
        "Who won the 2008 drivers' championship?",
        "How many races did he win that year?",
        with_meta=False,
    )
    has_values(b, 5)


def test_and_how_many_of_another_measure(f1_brain: Brain) -> None:
    *_, d = converse(
        f1_brain,
        "How many wins did Lewis Hamilton have in 2019?",
        "And in 2020?",
        "What about Valtteri Bottas?",
        "And how many podiums?",
    )
    has_values(d, 11)
    assert "Valtteri Bottas" in d.answer and "2020" in d.answer


def test_team_then_its_points(f1_brain: Brain) -> None:
    *_, c = converse(
        f1_brain,
        "Which team won the constructors' title in 2012?",
        "Who drove for them that season?",
        "How many points did they score?",
    )
    has_values(c, 460)


def test_the_year_before_and_the_same_question_again(f1_brain: Brain) -> None:
    _, b, c = converse(
        f1_brain,
        "How many wins did Lewis Hamilton have in 2019?",
        "And the year before?",
        "What about the following season?",
    )
    assert "2018" in b.answer and "2019" in c.answer
    _, prev = converse(f1_brain, "Who won the 2008 drivers' championship?", "Who won the previous year?")
    assert prev.rows == [["Kimi Räikkönen"]]
