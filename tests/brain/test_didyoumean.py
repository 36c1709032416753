"""A name heard wrong ("Brutus Grand Prix", as `datavox bench voice` heard "British") is asked back, never
answered or flatly refused, and a "yes" answers the question with the data's name."""

from __future__ import annotations

from tests.brain.helpers import has_values

from datavox.brain.brain import Brain
from datavox.brain.didyoumean import is_yes, sound_alike
from datavox.types import HistoryTurn


def test_a_misheard_head_of_a_known_name_is_asked_back(f1_brain: Brain) -> None:
    answer = f1_brain.ask("Who won the Brutus Grand Prix in 2020?")
    assert answer.answer == "Did you mean the British Grand Prix?"
    assert answer.clarify == answer.answer and not answer.sql and not answer.rows


def test_yes_answers_the_question_with_the_name_put_right(f1_brain: Brain) -> None:
    question = "Who won the Brutus Grand Prix in 2020?"
    back = f1_brain.ask(question)
    history = [HistoryTurn("user", question), HistoryTurn("assistant", back.answer)]
    answer = f1_brain.ask("Yes.", history)
    has_values(answer, "Lewis Hamilton")
    assert "British Grand Prix" in answer.answer and "Brutus" not in answer.answer
    # "yes" after any other answer is not a confirmation of anything
    other = [HistoryTurn("user", "Who won in 2020?"), HistoryTurn("assistant", "Lewis Hamilton won.")]
    assert not f1_brain.ask("Yes.", other).rows


def test_no_clear_name_stays_a_refusal(f1_brain: Brain) -> None:
    answer = f1_brain.ask("Who won the Narnia Grand Prix in 2020?")
    assert "Narnia" in answer.answer and not answer.answer.startswith("Did you mean")
    assert "UK" in f1_brain.ask("How many races were held in the UK?").answer


def test_only_a_clear_winner_among_the_heads_is_offered() -> None:
    keys = ["british grand prix", "brazilian grand prix", "bahrain grand prix", "tuscan grand prix"]
    spell = {k: k.title() for k in keys}.__getitem__
    guess = sound_alike("Who won the Brutus Grand Prix?", "Brutus", keys, spell)
    assert guess is not None and guess.question == "Who won the British Grand Prix?"
    assert guess.ask() == "Did you mean the British Grand Prix?"
    assert sound_alike("Who won the Tuskan Grand Prix?", "Tuskan", keys, spell) is not None
    assert (
        sound_alike("Who won the Brazain Grand Prix?", "Brazain", keys, spell) is None
    )  # Brazilian? Bahrain?
    assert sound_alike("Who won the Bra Grand Prix?", "Bra", keys, spell) is None
    assert sound_alike("Who won Brutus?", "Brutus", keys, spell) is None  # no tail the data knows


def test_yes_words() -> None:
    assert is_yes("Yes.") and is_yes("yeah") and is_yes("Yes, please!") and is_yes("That's right.")
    assert not is_yes("Yes, who won in 2019?") and not is_yes("no")
