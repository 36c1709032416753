"""The read-only executor: the only way a statement reaches the user's database at run time.

Two walls: the guard (`guard.check_sql`) refuses anything but one SELECT on allowed tables, and the
connections themselves cannot write:

- DuckDB: opened `read_only`, external access disabled (no files, no network, no extensions) and the
  configuration locked, so a statement cannot switch it back;
- SQLite: opened `mode=ro` with `PRAGMA query_only`;
- PostgreSQL: `default_transaction_read_only` for the session and every statement inside a
  `BEGIN READ ONLY` transaction that is rolled back afterwards; `statement_timeout` on the server;
- MySQL/MariaDB: `SET SESSION TRANSACTION READ ONLY` and every statement inside
  `START TRANSACTION READ ONLY`; `max_statement_time` (MariaDB, seconds) or `max_execution_time` (MySQL, ms).

Timeouts cancel the running statement: DuckDB and SQLite `interrupt()`, PostgreSQL the server's
statement_timeout (and a protocol cancel as a backstop), MariaDB `KILL QUERY` from a second connection.
`cancel(thread_id)` does the same for the statement one thread runs now (a voice session's barge-in: the
brain runs each question on a worker thread), `cancel()` for every statement (shutdown).

Connections are pooled: each `run` borrows one, so the executor can be shared between threads.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from uuid import UUID

from datavox import cancel
from datavox.data import guard as guard_module
from datavox.data.audit import AuditLog
from datavox.data.connect import DatabaseUrl, connect, parse_url
from datavox.types import Cell, QueryResult


class QueryError(RuntimeError):
    """The database refused or failed the statement; the message is the database's reason."""


class QueryTimeout(QueryError):
    """The statement ran past the timeout and was cancelled."""


class QueryCancelled(QueryError):
    """The statement was cancelled by `Executor.cancel()`."""


# ---------------------------------------------------------------------------------------------- cells


def json_cell(value: Any) -> Cell:
    """One database value as a JSON-safe cell."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        # Nested values (DuckDB LIST/STRUCT, PostgreSQL arrays) travel as JSON text.
        return json.dumps(value, default=lambda v: json_cell(v), ensure_ascii=False)
    return str(value)


# ---------------------------------------------------------------------------------------- connections


@dataclass(eq=False)  # identity semantics: handles live in a set
class _Handle:
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


class _Watchdog:
    """One thread per executor that interrupts statements past their deadline.

    Cheaper than a timer thread per statement (arming is a dict insert under a lock), which matters for a
    query that itself takes a fraction of a millisecond.
    """

    def __init__(self, on_timeout: Callable[[_Handle, int], None]) -> None:
        self._on_timeout = on_timeout
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, _Handle, int]] = {}
        self._next_token = 0
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, deadline: float, handle: _Handle, generation: int) -> int:
        with self._cond:
            self._next_token += 1
            token = self._next_token
            self._armed[token] = (deadline, handle, generation)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="datavox-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        if token:
            with self._cond:
                self._armed.pop(token, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                due = [t for t, (deadline, _, _) in self._armed.items() if deadline <= now]
                expired = [self._armed.pop(t) for t in due]
                if not expired:
                    wait = min((d for d, _, _ in self._armed.values()), default=now + 60) - now
                    self._cond.wait(timeout=max(0.005, wait))
                    continue
            for _, handle, generation in expired:
                self._on_timeout(handle, generation)


def _harden_duckdb(conn: Any) -> None:
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


class Executor:
    """Runs checked SELECTs on read-only connections with a row cap and a timeout; see the module doc."""

    def __init__(
        self,
        db: str | DatabaseUrl,
        *,
        allowed_tables: Iterable[str] | None = None,
        row_cap: int = 1000,
        timeout_s: float = 10.0,
        audit: AuditLog | None = None,
        guard: bool = True,
    ) -> None:
        self.db = parse_url(db) if isinstance(db, str) else db
        self.row_cap = row_cap
        self.timeout_s = timeout_s
        self.audit = audit
        self.guard = guard
        self._allowed = sorted(allowed_tables) if allowed_tables is not None else None
        self._allowed_given = allowed_tables is not None
        self._lock = threading.Lock()
        self._idle: list[_Handle] = []
        self._running: set[_Handle] = set()
        self._closed = False
        self._duckdb_root: Any = None
        self._killer: Any = None  # MariaDB: the second connection that sends KILL QUERY
        self._killer_lock = threading.Lock()
        self._mysql_is_mariadb = True
        self._watchdog = _Watchdog(self._on_timeout)
        # PostgreSQL and MariaDB stop a statement themselves at the timeout; the client-side interrupt is a
        # backstop a little later, so that it does not race the server's own cancellation.
        self._backstop_s = timeout_s + (0.5 if self.db.kind in ("postgresql", "mysql") else 0.0)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def allowed_tables(self) -> list[str]:
        """The tables the guard allows: as given, or every user table of the database."""
        if self._allowed is None:
            handle = self._borrow(track=False)  # bookkeeping, not a statement for cancel() to stop
            try:
                self._allowed = user_tables(self.db, handle.conn)
            finally:
                self._give_back(handle)
        return list(self._allowed)

    def refresh_tables(self) -> list[str]:
        """Forget the cached table list (after an import added tables) and read it again."""
        if self._allowed_given:
            return list(self._allowed or [])
        self._allowed = None
        return self.allowed_tables

    # -- running ----------------------------------------------------------------------------------

    def run(self, sql: str, *, source: str = "api") -> QueryResult:
        """Check and run one statement; raises GuardError, QueryTimeout, QueryCancelled or QueryError."""
        started = time.perf_counter()
        executed = sql
        if self.guard:
            try:
                allowed = self.allowed_tables
            except Exception as exc:  # the database cannot be reached: a query error, audited like one
                self._audit(source, sql, None, "error", 0, started, str(exc))
                raise QueryError(str(exc)) from exc
            try:
                executed = guard_module.check_sql(
                    sql, dialect=self.dialect, allowed_tables=allowed, row_cap=self.row_cap + 1
                )
            except guard_module.GuardError as exc:
                self._audit(source, sql, None, "rejected", 0, started, exc.reason)
                raise
        try:
            handle = self._borrow()
        except Exception as exc:
            self._audit(source, sql, executed, "error", 0, started, str(exc))
            raise QueryError(str(exc)) from exc
        broken = False
        token = 0
        # A cancelled question (voice barge-in) interrupts its statement: `cancel.CancelToken` of this thread.
        question = cancel.current()
        thread_id = handle.thread
        unregister = question.on_cancel(lambda: self.cancel(thread_id)) if question else None
        try:
            handle.begin()
            token = self._watchdog.arm(time.monotonic() + self._backstop_s, handle, handle.generation)
            if handle.cancelled:  # cancel() came before the statement started
                raise QueryCancelled("the query was cancelled")
            handle.executing = True
            try:
                columns, rows, truncated = self._fetch(handle.conn, executed)
            finally:
                handle.executing = False  # from here on a late timeout leaves the handle alone
            handle.end()  # PostgreSQL/MariaDB: roll the read-only transaction back
        except Exception as exc:
            broken = not self._recover(handle)
            error = self._classify(handle, exc)
            outcome = {QueryTimeout: "timeout", QueryCancelled: "cancelled"}.get(type(error), "error")
            self._audit(source, sql, executed, outcome, 0, started, str(error))
            raise error from exc
        finally:
            if unregister is not None:
                unregister()
            self._watchdog.disarm(token)
            self._give_back(handle, broken=broken)
        duration_ms = (time.perf_counter() - started) * 1000
        self._audit(source, sql, executed, "ok", len(rows), started, None)
        return QueryResult(
            sql=executed, columns=columns, rows=rows, truncated=truncated, duration_ms=duration_ms
        )

    def _fetch(self, conn: Any, sql: str) -> tuple[list[str], list[list[Cell]], bool]:
        # A DuckDB handle is already a cursor; `interrupt()` reaches only statements run on it directly.
        own_cursor = self.db.kind != "duckdb"
        cur = conn.cursor() if own_cursor else conn
        try:
            cur.execute(sql)
            columns = [str(d[0]) for d in (cur.description or ())]
            raw: Sequence[Sequence[Any]] = cur.fetchmany(self.row_cap + 1) if cur.description else []
        finally:
            if own_cursor:
                cur.close()
        rows = [[json_cell(v) for v in row] for row in raw[: self.row_cap]]
        return columns, rows, len(raw) > self.row_cap

    def _classify(self, handle: _Handle, exc: Exception) -> QueryError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if handle.cancelled:
            return QueryCancelled("the query was cancelled")
        lowered = message.lower()
        # PostgreSQL, MariaDB and MySQL name their own timeouts; DuckDB and SQLite were interrupted by us.
        server_timeout = ("statement timeout", "max_statement_time", "max_execution_time")
        if handle.timed_out or any(name in lowered for name in server_timeout):
            return QueryTimeout(f"the query ran longer than {self.timeout_s:g} s and was cancelled")
        return QueryError(message)

    def _recover(self, handle: _Handle) -> bool:
        """End the failed transaction; False when the connection is no longer usable."""
        try:
            handle.end()
            return True
        except Exception:
            return False

    def _on_timeout(self, handle: _Handle, generation: int) -> None:
        with self._lock:  # flagged under the lock, like cancel(): the handle cannot change hands meanwhile
            if not (handle in self._running and handle.generation == generation and handle.executing):
                return  # finished just now; leave its next statement be
            handle.timed_out = True
        self._interrupt(handle)

    def _interrupt(self, handle: _Handle) -> None:
        # The statement may have finished in the meantime; there is nothing to cancel then.
        with contextlib.suppress(Exception):
            handle.interrupt()

    def cancel(self, thread_id: int | None = None) -> int:
        """Cancel the statement that thread `thread_id` runs now, or every running statement when None;
        returns how many were asked to stop. Other threads' statements run on: one voice session's
        barge-in must not cancel another user's question.

        Does not block: the interrupts are sent from a helper thread (a PostgreSQL cancel or a MariaDB
        KILL QUERY is a network round trip, and the caller may be an event loop).
        """
        running = self._mark_cancelled(thread_id)
        if running:
            threading.Thread(
                target=self._keep_interrupting, args=(running,), name="datavox-cancel", daemon=True
            ).start()
        return len(running)

    def _mark_cancelled(self, thread_id: int | None) -> list[tuple[_Handle, int]]:
        with self._lock:
            # Flag under the lock: a handle given back and borrowed again meanwhile is not this statement.
            running = [
                (handle, handle.generation)
                for handle in self._running
                if thread_id is None or handle.thread == thread_id
            ]
            for handle, _ in running:
                handle.cancelled = True
        return running

    def _keep_interrupting(self, running: list[tuple[_Handle, int]], period_s: float = 0.05) -> None:
        """Interrupt now, then again every `period_s` until each statement has ended: an interrupt that
        lands just before the statement starts is lost (DuckDB, SQLite)."""
        deadline = time.monotonic() + max(2.0, self.timeout_s)
        while time.monotonic() < deadline:
            with self._lock:  # still borrowed by the same run (it may not have started executing yet)
                running = [(h, g) for h, g in running if h in self._running and h.generation == g]
            if not running:
                return
            for handle, _ in running:
                if handle.executing:
                    self._interrupt(handle)
            time.sleep(period_s)

    def close(self) -> None:
        """Close every connection; running statements are cancelled first."""
        running = self._mark_cancelled(None)
        for handle, _ in running:  # now, while the connections (and MariaDB's KILL connection) are open
            if handle.executing:
                self._interrupt(handle)
        if running:
            threading.Thread(target=self._keep_interrupting, args=(running,), daemon=True).start()
        self._watchdog.stop()
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for handle in idle:
            self._safe_close(handle)
        with self._killer_lock:
            if self._killer is not None:
                self._safe_call(self._killer.close)
                self._killer = None
        if self._duckdb_root is not None:
            self._safe_call(self._duckdb_root.close)
            self._duckdb_root = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pool -------------------------------------------------------------------------------------

    def _borrow(self, *, track: bool = True) -> _Handle:
        with self._lock:
            if self._closed:
                raise QueryError("the executor is closed")
            handle = self._idle.pop() if self._idle else None
        if handle is None:
            handle = self._open()
        with self._lock:
            handle.timed_out = handle.cancelled = False
            handle.generation += 1
            handle.thread = threading.get_ident()
            if track:
                self._running.add(handle)
        return handle

    def _give_back(self, handle: _Handle, *, broken: bool = False) -> None:
        with self._lock:
            self._running.discard(handle)
            keep = not broken and not self._closed
            if keep:
                self._idle.append(handle)
        if not keep:
            self._safe_close(handle)

    @staticmethod
    def _safe_call(fn: Callable[[], Any]) -> None:
        with contextlib.suppress(Exception):
            fn()

    def _safe_close(self, handle: _Handle) -> None:
        self._safe_call(handle.close)

    def _open(self) -> _Handle:
        opener = {
            "duckdb": self._open_duckdb,
            "sqlite": self._open_sqlite,
            "postgresql": self._open_postgres,
            "mysql": self._open_mysql,
            "mssql": self._open_mssql,
        }[self.db.kind]
        return opener()

    def _open_duckdb(self) -> _Handle:
        with self._lock:
            if self._duckdb_root is None:
                root = connect(self.db, read_only=True)
                _harden_duckdb(root)
                self._duckdb_root = root
            conn = self._duckdb_root.cursor()  # a new connection to the same read-only database
        return _Handle(conn=conn, interrupt=conn.interrupt, close=conn.close)

    def _open_sqlite(self) -> _Handle:
        conn = connect(self.db, read_only=True)
        conn.execute("PRAGMA query_only = 1")
        return _Handle(conn=conn, interrupt=conn.interrupt, close=conn.close)

    def _open_postgres(self) -> _Handle:
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

        return _Handle(conn=conn, interrupt=interrupt, close=conn.close, end=conn.rollback)

    def _mysql_kill(self, thread_id: int) -> None:
        # Its own lock, not the pool's: connecting and the KILL are round trips that must not hold up
        # every other statement's borrow and give-back.
        with self._killer_lock:
            if self._closed:
                return  # the statement's connection is being closed anyway; no new connection now
            if self._killer is None:
                self._killer = connect(self.db)
            with self._killer.cursor() as cur:
                cur.execute(f"KILL QUERY {int(thread_id)}")

    def _open_mysql(self) -> _Handle:
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

        return _Handle(
            conn=conn,
            interrupt=lambda: self._mysql_kill(thread_id),
            close=conn.close,
            begin=begin,
            end=conn.rollback,
        )

    def _open_mssql(self) -> _Handle:  # pragma: no cover - no SQL Server to test against
        conn = connect(self.db, read_only=True)
        conn.timeout = max(1, int(self.timeout_s))
        return _Handle(conn=conn, interrupt=lambda: conn.cancel(), close=conn.close, end=conn.rollback)

    # -- audit ------------------------------------------------------------------------------------

    def _audit(
        self,
        source: str,
        sql: str,
        executed: str | None,
        outcome: str,
        rows: int,
        started: float,
        error: str | None,
    ) -> None:
        if self.audit is None:
            return
        self.audit.write(
            source=source,
            sql=sql,
            executed_sql=executed if executed != sql else None,
            rows=rows,
            duration_ms=(time.perf_counter() - started) * 1000,
            outcome=outcome,
            error=error,
            database=self.db.redacted(),
        )
