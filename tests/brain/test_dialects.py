"""The offline engine writes SQL for the database's own dialect: the seed's tables on SQLite, PostgreSQL and
MariaDB answer like DuckDB's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.brain.conftest import SEED_MAPPING
from tests.brain.dbbuild import SEED_DIR
from tests.brain.followups import converse
from tests.brain.helpers import has_values

from datavox.brain.brain import Brain
from datavox.config import DatabaseSettings, Settings

QUESTIONS = [
    ("Who won in Singapore in 2019?", ["Sebastian Vettel"]),
    ("How many points did Lewis Hamilton score in 2019?", [413]),
    ("Who had the most race wins in 2023?", ["Max Verstappen"]),
]


def brain_on(url: str) -> Iterator[Brain]:
    from datavox.data.importer import import_paths

    import_paths(url, [SEED_DIR], mapping=SEED_MAPPING)
    settings = replace(Settings(), database=DatabaseSettings(url=url, audit_log=""))
    brain = Brain.from_settings(settings, engine="offline")
    yield brain
    brain.close()


def check(brain: Brain) -> None:
    for question, expected in QUESTIONS:
        has_values(brain.ask(question), *expected)
    _, b = converse(brain, "Who had the most race wins in 2023?", "How many points did he score?")
    has_values(b, 575)


def test_sqlite(tmp_path: Path) -> None:
    for brain in brain_on(f"sqlite:///{tmp_path / 'seed.sqlite'}"):
        assert brain.db.dialect == "sqlite"
        check(brain)


@pytest.mark.postgres
def test_postgresql(pg_url: str) -> None:
    for brain in brain_on(pg_url):
        assert brain.db.dialect == "postgres"
        check(brain)


@pytest.mark.mariadb
def test_mariadb(mariadb_url: str) -> None:
    for brain in brain_on(mariadb_url):
        assert brain.db.dialect == "mysql"
        check(brain)
