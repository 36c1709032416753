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
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from datavox import cancel
from datavox.data import guard as guard_module
from datavox.data.audit import AuditLog
from datavox.data.cells import json_cell
from datavox.data.connect import DatabaseUrl, parse_url
from datavox.data.pool import ConnectionPool, Handle, user_tables
from datavox.data.query_errors import QueryCancelled, QueryError, QueryTimeout
from datavox.data.watchdog import Watchdog
from datavox.types import Cell, QueryResult


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
        self._pool = ConnectionPool(self.db, timeout_s)
        self._watchdog = Watchdog(self._on_timeout)
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
            handle = self._pool.borrow(track=False)  # bookkeeping, not a statement for cancel() to stop
            try:
                self._allowed = user_tables(self.db, handle.conn)
            finally:
                self._pool.give_back(handle)
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
            handle = self._pool.borrow()
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
            self._pool.give_back(handle, broken=broken)
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

    def _classify(self, handle: Handle, exc: Exception) -> QueryError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if handle.cancelled:
            return QueryCancelled("the query was cancelled")
        lowered = message.lower()
        # PostgreSQL, MariaDB and MySQL name their own timeouts; DuckDB and SQLite were interrupted by us.
        server_timeout = ("statement timeout", "max_statement_time", "max_execution_time")
        if handle.timed_out or any(name in lowered for name in server_timeout):
            return QueryTimeout(f"the query ran longer than {self.timeout_s:g} s and was cancelled")
        return QueryError(message)

    def _recover(self, handle: Handle) -> bool:
        """End the failed transaction; False when the connection is no longer usable."""
        try:
            handle.end()
            return True
        except Exception:
            return False

    def _on_timeout(self, handle: Handle, generation: int) -> None:
        # Flagged under the lock, like cancel(): the handle cannot change hands meanwhile.
        with self._pool.lock:
            if not (handle in self._pool.running and handle.generation == generation and handle.executing):
                return  # finished just now; leave its next statement be
            handle.timed_out = True
        self._interrupt(handle)

    def _interrupt(self, handle: Handle) -> None:
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

    def _mark_cancelled(self, thread_id: int | None) -> list[tuple[Handle, int]]:
        with self._pool.lock:
            # Flag under the lock: a handle given back and borrowed again meanwhile is not this statement.
            running = [
                (handle, handle.generation)
                for handle in self._pool.running
                if thread_id is None or handle.thread == thread_id
            ]
            for handle, _ in running:
                handle.cancelled = True
        return running

    def _keep_interrupting(self, running: list[tuple[Handle, int]], period_s: float = 0.05) -> None:
        """Interrupt now, then again every `period_s` until each statement has ended: an interrupt that
        lands just before the statement starts is lost (DuckDB, SQLite)."""
        deadline = time.monotonic() + max(2.0, self.timeout_s)
        while time.monotonic() < deadline:
            with self._pool.lock:  # still borrowed by the same run (it may not have started executing yet)
                running = [(h, g) for h, g in running if h in self._pool.running and h.generation == g]
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
        self._pool.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
