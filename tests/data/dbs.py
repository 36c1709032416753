"""Build small test databases on each engine (through a writable connection, outside the executor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datavox.data.connect import connect, parse_url

KINDS = ["duckdb", "sqlite", "postgresql", "mysql"]

# The shared data next to the checkout (never copied into the repository).
SHARED = Path(__file__).resolve().parents[3] / "shared"
F1_PATH = SHARED / "data" / "f1"
SEED_DATA = SHARED / "reference" / "seed-repo-data"

ROWS = [
    (1, "Lewis Hamilton", "2019-12-01", "413.50"),
    (2, "Max Verstappen", "2021-12-12", "395.5"),
    (3, "Nico Rosberg", "2016-11-27", "385"),
]


def url_for(kind: str, tmp: Path, request: Any) -> str:
    """A database URL of the given kind: a file under tmp, or the session's server database."""
    if kind == "duckdb":
        return f"duckdb:///{tmp / 'test.duckdb'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'test.sqlite'}"
    if kind == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("mariadb_url"))


def build_sample(url: str, *, big_rows: int = 1000) -> None:
    """Tables `t` (three champions) and `big` (`big_rows` integers) for executor tests."""
    db = parse_url(url)
    conn = connect(db)
    decimal = "DECIMAL(10,2)"
    cur = conn.cursor()
    for stmt in ("DROP TABLE IF EXISTS t", "DROP TABLE IF EXISTS big"):
        cur.execute(stmt)
    cur.execute(f"CREATE TABLE t (id INTEGER, name VARCHAR(100), d DATE, amount {decimal})")
    cur.execute("CREATE TABLE big (n INTEGER)")
    mark = "?" if db.kind in ("duckdb", "sqlite") else "%s"
    cur.executemany(f"INSERT INTO t VALUES ({mark}, {mark}, {mark}, {mark})", ROWS)
    cur.executemany(f"INSERT INTO big VALUES ({mark})", [(i,) for i in range(big_rows)])
    conn.commit()
    cur.close()
    conn.close()


def count_rows(url: str, table: str) -> int:
    conn = connect(parse_url(url))
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT count(*) FROM {table}")
        row = cur.fetchone()
        return int(row[0])
    finally:
        conn.close()
