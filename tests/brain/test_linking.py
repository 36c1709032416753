"""Value linking: exact, accent-insensitive, parts of names, fuzzy, prominence, schema words."""

from __future__ import annotations

import pytest

from datavox.brain.brain import Brain
from datavox.brain.linking import ValueMatch


def best(brain: Brain, text: str) -> list[ValueMatch]:
    matches = brain.index.match(text)
    firsts: dict[tuple[int, int], ValueMatch] = {}
    for m in matches:
        firsts.setdefault(m.span, m)
    return list(firsts.values())


@pytest.mark.parametrize(
    ("text", "table", "value"),
    [
        ("Lewis Hamilton", "drivers", "Lewis Hamilton"),
        ("kimi raikkonen", "drivers", "Kimi Räikkönen"),  # accents
        ("KIMI RÄIKKÖNEN", "drivers", "Kimi Räikkönen"),
        ("Hamilton", "drivers", "Lewis Hamilton"),  # a part of the name
        ("Leclerc", "drivers", "Charles Leclerc"),
        ("Schumacher", "drivers", "Michael Schumacher"),  # the most prominent of several
        ("Verstappen", "drivers", "Max Verstappen"),
        ("Carlos Sainz", "drivers", "Carlos Sainz Jr."),
        ("Lewis Hamiltn", "drivers", "Lewis Hamilton"),  # a misspelling
        ("the Monaco Grand Prix", "grands_prix", "Monaco Grand Prix"),
        ("Red Bull", "constructors", "Red Bull"),
        ("McLaren", "constructors", "McLaren"),
        ("Brazilian", "countries", "Brazilian"),
        ("Jeddah", "circuits", "Jeddah"),
    ],
)
def test_links(f1_brain: Brain, text: str, table: str, value: str) -> None:
    found = best(f1_brain, f"what about {text} then")
    assert any(
        m.table == table and m.value == value for m in f1_brain.index.match(f"what about {text} then")
    ), found


def test_span_and_score(f1_brain: Brain) -> None:
    (m,) = [m for m in best(f1_brain, "How many races did Lewis Hamilton win?")]
    assert m.value == "Lewis Hamilton" and m.score == 1.0
    assert m.text == "lewis hamilton" and m.span[1] - m.span[0] == len("lewis hamilton")


def test_exact_beats_a_longer_fuzzy_span(f1_brain: Brain) -> None:
    values = [m.value for m in best(f1_brain, "How many podiums did Sebastian Vettel get in 2011?")]
    assert values == ["Sebastian Vettel"]


@pytest.mark.parametrize(
    "text", ["Who won the race?", "Which team has the most wins?", "How many drivers are there?"]
)
def test_schema_words_name_no_row(f1_brain: Brain, text: str) -> None:
    assert f1_brain.index.match(text) == []


def test_shop_values(shop_brain: Brain) -> None:
    values = {m.value for m in shop_brain.index.match("orders of chloe dubois from lyon")}
    assert {"Chloé Dubois", "Lyon"} <= values


def test_code_words_are_short_capitals_in_a_sentence_with_lower_case() -> None:
    from datavox.brain.question_text import code_words

    assert code_words("How many races were held in the US?") == frozenset({"us"})
    assert code_words("Let us see the races in 2019") == frozenset()
    assert code_words("HOW MANY RACES WERE HELD IN THE US?") == frozenset()  # all capitals: no codes
