"""Schema introspection on DuckDB, SQLite, PostgreSQL and MariaDB: tables, keys (declared and inferred),
row counts, samples and the distinct values of low-cardinality text columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from datavox.data.connect import connect, parse_url
from datavox.data.schema import Table, _tokens, infer_foreign_keys, introspect, singular

SPIDER = (
    Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "spider_formula_1" / "formula_1.sqlite"
)

DDL = [
    "CREATE TABLE countries (id VARCHAR PRIMARY KEY, name VARCHAR, demonym VARCHAR)",
    "CREATE TABLE grands_prix (id VARCHAR PRIMARY KEY, name VARCHAR, country_id VARCHAR)",
    "CREATE TABLE circuits_layouts (id VARCHAR PRIMARY KEY, circuit_id VARCHAR)",
    "CREATE TABLE circuits (id VARCHAR PRIMARY KEY, name VARCHAR)",
    "CREATE TABLE constructors (id VARCHAR PRIMARY KEY, name VARCHAR)",
    "CREATE TABLE constructors_chronology (parent_constructor_id VARCHAR, constructor_id VARCHAR, y INT)",
    "CREATE TABLE drivers (id VARCHAR PRIMARY KEY, name VARCHAR, nationality_country_id VARCHAR)",
    "CREATE TABLE races (id INT PRIMARY KEY, year INT, grand_prix_id VARCHAR, circuit_layout_id VARCHAR)",
    "CREATE TABLE races_race_results (race_id INT, driver_id VARCHAR, position_number INT)",
]
ROWS = [
    "INSERT INTO countries VALUES ('brazil', 'Brazil', 'Brazilian'), "
    "('united-kingdom', 'United Kingdom', 'British')",
    "INSERT INTO grands_prix VALUES ('monaco', 'Monaco', NULL)",
    "INSERT INTO drivers VALUES ('ayrton-senna', 'Ayrton Senna', 'brazil'), "
    "('lewis-hamilton', 'Lewis Hamilton', 'united-kingdom')",
    "INSERT INTO races VALUES (1, 1988, 'monaco', NULL)",
    "INSERT INTO races_race_results VALUES (1, 'ayrton-senna', 1), (1, 'lewis-hamilton', 2)",
]


def fks(table: Table) -> set[tuple[str, str, str]]:
    return {(fk.column, fk.ref_table, fk.ref_column) for fk in table.foreign_keys}


def test_singular_and_tokens() -> None:
    assert singular("countries") == "country" and singular("grands") == "grand" and singular("prix") == "prix"
    assert singular("status") == "status" and singular("chassis") == "chassis"
    assert _tokens("grands_prix") == _tokens("grand_prix") and _tokens("driverStandings") == (
        "driver",
        "standing",
    )


@pytest.fixture
def duck(tmp_path: Path) -> str:
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    for stmt in DDL + ROWS:
        con.execute(stmt)
    con.close()
    return f"duckdb:///{path}"


def test_duckdb_inferred_keys(duck: str) -> None:
    catalog = introspect(parse_url(duck))
    t = catalog.tables
    assert fks(t["races_race_results"]) == {("race_id", "races", "id"), ("driver_id", "drivers", "id")}
    assert ("grand_prix_id", "grands_prix", "id") in fks(t["races"])
    assert ("circuit_layout_id", "circuits_layouts", "id") in fks(t["races"])
    assert ("nationality_country_id", "countries", "id") in fks(t["drivers"])
    assert fks(t["constructors_chronology"]) == {
        ("parent_constructor_id", "constructors", "id"),
        ("constructor_id", "constructors", "id"),
    }
    assert all(fk.inferred for fk in t["races"].foreign_keys)
    assert t["drivers"].primary_key == ["id"] and t["drivers"].rows == 2


def test_distinct_values_and_samples(duck: str) -> None:
    catalog = introspect(parse_url(duck))
    drivers = catalog.tables["drivers"]
    name = drivers.column("name")
    assert name is not None and name.distinct == ["Ayrton Senna", "Lewis Hamilton"] and name.is_text
    assert drivers.column("id").distinct is None  # type: ignore[union-attr]  # slugs are keys, not names
    assert len(name.samples) == 2
    assert catalog.to_dict()["tables"][0]["name"]


def test_cached_until_the_file_changes(duck: str) -> None:
    db = parse_url(duck)
    first = introspect(db)
    assert introspect(db) is first
    con = connect(db)
    con.execute("INSERT INTO countries VALUES ('spain', 'Spain', 'Spanish')")
    con.close()
    again = introspect(db)
    assert again is not first and again.tables["countries"].rows == 3 and again.version != first.version


def test_sqlite_declared_keys(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE drivers (driverId INTEGER PRIMARY KEY, forename TEXT);"
        "CREATE TABLE status (statusId INTEGER PRIMARY KEY, status TEXT);"
        "CREATE TABLE results (resultId INTEGER PRIMARY KEY, driverId INTEGER REFERENCES drivers(driverId),"
        " statusId INTEGER);"
        "INSERT INTO drivers VALUES (1, 'Ayrton');"
    )
    con.close()
    catalog = introspect(parse_url(f"sqlite:///{path}"))
    results = catalog.tables["results"]
    assert ("driverId", "drivers", "driverId") in fks(results)
    assert ("statusId", "status", "statusId") in fks(results)  # inferred beside the declared one
    assert not any(fk.column == "resultId" for fk in results.foreign_keys)


@pytest.mark.skipif(not SPIDER.is_file(), reason="no Spider formula_1.sqlite")
def test_spider_ergast_schema() -> None:
    catalog = introspect(parse_url(f"sqlite:///{SPIDER}"))
    assert {"races", "drivers", "results", "circuits"} <= set(catalog.tables)
    assert ("raceId", "races", "raceId") in fks(catalog.tables["results"])
    assert ("circuitId", "circuits", "circuitId") in fks(catalog.tables["races"])


def test_infer_longest_suffix() -> None:
    from datavox.data.schema import Column

    tables = {
        "countries": Table("countries", [Column("id", "VARCHAR")]),
        "drivers": Table(
            "drivers", [Column("id", "VARCHAR"), Column("country_of_birth_country_id", "VARCHAR")]
        ),
    }
    infer_foreign_keys(tables)
    assert fks(tables["drivers"]) == {("country_of_birth_country_id", "countries", "id")}


def _server_roundtrip(url: str, create: list[str]) -> None:
    db = parse_url(url)
    con = connect(db)
    cur = con.cursor()
    for stmt in create:
        cur.execute(stmt)
    con.commit()
    con.close()
    catalog = introspect(db, refresh=True)
    races = catalog.tables["races"]
    results = catalog.tables["races_race_results"]
    assert races.primary_key == ["id"] and races.rows == 1
    assert ("race_id", "races", "id") in fks(results)  # declared
    assert ("driver_id", "drivers", "id") in fks(results)  # inferred
    name = catalog.tables["drivers"].column("name")
    assert name is not None and name.distinct == ["Ayrton Senna"]


@pytest.mark.postgres
def test_postgresql(pg_url: str) -> None:
    _server_roundtrip(
        pg_url,
        [
            "CREATE TABLE drivers (id TEXT PRIMARY KEY, name TEXT)",
            "CREATE TABLE races (id INT PRIMARY KEY, year INT)",
            "CREATE TABLE races_race_results (race_id INT REFERENCES races(id), driver_id TEXT, pos INT)",
            "INSERT INTO drivers VALUES ('ayrton-senna', 'Ayrton Senna')",
            "INSERT INTO races VALUES (1, 1988)",
        ],
    )


@pytest.mark.mariadb
def test_mariadb(mariadb_url: str) -> None:
    _server_roundtrip(
        mariadb_url,
        [
            "CREATE TABLE drivers (id VARCHAR(64) PRIMARY KEY, name TEXT)",
            "CREATE TABLE races (id INT PRIMARY KEY, year INT)",
            "CREATE TABLE races_race_results (race_id INT, driver_id VARCHAR(64), pos INT, "
            "FOREIGN KEY (race_id) REFERENCES races(id))",
            "INSERT INTO drivers VALUES ('ayrton-senna', 'Ayrton Senna')",
            "INSERT INTO races VALUES (1, 1988)",
        ],
    )
