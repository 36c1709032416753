"""What an import did, per file and column: what `datavox import` prints and `--json` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from datavox.data.csv_types import ColumnType


class ImportFailed(ValueError):
    """A file could not be imported; the message says which and why."""


# ------------------------------------------------------------------------------------------- reports


@dataclass
class ColumnReport:
    name: str
    header: str
    type: ColumnType


@dataclass
class RejectedLine:
    line: int  # 1-based line number in the file where the record starts (the header is line 1)
    reason: str
    text: str  # the start of the record, for the report


@dataclass
class FileReport:
    path: str
    table: str
    status: Literal["ok", "failed"] = "ok"
    rows: int = 0
    columns: list[ColumnReport] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    rejected_count: int = 0
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    seconds: float = 0.0
    error: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Column name → original header."""
        return {c.name: c.header for c in self.columns}


@dataclass
class ImportReport:
    database: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(f.status == "ok" for f in self.files)

    @property
    def tables(self) -> dict[str, int]:
        """Imported table → rows now loaded from its file(s)."""
        out: dict[str, int] = {}
        for f in self.files:
            if f.status == "ok":
                out[f.table] = out.get(f.table, 0) + f.rows
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.database, "ok": self.ok, "seconds": self.seconds,
                "files": [asdict(f) for f in self.files]}  # fmt: skip
