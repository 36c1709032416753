"""Loading a scanned CSV file into a table, one class per engine (see importer.py, steps 4 and 5)."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datavox.data.connect import DatabaseUrl, connect
from datavox.data.csv_scan import Scan, good_rows
from datavox.data.csv_types import ColumnType
from datavox.data.import_report import ImportFailed

BATCH_ROWS = 5_000


# -------------------------------------------------------------------------------------------- loaders

_SQL_TYPES: dict[str, dict[ColumnType, str]] = {
    "duckdb": {"integer": "BIGINT", "decimal": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
               "timestamp": "TIMESTAMP", "text": "VARCHAR"},
    "postgresql": {"integer": "BIGINT", "decimal": "DOUBLE PRECISION", "boolean": "BOOLEAN", "date": "DATE",
                   "timestamp": "TIMESTAMP", "text": "TEXT"},
    "sqlite": {"integer": "INTEGER", "decimal": "REAL", "boolean": "BOOLEAN", "date": "DATE",
               "timestamp": "TIMESTAMP", "text": "TEXT"},
    "mysql": {"integer": "BIGINT", "decimal": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
              "timestamp": "DATETIME(6)", "text": "TEXT"},
}  # fmt: skip


def _converter(kind: ColumnType, engine: str) -> Callable[[str], Any]:
    if kind == "integer":
        return lambda v: int(v) if v else None
    if kind == "decimal":
        return lambda v: float(v) if v else None
    if kind == "boolean":
        return lambda v: (v.lower() == "true") if v else None
    if kind == "timestamp" and engine == "mysql":
        return lambda v: v.replace("T", " ") if v else None
    return lambda v: v if v else None


class Loader:
    """One engine's way to create, fill, swap and drop tables; subclasses per engine."""

    quote_char = '"'

    def __init__(self, db: DatabaseUrl) -> None:
        self.db = db
        self.conn: Any = connect(db)
        self.types = _SQL_TYPES[db.kind]

    def q(self, name: str) -> str:
        return f"{self.quote_char}{name}{self.quote_char}"

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params) if params is not None else cur.execute(sql)
            return cur.fetchall() if cur.description else None
        finally:
            cur.close()

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def tables(self) -> set[str]:
        raise NotImplementedError

    def columns_of(self, table: str) -> list[str]:
        cur = self.conn.cursor()
        try:
            cur.execute(f"SELECT * FROM {self.q(table)} WHERE 1 = 0")
            return [str(d[0]) for d in cur.description]
        finally:
            cur.close()

    def count(self, table: str) -> int:
        rows = self.execute(f"SELECT count(*) FROM {self.q(table)}")
        return int(rows[0][0])

    def create(self, table: str, columns: Sequence[str], types: Sequence[ColumnType]) -> None:
        cols = ", ".join(f"{self.q(c)} {self.types[t]}" for c, t in zip(columns, types, strict=True))
        self.execute(f"CREATE TABLE {self.q(table)} ({cols})")

    def load(self, table: str, path: Path, encoding: str, scan: Scan, types: Sequence[ColumnType]) -> None:
        """Insert the good rows of the file into `table` (which exists, with the file's columns)."""
        converters = [_converter(t, self.db.kind) for t in types]
        marks = ", ".join(["%s" if self.db.kind == "mysql" else "?"] * len(scan.columns))
        cols = ", ".join(self.q(c) for c in scan.columns)
        sql = f"INSERT INTO {self.q(table)} ({cols}) VALUES ({marks})"
        rows = (
            [conv(v) for conv, v in zip(converters, row, strict=True)]
            for row in good_rows(path, encoding, scan)
        )
        cur = self.conn.cursor()
        try:
            while batch := list(itertools.islice(rows, BATCH_ROWS)):
                cur.executemany(sql, batch)
        finally:
            cur.close()

    def drop(self, table: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.q(table)}")

    def rename(self, old: str, new: str) -> None:
        self.execute(f"ALTER TABLE {self.q(old)} RENAME TO {self.q(new)}")

    def replace_table(self, tmp: str, target: str) -> None:
        """Inside the open transaction: drop the old table and give the new one its name."""
        self.drop(target)
        self.rename(tmp, target)


class DuckDBLoader(Loader):
    # DuckDB's `cursor()` opens a new connection with its own transaction, so run everything on `conn`.
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        result = self.conn.execute(sql, params) if params is not None else self.conn.execute(sql)
        return result.fetchall() if result.description else None

    def columns_of(self, table: str) -> list[str]:
        result = self.conn.execute(f"SELECT * FROM {self.q(table)} WHERE 1 = 0")
        return [str(d[0]) for d in result.description]

    def tables(self) -> set[str]:
        rows = self.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
        return {str(r[0]) for r in rows or []}

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.execute("ROLLBACK")

    def load(self, table: str, path: Path, encoding: str, scan: Scan, types: Sequence[ColumnType]) -> None:
        # DuckDB parses the file itself (fast, parallel) with the columns and types found by the scan.
        # Rejected (ragged) rows are the ones DuckDB skips with ignore_errors; the caller checks the count.
        columns = ", ".join(f"'{c}': '{self.types[t]}'" for c, t in zip(scan.columns, types, strict=True))
        literal = str(path).replace("'", "''")
        delim = scan.delimiter.replace("'", "''")
        nulls = ", ".join("'" + v.replace("'", "''") + "'" for v in ["", *sorted(scan.missing)])
        options = (
            f"header = true, auto_detect = false, delim = '{delim}', quote = '\"', escape = '\"', "
            f"nullstr = [{nulls}], columns = {{{columns}}}, "
            f"ignore_errors = {str(bool(scan.rejected_lines)).lower()}"
        )
        if scan.slash_dates:
            options += ", dateformat = '%Y/%m/%d'"
        cols = ", ".join(self.q(c) for c in scan.columns)
        self.execute(f"INSERT INTO {self.q(table)} ({cols}) SELECT * FROM read_csv('{literal}', {options})")


class SQLiteLoader(Loader):
    def __init__(self, db: DatabaseUrl) -> None:
        super().__init__(db)
        self.conn.isolation_level = None  # explicit BEGIN/COMMIT, DDL included

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.execute("ROLLBACK")

    def tables(self) -> set[str]:
        rows = self.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        return {str(r[0]) for r in rows or []}


class PostgresLoader(Loader):
    def begin(self) -> None:
        pass  # psycopg opens the transaction with the first statement

    def tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {str(r[0]) for r in rows or []}

    def load(self, table: str, path: Path, encoding: str, scan: Scan, types: Sequence[ColumnType]) -> None:
        # COPY in CSV format: an unquoted empty field is NULL, as everywhere in datavox.
        cols = ", ".join(self.q(c) for c in scan.columns)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {self.q(table)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
        ):
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            rows = good_rows(path, encoding, scan)
            while batch := list(itertools.islice(rows, BATCH_ROWS)):
                writer.writerows(batch)
                copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()


class MySQLLoader(Loader):
    quote_char = "`"

    def __init__(self, db: DatabaseUrl) -> None:
        super().__init__(db)
        self.conn.autocommit(False)

    def tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
        )
        return {str(r[0]) for r in rows or []}

    def begin(self) -> None:
        self.execute("START TRANSACTION")

    def replace_table(self, tmp: str, target: str) -> None:
        # DDL commits implicitly in MariaDB: swap in one atomic RENAME TABLE, then drop the old table.
        if target in self.tables():
            old = temp_name(target, "old")
            self.execute(f"RENAME TABLE {self.q(target)} TO {self.q(old)}, {self.q(tmp)} TO {self.q(target)}")
            self.drop(old)
        else:
            self.rename(tmp, target)


def make_loader(db: DatabaseUrl) -> Loader:
    loaders: dict[str, type[Loader]] = {
        "duckdb": DuckDBLoader,
        "sqlite": SQLiteLoader,
        "postgresql": PostgresLoader,
        "mysql": MySQLLoader,
    }
    if db.kind not in loaders:
        raise ImportFailed(
            f"importing into {db.kind} is not supported; use DuckDB, SQLite, PostgreSQL or MariaDB"
        )
    return loaders[db.kind](db)


def temp_name(table: str, tag: str = "tmp") -> str:
    return f"_dv_{tag}_{secrets.token_hex(3)}_{table}"[:63]
