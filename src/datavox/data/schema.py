"""Schema introspection: the catalog of tables, columns, keys, row counts, samples and distinct values.

One function, `introspect(db)`, for DuckDB, SQLite, PostgreSQL and MySQL/MariaDB. Foreign keys come from the
database when it declares them, and are otherwise inferred from column names (`driver_id` → `drivers.id`,
`nationality_country_id` → `countries.id`), because CSV imports never declare any. The distinct values of
low-cardinality text columns are what the brain links spoken names against.

The catalog is cached in memory per database and data version: the server introspects once at start.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datavox.data.connect import DatabaseUrl, connect
from datavox.data.names import identifier, name_words, shared_prefix

# Text columns with at most this many distinct values have them all in the catalog (entity names: drivers,
# circuits, teams). Above it only samples are kept.
DISTINCT_LIMIT = 3000
SAMPLE_SIZE = 3

_TEXT_TYPES = ("char", "text", "string", "clob", "varchar")
_NUMERIC_TYPES = ("int", "dec", "num", "real", "double", "float", "hugeint")


@dataclass
class Column:
    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    samples: list[Any] = field(default_factory=list)
    # All distinct values of a low-cardinality text column; None when not collected.
    distinct: list[str] | None = None
    distinct_count: int | None = None

    @property
    def is_text(self) -> bool:
        return any(t in self.type.lower() for t in _TEXT_TYPES)

    @property
    def is_numeric(self) -> bool:
        return any(t in self.type.lower() for t in _NUMERIC_TYPES) and not self.is_text

    @property
    def is_bool(self) -> bool:
        return self.type.lower().startswith("bool")

    @property
    def is_temporal(self) -> bool:
        low = self.type.lower()
        return "date" in low or "time" in low


@dataclass(frozen=True)
class ForeignKey:
    column: str
    ref_table: str
    ref_column: str
    inferred: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column]
    rows: int = 0
    kind: str = "table"  # or "view"
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Catalog:
    dialect: str
    tables: dict[str, Table]
    # Changes whenever the data does (file size and mtime, or row counts): keys the brain's cache.
    version: str = ""

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r} in the database") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "version": self.version,
            "tables": [
                {
                    "name": t.name,
                    "kind": t.kind,
                    "rows": t.rows,
                    "primary_key": t.primary_key,
                    "foreign_keys": [asdict(fk) for fk in t.foreign_keys],
                    "columns": [
                        {k: v for k, v in asdict(c).items() if k != "distinct"}
                        | {"distinct_values": len(c.distinct) if c.distinct is not None else None}
                        for c in t.columns
                    ],
                }
                for t in self.tables.values()
            ],
        }


_cache: dict[tuple[str, str], Catalog] = {}
_lock = threading.Lock()


def introspect(db: DatabaseUrl, *, refresh: bool = False) -> Catalog:
    """The catalog of `db`, from the in-memory cache when the data has not changed."""
    key = (db.raw, _file_version(db))
    with _lock:
        if not refresh and key[1] and key in _cache:
            return _cache[key]
    conn = connect(db, read_only=db.is_file and db.path != ":memory:")
    try:
        catalog = _Introspector(conn, db).run()
    finally:
        conn.close()
    catalog.version = key[1] or _counts_version(catalog)
    with _lock:
        _cache[key] = catalog
    return catalog


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _file_version(db: DatabaseUrl) -> str:
    if not db.is_file or db.path == ":memory:":
        return ""
    path = Path(db.path)
    if not path.is_file():
        return ""
    st = path.stat()
    wal = Path(f"{db.path}.wal")
    extra = wal.stat().st_mtime_ns if wal.exists() else 0
    return f"{st.st_size}-{st.st_mtime_ns}-{extra}"


def _counts_version(catalog: Catalog) -> str:
    text = ";".join(f"{t.name}:{t.rows}:{len(t.columns)}" for t in catalog.tables.values())
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class _Introspector:
    def __init__(self, conn: Any, db: DatabaseUrl) -> None:
        self.conn = conn
        self.db = db
        self.kind = db.kind

    def q(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params) if params else cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            if self.kind != "duckdb":
                cur.close()

    def quote(self, name: str) -> str:
        if self.kind == "mysql":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def run(self) -> Catalog:
        tables = self.tables()
        for table in tables.values():
            self.fill_stats(table)
        declared = any(t.foreign_keys for t in tables.values())
        infer_foreign_keys(tables, keep_declared=declared)
        return Catalog(dialect=self.db.dialect, tables=tables)

    # -- structure per engine -------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        if self.kind == "sqlite":
            return self._sqlite_tables()
        schema_filter = {
            "duckdb": "table_schema = current_schema() AND table_catalog = current_database()",
            "postgresql": "table_schema = current_schema()",
            "mysql": "table_schema = DATABASE()",
        }[self.kind]
        names = self.q(f"SELECT table_name, table_type FROM information_schema.tables WHERE {schema_filter}")
        cols = self.q(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            f"WHERE {schema_filter} ORDER BY table_name, ordinal_position"
        )
        tables: dict[str, Table] = {}
        for name, ttype in sorted(names):
            kind = "view" if "VIEW" in str(ttype).upper() else "table"
            tables[name] = Table(name=name, columns=[], kind=kind)
        for tname, cname, ctype, nullable in cols:
            if tname in tables:
                tables[tname].columns.append(Column(cname, str(ctype), str(nullable).upper() == "YES"))
        self._keys(tables)
        return tables

    def _keys(self, tables: dict[str, Table]) -> None:
        if self.kind == "duckdb":
            rows = self.q(
                "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
                "referenced_column_names FROM duckdb_constraints() "
                "WHERE schema_name = current_schema() AND database_name = current_database()"
            )
            for tname, ctype, cols, ref_table, ref_cols in rows:
                if tname not in tables:
                    continue
                if ctype == "PRIMARY KEY":
                    tables[tname].primary_key = list(cols)
                elif ctype == "FOREIGN KEY" and ref_table:
                    for col, ref in zip(cols, ref_cols or [], strict=False):
                        tables[tname].foreign_keys.append(ForeignKey(col, ref_table, ref))
            return
        if self.kind == "postgresql":
            pk_sql = (
                "SELECT kcu.table_name, kcu.column_name FROM information_schema.table_constraints tc "
                "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
                "AND tc.table_schema = kcu.table_schema WHERE tc.constraint_type = 'PRIMARY KEY' "
                "AND tc.table_schema = current_schema() ORDER BY kcu.ordinal_position"
            )
            fk_sql = (
                "SELECT kcu.table_name, kcu.column_name, ccu.table_name, ccu.column_name "
                "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
                "ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
                "JOIN information_schema.constraint_column_usage ccu "
                "ON ccu.constraint_name = tc.constraint_name "
                "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
            )
        else:  # mysql / mariadb
            pk_sql = (
                "SELECT table_name, column_name FROM information_schema.key_column_usage "
                "WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY' ORDER BY ordinal_position"
            )
            fk_sql = (
                "SELECT table_name, column_name, referenced_table_name, referenced_column_name "
                "FROM information_schema.key_column_usage WHERE table_schema = DATABASE() "
                "AND referenced_table_name IS NOT NULL"
            )
        for tname, cname in self.q(pk_sql):
            if tname in tables:
                tables[tname].primary_key.append(cname)
        for tname, cname, rtable, rcol in self.q(fk_sql):
            if tname in tables:
                tables[tname].foreign_keys.append(ForeignKey(cname, rtable, rcol))

    def _sqlite_tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        names = self.q(
            "SELECT name, type FROM sqlite_master "
            "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        )
        for name, ttype in sorted(names):
            info = self.q(f"PRAGMA table_info({self.quote(name)})")
            cols = [Column(r[1], str(r[2] or "TEXT"), not r[3], bool(r[5])) for r in info]
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
            fks = [
                ForeignKey(r[3], r[2], r[4] or "")
                for r in self.q(f"PRAGMA foreign_key_list({self.quote(name)})")
            ]
            tables[name] = Table(name=name, columns=cols, kind=ttype, primary_key=pk, foreign_keys=fks)
        # SQLite allows a foreign key without its column (it means the primary key) and loose table casing.
        lower = {n.lower(): n for n in tables}
        for table in tables.values():
            fixed = []
            for fk in table.foreign_keys:
                ref = lower.get(fk.ref_table.lower())
                if ref is None:
                    continue
                ref_col = fk.ref_column or (tables[ref].primary_key or ["id"])[0]
                fixed.append(ForeignKey(fk.column, ref, ref_col))
            table.foreign_keys = fixed
        return tables

    # -- row counts, samples and distinct values -----------------------------------------------------------
    def fill_stats(self, table: Table) -> None:
        qt = self.quote(table.name)
        try:
            table.rows = int(self.q(f"SELECT COUNT(*) FROM {qt}")[0][0])
        except Exception:  # a broken view must not stop the server from starting
            return
        for col in table.columns:
            if col.name in table.primary_key and len(table.primary_key) == 1:
                col.primary_key = True
        text_cols = [c for c in table.columns if c.is_text]
        if not text_cols or table.rows == 0:
            self._samples(table)
            return
        counts = self.q(
            "SELECT " + ", ".join(f"COUNT(DISTINCT {self.quote(c.name)})" for c in text_cols) + f" FROM {qt}"
        )[0]
        for col, n in zip(text_cols, counts, strict=True):
            col.distinct_count = int(n)
            if int(n) <= DISTINCT_LIMIT and not _looks_like_key(col.name, table):
                qc = self.quote(col.name)
                values = self.q(f"SELECT DISTINCT {qc} FROM {qt} WHERE {qc} IS NOT NULL")
                col.distinct = sorted(str(v[0]) for v in values)
        self._samples(table)

    def _samples(self, table: Table) -> None:
        if not table.columns or table.rows == 0:
            return
        cols = ", ".join(self.quote(c.name) for c in table.columns)
        rows = self.q(f"SELECT {cols} FROM {self.quote(table.name)} LIMIT {SAMPLE_SIZE}")
        for i, col in enumerate(table.columns):
            col.samples = [_json_safe(r[i]) for r in rows]


def _looks_like_key(name: str, table: Table) -> bool:
    """Identifier columns (`id`, `driver_id`) hold slugs, not names people say."""
    low = identifier(name)
    return low == "id" or low.endswith("_id") or name in table.primary_key


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- foreign keys inferred from names ----------------------------------------------------------------------


def singular(word: str) -> str:
    """A plain English singular, enough for table names: `countries` → `country`, `grands` → `grand`."""
    w = word.lower()
    if len(w) <= 3 or w.endswith("ss") or w.endswith("us") or w.endswith("is"):
        return w
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "xes", "sses", "zes")):
        return w[:-2]
    if w.endswith("s"):
        return w[:-1]
    return w


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(singular(t) for t in identifier(name).split("_") if t)


def infer_foreign_keys(tables: dict[str, Table], *, keep_declared: bool = False) -> None:
    """Add foreign keys named like `<table>_id`, trying the longest suffix of the name's tokens first."""
    by_tokens: dict[tuple[str, ...], Table] = {}
    for t in tables.values():
        by_tokens.setdefault(_tokens(t.name), t)
    # Tables imported from files named `f1db-drivers.csv` all start with the data set's name: `driver_id`
    # still means `f1db_drivers`.
    prefix = shared_prefix(tables)
    if prefix:
        for t in tables.values():
            by_tokens.setdefault(tuple(singular(w) for w in name_words(t.name, prefix)), t)
    for table in tables.values():
        have = {fk.column for fk in table.foreign_keys}
        for col in table.columns:
            if col.name in have or table.primary_key == [col.name]:
                continue  # a table's own key (results.resultId) refers to nothing
            snake = identifier(col.name)
            if not snake.endswith("_id") or snake == "id":
                continue
            parts = _tokens(snake[: -len("_id")])
            for k in range(len(parts)):
                target = by_tokens.get(parts[k:])
                if target is None:
                    continue
                ref_col = _ref_column(target, col.name)
                if ref_col is None or (target is table and ref_col == col.name):
                    continue
                table.foreign_keys.append(ForeignKey(col.name, target.name, ref_col, inferred=True))
                break


def _ref_column(target: Table, fk_column: str) -> str | None:
    if len(target.primary_key) == 1:
        return target.primary_key[0]
    names = {c.name for c in target.columns}
    if "id" in names:
        return "id"
    if fk_column in names:  # Ergast style: results.driverId → drivers.driverId
        return fk_column
    return None
