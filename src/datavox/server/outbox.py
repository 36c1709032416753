"""Turns kept on local disk while the shared conversation database is unreachable, written when it returns.

A replica keeps answering typed questions while PostgreSQL is down (the answers come from the data
database, not from this one). Each write it cannot make goes into a small SQLite file (`server.outbox_path`,
committed before the answer returns, so a killed process loses nothing), and a background thread writes the
queue in order once the database answers again. Every write is an idempotent upsert keyed by turn id, so a
write replayed after a crash between "stored" and "removed from the outbox" still leaves one row: each turn
is stored exactly once. An entry the database refuses outright (not a lost connection) is moved to the
file's `outbox_refused` table with the error, for an operator, instead of blocking the queue. Processes on
one machine may share the file (WAL, busy timeout); a replica on another machine has its own, which should
sit on a volume that outlives the container.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import psycopg

from datavox.server.pgstore import PostgresStore, StoreUnavailable

log = logging.getLogger("datavox.server.store")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    queued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_refused (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    queued_at REAL NOT NULL,
    error TEXT NOT NULL
);
"""


class Outbox:
    """A queue of writes in a SQLite file; safe across threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, kind: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO outbox(kind, payload, queued_at) VALUES (?, ?, ?)",
                (kind, json.dumps(payload, default=str), time.time()),
            )

    def head(self, limit: int = 100) -> list[tuple[int, str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, payload FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(i, k, json.loads(p)) for i, k, p in rows]

    def remove(self, entry_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))

    def refuse(self, entry_id: int, error: str) -> None:
        """Set aside an entry the database refuses (not a lost connection): kept in the file, never retried,
        so one bad write cannot hold back the others."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO outbox_refused(id, kind, payload, queued_at, error) "
                "SELECT id, kind, payload, queued_at, ? FROM outbox WHERE id = ?",
                (error, entry_id),
            )
            self._db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))
            self._db.execute("COMMIT")

    def count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM outbox").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def apply(store: PostgresStore, kind: str, p: dict[str, Any]) -> None:
    if kind == "ensure":
        store.ensure(p["conversation_id"], at=p["at"])
    elif kind == "user":
        store.save_user(p["conversation_id"], p["turn_id"], p["text"], source=p["source"], at=p["at"])
    elif kind == "answer":
        store.save_answer(p["conversation_id"], p["turn_id"], p["answer"], source=p["source"], at=p["at"])
    else:
        log.error("dropping an outbox entry of unknown kind %r", kind)


class OutboxStore:
    """The conversation store of a replica: PostgreSQL when it answers, the outbox while it does not.

    Writes return True when stored now and False when queued. Reads need the database and raise
    `StoreUnavailable` (the API answers 503 with a sentence) while it is down.
    """

    def __init__(
        self,
        connect: Callable[[], PostgresStore],
        outbox_path: str | Path,
        *,
        interval_s: float = 1.0,
        timeout_s: float = 3.0,
    ) -> None:
        self._connect = connect
        self.interval_s = interval_s
        # A request waits this long for the database, then its write goes to the outbox (a write that
        # finishes later anyway is harmless: writes are idempotent).
        self.timeout_s = timeout_s
        self._calls = ThreadPoolExecutor(4, thread_name_prefix="dv-store")
        self.outbox = Outbox(outbox_path)
        self._primary: PostgresStore | None = None
        self._healthy = False
        self._known = False  # the first check decides quietly; later changes are logged
        self._problem = "connecting to the conversation database"
        self._state_lock = threading.Lock()
        self.on_change: Callable[[], None] | None = None  # called when healthy flips (the health monitor)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._check()  # connect (and migrate) now, so a healthy start is ready at once
        self._thread = threading.Thread(target=self._loop, name="dv-outbox", daemon=True)
        self._thread.start()

    # --- health -----------------------------------------------------------------------------------
    def status(self) -> tuple[bool, str]:
        pending = self.pending()
        queued = f"; {pending} write(s) waiting in the outbox" if pending else ""
        if self._healthy:
            detail = f"postgresql {self._primary.shown_url if self._primary else ''}{queued}"
            return True, detail
        return False, f"{self._problem}{queued}"

    def pending(self) -> int:
        return self.outbox.count()

    def _set(self, healthy: bool, problem: str) -> None:
        with self._state_lock:
            changed = healthy != self._healthy or not self._known
            quiet = not self._known and healthy
            self._known = True
            self._healthy, self._problem = healthy, problem
        if changed and not quiet:
            if healthy:
                log.warning("conversation database is back")
            else:
                log.warning("conversation database unavailable: %s", problem)
            if self.on_change is not None:
                self.on_change()

    def _check(self) -> None:
        try:
            if self._primary is None:
                self._primary = self._connect()
            else:
                self._primary.ping()
            self.flush()
            self._set(True, "")
        except StoreUnavailable as exc:
            self._set(False, str(exc))
        except Exception as exc:  # e.g. a migration that failed: keep serving, say why
            log.exception("conversation database check failed")
            self._set(False, f"conversation database error: {type(exc).__name__}: {exc}")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            self._check()

    def flush(self) -> int:
        """Write the queued turns in order; returns how many were written. Raises StoreUnavailable."""
        if self._primary is None:
            raise StoreUnavailable(self._problem)
        written = 0
        while batch := self.outbox.head():
            for entry_id, kind, payload in batch:
                try:
                    apply(self._primary, kind, payload)
                except (
                    psycopg.Error
                ) as exc:  # refused by the database (a lost connection is StoreUnavailable)
                    log.error("the conversation database refused an outbox entry; kept aside: %s", exc)
                    self.outbox.refuse(entry_id, f"{type(exc).__name__}: {exc}")
                    continue
                self.outbox.remove(entry_id)
                written += 1
        if written:
            log.warning("wrote %d queued conversation write(s) from the outbox", written)
        return written

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._calls.shutdown(wait=False, cancel_futures=True)
        if self._primary is not None:
            self._primary.close()
        self.outbox.close()

    # --- writes -----------------------------------------------------------------------------------
    def _write(self, kind: str, payload: dict[str, Any]) -> bool:
        primary = self._primary
        if self._healthy and primary is not None:
            try:
                self._within_timeout(apply, primary, kind, payload)
                return True
            except StoreUnavailable as exc:
                self._set(False, str(exc))
        self.outbox.add(kind, payload)
        self._wake.set()
        return False

    def ensure(self, conversation_id: str, *, at: float | None = None) -> bool:
        return self._write("ensure", {"conversation_id": conversation_id, "at": at or time.time()})

    def save_user(
        self, conversation_id: str, turn_id: str, text: str, *, source: str, at: float | None = None
    ) -> bool:
        payload = {
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "text": text,
            "source": source,
            "at": at or time.time(),
        }
        return self._write("user", payload)

    def save_answer(
        self,
        conversation_id: str,
        turn_id: str,
        answer: dict[str, Any],
        *,
        source: str,
        at: float | None = None,
    ) -> bool:
        payload = {
            "conversation_id": conversation_id,
            "turn_id": turn_id,
            "answer": answer,
            "source": source,
            "at": at or time.time(),
        }
        return self._write("answer", payload)

    def _within_timeout(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self._calls.submit(fn, *args)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout as exc:
            raise StoreUnavailable(
                f"the conversation database did not answer within {self.timeout_s:g} s"
            ) from exc

    # --- reads -----------------------------------------------------------------------------------
    def _reader(self) -> PostgresStore:
        if not self._healthy or self._primary is None:
            raise StoreUnavailable(self._problem)
        return self._primary

    def exists(self, conversation_id: str) -> bool:
        return bool(self._within_timeout(self._reader().exists, conversation_id))

    def history(self, conversation_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] | None = self._within_timeout(self._reader().history, conversation_id)
        except StoreUnavailable as exc:
            self._set(False, str(exc))
            raise
        return found
