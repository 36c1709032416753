"""The CSV importer: F1DB and the seed's CSVs on every engine, malformed input, atomic replacement."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from datavox.config import Settings
from datavox.data import importer
from datavox.data.connect import connect, parse_url
from datavox.data.importer import ImportFailed, import_demo, import_paths, resolve_table

from .dbs import F1_PATH, KINDS, SEED_DATA, count_rows, url_for

F1_SUBSET = ["races-race-results", "drivers", "races", "seasons-driver-standings", "constructors", "circuits"]
SEED_MAPPING = {
    "formula_one_records_10_years": "F1Records",
    "formula_one_circuit_winners_10_years": "F1CircuitWinners",
    "formula_one_constructor_champions_10_years": "F1ConstructorChampions",
    "formula_one_results_sample": "F1ResultsSample",
}
SEED_TABLES = {
    "f1_records": 10,
    "f1_circuit_winners": 40,
    "f1_constructor_champions": 10,
    "f1_results_sample": 5,
}


def data_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip()) - 1


def tables_of(url: str) -> set[str]:
    from datavox.data.pool import user_tables

    db = parse_url(url)
    conn = connect(db)
    try:
        return set(user_tables(db, conn))
    finally:
        conn.close()


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = connect(parse_url(url))
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture(params=KINDS)
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = url_for(request.param, tmp_path, request)
    if request.param in ("postgresql", "mysql"):
        for name in tables_of(url):  # the server database is shared by the session: start clean
            conn = connect(parse_url(url))
            conn.cursor().execute(f"DROP TABLE IF EXISTS {name}")
            conn.commit()
            conn.close()
    return url


# ------------------------------------------------------------------------------------------ F1DB


def test_f1db_demo_into_duckdb_matches_line_counts(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'f1.duckdb'}"
    settings = Settings().with_db(url)
    report = import_demo(settings)
    assert report.ok, [f.error for f in report.files if f.error]
    assert len(report.files) == 48
    assert report.seconds < 15  # the aim is < 5 s (see `datavox bench data`); loose on a shared machine
    conn = connect(parse_url(url))
    try:
        for f in report.files:
            expected = data_lines(Path(f.path))
            assert f.rows == expected, f.path
            assert conn.execute(f"SELECT count(*) FROM {f.table}").fetchone()[0] == expected, f.table
    finally:
        conn.close()
    assert {"races_race_results", "drivers", "seasons_driver_standings"} <= tables_of(url)
    races = {c.name: c for c in next(f for f in report.files if f.table == "races_race_results").columns}
    assert races["race_id"].header == "raceId" and races["race_id"].type == "integer"
    assert races["points"].type == "decimal" and races["pole_position"].type == "boolean"
    assert races["driver_id"].type == "text"
    drivers = {c.name: c.type for c in next(f for f in report.files if f.table == "drivers").columns}
    assert drivers["date_of_birth"] == "date"
    winner = query(url, "SELECT driver_id FROM races_race_results WHERE year = 2021 AND position_number = 1 "
                        "AND round = 22")  # fmt: skip
    assert winner == [("max-verstappen",)]


def test_f1db_demo_refuses_damaged_data(tmp_path: Path) -> None:
    folder = tmp_path / "f1"
    folder.mkdir()
    (folder / "f1db-seasons.csv").write_text("year\n1950\n", encoding="utf-8")
    (folder / "SHA256SUMS").write_text("0" * 64 + "  f1db-seasons.csv\n", encoding="utf-8")
    settings = Settings().with_db(f"duckdb:///{tmp_path / 'x.duckdb'}")
    with pytest.raises(ImportFailed, match="SHA256SUMS"):
        import_demo(settings, path=str(folder))
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.postgres
def test_full_f1db_into_postgres(pg_url: str) -> None:
    report = import_paths(pg_url, [F1_PATH], strip_prefix="f1db-")
    assert report.ok, [f.error for f in report.files if f.error]
    for f in report.files:
        assert f.rows == data_lines(Path(f.path)) == count_rows(pg_url, f.table), f.table
    assert_typed_results(pg_url)


@pytest.mark.parametrize("kind", ["sqlite", "mysql"])
def test_f1db_subset_into_sqlite_and_mariadb(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = url_for(kind, tmp_path, request)
    files = [F1_PATH / f"f1db-{name}.csv" for name in F1_SUBSET]
    report = import_paths(url, files, strip_prefix="f1db-")
    assert report.ok, [f.error for f in report.files if f.error]
    for f in report.files:
        assert f.rows == data_lines(Path(f.path)) == count_rows(url, f.table), f.table
    assert_typed_results(url)


def assert_typed_results(url: str) -> None:
    """Types survive the trip: integers, decimals and booleans are usable in SQL."""
    wins = query(url, "SELECT count(*) FROM races_race_results WHERE position_number = 1 AND year = 2021")
    assert wins == [(22,)]
    points = query(
        url, "SELECT sum(points) FROM races_race_results WHERE year = 2021 AND driver_id = 'max-verstappen'"
    )
    assert float(points[0][0]) == 388.5
    poles = query(url, "SELECT count(*) FROM races_race_results WHERE pole_position AND year = 2021")
    assert poles == [(22,)]


# ----------------------------------------------------------------------------------- seed's CSVs


def test_seed_csvs_import_under_the_seed_names(any_url: str) -> None:
    report = import_paths(any_url, [SEED_DATA], mapping=SEED_MAPPING)
    assert report.ok, [f.error for f in report.files if f.error]
    assert report.tables == SEED_TABLES
    for table, rows in SEED_TABLES.items():
        assert count_rows(any_url, table) == rows
    records = {c.name: (c.header, c.type) for c in report.files[2].columns}
    assert records["race_wins"] == ("RaceWins", "integer")
    assert records["fastest_lap_time"] == ("FastestLapTime", "text")
    assert query(
        any_url, "SELECT winner FROM f1_circuit_winners WHERE year = 2019 AND circuit = 'Singapore'"
    ) == [("Sebastian Vettel",)]


def test_mapping_keeps_valid_names_and_sanitises_others() -> None:
    path = Path("data/formula_one_records_10_years.csv")
    assert resolve_table(
        path, table=None, mapping={"formula_one_records_10_years": "F1Records"}, strip_prefix=""
    ) == ("f1_records")
    assert resolve_table(path, table=None, mapping={path.name: "records"}, strip_prefix="") == "records"
    assert resolve_table(path, table="My Table", mapping=None, strip_prefix="") == "my_table"
    assert resolve_table(
        Path("f1db-races-race-results.csv"), table=None, mapping=None, strip_prefix="f1db-"
    ) == ("races_race_results")


# ---------------------------------------------------------------------------------- malformed input


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_ragged_rows_are_rejected_with_line_numbers(any_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "people.csv", 'id,name\n1,Ann\n2,Bob,extra\n3,Cy\n4\n5,"Multi\nline"\n6,Di\n')
    report = import_paths(any_url, [path])
    f = report.files[0]
    assert f.status == "ok" and f.rows == 4
    assert [(r.line, r.reason) for r in f.rejected] == [
        (3, "3 fields, expected 2"),
        (5, "1 fields, expected 2"),
    ]
    assert any("rejected" in w for w in f.warnings)
    assert query(any_url, "SELECT name FROM people WHERE id = 5") == [("Multi\nline",)]
    strict = import_paths(any_url, [path], strict=True)
    assert strict.files[0].status == "failed" and "strict" in (strict.files[0].error or "")
    assert count_rows(any_url, "people") == 4  # the earlier import stands


def test_failed_file_leaves_the_earlier_table(
    any_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write(tmp_path / "scores.csv", "team,points\nA,1\nB,2\n")
    assert import_paths(any_url, [good]).ok
    bigger = write(tmp_path / "scores2.csv", "team,points\n" + "".join(f"T{i},{i}\n" for i in range(50)))

    probe = importer.make_loader(parse_url(any_url))
    loader_class = type(probe)
    probe.close()
    original = loader_class.load

    def failing_load(self: importer.Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)  # rows are in the new table ...
        raise RuntimeError("disk full")  # ... when the import fails

    monkeypatch.setattr(loader_class, "load", failing_load)
    report = import_paths(any_url, [bigger], table="scores")
    assert report.files[0].status == "failed" and "disk full" in (report.files[0].error or "")
    assert count_rows(any_url, "scores") == 2
    assert not [t for t in tables_of(any_url) if t.startswith("_dv_")]  # no half-built tables left behind
    appended = import_paths(any_url, [bigger], table="scores", mode="append")
    assert appended.files[0].status == "failed"
    assert count_rows(any_url, "scores") == 2


def test_bad_encoding_and_empty_files_fail_clearly(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    assert import_paths(url, [write(tmp_path / "t.csv", "a\n1\n")]).ok
    binary = tmp_path / "t2.csv"
    binary.write_bytes(b"a\n\x00\x81\xff\xfe\x00\x9d\n")
    empty = write(tmp_path / "t3.csv", "")
    blank = write(tmp_path / "t4.csv", "\n\n  \n")
    report = import_paths(url, [binary, empty, blank], mapping={"t2": "t", "t3": "t3", "t4": "t4"})
    errors = [f.error or "" for f in report.files]
    assert all(f.status == "failed" for f in report.files)
    assert "binary" in errors[0] or "encoding" in errors[0]
    assert "empty" in errors[1] and "empty" in errors[2]
    assert count_rows(url, "t") == 1
    assert tables_of(url) == {"t"}


def test_cp1252_and_bom_are_transcoded(any_url: str, tmp_path: Path) -> None:
    cp = write(
        tmp_path / "drivers_cp.csv", "name;country\nKimi Räikkönen;Finland\nSergio Pérez;México\n", "cp1252"
    )
    bom = tmp_path / "drivers_bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfname,wins\nN\xc3\xa9o,3\n")
    report = import_paths(any_url, [cp, bom])
    assert report.ok, [f.error for f in report.files]
    assert report.files[0].encoding == "cp1252" and report.files[0].delimiter == ";"
    assert query(any_url, "SELECT name FROM drivers_cp WHERE country = 'México'") == [("Sergio Pérez",)]
    assert [c.name for c in report.files[1].columns] == ["name", "wins"]
    assert query(any_url, "SELECT wins FROM drivers_bom") == [(3,)]


def test_missing_markers_and_slashed_dates(any_url: str, tmp_path: Path) -> None:
    # palmerpenguins writes a missing value as NA, vega's Seattle weather its dates as 2012/01/31.
    path = write(
        tmp_path / "birds.csv",
        "species,mass,sex,seen\nAdelie,3750,male,2012/01/31\nAdelie,NA,NA,2012/02/01\nGentoo,5000,female,\n",
    )
    report = import_paths(any_url, [path])
    f = report.files[0]
    assert f.status == "ok" and [c.type for c in f.columns] == ["text", "integer", "text", "date"]
    assert any("NA" in w for w in f.warnings)
    assert query(any_url, "SELECT SUM(mass), COUNT(sex) FROM birds") == [(8750, 2)]
    seen = query(any_url, "SELECT seen FROM birds WHERE species = 'Adelie' ORDER BY seen")
    assert [str(r[0])[:10] for r in seen] == ["2012-01-31", "2012-02-01"]


def test_duplicate_and_empty_headers_are_made_unique(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    path = write(tmp_path / "dup.csv", "Name,name,,Points (total)\na,b,c,1\n")
    f = import_paths(url, [path]).files[0]
    assert f.status == "ok"
    assert [c.name for c in f.columns] == ["name", "name_2", "column_3", "points_total"]
    assert [c.header for c in f.columns] == ["Name", "name", "", "Points (total)"]
    assert len(f.warnings) == 2


def test_append_adds_rows_and_checks_columns(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    path = write(tmp_path / "laps.csv", "lap,time\n1,90.5\n2,91.0\n")
    assert import_paths(url, [path]).ok
    assert import_paths(url, [path], mode="append").files[0].rows == 2
    assert count_rows(url, "laps") == 4
    other = write(tmp_path / "other.csv", "lap,speed\n1,300\n")
    report = import_paths(url, [other], table="laps", mode="append")
    assert report.files[0].status == "failed" and "columns" in (report.files[0].error or "")
    assert count_rows(url, "laps") == 4


def test_header_only_file_makes_an_empty_text_table(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    f = import_paths(url, [write(tmp_path / "none.csv", "a,b\n")], progress=True).files[0]
    assert f.status == "ok" and f.rows == 0 and [c.type for c in f.columns] == ["text", "text"]


def test_missing_paths_and_table_with_many_files(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    with pytest.raises(ImportFailed, match="no such file"):
        import_paths(url, [tmp_path / "nope.csv"])
    a, b = write(tmp_path / "a.csv", "x\n1\n"), write(tmp_path / "b.csv", "x\n1\n")
    with pytest.raises(ImportFailed, match="one table"):
        import_paths(url, [a, b], table="t")


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
