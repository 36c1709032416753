"""Question shapes on F1DB, several phrasings each. The engine knows F1 only through its semantic model."""

from __future__ import annotations

import pytest
from tests.brain.helpers import has_values

from datavox.brain.brain import Brain
from datavox.brain.english import is_verb, well_formed
from datavox.types import Intent

SHAPES = [
    # championship winners
    ("Who won the 2021 drivers' championship?", ["Max Verstappen"]),
    ("Who was the world champion in 1988?", ["Ayrton Senna"]),
    ("Which team won the constructors' championship in 2022?", ["Red Bull"]),
    ("In which year did Jenson Button win the title?", [2009]),
    ("When did Kimi Raikkonen win the championship?", [2007]),
    # race winners at a place in a year
    ("Who won the Monaco Grand Prix in 2018?", ["Daniel Ricciardo"]),
    ("Who won the 2019 British Grand Prix?", ["Lewis Hamilton"]),
    ("Who won in Singapore in 2019?", ["Sebastian Vettel"]),
    ("Who won the race at Monza in 2020?", ["Pierre Gasly"]),
    ("Who took pole at the 2021 Abu Dhabi Grand Prix?", ["Max Verstappen"]),
    # counts
    ("How many races did Ferrari win in 2004?", [15]),
    ("How many Grands Prix did Ayrton Senna win?", [41]),
    ("How many races were there in 1950?", [7]),
    ("How many races have been held at Silverstone?", [61]),
    ("How many British drivers have won a race?", [21]),
    # a year said with "born" is a birth year, not a season's
    ("Which drivers were born in 1997?", ["Charles Leclerc", "Max Verstappen"]),
    ("How many drivers were born after 1990?", [70]),
    # a yes/no flag asked with "what" names the rows that have it, not "yes"
    ("What was the fastest lap at Monza in 2020?", ["Lewis Hamilton"]),
    # a country code written in capitals is a code, even where it is also a word ("us")
    ("How many races were held in the US?", [85]),
    ("How many races were held in the USA?", [85]),
    # career totals
    ("How many pole positions does Ayrton Senna have?", [65]),
    ("How many world titles does Michael Schumacher have?", [7]),
    ("How many wins does Red Bull have?", [130]),
    # most / least, top N
    ("Which driver has won the most races?", ["Lewis Hamilton"]),
    ("Who has the most wins at Monaco?", ["Ayrton Senna"]),
    ("Which team has the most wins?", ["Ferrari"]),
    ("Who had the most poles in 2023?", ["Max Verstappen"]),
    ("Who scored the most points in 2022?", ["Max Verstappen", 454]),
    ("Which team has won the most constructors championships?", ["Ferrari", 16]),
    ("Top 5 drivers by race wins", ["Lewis Hamilton", "Michael Schumacher", "Alain Prost"]),
    # positions and rankings
    ("Who came third in the 2020 championship?", ["Max Verstappen"]),
    ("Who was runner-up in the 2021 championship?", ["Lewis Hamilton"]),
    ("Where did Lewis Hamilton finish in the 2021 Abu Dhabi Grand Prix?", [2]),
    # first / last
    ("Who won the first Singapore Grand Prix?", ["Fernando Alonso"]),
    ("Who won the last race of 2021?", ["Max Verstappen"]),
    ("Who won the first race of the 2022 season?", ["Charles Leclerc"]),
    # team mates, line-ups
    ("Who drove for Mercedes in 2020?", ["Lewis Hamilton", "Valtteri Bottas"]),
    ("Which team did Lewis Hamilton race for in 2012?", ["McLaren"]),
    # comparisons
    ("Who won more races, Hamilton or Schumacher?", ["Lewis Hamilton", "Michael Schumacher"]),
    ("Who was Max Verstappen's teammate in 2023?", ["Sergio Pérez"]),
    ("Who drove alongside Ayrton Senna in 1988?", ["Alain Prost"]),
    ("Who won more championships, Senna or Prost?", ["Alain Prost", "Ayrton Senna"]),
    # doers: champions, winners
    ("How many German world champions are there?", [3]),
    ("How many different race winners were there in 2012?", [8]),
    ("Which drivers won races in 2012?", ["Pastor Maldonado", "Kimi Räikkönen"]),
    # places, events, nationalities, dates
    ("Where is the Suzuka circuit?", ["Japan"]),
    ("What was Lewis Hamilton's first win?", ["Formula 1 Grand Prix du Canada 2007"]),
    ("How many laps did the 2023 Monaco Grand Prix have?", [78]),
    ("Who won the most recent race?", ["Kimi Antonelli"]),
    ("What nationality is Fernando Alonso?", ["Spain"]),
    ("When was Max Verstappen born?", ["1997-09-30"]),
    ("When was the first Singapore Grand Prix held?", ["2008-09-28"]),
    # bounds on numbers
    ("Which drivers have won at least 5 world championships?", ["Michael Schumacher", "Juan Manuel Fangio"]),
    ("How many drivers have more than 100 podiums?", [7]),
    # spoken forms and slips
    ("Can you tell me who won the 2021 drivers' championship?", ["Max Verstappen"]),
    ("Could you please tell me which team won the most races in 2022?", ["Red Bull"]),
    ("Who won the drivers championship in twenty twenty one?", ["Max Verstappen"]),
    ("Who won the Monacco Grand Prix in 2018?", ["Daniel Ricciardo"]),
    ("How many GPs did Senna win?", [41]),
    ("In which year did Ferrari win their first constructors' championship?", [1961]),
]


@pytest.mark.parametrize(("question", "expected"), SHAPES, ids=[q for q, _ in SHAPES])
def test_shapes(f1_brain: Brain, question: str, expected: list[object]) -> None:
    has_values(f1_brain.ask(question), *expected)


def test_years_range_gives_the_set(f1_brain: Brain) -> None:
    answer = f1_brain.ask("List the drivers' world champions from 2010 to 2015.")
    assert {r[0] for r in answer.rows} == {"Sebastian Vettel", "Lewis Hamilton"}


def test_between_years(f1_brain: Brain) -> None:
    answer = f1_brain.ask("Which constructors won the championship between 2014 and 2023?")
    assert {r[0] for r in answer.rows} == {"Mercedes", "Red Bull"}


def test_time_clause(f1_brain: Brain) -> None:
    has_values(
        f1_brain.ask("Which team did Fernando Alonso drive for when he won his first title?"), "Renault"
    )


def test_traits_are_said_before_the_rows(f1_brain: Brain) -> None:
    assert (
        f1_brain.ask("How many Brazilian drivers have won the world championship?").answer
        == "3 Brazilian drivers have won the world championship."
    )


def test_spoken_answer_names_and_numbers(f1_brain: Brain) -> None:
    answer = f1_brain.ask("How many races did Lewis Hamilton win in 2020?")
    assert answer.answer == "Lewis Hamilton won 11 races in 2020."
    assert "Max Verstappen" in f1_brain.ask("Who won the most races in 2023?").answer


def test_empty_result_said_plainly(f1_brain: Brain) -> None:
    answer = f1_brain.ask("Who won the 2035 drivers' championship?")
    assert answer.sql and answer.rows == []
    assert "couldn't find" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "What is the airspeed velocity of an unladen swallow?",
        "Paint the fence blue",
        "What is the most expensive car?",
    ],
)
def test_not_understood_says_so(f1_brain: Brain, question: str) -> None:
    answer = f1_brain.ask(question)
    assert answer.sql is None and answer.error == "not understood"
    assert "didn't understand" in answer.answer and "For example" in answer.answer.replace(
        "for example", "For example"
    )


def test_sql_is_the_dialect_and_passes_the_guard(f1_brain: Brain) -> None:
    answer = f1_brain.ask("Who won the Monaco Grand Prix in 2017?")
    assert answer.sql and answer.sql.upper().startswith("SELECT")
    assert answer.intent is Intent.STATISTICAL and answer.engine == "offline"
    assert set(answer.timings_ms) >= {"parse_ms", "plan_ms", "sql_ms", "total_ms"}


def test_breakdown_per_year_is_a_line(f1_brain: Brain) -> None:
    answer = f1_brain.ask("How many races did Lewis Hamilton win each year?")
    assert [2014, 11] in answer.rows and [2008, 5] in answer.rows
    assert answer.chart == "line" and "2014" in answer.answer


def test_breakdown_per_team_is_a_bar(f1_brain: Brain) -> None:
    answer = f1_brain.ask("How many wins per team in 2023?")
    assert answer.rows[0] == ["Red Bull", 21] and answer.chart == "bar"


@pytest.mark.parametrize(
    "question",
    [
        "Tell me a story about the Monaco Grand Prix",
        "What is the mood of Lewis Hamilton?",
        "Sing about Monza",
    ],
)
def test_a_suggested_question_is_english(f1_brain: Brain, question: str) -> None:
    # "times held" is a word of the data, but "How many times held does ... have?" is not a question.
    answer = f1_brain.ask(question)
    suggested = answer.answer.split('"')[1] if '"' in answer.answer else ""
    assert suggested and well_formed(suggested), answer.answer
    words = suggested.rstrip("?").split()
    if "does" in words:
        assert not is_verb(words[words.index("does") - 1], present=False), suggested
