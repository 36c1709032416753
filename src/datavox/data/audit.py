"""The audit log: one JSON line per statement that reached the data layer, run or refused.

Each line holds the time (UTC, ISO 8601), the source (api, voice, cli, ...), the database (URL with any
password masked), the SQL as received, the SQL that ran, the rows returned, the duration in milliseconds and
the outcome (`ok`, `rejected`, `error`, `timeout`, `cancelled`) with the error text. Secrets never reach it:
the database password is masked in every field, and settings are never logged.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Outcome = str  # "ok" | "rejected" | "error" | "timeout" | "cancelled"


class AuditLog:
    """Append-only JSON-lines file; safe to share between threads."""

    def __init__(self, path: str | Path, *, secrets: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, "****")
        return value

    def write(
        self,
        *,
        source: str,
        sql: str,
        outcome: Outcome,
        rows: int = 0,
        duration_ms: float = 0.0,
        error: str | None = None,
        executed_sql: str | None = None,
        database: str | None = None,
    ) -> dict[str, Any]:
        """Append one record and return it."""
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "source": source,
            "database": database,
            "sql": sql,
            "executed_sql": executed_sql,
            "rows": rows,
            "duration_ms": round(duration_ms, 3),
            "outcome": outcome,
            "error": error,
        }
        record = {k: self._scrub(v) for k, v in record.items() if v is not None or k in ("error",)}
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        return record

    def read(self) -> list[dict[str, Any]]:
        """All records, oldest first (for tests and `datavox doctor`)."""
        if not self.path.is_file():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
