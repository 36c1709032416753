"""`datavox bench voice` judges each spoken answer against the brain's answer to the question as written:
the numbers and names must be there, whatever the engine heard."""

from __future__ import annotations

from datavox.bench.voice_levels import facts, verdict


def test_facts_are_the_numbers_and_names() -> None:
    assert facts("Mercedes won the constructors' championship in 2019.") == {"mercedes", "2019"}
    assert facts("Charles Leclerc had the most pole positions in 2022, with 9.") == {
        "charles",
        "leclerc",
        "2022",
        "9",
    }
    assert facts("The average was 1,234.5 points.") == {"the", "12345"}


def test_a_misheard_question_answered_with_another_number_is_wrong() -> None:
    expected = "Lewis Hamilton won 11 races in 2020."
    assert verdict(expected, "Lewis Hamilton won 11 races in 2020.") == "right"
    assert verdict(expected, "Lewis Hamilton, won 11 races in 2020.") == "right"  # a comma is no error
    assert verdict(expected, "Lewis Hamilton had 16 races when in 2020.") == "wrong"  # issue 10's case
    assert verdict(expected, "Lewis Hamilton ined 11 races 2020.") == "right"  # garbled, facts intact
    assert verdict(expected, "George Russell won 11 races in 2020.") == "wrong"


def test_a_question_back_is_not_counted_as_an_answer() -> None:
    expected = "Max Verstappen won 19 races in 2023."
    assert verdict(expected, "Did you mean races won by Max Verstappen in 2023?") == "asked"
    assert verdict(expected, "Max Verstappen won 19 races in 2023?") == "right"
