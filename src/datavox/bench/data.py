"""`datavox bench data`: import time, guard time and executor overhead, with medians and p95.

- F1DB (48 files, ~244k rows) into a fresh DuckDB file and a fresh PostgreSQL database, `--runs` times;
- the SQL guard on a corpus of realistic and hostile statements in four dialects, per statement;
- a trivial query through the Executor (guard off and on) against the raw driver on the same database in the
  same run: the baseline, with the ratio.
"""

from __future__ import annotations

import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from datavox.config import DEFAULT_F1_PATH

GUARD_CORPUS: list[tuple[str, str]] = [
    ("duckdb", "SELECT * FROM drivers"),
    ("duckdb", "SELECT name FROM drivers WHERE nationality_country_id = 'finland' ORDER BY name"),
    (
        "duckdb",
        "SELECT d.name, count(*) AS wins FROM races_race_results r JOIN drivers d ON d.id = r.driver_id "
        "WHERE r.position_number = 1 GROUP BY d.name ORDER BY wins DESC LIMIT 10",
    ),
    (
        "duckdb",
        "WITH w AS (SELECT driver_id, year, count(*) AS n FROM races_race_results WHERE position_number = 1 "
        "GROUP BY driver_id, year) SELECT year, driver_id, n FROM w WHERE n = (SELECT max(n) FROM w w2 "
        "WHERE w2.year = w.year) ORDER BY year",
    ),
    (
        "duckdb",
        "SELECT year, sum(points) FROM races_race_results WHERE driver_id = 'lewis-hamilton' GROUP BY 1",
    ),
    ("postgres", "SELECT * FROM races WHERE year = (SELECT max(year) FROM races) FETCH FIRST 5 ROWS ONLY"),
    ("postgres", "SELECT name FROM drivers UNION SELECT name FROM constructors"),
    ("mysql", "SELECT `name` FROM `drivers` WHERE `total_race_wins` > 10 LIMIT 5, 10"),
    ("sqlite", "SELECT count(*) FROM races_race_results WHERE pole_position AND year = 2021"),
    ("tsql", "SELECT TOP 5 * FROM drivers ORDER BY total_points DESC"),
    ("duckdb", "SELECT * FROM read_csv('/etc/passwd')"),
    ("duckdb", "WITH x AS (DELETE FROM drivers RETURNING *) SELECT * FROM x"),
    ("postgres", "SELECT pg_read_file('/etc/passwd')"),
    ("postgres", "SELECT * FROM drivers; DROP TABLE drivers"),
    ("mysql", "SELECT * FROM drivers WHERE SLEEP(1) = 0"),
    ("sqlite", "SELECT * FROM sqlite_master"),
]
TRIVIAL = "SELECT count(*) FROM drivers"


def _stats(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of the samples, in the samples' unit."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def _line(label: str, samples: list[float], unit: str = "ms", scale: float = 1000.0) -> None:
    median, p95 = _stats(samples)
    click.echo(
        f"  {label:<44} median {median * scale:9.3f} {unit}   p95 {p95 * scale:9.3f} {unit}"
        f"   n={len(samples)}"
    )


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_import_duckdb(folder: Path, runs: int, workdir: Path) -> Path:
    from datavox.data.importer import import_paths

    times: list[float] = []
    rows = 0
    last = workdir / "f1-0.duckdb"
    for i in range(runs):
        last = workdir / f"f1-{i}.duckdb"
        report = import_paths(f"duckdb:///{last}", [folder], strip_prefix="f1db-")
        if not report.ok:
            raise click.ClickException(f"import failed: {[f.error for f in report.files if f.error]}")
        times.append(report.seconds)
        rows = sum(report.tables.values())
    click.echo(f"F1DB import into DuckDB ({rows} rows, 48 files, fresh file each run)")
    _line("import", times, "s", 1.0)
    return last


def _pg_admin(admin_url: str) -> Any:
    import psycopg

    from datavox.data.connect import parse_url

    db = parse_url(admin_url)
    return psycopg.connect(
        host=db.host, port=db.port, user=db.user or "postgres", password=db.password or None,
        dbname=db.database, autocommit=True, connect_timeout=3,
    )  # fmt: skip


def bench_import_postgres(folder: Path, runs: int, admin_url: str) -> tuple[str | None, Callable[[], None]]:
    """Import into fresh databases; returns the URL of the last one and a function that drops it."""
    from datavox.data.connect import parse_url
    from datavox.data.importer import import_paths

    try:
        admin = _pg_admin(admin_url)
    except Exception as exc:
        click.echo(f"F1DB import into PostgreSQL: skipped ({admin_url} not reachable: {exc})")
        return None, lambda: None
    base = parse_url(admin_url)
    times: list[float] = []
    names: list[str] = []
    url = ""
    for _ in range(runs):
        name = f"datavox_bench_{secrets.token_hex(4)}"
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        names.append(name)
        url = base.raw.rsplit("/", 1)[0] + f"/{name}"
        report = import_paths(url, [folder], strip_prefix="f1db-")
        if not report.ok:
            raise click.ClickException(f"import failed: {[f.error for f in report.files if f.error]}")
        times.append(report.seconds)
    click.echo("F1DB import into PostgreSQL (COPY, fresh database each run)")
    _line("import", times, "s", 1.0)

    def drop() -> None:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
        admin.close()

    return url, drop


def bench_guard(repeat: int) -> None:
    from datavox.data.guard import GuardError, check_sql

    allowed = ["drivers", "races", "races_race_results", "constructors"]
    samples: list[float] = []
    per_statement: list[float] = []
    for dialect, sql in GUARD_CORPUS:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            with contextlib.suppress(GuardError):
                check_sql(sql, dialect=dialect, allowed_tables=allowed, row_cap=1000)
            times.append(time.perf_counter() - started)
        samples += times
        per_statement.append(statistics.median(times))
    click.echo(
        f"SQL guard ({len(GUARD_CORPUS)} statements, 5 dialects, safe and hostile, {repeat} runs each)"
    )
    _line("all checks", samples)
    _line("per-statement medians", per_statement)


def _raw_runner(url: str) -> tuple[Callable[[], Any], Callable[[], None]]:
    from datavox.data.connect import connect, parse_url

    db = parse_url(url)
    conn = connect(db, read_only=db.is_file)
    if db.kind == "duckdb":
        return lambda: conn.execute(TRIVIAL).fetchmany(1001), conn.close

    def run() -> Any:
        with conn.cursor() as cur:
            cur.execute(TRIVIAL)
            rows = cur.fetchmany(1001)
        conn.rollback()
        return rows

    return run, conn.close


def bench_executor(url: str, label: str, repeat: int) -> None:
    from datavox.data.execute import Executor

    raw, close = _raw_runner(url)
    with Executor(url, guard=False) as plain, Executor(url) as guarded:
        for fn in (raw, lambda: plain.run(TRIVIAL), lambda: guarded.run(TRIVIAL)):  # warm up
            for _ in range(5):
                fn()
        raw_t = [_timed(raw) for _ in range(repeat)]
        plain_t = [_timed(lambda: plain.run(TRIVIAL)) for _ in range(repeat)]
        guarded_t = [_timed(lambda: guarded.run(TRIVIAL)) for _ in range(repeat)]
    close()
    click.echo(f"Executor overhead on {label}: `{TRIVIAL}`, baseline = raw driver, same run")
    _line("raw driver (baseline)", raw_t)
    _line("Executor, guard off (read-only txn, timeout)", plain_t)
    _line("Executor, guard on", guarded_t)
    base = statistics.median(raw_t)
    click.echo(
        f"  ratio vs baseline: guard off {statistics.median(plain_t) / base:.2f}x, "
        f"guard on {statistics.median(guarded_t) / base:.2f}x; "
        f"overhead {1000 * (statistics.median(guarded_t) - base):.3f} ms per query"
    )


@click.command("data")
@click.option("--runs", default=3, show_default=True, help="F1DB imports per database.")
@click.option("--repeat", default=200, show_default=True, help="Guard and executor repetitions.")
@click.option("--path", "path", default=DEFAULT_F1_PATH, show_default=False, help="F1DB CSV folder.")
@click.option(
    "--pg",
    "pg_admin",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="PostgreSQL server (any database on it) for temporary databases; 'none' skips PostgreSQL.",
)
def command(runs: int, repeat: int, path: str, pg_admin: str) -> None:
    """F1DB import time (DuckDB, PostgreSQL), guard time per statement, executor overhead per query."""
    folder = Path(path)
    if not folder.is_dir():
        raise click.ClickException(f"F1DB folder {folder} does not exist")
    with tempfile.TemporaryDirectory(prefix="datavox-bench-") as tmp:
        duck = bench_import_duckdb(folder, runs, Path(tmp))
        pg_url, drop_pg = (
            (None, lambda: None) if pg_admin == "none" else bench_import_postgres(folder, runs, pg_admin)
        )
        try:
            bench_guard(max(10, repeat // 4))
            bench_executor(f"duckdb:///{duck}", "DuckDB", repeat)
            if pg_url:
                bench_executor(pg_url, "PostgreSQL", repeat)
        finally:
            drop_pg()
