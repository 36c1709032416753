"""Conversations in PostgreSQL (`server.store_url`), shared by every replica.

The same turns as the embedded SQLite store (store.py), with the same idempotent upsert: a turn is keyed by
(conversation, turn id, role), so writing it again (a retry after a dropped connection, a replay from the
outbox) never stores it twice.

The schema is created and migrated here, by a short list of numbered SQL migrations recorded in
`datavox_schema`, not by Alembic: the store talks to PostgreSQL with plain psycopg (no ORM to generate
migrations from), the schema is two tables, and a project-owned list keeps the dependency tree small.
Replicas starting together take a transaction-scoped advisory lock, so each migration runs once.
Migrations only add (columns with defaults, tables, indexes), so an older replica keeps working during a
rolling deploy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg

from datavox.data.connect import redact_url
from datavox.server.store import answer_data

log = logging.getLogger("datavox.server.store")

# (version, what it does, SQL). Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "conversations and turns",
        """
        CREATE TABLE IF NOT EXISTS conversations (
            id TEXT PRIMARY KEY,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE IF NOT EXISTS turns (
            seq BIGSERIAL,
            conversation_id TEXT NOT NULL REFERENCES conversations(id),
            turn_id TEXT NOT NULL,
            role TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'text',
            text TEXT NOT NULL DEFAULT '',
            data JSONB NOT NULL DEFAULT '{}',
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (conversation_id, turn_id, role)
        );
        CREATE INDEX IF NOT EXISTS turns_in_order ON turns (conversation_id, created_at, seq);
        """,
    ),
    (
        2,
        "which replica stored each turn (operators tracing a turn across replicas)",
        "ALTER TABLE turns ADD COLUMN IF NOT EXISTS replica TEXT NOT NULL DEFAULT ''",
    ),
]

_LOCK_KEY = 0x64617461766F78  # "datavox": one advisory lock for migrations, whatever the database


def without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


class StoreUnavailable(RuntimeError):
    """The conversation database cannot be reached; the sentence says what to check."""


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS datavox_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM datavox_schema")}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            conn.execute(sql.encode())  # bytes: run as written (several statements, no parameters)
            conn.execute("INSERT INTO datavox_schema(version, name) VALUES (%s, %s)", (version, name))
            applied.append(version)
        newer = [v for v in done if v > MIGRATIONS[-1][0]]
    if newer:
        log.warning("the conversation database has schema version %d, newer than this datavox", max(newer))
    return applied


def schema_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT max(version) FROM datavox_schema").fetchone()
    return int(row[0] or 0) if row else 0


class PostgresStore:
    """Thread-safe: a small pool of autocommit connections; every write is one transaction."""

    def __init__(self, url: str, *, replica: str = "", pool_size: int = 4, connect_timeout_s: float = 3.0):
        self.url = url
        self.shown_url = redact_url(url)
        self.replica = replica
        self.connect_timeout_s = connect_timeout_s
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)
        with self._connection() as conn:
            applied = migrate(conn)
        if applied:
            log.info("conversation database %s: applied migrations %s", self.shown_url, applied)

    # --- connections --------------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=max(1, int(self.connect_timeout_s)),
                options="-c statement_timeout=5000",
                application_name="datavox",
                # A partitioned network closes nothing: have the kernel give up on a silent server.
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=3,
                keepalives_count=3,
                tcp_user_timeout=10_000,
            )
        except psycopg.Error as exc:
            said = " ".join(str(exc).split())  # libpq's message spans lines
            problem = f"cannot reach the conversation database {self.shown_url}: {said}"
            raise StoreUnavailable(problem) from exc

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._slots.acquire(timeout=10):
            raise StoreUnavailable("every connection to the conversation database is busy")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = self._connect()
            try:
                yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError):
                conn.close()
                raise
            if conn.closed or conn.broken:
                return
            with self._lock:
                self._idle.append(conn)
        finally:
            self._slots.release()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()

    def _run(self, work: Any) -> Any:
        """`work(conn)` with one retry on a fresh connection: after a restart or a terminated backend every
        pooled connection is dead, and the writes are idempotent, so trying again is safe."""
        for attempt in (1, 2):
            try:
                with self._connection() as conn:
                    return work(conn)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._drop_idle()
                if attempt == 2:
                    said = " ".join(str(exc).split())
                    problem = f"the conversation database {self.shown_url} failed: {said}"
                    raise StoreUnavailable(problem) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop_idle()

    def schema_version(self) -> int:
        return int(self._run(schema_version))

    def ping(self) -> None:
        self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    # --- the store -----------------------------------------------------------------------------------------
    def ensure(self, conversation_id: str, *, at: float | None = None) -> None:
        now = at or time.time()
        self._run(lambda conn: self._ensure(conn, conversation_id, now))

    @staticmethod
    def _ensure(conn: psycopg.Connection[Any], conversation_id: str, now: float) -> None:
        conn.execute(
            "INSERT INTO conversations(id, created_at, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT(id) DO UPDATE SET "
            "updated_at = GREATEST(conversations.updated_at, excluded.updated_at)",
            (conversation_id, now, now),
        )

    def exists(self, conversation_id: str) -> bool:
        sql = "SELECT 1 FROM conversations WHERE id = %s"
        row = self._run(lambda conn: conn.execute(sql, (conversation_id,)).fetchone())
        return row is not None

    def save_user(
        self, conversation_id: str, turn_id: str, text: str, *, source: str, at: float | None = None
    ) -> None:
        self._upsert(conversation_id, turn_id, "user", source, text, {}, at or time.time())

    def save_answer(
        self,
        conversation_id: str,
        turn_id: str,
        answer: dict[str, Any],
        *,
        source: str,
        at: float | None = None,
    ) -> None:
        text, data = answer_data(answer)
        self._upsert(conversation_id, turn_id, "assistant", source, text, data, at or time.time())

    def _upsert(
        self,
        conversation_id: str,
        turn_id: str,
        role: str,
        source: str,
        text: str,
        data: dict[str, Any],
        at: float,
    ) -> None:
        # PostgreSQL text and jsonb refuse NUL characters, which SQLite and the page take: drop them.
        text, payload = text.replace("\x00", ""), json.dumps(without_nul(data), default=str)

        def work(conn: psycopg.Connection[Any]) -> None:
            params = (conversation_id, at, at, conversation_id, turn_id, role, source, text, payload, at)
            # One statement, one round trip: the conversation row and the turn (foreign keys are checked at
            # the end of the statement, so the parent inserted by the CTE counts).
            conn.execute(
                "WITH conv AS (INSERT INTO conversations(id, created_at, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT(id) DO UPDATE SET "
                "updated_at = GREATEST(conversations.updated_at, excluded.updated_at)) "
                "INSERT INTO turns"
                "(conversation_id, turn_id, role, source, text, data, created_at, replica) "
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s) "
                "ON CONFLICT(conversation_id, turn_id, role) DO UPDATE SET "
                "text = CASE WHEN excluded.text <> '' THEN excluded.text ELSE turns.text END, "
                "data = CASE WHEN excluded.data <> '{}'::jsonb THEN excluded.data ELSE turns.data END",
                (*params, self.replica),
            )

        self._run(work)

    def history(self, conversation_id: str) -> dict[str, Any] | None:
        def work(conn: psycopg.Connection[Any]) -> tuple[Any, list[Any]]:
            conv = conn.execute(
                "SELECT id, created_at, updated_at FROM conversations WHERE id = %s", (conversation_id,)
            ).fetchone()
            if conv is None:
                return None, []
            rows = conn.execute(
                "SELECT turn_id, role, source, text, data, created_at FROM turns WHERE conversation_id = %s "
                "ORDER BY created_at, seq",
                (conversation_id,),
            ).fetchall()
            return conv, rows

        conv, rows = self._run(work)
        if conv is None:
            return None
        turns = [
            {"turn_id": t, "role": r, "source": s, "text": x, "at": c, **(d or {})}
            for t, r, s, x, d, c in rows
        ]
        return {"id": conv[0], "created_at": conv[1], "updated_at": conv[2], "turns": turns}
