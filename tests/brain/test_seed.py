"""The seed's four tables (F1Records, F1CircuitWinners, ...) with a generated semantic model only."""

from __future__ import annotations

import pytest
from tests.brain.followups import converse
from tests.brain.helpers import has_values

from datavox.brain.brain import Brain


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who won in Singapore in 2019?", ["Sebastian Vettel"]),
        ("Who won in Austin in 2021?", ["Max Verstappen"]),
        ("Which team won the constructors' title in 2022?", ["Red Bull Racing"]),
        ("How many points did Lewis Hamilton score in 2019?", [413]),
        ("Who had the most race wins in 2023?", ["Max Verstappen"]),
        ("Which circuits did Max Verstappen win in 2022?", ["Miami", "Jeddah", "Austin"]),
        ("What team does Sergio Perez drive for?", ["Red Bull Racing"]),
        ("How many race wins did Lewis Hamilton have in 2014?", [11]),
    ],
)
def test_seed_questions(seed_brain: Brain, question: str, expected: list[object]) -> None:
    has_values(seed_brain.ask(question), *expected)


def test_seed_follow_up(seed_brain: Brain) -> None:
    _, b = converse(seed_brain, "Who had the most race wins in 2023?", "How many points did he score?")
    has_values(b, 575)
