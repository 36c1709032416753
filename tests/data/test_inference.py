"""Type inference on generated CSV files (hypothesis), checked by scanning and by a round trip."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datavox.data.importer import ColumnType, import_paths, infer_types, scan_file

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(',"\n;')
_TEXT = st.text(alphabet=_CHARS, max_size=12).map(lambda s: "x" + s)  # starts with a letter: never a number

VALUES: dict[ColumnType, st.SearchStrategy[str]] = {
    "integer": st.integers(-(10**15), 10**15).map(str),
    "decimal": st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12).map(repr),
    "boolean": st.sampled_from(["true", "false", "TRUE", "False"]),
    "date": st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    "timestamp": st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)).map(datetime.isoformat),
    "text": _TEXT,
}


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 12) -> tuple[list[ColumnType], list[list[str]]]:
    types: list[ColumnType] = draw(st.lists(st.sampled_from(list(VALUES)), min_size=1, max_size=6))
    n = draw(st.integers(1, max_rows))
    columns = []
    for kind in types:
        values = draw(st.lists(VALUES[kind] | st.just(""), min_size=n, max_size=n))
        if not any(values):
            values[0] = draw(VALUES[kind])  # every column has at least one value
        columns.append(values)
    return types, [list(row) for row in zip(*columns, strict=True)]


def write_csv(path: Path, width: int, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f"Col {i}" for i in range(width)])
        writer.writerows(rows)


def expected_value(kind: ColumnType, raw: str) -> Any:
    if raw == "":
        return None
    return {
        "integer": int,
        "decimal": float,
        "boolean": lambda v: v.lower() == "true",
        "date": date.fromisoformat,
        "timestamp": datetime.fromisoformat,
        "text": str,
    }[kind](raw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_scan_infers_the_generated_types(
    tmp_path: Path, table: tuple[list[ColumnType], list[list[str]]]
) -> None:
    types, rows = table
    # A decimal column whose floats all print as integers would be integer: repr always keeps a dot or an e.
    path = tmp_path / "gen.csv"
    write_csv(path, len(types), rows)
    scan = scan_file(path, "utf-8")
    assert scan.types == types
    assert scan.good_rows == len(rows) and not scan.rejected_lines
    assert infer_types(rows, len(types)) == types


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables(max_rows=6))
def test_generated_values_round_trip_through_duckdb(
    tmp_path: Path, table: tuple[list[ColumnType], list[list[str]]]
) -> None:
    types, rows = table
    path = tmp_path / "gen.csv"
    write_csv(path, len(types), rows)
    db = tmp_path / "gen.duckdb"
    report = import_paths(f"duckdb:///{db}", [path])
    assert report.ok, report.files[0].error
    conn = duckdb.connect(str(db), read_only=True)
    try:
        got = [list(r) for r in conn.execute("SELECT * FROM gen").fetchall()]
    finally:
        conn.close()
    expected = [[expected_value(k, v) for k, v in zip(types, row, strict=True)] for row in rows]
    assert got == expected


def test_edge_values() -> None:
    assert infer_types([["007"], ["1"]], 1) == ["text"]  # leading zeros are codes, not numbers
    assert infer_types([["1"], ["2.5"]], 1) == ["decimal"]
    assert infer_types([["2021-02-30"]], 1) == ["text"]  # not a real date
    assert infer_types([["2021-02-03"], ["2021-02-03 10:00"]], 1) == ["timestamp"]
    assert infer_types([["99999999999999999999"]], 1) == ["decimal"]  # past BIGINT
    # "NaN", "NA": a missing value in a column of numbers (read as empty), not a reason to make it text.
    assert infer_types([["NaN"], ["1"]], 1) == ["integer"]
    assert infer_types([["NA"], ["NA"]], 1) == ["text"]  # nothing but markers: nothing to type
    assert infer_types([["2012/01/31"], ["2012/02/01"]], 1) == ["date"]
    assert infer_types([["2012/01/31"], ["2012-02-01"]], 1) == ["text"]  # one way of writing dates
    assert infer_types([[""], [""]], 1) == ["text"]
    assert infer_types([["yes"], ["no"]], 1) == ["text"]
