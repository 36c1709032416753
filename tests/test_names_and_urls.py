"""Identifier rules and database URLs, shared by every engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datavox.data.connect import parse_url, redact_url
from datavox.data.names import column_names, identifier, table_name


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("raceId", "race_id"),
        ("totalRaceWins", "total_race_wins"),
        ("Fastest Lap Time (s)", "fastest_lap_time_s"),
        ("Räikkönen", "raikkonen"),
        ("2019", "c_2019"),
        ("ConstructorChampion", "constructor_champion"),
    ],
)
def test_identifier(header: str, expected: str) -> None:
    assert identifier(header) == expected


def test_table_name_strips_prefix() -> None:
    assert table_name("f1db-races-race-results", strip_prefix="f1db-") == "races_race_results"
    assert table_name("formula_one_records_10_years") == "formula_one_records_10_years"


def test_column_names_unique_and_never_empty() -> None:
    assert column_names(["a", "A", "", "a"]) == ["a", "a_2", "column_3", "a_3"]


@given(st.lists(st.text(max_size=20), min_size=1, max_size=12))
def test_column_names_are_safe_identifiers(headers: list[str]) -> None:
    names = column_names(headers)
    assert len(names) == len(headers) == len(set(names))
    for name in names:
        assert name.isascii() and name.replace("_", "").isalnum() and not name[0].isdigit()


def test_urls() -> None:
    assert parse_url("duckdb:///data/f1.duckdb").path == "data/f1.duckdb"
    assert parse_url("duckdb:////abs/f1.duckdb").path == "/abs/f1.duckdb"
    pg = parse_url("postgresql://bob:pw@db.example:5433/f1")
    assert (pg.kind, pg.host, pg.port, pg.user, pg.database, pg.dialect) == (
        "postgresql",
        "db.example",
        5433,
        "bob",
        "f1",
        "postgres",
    )
    assert "pw" not in pg.redacted()
    # a password with @ or % is percent-encoded in the URL: masked as written, not as decoded
    encoded = parse_url("postgresql://bob:s%40cr3t%25x@db.example/f1")
    assert encoded.password == "s@cr3t%x"
    assert encoded.redacted() == "postgresql://bob:****@db.example/f1"
    assert redact_url("oracle://bob:hunter2@h/db") == "oracle://bob:****@h/db"  # even one we cannot open
    assert parse_url("mariadb://root@127.0.0.1/x").dialect == "mysql"
    assert parse_url("mssql://sa@host/db").dialect == "tsql"
    with pytest.raises(ValueError, match="unsupported"):
        parse_url("oracle://x/y")
    with pytest.raises(ValueError, match="not a database URL"):
        parse_url("f1.duckdb")
