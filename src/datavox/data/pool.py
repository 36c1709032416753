"""The executor's connections: read-only connections of one database, opened per dialect (see the
executor's module doc for how each is kept read-only), pooled so that each statement borrows one, and
`Handle`s that let another thread interrupt a statement."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datavox.data.connect import DatabaseUrl, connect
from datavox.data.query_errors import QueryError


@dataclass(eq=False)  # identity semantics: handles live in a set
class Handle:
    """One pooled connection and the way to interrupt it from another thread."""

    conn: Any
    interrupt: Callable[[], None]
    close: Callable[[], None]
    begin: Callable[[], None] = lambda: None
    end: Callable[[], None] = lambda: None
    timed_out: bool = False
    cancelled: bool = False
    generation: int = 0  # counts borrows, so a late interrupt never hits the next statement
    executing: bool = False  # between sending the statement and its last row: the only time to interrupt
    thread: int = 0  # the thread running the statement, so cancel(thread_id) stops only that one
    extra: dict[str, Any] = field(default_factory=dict)


def user_tables(db: DatabaseUrl, conn: Any) -> list[str]:
    """The user's tables and views (not system catalogs) on an open connection."""
    queries = {
        "duckdb": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
        "sqlite": "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%'",
        "postgresql": "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema()",
        "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
        "mssql": "SELECT table_name FROM information_schema.tables WHERE table_schema = SCHEMA_NAME()",
    }
    cur = conn.cursor()
    try:
        cur.execute(queries[db.kind])
        names = sorted(str(row[0]) for row in cur.fetchall())
    finally:
        cur.close()
    if db.kind in ("postgresql", "mysql"):
        conn.rollback()
    return names


def harden_duckdb(conn: Any) -> None:
    """No files, no network, no extensions; then lock the configuration so that no statement (even with the
    guard off) can turn these back on. DuckDB shares one database instance per file within a process, so a
    second executor on the same file finds it locked already: then check that it is locked this way."""
    locked = conn.execute("SELECT current_setting('lock_configuration')").fetchone()[0]
    if not locked:
        for setting in (
            "SET autoinstall_known_extensions = false",
            "SET autoload_known_extensions = false",
            "SET enable_external_access = false",
            "SET lock_configuration = true",
        ):
            conn.execute(setting)
    external = conn.execute("SELECT current_setting('enable_external_access')").fetchone()[0]
    if external:
        conn.close()
        raise QueryError("this DuckDB database is open elsewhere in the process with external access enabled")


class ConnectionPool:
    """Idle and running handles of one database; thread-safe. The executor flags running handles under
    `lock` (timeouts, cancels), so that a handle cannot change hands meanwhile."""

    def __init__(self, db: DatabaseUrl, timeout_s: float) -> None:
        self.db = db
        self.timeout_s = timeout_s
        self.lock = threading.Lock()
        self.idle: list[Handle] = []
        self.running: set[Handle] = set()
        self.closed = False
        self._duckdb_root: Any = None
        self._killer: Any = None  # MariaDB: the second connection that sends KILL QUERY
        self._killer_lock = threading.Lock()
        self._mysql_is_mariadb = True

    def borrow(self, *, track: bool = True) -> Handle:
        with self.lock:
            if self.closed:
                raise QueryError("the executor is closed")
            handle = self.idle.pop() if self.idle else None
        if handle is None:
            handle = self._open()
        with self.lock:
            handle.timed_out = handle.cancelled = False
            handle.generation += 1
            handle.thread = threading.get_ident()
            if track:
                self.running.add(handle)
        return handle

    def give_back(self, handle: Handle, *, broken: bool = False) -> None:
        with self.lock:
            self.running.discard(handle)
            keep = not broken and not self.closed
            if keep:
                self.idle.append(handle)
        if not keep:
            self._safe_close(handle)

    @staticmethod
    def _safe_call(fn: Callable[[], Any]) -> None:
        with contextlib.suppress(Exception):
            fn()

    def _safe_close(self, handle: Handle) -> None:
        self._safe_call(handle.close)

    def _open(self) -> Handle:
        opener = {
            "duckdb": self._open_duckdb,
            "sqlite": self._open_sqlite,
            "postgresql": self._open_postgres,
            "mysql": self._open_mysql,
            "mssql": self._open_mssql,
        }[self.db.kind]
        return opener()

    def _open_duckdb(self) -> Handle:
        with self.lock:
            if self._duckdb_root is None:
                root = connect(self.db, read_only=True)
                harden_duckdb(root)
                self._duckdb_root = root
            conn = self._duckdb_root.cursor()  # a new connection to the same read-only database
        return Handle(conn=conn, interrupt=conn.interrupt, close=conn.close)

    def _open_sqlite(self) -> Handle:
        conn = connect(self.db, read_only=True)
        conn.execute("PRAGMA query_only = 1")
        return Handle(conn=conn, interrupt=conn.interrupt, close=conn.close)

    def _open_postgres(self) -> Handle:
        conn = connect(self.db)
        conn.autocommit = True
        timeout_ms = max(1, int(self.timeout_s * 1000))
        with conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = on")
            cur.execute(f"SET statement_timeout = {timeout_ms}")
            cur.execute(f"SET idle_in_transaction_session_timeout = {timeout_ms + 5000}")
        conn.autocommit = False
        conn.read_only = True  # psycopg opens every transaction with BEGIN READ ONLY

        def interrupt() -> None:
            conn.cancel_safe(timeout=1.0) if hasattr(conn, "cancel_safe") else conn.cancel()

        return Handle(conn=conn, interrupt=interrupt, close=conn.close, end=conn.rollback)

    def _mysql_kill(self, thread_id: int) -> None:
        # Its own lock, not the pool's: connecting and the KILL are round trips that must not hold up
        # every other statement's borrow and give-back.
        with self._killer_lock:
            if self.closed:
                return  # the statement's connection is being closed anyway; no new connection now
            if self._killer is None:
                self._killer = connect(self.db)
            with self._killer.cursor() as cur:
                cur.execute(f"KILL QUERY {int(thread_id)}")

    def _open_mysql(self) -> Handle:
        conn = connect(self.db)
        conn.autocommit(True)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
            self._mysql_is_mariadb = "mariadb" in str(row[0] if row else "").lower()
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            if self._mysql_is_mariadb:
                cur.execute(f"SET SESSION max_statement_time = {max(0.001, self.timeout_s):.3f}")
            else:
                cur.execute(f"SET SESSION max_execution_time = {max(1, int(self.timeout_s * 1000))}")
        thread_id = conn.thread_id()

        def begin() -> None:
            # Re-assert the session mode too: DDL commits implicitly and then runs in the session's mode, so
            # a session switched to READ WRITE by an earlier statement (guard off) would let it through.
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("START TRANSACTION READ ONLY")

        return Handle(
            conn=conn,
            interrupt=lambda: self._mysql_kill(thread_id),
            close=conn.close,
            begin=begin,
            end=conn.rollback,
        )

    def _open_mssql(self) -> Handle:  # pragma: no cover - no SQL Server to test against
        conn = connect(self.db, read_only=True)
        conn.timeout = max(1, int(self.timeout_s))
        return Handle(conn=conn, interrupt=lambda: conn.cancel(), close=conn.close, end=conn.rollback)

    def close(self) -> None:
        """Close the idle connections, MariaDB's KILL connection and DuckDB's root; no borrowing after."""
        with self.lock:
            self.closed = True
            idle, self.idle = self.idle, []
        for handle in idle:
            self._safe_close(handle)
        with self._killer_lock:
            if self._killer is not None:
                self._safe_call(self._killer.close)
                self._killer = None
        if self._duckdb_root is not None:
            self._safe_call(self._duckdb_root.close)
            self._duckdb_root = None
