"""Answers in the question's own words, built from English question grammar only."""

from __future__ import annotations

from datavox.brain import phrasing


def test_who_and_which_put_the_answer_in_place_of_the_question_word() -> None:
    q = "Who won the 2015 drivers' championship?"
    said = "Lewis Hamilton won the 2015 drivers' championship."
    assert phrasing.subject_answer(q, "Lewis Hamilton", False) == said
    q = "Which team won the most races in 2022?"
    assert phrasing.subject_answer(q, "Red Bull", False) == "Red Bull won the most races in 2022."
    q = "Who were Max Verstappen's teammates in 2019?"
    assert phrasing.subject_answer(q, "A and B", True) == "A and B were Max Verstappen's teammates in 2019."
    assert phrasing.subject_answer("Who did he drive for?", "X", False) is None


def test_counts_go_before_the_noun() -> None:
    q = "How many races did Sebastian Vettel win in 2013?"
    assert phrasing.count_answer(q, "13", [], False) == "Sebastian Vettel won 13 races in 2013."
    q = "How many races did he win that year?"
    assert phrasing.count_answer(q, "5", ["Lewis Hamilton"], False) == "Lewis Hamilton won 5 races that year."
    q = "How many constructors' championships has Ferrari won?"
    assert phrasing.count_answer(q, "16", [], False) == "Ferrari has won 16 constructors' championships."
    q = "How many Grands Prix were held in 2024?"
    assert phrasing.count_answer(q, "1", [], True) == "1 Grand Prix was held in 2024."
    q = "How many times has Lewis Hamilton won the British Grand Prix?"
    said = "Lewis Hamilton has won the British Grand Prix 9 times."
    assert phrasing.count_answer(q, "9", [], False) == said
    assert phrasing.count_answer("How many world champions are there?", "35", [], False) == (
        "There are 35 world champions."
    )
    q = "How many fastest laps did Kimi Raikkonen set?"
    assert phrasing.count_answer(q, "46", ["Kimi Räikkönen"], False) == "Kimi Räikkönen set 46 fastest laps."


def test_attributes_ranks_dates_places_and_yes_no() -> None:
    q = "What is the nationality of Kimi Raikkonen?"
    assert phrasing.attribute_answer(q, "Finnish") == "The nationality of Kimi Raikkonen is Finnish."
    q = "Where did Lando Norris finish in the 2024 standings?"
    assert phrasing.rank_answer(q, "2nd", []) == "Lando Norris finished 2nd in the 2024 standings."
    q = "When was Charles Leclerc born?"
    said = "Charles Leclerc was born on October 16, 1997."
    assert phrasing.when_answer(q, "October 16, 1997", [], True) == said
    assert phrasing.where_answer("Where is Monza?", "Italy", []) == "Monza is in Italy."
    q = "Did Nico Rosberg ever win the world championship?"
    assert phrasing.yesno_answer(q, True, 1, []) == "Yes, Nico Rosberg won the world championship once."
    q = "Which team did Lewis Hamilton drive for in 2012?"
    assert phrasing.object_answer(q, "McLaren", []) == "Lewis Hamilton drove for McLaren in 2012."
    said = "I couldn't find who won the 2035 title in the data."
    assert phrasing.not_found("Who won the 2035 title?") == said


def test_follow_up_questions_are_rewritten_word_for_word() -> None:
    q = "How many races did Charles Leclerc win in 2019?"
    assert phrasing.replace_said(q, "charles leclerc", "Carlos Sainz Jr.") == (
        "How many races did Carlos Sainz Jr. win in 2019?"
    )
    assert phrasing.replace_year(q, 2019, 2023) == "How many races did Charles Leclerc win in 2023?"
    said = "How many did he win in 2023?"
    assert phrasing.replace_year("How many did he win that year?", 2019, 2023) == said
    assert phrasing.replace_year("How many did he win?", 2019, 2023) is None


def test_count_of_a_proper_noun_keeps_it_whole() -> None:
    from datavox.brain.phrasing import count_answer

    assert count_answer("How many Grands Prix took place in the 1980s?", "26", [], False) == (
        "26 Grands Prix took place in the 1980s."
    )


def test_a_preposition_left_at_the_end_goes_back_before_the_count() -> None:
    q = "How many teams did Fernando Alonso drive for?"
    assert phrasing.count_answer(q, "6", [], False) == "Fernando Alonso drove for 6 teams."
    q = "How many teams did Fernando Alonso drive for in 2010?"
    assert phrasing.count_answer(q, "1", [], True) == "Fernando Alonso drove for 1 team in 2010."
    # a preposition that governs something stays where it is
    q = "How many races did Ayrton Senna win at Monaco?"
    assert phrasing.count_answer(q, "6", [], False) == "Ayrton Senna won 6 races at Monaco."
