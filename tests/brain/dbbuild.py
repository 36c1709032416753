"""Build test databases from CSV files: with the importer when it exists, else with DuckDB directly."""

from __future__ import annotations

from pathlib import Path

import duckdb

from datavox.data.names import column_names, table_name

SHARED = Path(__file__).resolve().parents[3] / "shared"
F1_DIR = SHARED / "data" / "f1"
SEED_DIR = SHARED / "reference" / "seed-repo-data"
SEED_TABLES = {
    "formula_one_records_10_years": "f1_records",
    "formula_one_circuit_winners_10_years": "f1_circuit_winners",
    "formula_one_constructor_champions_10_years": "f1_constructor_champions",
    "formula_one_results_sample": "f1_results_sample",
}


def load_csvs(
    db_path: Path, files: list[Path], names: dict[str, str] | None = None, prefix: str = ""
) -> None:
    """One table per CSV; table names from file stems (or `names`), columns snake_case via data/names.py."""
    con = duckdb.connect(str(db_path))
    try:
        for f in files:
            table = (names or {}).get(f.stem) or table_name(f.stem, strip_prefix=prefix)
            rel = con.read_csv(str(f), header=True)
            cols = column_names(rel.columns)
            select = ", ".join(f'"{old}" AS {new}' for old, new in zip(rel.columns, cols, strict=True))
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM read_csv_auto(?, header=true)",
                [str(f)],
            )
    finally:
        con.close()


def build_f1(db_path: Path) -> Path:
    load_csvs(db_path, sorted(F1_DIR.glob("f1db-*.csv")), prefix="f1db-")
    return db_path


def build_seed(db_path: Path) -> Path:
    load_csvs(db_path, sorted(SEED_DIR.glob("*.csv")), names=SEED_TABLES)
    return db_path
