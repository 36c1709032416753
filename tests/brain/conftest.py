"""Databases for the brain tests, built once per session in a temporary folder.

F1DB is imported with the importer (`datavox.data.importer.import_paths`), as `datavox demo` does; the seed's
four tables come from ../shared (never copied into the repository); the shop is a small CSV domain that is
not Formula One, written by the fixture itself.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.brain.dbbuild import F1_DIR, SEED_DIR, SEED_TABLES, build_f1, build_seed

from datavox.brain.brain import Brain
from datavox.config import DatabaseSettings, Settings

SEED_MAPPING = {
    "formula_one_records_10_years": "F1Records",
    "formula_one_circuit_winners_10_years": "F1CircuitWinners",
    "formula_one_constructor_champions_10_years": "F1ConstructorChampions",
    "formula_one_results_sample": "F1ResultsSample",
}


def _import(url: str, paths: list[Path], **kwargs: object) -> bool:
    try:
        from datavox.data.importer import import_paths
    except ImportError:
        return False
    import_paths(url, paths, **kwargs)  # type: ignore[arg-type]
    return True


def settings_for(db_path: Path) -> Settings:
    base = Settings()
    return replace(base, database=DatabaseSettings(url=f"duckdb:///{db_path}", audit_log=""))


@pytest.fixture(scope="session")
def f1_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not F1_DIR.is_dir():
        pytest.skip(f"F1DB is not at {F1_DIR}")
    path = tmp_path_factory.mktemp("f1") / "f1.duckdb"
    if not _import(f"duckdb:///{path}", [F1_DIR], strip_prefix="f1db-"):
        build_f1(path)
    return path


@pytest.fixture(scope="session")
def f1_brain(f1_db: Path) -> Iterator[Brain]:
    brain = Brain.from_settings(settings_for(f1_db), engine="offline")
    yield brain
    brain.close()


@pytest.fixture(scope="session")
def seed_brain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Brain]:
    if not SEED_DIR.is_dir():
        pytest.skip(f"the seed's data is not at {SEED_DIR}")
    path = tmp_path_factory.mktemp("seed") / "seed.duckdb"
    if not _import(f"duckdb:///{path}", [SEED_DIR], mapping=SEED_MAPPING):
        build_seed(path)
    brain = Brain.from_settings(settings_for(path), engine="offline")
    assert set(brain.catalog.tables) == set(SEED_TABLES.values())
    yield brain
    brain.close()


SHOP = {
    "customers": [
        ["id", "name", "email", "city", "country", "signup_date"],
        [1, "Alice Martin", "alice@example.com", "Lyon", "France", "2023-02-01"],
        [2, "Bruno Costa", "bruno@example.com", "Porto", "Portugal", "2023-05-17"],
        [3, "Chloé Dubois", "chloe@example.com", "Lyon", "France", "2024-01-09"],
        [4, "Daniel Weber", "daniel@example.com", "Berlin", "Germany", "2024-03-22"],
    ],
    "products": [
        ["id", "name", "category", "price"],
        [1, "Espresso Beans", "Coffee", 12.5],
        [2, "Green Tea", "Tea", 6.0],
        [3, "Filter Papers", "Accessories", 3.25],
        [4, "Decaf Beans", "Coffee", 11.0],
    ],
    "orders": [
        ["id", "customer_id", "order_date", "status"],
        [1, 1, "2023-03-01", "shipped"],
        [2, 1, "2024-02-11", "shipped"],
        [3, 2, "2024-02-15", "cancelled"],
        [4, 3, "2024-04-02", "shipped"],
        [5, 1, "2024-06-30", "shipped"],
        [6, 4, "2024-07-04", "pending"],
    ],
    "order_items": [
        ["order_id", "product_id", "quantity", "unit_price"],
        [1, 1, 2, 12.5],
        [1, 3, 1, 3.25],
        [2, 2, 3, 6.0],
        [3, 1, 1, 12.5],
        [4, 4, 2, 11.0],
        [5, 1, 4, 12.5],
        [6, 2, 1, 6.0],
    ],
}


@pytest.fixture(scope="session")
def shop_brain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Brain]:
    folder = tmp_path_factory.mktemp("shop")
    for name, rows in SHOP.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    path = folder / "shop.duckdb"
    files = sorted(folder.glob("*.csv"))
    if not _import(f"duckdb:///{path}", files):
        from tests.brain.dbbuild import load_csvs

        load_csvs(path, files)
    brain = Brain.from_settings(settings_for(path), engine="offline")
    yield brain
    brain.close()
