"""Fixtures shared by every test folder. Keep this small and generic.

`pg_url` and `mariadb_url` give a fresh database on the local servers (postgresql://postgres@127.0.0.1:5432,
mysql://root@127.0.0.1:3306), created once per test session as `datavox_test_<random>` and dropped at the end;
tests that use them are skipped, with the reason, when the server is down.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
MARIADB_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def _test_db_name() -> str:
    return f"datavox_test_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    try:
        import psycopg

        admin = psycopg.connect(**PG_ADMIN, autocommit=True, connect_timeout=3)  # type: ignore[arg-type]
    except Exception as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    name = _test_db_name()
    admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
        admin.close()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB/MySQL database for this test session."""
    try:
        import pymysql

        admin = pymysql.connect(**MARIADB_ADMIN, connect_timeout=3, autocommit=True)  # type: ignore[arg-type]
    except Exception as exc:
        pytest.skip(f"MariaDB on 127.0.0.1:3306 is not reachable: {exc}")
    name = _test_db_name()
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
