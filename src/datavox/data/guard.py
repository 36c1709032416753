"""The SQL guard: every statement, from any source, is checked here before it runs.

The check works on sqlglot's syntax tree, never on the SQL text, and what runs is the SQL regenerated from
that tree (without comments), so text the parser skipped over (a MySQL `/*! ... */` comment, say) cannot
reach the database. The rules:

- the text parses in the target dialect and holds exactly one statement;
- that statement is a query: SELECT, WITH ... SELECT, UNION/INTERSECT/EXCEPT, subqueries;
- nothing in the tree writes, locks, changes settings or selects INTO a table, file or variable;
- no file, network, system, lock or sleep function of any supported dialect, no table functions except
  `unnest`, `generate_series` and `range`, no session variables or bind parameters;
- every table read is an allowed table (or a CTE of the statement); system catalogs are refused unless
  allowed by name;
- a LIMIT is added, or an existing one clamped to the row cap (TOP on SQL Server, by sqlglot).

The guard is one wall; the executor's read-only connection is the second.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError


class GuardError(ValueError):
    """A statement the guard refuses; `.reason` says why, in words fit for a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _types(*names: str) -> tuple[type[exp.Expr], ...]:
    # getattr: expression classes come and go between sqlglot releases.
    return tuple(t for t in (getattr(exp, n, None) for n in names) if isinstance(t, type))


# Statement roots that are queries.
_QUERY_ROOTS = _types("Select", "Union", "Intersect", "Except", "Subquery")

# Nodes that must not appear anywhere in a checked statement, with the reason given to the user.
_FORBIDDEN_NODES: tuple[tuple[tuple[type[exp.Expr], ...], str], ...] = (
    (_types("Insert", "Update", "Delete", "Merge", "TruncateTable", "LoadData"), "writes data"),
    (_types("Create", "Drop", "Alter", "AlterTable", "Grant", "Revoke", "Comment"), "changes the schema"),
    (_types("Into"), "uses SELECT ... INTO"),
    (_types("Lock"), "locks rows (FOR UPDATE/SHARE)"),
    (_types("Copy", "Export"), "copies data to or from files"),
    (_types("Attach", "Detach", "Install", "Use"), "attaches databases or loads extensions"),
    (
        _types("Pragma", "Set", "SetItem", "Command", "Execute", "ExecuteSql", "Kill", "Declare"),
        "runs a command",
    ),
    (_types("Transaction", "Commit", "Rollback"), "controls transactions"),
    (_types("SessionParameter"), "reads a session or system variable"),
    (_types("Parameter", "Placeholder"), "uses a variable or bind parameter"),
)

# Functions that read or write files, reach the network, run other SQL, read settings, sleep or lock.
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        # DuckDB
        "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
        "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
        "read_ndjson_objects", "read_text", "read_blob", "read_xlsx", "glob", "sniff_csv",
        "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
        "iceberg_scan", "iceberg_metadata", "delta_scan", "sqlite_scan", "sqlite_attach", "postgres_scan",
        "postgres_attach", "postgres_query", "postgres_execute", "mysql_scan", "mysql_query",
        "mysql_execute", "st_read", "query", "query_table", "json_execute_serialized_sql", "getenv",
        "load_extension", "install_extension", "read_file", "write_file", "http_get", "http_post",
        "checkpoint", "force_checkpoint",
        # PostgreSQL
        "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_sleep", "pg_sleep_for",
        "pg_sleep_until", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
        "pg_rotate_logfile", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_logdir_ls",
        "pg_promote", "pg_switch_wal", "pg_create_restore_point", "pg_notify", "pg_export_snapshot",
        "set_config", "current_setting", "query_to_xml", "query_to_xml_and_xmlschema",
        "query_to_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "table_to_xml",
        "database_to_xml", "schema_to_xml", "nextval", "setval", "copy",
        # MySQL / MariaDB
        "load_file", "sleep", "benchmark", "get_lock", "release_lock", "release_all_locks",
        "is_free_lock", "is_used_lock", "master_pos_wait", "source_pos_wait",
        "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids", "sys_exec", "sys_eval",
        # SQLite
        "readfile", "writefile", "edit", "fts3_tokenizer", "fsdir", "zipfile", "lsdir",
        # SQL Server
        "openrowset", "openquery", "opendatasource", "openxml", "waitfor",
    }
)  # fmt: skip
_FORBIDDEN_PREFIXES = (
    "pg_ls_", "pg_read_", "pg_stat_reset", "pg_advisory", "pg_try_advisory", "pg_backup", "pg_start_backup",
    "pg_stop_backup", "pg_replication_", "pg_logical_", "lo_", "dblink", "xp_", "sp_", "fn_", "duckdb_",
    "pragma_", "read_", "write_", "dbms_", "utl_", "sys_",
)  # fmt: skip
_TABLE_FUNCTIONS = frozenset({"unnest", "generate_series", "exploding_generate_series", "range"})

# Schemas and tables of the engines' own catalogs.
_SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys", "temp", "pg_temp"}
)
_SYSTEM_TABLES = frozenset(
    {
        "sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema", "sqlite_sequence",
        "sqlite_stat1", "sysobjects", "syscolumns", "sysdatabases",
    }
)  # fmt: skip
_SYSTEM_TABLE_PREFIXES = ("pg_", "duckdb_", "sqlite_")
# Schema qualifiers that mean "the default schema" of an engine.
_DEFAULT_SCHEMAS = frozenset({"main", "public", "dbo"})


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _forbidden_function(name: str) -> bool:
    return name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_PREFIXES)


def _normalise_allowed(allowed_tables: Iterable[str] | None) -> frozenset[str] | None:
    if allowed_tables is None:
        return None
    return frozenset(t.lower() for t in allowed_tables)


def _table_key(table: exp.Table) -> tuple[str, str]:
    """(schema, name), lower-cased; schema is empty when unqualified."""
    return str(table.db or "").lower(), str(table.name or "").lower()


def _cte_names(with_: exp.With) -> list[str]:
    return [str(cte.alias_or_name).lower() for cte in with_.expressions]


def _is_cte_reference(table: exp.Table, name: str) -> bool:
    """Whether an unqualified table name refers to a CTE in scope at that point of the statement.

    Scoping follows SQL: the body of a WITH query sees all its CTEs; a CTE sees only the CTEs defined
    before it (all of them, itself included, under WITH RECURSIVE). A name outside that scope is a real
    table, so `WITH a AS (SELECT * FROM pg_user), pg_user AS (...)` still reads the system catalog.
    """
    prev: exp.Expr = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            names = _cte_names(node)
            if node.args.get("recursive"):
                visible = names
            else:
                index = next((i for i, cte in enumerate(node.expressions) if cte is prev), len(names))
                visible = names[:index]
            if name in visible:
                return True
        else:
            with_ = node.args.get("with_") or node.args.get("with")
            if isinstance(with_, exp.With) and with_ is not prev and name in _cte_names(with_):
                return True
        prev, node = node, node.parent
    return False


def _check_table(table: exp.Table, allowed: frozenset[str] | None) -> None:
    func = table.this
    if isinstance(func, exp.Func):
        name = _function_name(func)
        if name not in _TABLE_FUNCTIONS or _forbidden_function(name):
            raise GuardError(f"table function {name}() is not allowed")
        return
    schema, name = _table_key(table)
    catalog = str(table.catalog or "").lower()
    full = f"{schema}.{name}" if schema else name
    if not name:
        raise GuardError("a table without a name is not allowed")
    if not schema and not catalog and _is_cte_reference(table, name):
        return
    default_schema = schema in _DEFAULT_SCHEMAS and not catalog
    if allowed is not None and (full in allowed or (default_schema and name in allowed)):
        return
    if (
        schema in _SYSTEM_SCHEMAS
        or catalog in _SYSTEM_SCHEMAS
        or name in _SYSTEM_TABLES
        or (name.startswith(_SYSTEM_TABLE_PREFIXES) and not schema)
    ):
        raise GuardError(f"system catalog {full} is not allowed")
    if allowed is None:
        # Any user table is fine, but nothing that names a file, a URL or another database.
        if catalog or (schema and schema not in _DEFAULT_SCHEMAS) or not name.replace("_", "").isalnum():
            raise GuardError(f"table {table.sql()} is not allowed")
        return
    raise GuardError(f"table {full} is not allowed (allowed: {', '.join(sorted(allowed)) or 'none'})")


def _check_comments(node: exp.Expr) -> None:
    # MySQL runs the text of /*! ... */ comments; such a comment is a disguised statement, so refuse it
    # rather than quietly dropping it.
    for comment in node.comments or ():
        if comment.lstrip().startswith("!"):
            raise GuardError("MySQL executable comments (/*! ... */) are not allowed")


def _literal_int(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(str(node.this))
        except ValueError:
            return None
    return None


def _apply_limit(query: exp.Query, row_cap: int) -> exp.Query:
    """Add a LIMIT of `row_cap` or clamp the one there; FETCH FIRST is clamped the same way."""
    target: exp.Expr = query
    # `(SELECT ...)`: limit the inner query, as a LIMIT after the parentheses is not valid everywhere.
    while isinstance(target, exp.Subquery) and isinstance(target.this, exp.Query):
        if target.args.get("limit"):
            break
        target = target.this
    limit = target.args.get("limit")
    cap = exp.Literal.number(row_cap)
    if isinstance(limit, exp.Fetch):
        count = _literal_int(limit.args.get("count"))
        if count is None or count > row_cap:
            limit.set("count", cap)
        return query
    if isinstance(limit, exp.Limit):
        value = _literal_int(limit.expression)
        if value is None or value > row_cap:
            limit.set("expression", cap)
        return query
    assert isinstance(target, exp.Query)
    limited = target.limit(row_cap, copy=False)
    return limited if target is query else query


def check_sql(
    sql: str,
    *,
    dialect: str,
    allowed_tables: Iterable[str] | None,
    row_cap: int,
) -> str:
    """Check one statement and return the SQL to run (limited to `row_cap` rows, comments removed).

    `allowed_tables` holds table or view names (optionally `schema.name`), compared case-insensitively;
    None allows any plain user table (never a system catalog, a file or another database).
    Raises GuardError with the reason when the statement is refused.
    """
    if not sql or not sql.strip():
        raise GuardError("the statement is empty")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GuardError(f"could not parse the statement as {dialect} SQL: {first}") from exc
    if not statements:
        raise GuardError("the statement is empty")
    if len(statements) > 1:
        raise GuardError(f"exactly one statement is allowed, found {len(statements)}")
    root = statements[0]
    if not isinstance(root, _QUERY_ROOTS):
        kind = root.key.upper() if isinstance(root, exp.Expression) else type(root).__name__
        raise GuardError(f"only SELECT queries are allowed, not {kind}")

    allowed = _normalise_allowed(allowed_tables)
    for node in root.walk():
        _check_comments(node)
        for types, reason in _FORBIDDEN_NODES:
            if types and isinstance(node, types):
                raise GuardError(f"the statement {reason} ({node.key.upper()})")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if _forbidden_function(name):
                raise GuardError(f"function {name}() is not allowed")
        elif isinstance(node, exp.Table):
            _check_table(node, allowed)
        if isinstance(node, exp.Lateral) and isinstance(node.this, exp.Func):
            name = _function_name(node.this)  # LATERAL f(...) reads rows from a function: same rule as FROM
            if name not in _TABLE_FUNCTIONS:
                raise GuardError(f"table function {name}() is not allowed")
    assert isinstance(root, exp.Query)
    limited = _apply_limit(root, row_cap)
    return limited.sql(dialect=dialect, comments=False)
