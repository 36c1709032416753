"""`datavox import`, `datavox demo` and `datavox sql`: the data layer on the command line.

Heavy modules (drivers, sqlglot, rich) are imported inside the commands, so `datavox --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from datavox.cli import db_option, settings_from

if TYPE_CHECKING:
    from datavox.config import Settings
    from datavox.data.importer import ImportReport

EXIT_FAILED = 1  # the database failed the statement, or an import failed
EXIT_REJECTED = 3  # the guard refused the statement


def _parse_mapping(values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        key, sep, table = value.rpartition("=")
        if not sep or not key or not table:
            raise click.BadParameter(f"{value!r} is not FILE=TABLE", param_hint="--map")
        mapping[key] = table
    return mapping


def _print_report(report: ImportReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    table = Table(title=f"import into {report.database}", show_lines=False)
    for heading in ("file", "table", "rows", "columns", "rejected", "status"):
        table.add_column(heading, justify="right" if heading in ("rows", "rejected") else "left")
    for f in report.files:
        types: dict[str, int] = {}
        for c in f.columns:
            types[c.type] = types.get(c.type, 0) + 1
        summary = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
        status = "[green]ok[/]" if f.status == "ok" else "[red]failed[/]"
        table.add_row(f.path.rsplit("/", 1)[-1], f.table, str(f.rows), summary, str(f.rejected_count), status)
    console.print(table)
    for f in report.files:
        for warning in f.warnings:
            console.print(f"[yellow]warning[/] {f.path}: {warning}")
        for rejected in f.rejected:
            console.print(f"  line {rejected.line}: {rejected.reason}: {rejected.text}")
        if f.error:
            console.print(f"[red]error[/] {f.error}")
    rows = sum(f.rows for f in report.files if f.status == "ok")
    console.print(f"{len(report.tables)} table(s), {rows} rows in {report.seconds:.2f} s")


def _finish_import(settings: Settings, report: ImportReport, as_json: bool) -> None:
    from datavox.data.importer import after_import

    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    if report.tables:
        warning = after_import(settings, report)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        elif not as_json:
            _model_hint(settings)
    if not report.ok:
        sys.exit(EXIT_FAILED)


def _model_hint(settings: Settings) -> None:
    """Where the generated semantic model is, and how to make it better: people start from here."""
    from datavox.data.semantic import semantic_path

    path = semantic_path(settings)
    if path.is_file():
        click.echo(
            f"semantic model: {path} (generated from the data; edit it, or describe it once with an LLM: "
            "datavox schema --describe)"
        )


@click.command("import")
@db_option
@click.option("--table", "table", metavar="NAME", default=None, help="Table name (one file only).")
@click.option(
    "--map", "mappings", metavar="FILE=TABLE", multiple=True, help="Table for a file (stem, name or path)."
)
@click.option(
    "--strip-prefix", default="", metavar="P", help="Drop this prefix from file stems (e.g. f1db-)."
)
@click.option("--replace/--append", "replace", default=True, help="Replace tables (default) or append rows.")
@click.option(
    "--strict", is_flag=True, help="Fail a file that has rejected lines instead of importing good rows."
)
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.pass_context
def import_command(
    ctx: click.Context,
    db: str | None,
    table: str | None,
    mappings: tuple[str, ...],
    strip_prefix: str,
    replace: bool,
    strict: bool,
    as_json: bool,
    paths: tuple[str, ...],
) -> None:
    """Import CSV files (or folders of them) as tables.

    \b
    Examples:
      datavox import data/sales.csv
      datavox import --map formula_one_records_10_years=F1Records seed-data/
      datavox import --append --table sales more/sales-2024.csv
    """
    from datavox.data.importer import ImportFailed, import_paths

    settings = settings_from(ctx, db)
    try:
        report = import_paths(
            settings.database.url,
            list(paths),
            table=table,
            mapping=_parse_mapping(mappings),
            mode="replace" if replace else "append",
            strip_prefix=strip_prefix,
            strict=strict,
            progress=not as_json and sys.stderr.isatty(),
        )
    except (ImportFailed, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    _finish_import(settings, report, as_json)


def _has_tables(url: str) -> bool:
    from datavox.data.connect import connect, parse_url
    from datavox.data.pool import user_tables

    db = parse_url(url)
    if not db.exists():
        return False
    try:
        conn = connect(db, read_only=db.is_file)
    except Exception:
        return False
    try:
        return bool(user_tables(db, conn))
    except Exception:
        return False
    finally:
        conn.close()


@click.command("demo")
@db_option
@click.option("--path", "path", metavar="DIR", default=None, help="F1DB CSV folder (default: demo.f1_path).")
@click.option("--if-missing", is_flag=True, help="Do nothing when the database already has tables.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@click.pass_context
def demo_command(
    ctx: click.Context, db: str | None, path: str | None, if_missing: bool, as_json: bool
) -> None:
    """Import the F1DB demo data, checked against its SHA256SUMS."""
    from datavox.data.importer import ImportFailed, import_demo

    settings = settings_from(ctx, db)
    if if_missing and _has_tables(settings.database.url):
        from datavox.data.connect import redact_url

        click.echo(f"{redact_url(settings.database.url)}: already has tables; nothing to do")
        return
    try:
        report = import_demo(settings, path=path, progress=not as_json and sys.stderr.isatty())
    except (ImportFailed, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    # import_demo refreshed the semantic model already; print and set the exit status only.
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
        click.echo("Formula 1 data from F1DB (https://github.com/f1db/f1db), CC BY 4.0.")
    if not report.ok:
        sys.exit(EXIT_FAILED)


def _print_rows(columns: list[str], rows: list[list[Any]], truncated: bool, duration_ms: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console = Console(highlight=False)
    console.print(table)
    more = " (truncated at the row cap)" if truncated else ""
    console.print(f"{len(rows)} row(s){more} in {duration_ms:.1f} ms")


@click.command("sql")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.argument("statement")
@click.pass_context
def sql_command(ctx: click.Context, db: str | None, as_json: bool, statement: str) -> None:
    """Run one SELECT through the guard and the read-only executor.

    Exit status: 0 ok, 1 the database failed it (or timed out), 3 the guard rejected it.
    """
    from datavox.data.audit import AuditLog
    from datavox.data.connect import parse_url
    from datavox.data.execute import Executor
    from datavox.data.guard import GuardError
    from datavox.data.query_errors import QueryError

    settings = settings_from(ctx, db)
    try:
        url = parse_url(settings.database.url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    secrets = (
        url.password,
        *(getattr(settings.secrets, k) for k in ("llm_api_key", "realtime_api_key", "api_token")),
    )
    audit = AuditLog(settings.database.audit_log, secrets=tuple(s for s in secrets if s))
    with Executor(
        url, row_cap=settings.database.row_cap, timeout_s=settings.database.timeout_s, audit=audit
    ) as ex:
        try:
            result = ex.run(statement, source="cli")
        except GuardError as exc:
            click.echo(f"rejected: {exc.reason}", err=True)
            sys.exit(EXIT_REJECTED)
        except QueryError as exc:
            click.echo(f"failed: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        _print_rows(result.columns, result.rows, result.truncated, result.duration_ms)
