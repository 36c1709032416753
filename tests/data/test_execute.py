"""The read-only executor on DuckDB, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from datavox.cancel import CancelToken, running_under
from datavox.data.audit import AuditLog
from datavox.data.cells import json_cell
from datavox.data.connect import connect, parse_url
from datavox.data.execute import Executor
from datavox.data.guard import GuardError
from datavox.data.query_errors import QueryCancelled, QueryError, QueryTimeout
from datavox.types import QueryResult

from .dbs import KINDS, build_sample, count_rows, url_for

CROSS_JOIN = "SELECT count(*) FROM big a, big b, big c, big d"  # 10^12 rows: runs for hours


@pytest.fixture(scope="module", params=KINDS)
def sample_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = url_for(request.param, tmp_path_factory.mktemp(request.param), request)
    build_sample(url)
    return url


def test_select_returns_json_safe_rows_and_audits(sample_url: str, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    with Executor(sample_url, row_cap=2, audit=audit) as ex:
        result = ex.run("SELECT id, name, d, amount FROM t ORDER BY id", source="test")
        assert result.columns == ["id", "name", "d", "amount"]
        assert result.rows == [
            [1, "Lewis Hamilton", "2019-12-01", 413.5],
            [2, "Max Verstappen", "2021-12-12", 395.5],
        ]
        assert result.truncated is True
        assert "LIMIT 3" in result.sql.upper()
        full = ex.run("SELECT id FROM t WHERE id = 3")
        assert full.rows == [[3]] and full.truncated is False
        with pytest.raises(GuardError):
            ex.run("DELETE FROM t")
    records = audit.read()
    assert [r["outcome"] for r in records] == ["ok", "ok", "rejected"]
    assert records[0]["source"] == "test" and records[0]["rows"] == 2
    assert records[2]["sql"] == "DELETE FROM t" and "DELETE" in records[2]["error"]
    assert count_rows(sample_url, "t") == 3


def test_allowed_tables_default_to_user_tables(sample_url: str) -> None:
    with Executor(sample_url) as ex:
        assert set(ex.allowed_tables) >= {"t", "big"}
        assert set(ex.refresh_tables()) >= {"t", "big"}
    with Executor(sample_url, allowed_tables=["t"]) as ex, pytest.raises(GuardError, match="big"):
        ex.run("SELECT * FROM big")


WRITES = [
    "INSERT INTO t VALUES (9, 'x', NULL, NULL)",
    "UPDATE t SET name = 'x'",
    "DELETE FROM t",
    "CREATE TABLE written (a INTEGER)",
    "DROP TABLE t",
    "ALTER TABLE t ADD COLUMN extra INTEGER",
]
ENGINE_WRITES: dict[str, list[str]] = {
    "duckdb": [
        "COPY t TO '{tmp}/out.csv'",
        "SET enable_external_access = true",
        "ATTACH '{tmp}/other.duckdb' AS other",
        "SELECT * FROM read_csv('/etc/hostname')",
        "CREATE TEMP TABLE tt AS SELECT 1",  # temp objects are fine in principle; it must not reach the file
    ],
    "sqlite": ["ATTACH DATABASE '{tmp}/other.sqlite' AS other", "PRAGMA query_only = 0"],
    "postgresql": [
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "COMMIT; SET default_transaction_read_only = off; DROP TABLE t",
    ],
    "mysql": ["SET SESSION TRANSACTION READ WRITE", "SELECT * FROM t INTO OUTFILE '/tmp/datavox_out.txt'"],
}


def test_writes_fail_with_guard_off(sample_url: str, tmp_path: Path) -> None:
    kind = sample_url.split(":")[0]
    with Executor(sample_url, guard=False) as ex:
        for sql in ENGINE_WRITES[kind]:
            # Settings statements may "succeed" but must not make a later write possible.
            with contextlib.suppress(QueryError):
                ex.run(sql.format(tmp=tmp_path))
        for sql in WRITES:
            with pytest.raises(QueryError):
                ex.run(sql)
    assert count_rows(sample_url, "t") == 3
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_runaway_query_is_cancelled_within_timeout(sample_url: str, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    with Executor(sample_url, timeout_s=1.0, audit=audit) as ex:
        started = time.perf_counter()
        with pytest.raises(QueryTimeout):
            ex.run(CROSS_JOIN)
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"cancelled after {elapsed:.2f} s"
        # The connection is usable again afterwards.
        assert ex.run("SELECT count(*) FROM t").rows == [[3]]
    assert [r["outcome"] for r in audit.read()] == ["timeout", "ok"]


def test_cancel_stops_the_running_query(sample_url: str) -> None:
    with Executor(sample_url, timeout_s=30.0) as ex:
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                ex.run(CROSS_JOIN)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=worker)
        started = time.perf_counter()
        thread.start()
        time.sleep(0.3)  # let the statement start
        deadline = time.monotonic() + 5
        while not ex.cancel() and time.monotonic() < deadline:
            time.sleep(0.05)
        thread.join(5)
        assert not thread.is_alive()
        assert time.perf_counter() - started < 5
        assert len(errors) == 1 and isinstance(errors[0], QueryCancelled)


# A barge-in cancels one voice session's statement, never another's. F1-like tables, a cross join of the
# results with themselves that runs a second or two on each engine (sizes measured on the 2-core machine).
SLOW_ROWS = {"duckdb": 40_000, "postgresql": 7_000}
SLOW_JOIN = (
    "SELECT count(*) FROM results a JOIN drivers d ON d.id = a.driver_id, results b "
    "WHERE a.points + b.points > 30"
)


def _slow_count(rows: int) -> int:
    per_points = [sum(1 for i in range(rows) if i % 26 == p) for p in range(26)]
    return sum(per_points[p] * per_points[q] for p in range(26) for q in range(26) if p + q > 30)


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def slow_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    kind = str(request.param)
    url = url_for(kind, tmp_path_factory.mktemp(f"slow-{kind}"), request)
    series = "range({n})" if kind == "duckdb" else "generate_series(0, {n} - 1)"
    rows = series.format(n=SLOW_ROWS[kind])
    conn = connect(parse_url(url))
    cur = conn.cursor()
    for stmt in (
        "DROP TABLE IF EXISTS results",
        "DROP TABLE IF EXISTS drivers",
        "CREATE TABLE drivers AS SELECT g AS id, 'Driver ' || CAST(g AS VARCHAR) AS name "
        f"FROM {series.format(n=900)} AS s(g)",
        "CREATE TABLE results AS SELECT g AS id, mod(g, 900) AS driver_id, mod(g, 26) AS points "
        f"FROM {rows} AS s(g)",
    ):
        cur.execute(stmt)
    conn.commit()
    cur.close()
    conn.close()
    return url


def test_cancel_by_thread_leaves_other_threads_statements_running(slow_url: str) -> None:
    kind = slow_url.split(":")[0]
    with Executor(slow_url, timeout_s=60.0) as ex:
        outcomes: dict[str, Any] = {}
        finished: dict[str, float] = {}

        def worker(name: str) -> None:
            try:
                outcomes[name] = ex.run(SLOW_JOIN)
            except BaseException as exc:
                outcomes[name] = exc
            finished[name] = time.monotonic()

        threads = {name: threading.Thread(target=worker, args=(name,)) for name in ("barged", "other")}
        for thread in threads.values():
            thread.start()
        time.sleep(0.3)  # let both statements start
        assert ex.cancel(threading.get_ident()) == 0  # this thread runs nothing: nothing is cancelled
        target = threads["barged"].ident
        assert target is not None
        deadline = time.monotonic() + 5
        while not ex.cancel(target) and time.monotonic() < deadline:
            time.sleep(0.05)
        cancelled_at = time.monotonic()
        assert "other" not in finished, "the other statement ended before the cancel: raise SLOW_ROWS"
        for thread in threads.values():
            thread.join(60)
            assert not thread.is_alive()
    assert isinstance(outcomes["barged"], QueryCancelled)
    assert finished["barged"] - cancelled_at < 2.0
    other = outcomes["other"]
    assert isinstance(other, QueryResult), other
    assert other.rows == [[_slow_count(SLOW_ROWS[kind])]]


def test_threads_share_one_executor(sample_url: str) -> None:
    with Executor(sample_url) as ex:
        results: list[Any] = []

        def worker(i: int) -> None:
            results.append(ex.run(f"SELECT count(*) FROM big WHERE n < {i * 100}").rows[0][0])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(1, 7)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(10)
        assert sorted(results) == [100, 200, 300, 400, 500, 600]


def test_json_cell_conversions() -> None:
    from datetime import date, datetime
    from decimal import Decimal

    assert json_cell(Decimal("3")) == 3 and isinstance(json_cell(Decimal("3.00")), int)
    assert json_cell(Decimal("2.5")) == 2.5
    assert json_cell(float("nan")) is None and json_cell(float("inf")) is None
    assert json_cell(date(2021, 12, 12)) == "2021-12-12"
    assert json_cell(datetime(2021, 12, 12, 13, 5)) == "2021-12-12T13:05:00"
    assert json_cell(b"\x01\xff") == "01ff"
    assert json_cell([1, 2]) == "[1, 2]"


def test_audit_masks_the_database_password(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl", secrets=("hunter2secret",))
    url = "postgresql://u:hunter2secret@127.0.0.1:1/none"
    with Executor(url, allowed_tables=["t"], audit=audit) as ex, pytest.raises(QueryError):
        ex.run("SELECT * FROM t")
    text = (tmp_path / "a.jsonl").read_text()
    assert "hunter2secret" not in text and "****" in text


def test_a_cancelled_question_interrupts_its_statement(sample_url: str) -> None:
    """A voice question's cancel token (barge-in, hang-up) interrupts the statement its thread runs."""
    with Executor(sample_url, timeout_s=30.0) as ex:
        token = CancelToken()
        errors: list[BaseException] = []

        def worker() -> None:
            with running_under(token):
                try:
                    ex.run(CROSS_JOIN)
                except BaseException as exc:
                    errors.append(exc)

        thread = threading.Thread(target=worker)
        started = time.perf_counter()
        thread.start()
        time.sleep(0.3)  # let the statement start
        token.cancel()
        thread.join(5)
        assert not thread.is_alive() and time.perf_counter() - started < 5
        assert len(errors) == 1 and isinstance(errors[0], QueryCancelled)
        # Cancelled before it starts: it never runs; the connection stays usable for others.
        with running_under(token), pytest.raises(QueryCancelled):
            ex.run("SELECT count(*) FROM t")
        assert ex.run("SELECT count(*) FROM t").rows == [[3]]
