"""CSV files (and folders of them) become tables: the backend of `datavox import` and `datavox demo`.

Per file:

1. **Names.** The table comes from `--table`, from the mapping (`{file stem, file name or path: table}`)
   or from the file stem (minus `strip_prefix`), always through `names.identifier`: lower-case snake_case,
   so a name works unquoted on every engine. A mapping value that is already such an identifier is kept as
   given; any other value is sanitised, so the seed's `F1Records` becomes `f1_records`. Headers become
   snake_case columns; empty and duplicate headers are made unique (`column_3`, `name_2`) with a warning,
   and the original headers are kept in the report (and in the semantic model's `header` field).
2. **Encoding.** UTF-8 (with or without BOM) is read as it is; anything else is detected with
   charset-normalizer (cp1252 and friends, UTF-16 with BOM) and transcoded to UTF-8 into a temporary file.
   Binary or undecodable files are refused with the reason.
3. **One streaming pass** in Python, chunk by chunk: rows whose field count differs from the header are
   rejected and reported with their line numbers (never dropped silently), and every column's type is
   inferred from its distinct values: integer, decimal (double), boolean, date, timestamp, else text. An
   empty field is NULL. Policy: a file with rejected lines still imports its good rows, unless `strict`.
4. **Load**, streaming: DuckDB reads the file itself (`read_csv` with the explicit columns and types),
   PostgreSQL gets `COPY ... FROM STDIN`, SQLite and MariaDB batched `executemany`.
5. **Atomic swap.** The table is built under a temporary name inside a transaction and renamed over the old
   one only when every good row is in (the loaded count is checked against the counted good rows), so a
   failed file leaves the earlier table as it was. MariaDB cannot roll back DDL: there the new table is built
   aside and swapped in with one atomic `RENAME TABLE`. `mode="append"` inserts into the existing table in
   one transaction instead.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from datavox.data.connect import DatabaseUrl, connect, parse_url
from datavox.data.names import column_names, identifier, table_name

Mode = Literal["replace", "append"]
ColumnType = Literal["integer", "decimal", "boolean", "date", "timestamp", "text"]

CHUNK_ROWS = 50_000
MAX_REPORTED_REJECTS = 100
BATCH_ROWS = 5_000


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


# --------------------------------------------------------------------------------------- type inference

_INT = re.compile(r"[-+]?(?:0|[1-9]\d{0,17})")  # no leading zeros (codes keep them), fits BIGINT
_DECIMAL = re.compile(r"[-+]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_BOOL = re.compile(r"(?i:true|false)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}")  # ISO, or with slashes (2012/01/31)
# How spreadsheets and R write a missing value. In a column that is otherwise numbers or dates they are
# empty cells (NULL), and then so everywhere in that file: one file, one convention.
MISSING_MARKERS = frozenset({"NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "None", "none"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")

# Most specific first: the first type still possible for a column wins.
_ORDER: tuple[ColumnType, ...] = ("integer", "decimal", "boolean", "date", "timestamp")
_PATTERNS: dict[ColumnType, re.Pattern[str]] = {
    "integer": _INT,
    "decimal": _DECIMAL,
    "boolean": _BOOL,
    "date": _DATE,
    "timestamp": _TIMESTAMP,
}


def _all_parse(values: Iterable[str], parse: Callable[[str], object]) -> bool:
    try:
        for v in values:
            parse(v)
    except ValueError:
        return False
    return True


def _fits(kind: ColumnType, values: set[str]) -> bool:
    if not all(map(_PATTERNS[kind].fullmatch, values)):
        return False
    if kind == "date":
        slashes = {"/" in v for v in values}
        if len(slashes) > 1:
            return False  # one way of writing dates per column
        return _all_parse((v.replace("/", "-") for v in values), date.fromisoformat)  # 2021-02-30 is no date
    if kind == "timestamp":
        return _all_parse(values, datetime.fromisoformat)
    return True


class TypeInference:
    """Narrows each column's possible types as distinct values stream by."""

    def __init__(self, width: int) -> None:
        self.candidates: list[set[ColumnType]] = [set(_ORDER) for _ in range(width)]
        self.seen_value = [False] * width
        self.markers: list[set[str]] = [set() for _ in range(width)]
        self.slashed = [False] * width

    def update(self, rows: Sequence[Sequence[str]]) -> None:
        # Only columns that are not text yet are looked at, and only their distinct values.
        open_columns = [i for i, possible in enumerate(self.candidates) if possible]
        if not rows or not open_columns:
            return
        for i in open_columns:
            distinct = set(map(itemgetter(i), rows))
            distinct.discard("")
            self.markers[i] |= distinct & MISSING_MARKERS
            distinct -= MISSING_MARKERS
            if not distinct:
                continue
            self.slashed[i] = self.slashed[i] or any("/" in v for v in distinct)
            self.seen_value[i] = True
            possible = self.candidates[i]
            for kind in [k for k in _ORDER if k in possible]:
                if not _fits(kind, distinct):
                    possible.discard(kind)

    def types(self) -> list[ColumnType]:
        out: list[ColumnType] = []
        for possible, seen in zip(self.candidates, self.seen_value, strict=True):
            chosen: ColumnType = next((k for k in _ORDER if k in possible), "text") if seen else "text"
            out.append(chosen)
        # Dates with slashes in one column and with dashes in another: the slashed ones stay text (a file is
        # read with one date format).
        dates = [i for i, t in enumerate(out) if t == "date"]
        if len({self.slashed[i] for i in dates}) > 1:
            for i in dates:
                if self.slashed[i]:
                    out[i] = "text"
        return out

    def missing(self, types: Sequence[ColumnType]) -> frozenset[str]:
        """The missing-value markers to read as empty: those seen in a column typed other than text."""
        seen: set[str] = set()
        for kind, markers in zip(types, self.markers, strict=True):
            if kind != "text":
                seen |= markers
        return frozenset(seen)

    def slash_dates(self, types: Sequence[ColumnType]) -> bool:
        return any(kind == "date" and self.slashed[i] for i, kind in enumerate(types))


def infer_types(rows: Sequence[Sequence[str]], width: int) -> list[ColumnType]:
    """The inferred type of each column of `rows` (all of the same width)."""
    inference = TypeInference(width)
    inference.update(rows)
    return inference.types()


# --------------------------------------------------------------------------------------------- encoding

# Encodings of other scripts (and multi-byte ones) that charset-normalizer's guess is trusted for; any other
# single-byte guess on a file that is not UTF-8 is taken as Windows-1252, the usual "ANSI" export of Western
# data (charset-normalizer often names a sibling code page such as cp775 or latin_1 for short files).
_TRUSTED_GUESSES = (
    "utf", "shift_jis", "euc", "gb", "big5", "iso2022", "cp932", "cp949", "cp950", "hz", "johab",
    "cp1251", "koi8", "cp866", "iso8859_5", "mac_cyrillic", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
    "cp1256", "iso8859_6", "cp874", "tis_620",
)  # fmt: skip


def _decodes(path: Path, encoding: str) -> bool:
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return False
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """`utf-8`, `utf-8-sig`, `utf-16`, `cp1252` or another detected encoding; raises ImportFailed for binary
    files and text no encoding reads."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        valid_utf8 = True
        has_nul = False
        for block in iter(lambda: fh.read(1 << 20), b""):
            has_nul = has_nul or b"\x00" in block
            if valid_utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid_utf8 = False
        if valid_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid_utf8 = False
    if has_nul:
        raise ImportFailed(f"{path}: contains NUL bytes: a binary file, not CSV text")
    if valid_utf8:
        return "utf-8-sig" if bom else "utf-8"
    from charset_normalizer import from_path

    best = from_path(path).best()
    guess = (best.encoding if best is not None else "").lower().replace("-", "_")
    candidates = [guess, "cp1252"] if guess.startswith(_TRUSTED_GUESSES) else ["cp1252", guess]
    for encoding in candidates:
        if encoding and _decodes(path, encoding):
            return encoding
    raise ImportFailed(
        f"{path}: cannot read the text encoding (not UTF-8 nor Windows-1252, detected {guess or 'nothing'}); "
        "save the file as UTF-8 and import it again"
    )


def _delimiter(first_line: str) -> str:
    """The most frequent of `, ; tab |` outside quotes in the header line; a comma when none occurs."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# ------------------------------------------------------------------------------------------- the scan


@dataclass
class Scan:
    """What one pass over a file found."""

    headers: list[str]
    columns: list[str]
    types: list[ColumnType]
    good_rows: int
    rejected_lines: set[int]
    rejected: list[RejectedLine]
    warnings: list[str]
    delimiter: str
    missing: frozenset[str] = frozenset()  # cells read as empty ("NA")
    slash_dates: bool = False  # dates written 2012/01/31

    def clean(self, row: list[str]) -> list[str]:
        """A row as the typed columns read it: missing markers empty, dates with dashes."""
        if self.missing:
            row = ["" if v in self.missing else v for v in row]
        if self.slash_dates:
            row = [v.replace("/", "-") if t == "date" else v for v, t in zip(row, self.types, strict=True)]
        return row


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return path.open("r", encoding=encoding, newline="")


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields); blank lines are skipped."""
    line = reader.line_num
    for row in reader:
        start = line + 1
        line = reader.line_num
        if row:
            yield start, row


def scan_file(path: Path, encoding: str) -> Scan:
    """Headers, column names, types, good-row count and rejected lines of one CSV file."""
    with _open_text(path, encoding) as fh:
        first = fh.readline()
        if not first.strip():
            rest = fh.read(1 << 16)
            if not rest.strip():
                raise ImportFailed(f"{path}: the file is empty")
            raise ImportFailed(f"{path}: the first line is empty; it must hold the column headers")
        delimiter = _delimiter(first)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        headers = next(reader)
        width = len(headers)
        columns = column_names(headers)
        warnings: list[str] = []
        for i, (header, name) in enumerate(zip(headers, columns, strict=True), start=1):
            if not header.strip():
                warnings.append(f"column {i} has no header; named it {name}")
            elif identifier(header, fallback=f"column_{i}") != name:
                warnings.append(f"header {header!r} repeats an earlier column name; named it {name}")
        # Fast path: whole chunks of rows, no line numbers. Only a file with ragged rows is read again,
        # record by record, to report the line numbers of the rejected ones.
        inference = TypeInference(width)
        good = 0
        ragged = False
        while chunk := list(itertools.islice(reader, CHUNK_ROWS)):
            rows = [row for row in chunk if len(row) == width]
            if len(rows) != len(chunk) and any(row and len(row) != width for row in chunk):
                ragged = True
                break
            good += len(rows)
            inference.update(rows)
    rejected: list[RejectedLine] = []
    rejected_lines: set[int] = set()
    if ragged:
        inference, good = TypeInference(width), 0
        with _open_text(path, encoding) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader)
            records = _records(reader)
            while chunk_lines := list(itertools.islice(records, CHUNK_ROWS)):
                rows = []
                for line, row in chunk_lines:
                    if len(row) == width:
                        rows.append(row)
                        continue
                    rejected_lines.add(line)
                    if len(rejected) < MAX_REPORTED_REJECTS:
                        text = delimiter.join(row)[:120]
                        rejected.append(RejectedLine(line, f"{len(row)} fields, expected {width}", text))
                good += len(rows)
                inference.update(rows)
    if good == 0:
        warnings.append("no data rows; every column is text")
    types = inference.types()
    missing = inference.missing(types)
    if missing:
        warnings.append(f"read {', '.join(sorted(missing))} as empty (missing values)")
    return Scan(headers, columns, types, good, rejected_lines, rejected, warnings, delimiter, missing,
                inference.slash_dates(types))  # fmt: skip


def _good_rows(path: Path, encoding: str, scan: Scan) -> Iterator[list[str]]:
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=scan.delimiter)
        next(reader)
        width = len(scan.columns)
        for line, row in _records(reader):
            if len(row) == width and line not in scan.rejected_lines:
                yield scan.clean(row) if scan.missing or scan.slash_dates else row


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
            for row in _good_rows(path, encoding, scan)
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
            rows = _good_rows(path, encoding, scan)
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
            old = _temp_name(target, "old")
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


def _temp_name(table: str, tag: str = "tmp") -> str:
    return f"_dv_{tag}_{secrets.token_hex(3)}_{table}"[:63]


# ------------------------------------------------------------------------------------------- importing


def csv_files(paths: Iterable[str | Path]) -> list[Path]:
    """The CSV files named, folders expanded to their `*.csv` files (sorted); raises for missing paths."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
            if not found:
                raise ImportFailed(f"{path}: the folder holds no .csv files")
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise ImportFailed(f"{path}: no such file or folder")
    return out


def _mapped_name(value: str) -> str:
    # A valid lower-case identifier is kept as given; anything else goes through the identifier rules.
    return value if identifier(value, fallback="table") == value else identifier(value, fallback="table")


def resolve_table(
    path: Path, *, table: str | None, mapping: Mapping[str, str] | None, strip_prefix: str
) -> str:
    """The table a file is imported into: `table`, a mapping entry (stem, name or path) or the file stem."""
    if table:
        return _mapped_name(table)
    for key in (path.stem, path.name, str(path), str(path.resolve())):
        if mapping and key in mapping:
            return _mapped_name(mapping[key])
    return table_name(path.stem, strip_prefix=strip_prefix)


def _transcoded(path: Path, encoding: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="datavox-", suffix=".csv")
    with (
        os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
        path.open(encoding=encoding, newline="") as src,
    ):
        while block := src.read(1 << 20):
            out.write(block)
    return Path(name)


def import_file(
    loader: Loader,
    path: Path,
    table: str,
    *,
    mode: Mode = "replace",
    strict: bool = False,
) -> FileReport:
    """Import one file into `table`; failures are reported (status "failed"), never half-applied."""
    started = time.perf_counter()
    report = FileReport(path=str(path), table=table)
    temp_file: Path | None = None
    try:
        encoding = detect_encoding(path)
        report.encoding = encoding
        if encoding not in ("utf-8", "utf-8-sig"):
            report.warnings.append(f"encoding {encoding}, transcoded to UTF-8")
        source, read_as = path, encoding
        if encoding != "utf-8" and loader.db.kind == "duckdb":
            temp_file = _transcoded(path, encoding)  # DuckDB's reader wants plain UTF-8
            source, read_as = temp_file, "utf-8"
        scan = scan_file(source, read_as)
        report.delimiter = scan.delimiter
        report.warnings += scan.warnings
        report.rejected = scan.rejected
        report.rejected_count = len(scan.rejected_lines)
        report.columns = [
            ColumnReport(name=c, header=h, type=t)
            for c, h, t in zip(scan.columns, scan.headers, scan.types, strict=True)
        ]
        if scan.rejected_lines:
            lines = ", ".join(str(r.line) for r in scan.rejected[:10])
            more = "" if report.rejected_count <= 10 else f" and {report.rejected_count - 10} more"
            message = f"{report.rejected_count} line(s) with the wrong number of fields: {lines}{more}"
            if strict:
                raise ImportFailed(f"{path}: {message} (strict: nothing imported)")
            report.warnings.append(f"rejected {message}")
        _load_atomically(loader, source, read_as, scan, table, mode, report)
    except ImportFailed as exc:
        report.status, report.error = "failed", str(exc)
    except Exception as exc:  # a driver error: the message of the database, with the file it was about
        report.status, report.error = "failed", f"{path}: {str(exc).strip().splitlines()[0]}"
    finally:
        if temp_file is not None:
            temp_file.unlink(missing_ok=True)
        report.seconds = time.perf_counter() - started
    return report


def _load_atomically(
    loader: Loader, source: Path, encoding: str, scan: Scan, table: str, mode: Mode, report: FileReport
) -> None:
    existing = loader.tables()
    types = list(scan.types)
    if mode == "append" and table in existing:
        columns = loader.columns_of(table)
        if columns != scan.columns:
            raise ImportFailed(
                f"{source}: cannot append to {table}: its columns are {', '.join(columns)}, "
                f"the file's are {', '.join(scan.columns)}"
            )
        before = loader.count(table)
        loader.begin()
        try:
            loader.load(table, source, encoding, scan, types)
            loaded = loader.count(table) - before
            _check_count(source, loaded, scan.good_rows)
            loader.commit()
        except BaseException:
            loader.rollback()
            raise
        report.rows = loaded
        return
    tmp = _temp_name(table)
    loader.begin()
    try:
        loader.create(tmp, scan.columns, types)
        loader.load(tmp, source, encoding, scan, types)
        loaded = loader.count(tmp)
        _check_count(source, loaded, scan.good_rows)
        loader.replace_table(tmp, table)
        loader.commit()
    except BaseException:
        loader.rollback()
        if loader.db.kind == "mysql":  # DDL is not transactional there: remove the half-built table
            with contextlib.suppress(Exception):
                loader.drop(tmp)
        raise
    report.rows = loaded


def _check_count(path: Path, loaded: int, expected: int) -> None:
    if loaded != expected:
        raise ImportFailed(
            f"{path}: the database loaded {loaded} rows but the file has {expected} good rows; "
            "nothing imported"
        )


def import_paths(
    db_url: str | DatabaseUrl,
    paths: Iterable[str | Path],
    *,
    table: str | None = None,
    mapping: Mapping[str, str] | None = None,
    mode: Mode = "replace",
    strip_prefix: str = "",
    strict: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Import CSV files and folders of them; see the module doc. One FileReport per file, failed or not."""
    started = time.perf_counter()
    db = parse_url(db_url) if isinstance(db_url, str) else db_url
    if mode not in ("replace", "append"):
        raise ImportFailed(f"mode must be replace or append, not {mode!r}")
    files = csv_files(paths)
    if table and len(files) > 1:
        raise ImportFailed(f"--table names one table but {len(files)} files were given; use --map instead")
    targets = [resolve_table(p, table=table, mapping=mapping, strip_prefix=strip_prefix) for p in files]
    seen: dict[str, Path] = {}
    for path, target in zip(files, targets, strict=True):
        if target in seen and mode == "replace":
            raise ImportFailed(f"{seen[target]} and {path} would both replace table {target}")
        seen[target] = path
    report = ImportReport(database=db.redacted())
    loader = make_loader(db)
    try:
        with _progress(progress, files) as advance:
            for path, target in zip(files, targets, strict=True):
                file_report = import_file(loader, path, target, mode=mode, strict=strict)
                report.files.append(file_report)
                advance(path, file_report)
    finally:
        loader.close()
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _progress(enabled: bool, files: list[Path]) -> Iterator[Callable[[Path, FileReport], None]]:
    """A rich progress bar over the bytes of all files; a no-op when disabled."""
    if not enabled:
        yield lambda _p, _r: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    total = sum(p.stat().st_size for p in files)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=total)

        def advance(path: Path, file_report: FileReport) -> None:
            bar.update(
                task,
                advance=path.stat().st_size,
                description=f"{file_report.table} ({file_report.rows} rows)",
            )

        yield advance


# ---------------------------------------------------------------------------------------------- demo


def verify_checksums(folder: Path) -> list[Path]:
    """The files listed in `folder/SHA256SUMS`, each checked; raises ImportFailed on a missing or bad file."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise ImportFailed(f"{sums} is missing; cannot verify the demo data")
    files: list[Path] = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise ImportFailed(f"{sums}:{number}: not a 'hash  file' line")
        expected, name = parts[0].lower(), parts[1].strip().lstrip("*")
        path = folder / name
        if not path.is_file():
            raise ImportFailed(f"{path} is listed in SHA256SUMS but missing")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise ImportFailed(
                f"{path} does not match its SHA256SUMS entry: the demo data is damaged or changed"
            )
        files.append(path)
    return [p for p in files if p.suffix.lower() == ".csv"]


def import_demo(settings: Any, *, path: str | None = None, progress: bool = False) -> ImportReport:
    """F1DB from `settings.demo.f1_path` (checked against SHA256SUMS) into `settings.database.url`."""
    folder = Path(path or settings.demo.f1_path)
    if not folder.is_dir():
        raise ImportFailed(f"demo data folder {folder} does not exist (set demo.f1_path or pass --path)")
    files = verify_checksums(folder)
    report = import_paths(
        settings.database.url, files, strip_prefix="f1db-", mode="replace", progress=progress
    )
    if report.ok:
        after_import(settings, report)
    return report


def after_import(settings: Any, report: ImportReport) -> str | None:
    """Regenerate the semantic model (when datavox.data.semantic provides `refresh`) and record headers.

    Returns a warning when that failed; the import itself stands either way.
    """
    try:
        from datavox.data import semantic
    except ImportError:
        return None
    refresh = getattr(semantic, "refresh", None)
    if refresh is None:
        return None
    try:
        path = refresh(settings)
        _record_headers(semantic, Path(path), report)
    except Exception as exc:
        return f"the semantic model was not refreshed: {exc}"
    return None


def _record_headers(semantic: Any, path: Path, report: ImportReport) -> None:
    """Write each column's original CSV header into the semantic model where it has none yet."""
    load = getattr(semantic, "load_semantic_model", None)
    if load is None or not path.is_file():
        return
    model = load(path)
    untouched = not semantic.edited_by_hand(path) if hasattr(semantic, "edited_by_hand") else False
    changed = False
    for file_report in report.files:
        table = getattr(model, "tables", {}).get(file_report.table)
        if table is None or file_report.status != "ok":
            continue
        for col in file_report.columns:
            column = table.columns.get(col.name)
            if (
                column is not None
                and hasattr(column, "header")
                and not column.header
                and col.header != col.name
            ):
                column.header = col.header
                changed = True
    if changed and hasattr(semantic, "write_model"):
        # Still datavox's own file: a fresh mark, so later loads keep following the generator.
        semantic.write_model(path, model, generated=untouched)
    elif changed and hasattr(model, "to_yaml"):
        text = path.read_text(encoding="utf-8")
        head = "".join(line for line in text.splitlines(keepends=True)[:1] if line.startswith("#"))
        path.write_text(head + model.to_yaml(), encoding="utf-8")
