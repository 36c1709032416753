"""Conversations in the application database (SQLite), so a reload shows the history.

One process: this embedded store. Several replicas: PostgreSQL (`server.store_url`, pgstore.py) behind an
outbox (outbox.py); `open_store` picks one.

Kept: every user and assistant turn, its SQL, columns, row count, truncation, chart, timings and error, plus
the first `PREVIEW_ROWS` rows (enough to redraw the table and chart; a large result is not copied whole).
Never kept: audio, secrets.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

PREVIEW_ROWS = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    turn_id TEXT NOT NULL,
    role TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'text',
    text TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    PRIMARY KEY (conversation_id, turn_id, role)
);
"""

# Fields of an assistant turn kept beside its text (see the module docstring).
_ANSWER_FIELDS = (
    "sql",
    "columns",
    "truncated",
    "chart",
    "timings_ms",
    "error",
    "intent",
    "engine",
    "resolved_question",
)


def answer_data(answer: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The text and the kept fields of an assistant turn (see the module docstring)."""
    data = {k: answer.get(k) for k in _ANSWER_FIELDS if k in answer}
    rows = answer.get("rows") or []
    data["row_count"] = len(rows)
    data["rows"] = rows[:PREVIEW_ROWS]
    data["rows_stored"] = min(len(rows), PREVIEW_ROWS)
    return str(answer.get("answer") or ""), data


def new_conversation_id() -> str:
    return f"conv_{uuid.uuid4().hex[:20]}"


def new_turn_id() -> str:
    return f"turn_{uuid.uuid4().hex[:16]}"


class ConversationStore:
    """Thread-safe: the voice engine publishes from worker threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # Voice turns are saved from the event loop that moves the audio: no fsync per statement. In
            # WAL mode NORMAL survives a crash of the process; a power cut may lose the last turns.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ensure(self, conversation_id: str, *, at: float | None = None) -> None:
        now = at or time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations(id, created_at, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
                (conversation_id, now, now),
            )

    def exists(self, conversation_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return row is not None

    def save_user(
        self, conversation_id: str, turn_id: str, text: str, *, source: str, at: float | None = None
    ) -> bool:
        self._upsert(conversation_id, turn_id, "user", source, text, {}, at)
        return True

    def save_answer(
        self,
        conversation_id: str,
        turn_id: str,
        answer: dict[str, Any],
        *,
        source: str,
        at: float | None = None,
    ) -> bool:
        """Store the answer; True when it is stored now (the shared store may keep it for later)."""
        text, data = answer_data(answer)
        self._upsert(conversation_id, turn_id, "assistant", source, text, data, at)
        return True

    def _upsert(
        self,
        conversation_id: str,
        turn_id: str,
        role: str,
        source: str,
        text: str,
        data: dict[str, Any],
        at: float | None,
    ) -> None:
        now = at or time.time()
        self.ensure(conversation_id, at=now)
        with self._lock:
            self._db.execute(
                "INSERT INTO turns(conversation_id, turn_id, role, source, text, data, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(conversation_id, turn_id, role) DO UPDATE SET "
                "text = CASE WHEN excluded.text != '' THEN excluded.text ELSE turns.text END, "
                "data = CASE WHEN excluded.data != '{}' THEN excluded.data ELSE turns.data END",
                (conversation_id, turn_id, role, source, text, json.dumps(data, default=str), now),
            )

    def status(self) -> tuple[bool, str]:
        """(healthy, detail) for /healthz: the embedded file is always there."""
        return True, f"sqlite {self.path}"

    def pending(self) -> int:
        return 0

    def history(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation as the page shows it: turns in order, each with its role, text and data."""
        with self._lock:
            conv = self._db.execute(
                "SELECT id, created_at, updated_at FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if conv is None:
                return None
            rows = self._db.execute(
                "SELECT turn_id, role, source, text, data, created_at FROM turns WHERE conversation_id = ? "
                "ORDER BY created_at, rowid",
                (conversation_id,),
            ).fetchall()
        turns = [
            {"turn_id": t, "role": r, "source": s, "text": x, "at": c, **json.loads(d)}
            for t, r, s, x, d, c in rows
        ]
        return {"id": conv[0], "created_at": conv[1], "updated_at": conv[2], "turns": turns}


def open_store(settings: Any, replica: str = "") -> Any:
    """The store the settings ask for: SQLite (`server.app_db`) or PostgreSQL behind an outbox."""
    server = settings.server
    if not server.store_url:
        return ConversationStore(server.app_db)
    from datavox.server.outbox import OutboxStore
    from datavox.server.pgstore import PostgresStore

    return OutboxStore(lambda: PostgresStore(server.store_url, replica=replica), server.outbox_path)
