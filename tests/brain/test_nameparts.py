"""Name parts asked for by name ("first and last name", "first names", "full name") are columns, not an
order; and a table called just `results` is the one "took part in" means (generated model)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from datavox.brain import nameparts
from datavox.brain.brain import Brain
from datavox.brain.parse import parse
from datavox.data.connect import parse_url
from datavox.data.schema import introspect
from datavox.data.semantic import generate


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def test_first_and_last_are_name_parts_not_an_order() -> None:
    frame = parse("What is the first and last name of all the German drivers?", None)
    assert frame.name_parts == ["first name", "last name"]
    assert frame.first_last == ""
    assert frame.projection == ["first name", "last name"]
    frame = parse("What are the id and first names of the drivers?", None)
    assert frame.projection == ["id", "first name"] and frame.first_last == ""
    # An order stays an order.
    assert parse("Who won the first race of 2021?", None).first_last == "first"
    assert parse("Who won the last race of 2021?", None).name_parts == []


def test_collapse_leaves_other_words() -> None:
    assert nameparts.collapse(["id", "first", "last", "name"]) == ["id", "first name", "last name"]
    assert nameparts.collapse(["first", "race"]) == ["first", "race"]
    assert nameparts.collapse(["full", "name", "date"]) == ["full name", "date"]


def test_first_and_last_name_of_a_group(f1_brain: Brain, f1_db: Path) -> None:
    answer = f1_brain.ask("What is the first and last name of all the German drivers?")
    want = _rows(
        f1_db,
        "select d.first_name, d.last_name from drivers d join countries c on c.id = d.nationality_country_id"
        " where c.demonym = 'German'",
    )
    assert len(want) > 1
    assert answer.columns == ["first_name", "last_name"]
    assert sorted(tuple(r) for r in answer.rows) == sorted(set(want))[: len(answer.rows)]


def test_first_names_and_ids(f1_brain: Brain, f1_db: Path) -> None:
    answer = f1_brain.ask("What are the first names of the drivers from Finland?")
    want = _rows(
        f1_db,
        "select distinct d.first_name from drivers d join countries c on c.id = d.nationality_country_id"
        " where c.name = 'Finland'",
    )
    assert answer.columns == ["first_name"] and sorted(answer.rows) == sorted([list(r) for r in want])
    answer = f1_brain.ask("What is the id and first name of the drivers who won in 1998?")
    assert answer.columns == ["id", "first_name"] and len(answer.rows) > 1


def test_columns_from_the_names_people_say(tmp_path: Path) -> None:
    path = tmp_path / "people.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people (id INT, forename VARCHAR, surname VARCHAR)")
    con.execute("CREATE TABLE staff (id INT, given_name VARCHAR, family_name VARCHAR, fullname VARCHAR)")
    con.close()
    catalog = introspect(parse_url(f"duckdb:///{path}"))
    assert nameparts.columns(catalog, "people", "first name") == ["forename"]
    assert nameparts.columns(catalog, "people", "last name") == ["surname"]
    assert nameparts.columns(catalog, "people", "full name") == ["forename", "surname"]
    assert nameparts.columns(catalog, "staff", "first name") == ["given_name"]
    assert nameparts.columns(catalog, "staff", "last name") == ["family_name"]
    assert nameparts.columns(catalog, "staff", "full name") == ["fullname"]


def test_a_table_called_results_is_ranked_over_other_event_tables(tmp_path: Path) -> None:
    path = tmp_path / "games.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE players (playerId INT, name VARCHAR)")
    con.execute("CREATE TABLE games (gameId INT, year INT, name VARCHAR)")
    con.execute("CREATE TABLE results (resultId INT, gameId INT, playerId INT, position INT, points INT)")
    con.execute("CREATE TABLE warmups (warmupId INT, gameId INT, playerId INT, position INT)")
    con.close()
    model = generate(introspect(parse_url(f"duckdb:///{path}")))
    assert model.tables["results"].priority > model.tables["warmups"].priority


def test_the_tables_word_written_plainly_is_not_a_person_called_so(tmp_path: Path) -> None:
    """A driver whose surname is "Driver": "a driver" in a question is the table's word, not him."""
    from tests.brain.conftest import settings_for

    path = tmp_path / "grid.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE drivers (driverId INT, forename VARCHAR, surname VARCHAR, nationality VARCHAR)")
    con.executemany(
        "INSERT INTO drivers VALUES (?, ?, ?, ?)",
        [
            (1, "Paddy", "Driver", "South African"),
            (2, "Jack", "Lewis", "British"),
            (3, "Ann", "Moss", "British"),
        ],
    )
    con.close()
    brain = Brain.from_settings(settings_for(path), engine="offline")
    try:
        heard = brain.offline.hearing.repair("Which nationality does a driver with the surname Lewis have?")
        assert "a driver with" in heard.text
        answer = brain.ask("How many drivers have the surname Lewis?")
        assert answer.sql and "'Driver'" not in answer.sql
        # Written with a capital, it is still his name.
        assert "Driver" in (brain.ask("What is the nationality of Paddy Driver?").sql or "")
    finally:
        brain.close()


def test_a_full_name_said_where_the_data_keeps_its_parts_is_that_one_person(tmp_path: Path) -> None:
    """ "Jack Lewis" is the row with forename Jack and surname Lewis, not every Jack and every Lewis; web
    addresses are never names ("Formula_1" is no part of a driver's page)."""
    from tests.brain.conftest import settings_for

    path = tmp_path / "grid.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE drivers (driverId INT PRIMARY KEY, forename VARCHAR, surname VARCHAR, url VARCHAR)"
    )
    people = [
        (1, "Jack", "Lewis", "http://en.wikipedia.org/wiki/Jack_Lewis_(Formula_1)"),
        (2, "Lewis", "Moss", "http://en.wikipedia.org/wiki/Lewis_Moss"),
        (3, "Jack", "Brabham", "http://en.wikipedia.org/wiki/Jack_Brabham"),
    ]
    con.executemany("INSERT INTO drivers VALUES (?, ?, ?, ?)", people)
    con.execute("CREATE TABLE results (resultId INT, driverId INT, points INT)")
    con.executemany(
        "INSERT INTO results VALUES (?, ?, ?)", [(1, 1, 10), (2, 1, 6), (3, 2, 4), (4, 3, 8), (5, 3, 1)]
    )
    con.close()
    brain = Brain.from_settings(settings_for(path), engine="offline")
    try:
        answer = brain.ask("How many points did Jack Lewis score in total?")
        assert answer.rows and answer.rows[0][0] == 16, answer.sql
        assert "Jack Lewis" in answer.answer
        assert "url" not in (brain.ask("How many points did Jack Lewis score in Formula_1?").sql or "")
    finally:
        brain.close()


def test_words_ending_in_eed_are_no_past_tenses() -> None:
    from datavox.brain.text import lemma

    assert [lemma(w) for w in ("speed", "speeds", "need", "exceed")] == ["speed", "speed", "need", "exceed"]
    assert [lemma(w) for w in ("agreed", "raced", "scored", "stopped")] == ["agree", "race", "score", "stop"]


def test_the_most_of_a_table_counted_through_the_facts_that_join_them(f1_brain: Brain, f1_db: Path) -> None:
    """ "Which driver took part in the most races?": result rows joining each driver to a race, per driver."""
    answer = f1_brain.ask("Which driver participated in the most races?")
    want = _rows(
        f1_db,
        "select d.name, count(*) from races_race_results r join drivers d on d.id = r.driver_id"
        " group by d.name order by 2 desc limit 1",
    )
    assert answer.rows and answer.rows[0][0] == want[0][0] and answer.rows[0][1] == want[0][1]
    assert "race results" not in answer.answer


def test_a_bound_on_a_table_counted_through_the_facts(tmp_path: Path) -> None:
    from tests.brain.conftest import settings_for

    path = tmp_path / "league.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE players (playerId INT PRIMARY KEY, name VARCHAR)")
    con.execute("CREATE TABLE games (gameId INT PRIMARY KEY, year INT, name VARCHAR)")
    con.execute("CREATE TABLE results (resultId INT, gameId INT, playerId INT, position INT)")
    con.executemany("INSERT INTO players VALUES (?, ?)", [(1, "Ann Arbor"), (2, "Bo Berg"), (3, "Cy Cole")])
    con.executemany("INSERT INTO games VALUES (?, ?, ?)", [(g, 2020, f"Cup {g}") for g in range(1, 5)])
    entries = [(1, 1, 1), (2, 2, 1), (3, 3, 1), (4, 1, 2), (5, 2, 2), (6, 1, 3)]  # Ann 3, Bo 2, Cy 1
    con.executemany("INSERT INTO results VALUES (?, ?, ?, 1)", [(r, g, p) for r, g, p in entries])
    con.close()
    brain = Brain.from_settings(settings_for(path), engine="offline")
    try:
        best = brain.ask("Which player took part in the most games?")
        assert best.rows and best.rows[0][:2] == ["Ann Arbor", 3], best.sql
        bound = brain.ask("Which players took part in more than 1 game?")
        assert sorted(r[0] for r in bound.rows) == ["Ann Arbor", "Bo Berg"], bound.sql
    finally:
        brain.close()


def test_names_that_repeat_are_counted_per_row(tmp_path: Path) -> None:
    """Two players called Berg are two players: the count is per row, not per name."""
    from tests.brain.conftest import settings_for

    path = tmp_path / "league.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE players (playerId INT PRIMARY KEY, surname VARCHAR)")
    con.execute("CREATE TABLE results (resultId INT, playerId INT, points INT)")
    con.executemany("INSERT INTO players VALUES (?, ?)", [(1, "Berg"), (2, "Berg"), (3, "Cole"), (4, "Dunn")])
    rows = [(1, 1, 1), (2, 1, 1), (3, 2, 1), (4, 2, 1), (5, 3, 1), (6, 3, 1), (7, 3, 1)]
    con.executemany("INSERT INTO results VALUES (?, ?, ?)", rows)  # Berg 2 + Berg 2, Cole 3
    con.close()
    brain = Brain.from_settings(settings_for(path), engine="offline")
    try:
        best = brain.ask("Which player has the most results?")
        assert [r[:2] for r in best.rows] == [["Cole", 3]], best.sql
    finally:
        brain.close()


def test_the_columns_asked_of_the_rows_ranked_first(tmp_path: Path) -> None:
    """ "the id and first name of the player with the most games": those columns of the rows ranked first."""
    from tests.brain.conftest import settings_for

    path = tmp_path / "league.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE players (playerId INT PRIMARY KEY, forename VARCHAR, surname VARCHAR)")
    con.execute("CREATE TABLE games (gameId INT PRIMARY KEY, year INT, name VARCHAR)")
    con.execute("CREATE TABLE results (resultId INT, gameId INT, playerId INT, position INT)")
    con.executemany(
        "INSERT INTO players VALUES (?, ?, ?)", [(1, "Ann", "Arbor"), (2, "Bo", "Berg"), (3, "Cy", "Cole")]
    )
    con.executemany("INSERT INTO games VALUES (?, ?, ?)", [(g, 2020, f"Cup {g}") for g in range(1, 5)])
    entries = [(1, 1, 2), (2, 2, 2), (3, 3, 2), (4, 1, 1), (5, 2, 1), (6, 1, 3)]  # Bo 3, Ann 2, Cy 1
    con.executemany("INSERT INTO results VALUES (?, ?, ?, 1)", [(r, g, p) for r, g, p in entries])
    con.close()
    brain = Brain.from_settings(settings_for(path), engine="offline")
    try:
        answer = brain.ask("What is the id and first name of the player who took part in the most games?")
        assert answer.columns == ["playerId", "forename"], answer.sql
        assert answer.rows == [[2, "Bo"]]
    finally:
        brain.close()
