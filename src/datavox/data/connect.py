"""Database URLs and connections for every supported engine.

One setting names the database: `duckdb:///data/f1.duckdb`, `sqlite:///path/file.sqlite`,
`postgresql://user@host:5432/db`, `mysql://root@127.0.0.1:3306/db` (MariaDB too) and
`mssql://user:pass@host/db` (SQL Server / Azure SQL: dialect support only, no server to test against here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

Kind = Literal["duckdb", "sqlite", "postgresql", "mysql", "mssql"]

_SCHEMES: dict[str, Kind] = {
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "sqlserver": "mssql",
}

# sqlglot's name for each engine's SQL dialect.
DIALECTS: dict[Kind, str] = {
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mssql": "tsql",
}


class ConnectionError_(RuntimeError):
    """The database cannot be reached or opened; the message says which and why."""


DatabaseError = ConnectionError_


@dataclass(frozen=True)
class DatabaseUrl:
    kind: Kind
    raw: str
    path: str = ""  # file engines
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    database: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @property
    def dialect(self) -> str:
        return DIALECTS[self.kind]

    @property
    def is_file(self) -> bool:
        return self.kind in ("duckdb", "sqlite")

    def redacted(self) -> str:
        """The URL with any password replaced, safe for logs and screens."""
        return redact_url(self.raw)

    def exists(self) -> bool:
        return not self.is_file or self.path == ":memory:" or Path(self.path).is_file()


def redact_url(url: str) -> str:
    """`url` with its password masked, for printing; works on a URL that `parse_url` would refuse too.

    The password is matched as written in the URL: `DatabaseUrl.password` is percent-decoded, so a
    password with `@` or `%` in it (written `%40`, `%25`) would not be found in the raw text.
    """
    try:
        written = urlsplit(url).password
    except ValueError:  # e.g. a port that is not a number
        written = None
    if not written:
        return url
    return url.replace(f":{written}@", ":****@", 1)


def parse_url(url: str) -> DatabaseUrl:
    """Parse a database URL; raises ValueError with a readable message when it is not one."""
    if "://" not in url:
        raise ValueError(f"not a database URL: {url!r} (expected e.g. duckdb:///data/f1.duckdb)")
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0].lower()
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise ValueError(f"unsupported database {scheme!r}: use one of {', '.join(sorted(_SCHEMES))}")
    options = tuple(sorted((k, v[-1]) for k, v in parse_qs(parts.query).items()))
    if kind in ("duckdb", "sqlite"):
        # duckdb:///relative/path and duckdb:////absolute/path, as SQLAlchemy does; also duckdb:///:memory:
        path = url.split("://", 1)[1].split("?", 1)[0]
        if path.startswith("/"):
            path = path[1:]
        if not path:
            raise ValueError(f"{url!r} names no database file")
        return DatabaseUrl(kind=kind, raw=url, path=unquote(path), options=options)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ValueError(f"{url!r} names no database")
    default_port = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}[kind]
    return DatabaseUrl(
        kind=kind,
        raw=url,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or default_port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=database,
        options=options,
    )


def connect(db: DatabaseUrl, *, read_only: bool = False) -> Any:
    """Open a plain DB-API connection. The executor adds its read-only hardening on top."""
    try:
        if db.kind == "duckdb":
            import duckdb

            if read_only and not Path(db.path).is_file():
                raise ConnectionError_(
                    f"database file {db.path} does not exist (run `datavox demo` or import)"
                )
            if not read_only and db.path != ":memory:":
                Path(db.path).parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(db.path, read_only=read_only)
        if db.kind == "sqlite":
            import sqlite3

            if read_only:
                if not Path(db.path).is_file():
                    raise ConnectionError_(f"database file {db.path} does not exist")
                uri = f"file:{Path(db.path).resolve()}?mode=ro"
                return sqlite3.connect(uri, uri=True, check_same_thread=False)
            Path(db.path).parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(db.path, check_same_thread=False)
        if db.kind == "postgresql":
            import psycopg

            return psycopg.connect(
                host=db.host,
                port=db.port,
                user=db.user or "postgres",
                password=db.password or None,
                dbname=db.database,
                connect_timeout=5,
            )
        if db.kind == "mysql":
            import pymysql

            return pymysql.connect(
                host=db.host,
                port=db.port,
                user=db.user or "root",
                password=db.password,
                database=db.database,
                connect_timeout=5,
                charset="utf8mb4",
                local_infile=False,
            )
        if db.kind == "mssql":
            try:
                import pyodbc  # type: ignore[import-not-found]
            except ImportError as exc:
                raise ConnectionError_(
                    "SQL Server needs the optional driver: pip install 'datavox[mssql]'"
                ) from exc
            dsn = (
                f"DRIVER={{ODBC Driver 18 for SQL Server}};SERVER={db.host},{db.port};DATABASE={db.database};"
                f"UID={db.user};PWD={db.password};Encrypt=yes"
            )
            return pyodbc.connect(dsn, readonly=read_only, timeout=5)
    except ConnectionError_:
        raise
    except Exception as exc:  # every driver has its own exception tree; callers get one readable error
        raise ConnectionError_(f"cannot open {db.redacted()}: {exc}") from exc
    raise ConnectionError_(f"unsupported database kind {db.kind}")
