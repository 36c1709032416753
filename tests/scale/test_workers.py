"""`datavox serve --workers N`: refused with embedded state, one service with shared state."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.scale.conftest import REDIS_URL, start_replica, stop_replica

from datavox.cli import main


def test_workers_are_refused_with_embedded_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATAVOX_SERVER_STORE_URL", "DATAVOX_SERVER_STATE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code != 0
    assert "--workers 2 needs shared state" in result.output
    assert "server.store_url = postgresql://" in result.output
    assert "server.state_url = redis://" in result.output
    monkeypatch.setenv("DATAVOX_SERVER_STORE_URL", "postgresql://postgres@127.0.0.1/x")
    result = CliRunner().invoke(main, ["serve", "--workers", "3"])
    assert result.exit_code != 0 and "server.state_url" in result.output
    assert "server.store_url =" not in result.output  # only what is missing is named


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_serve_one_conversation(
    pg: tuple[str, str], redis_prefix: str, f1_db: Path, tmp_path: Path
) -> None:
    url, _ = pg
    replica = start_replica(
        f"w{uuid.uuid4().hex[:4]}",
        tmp_path,
        f1_db,
        store_url=url,
        state_url=REDIS_URL,
        prefix=redis_prefix,
        workers=2,
    )
    try:
        conv = None
        seen: set[str] = set()
        # Each request opens a new connection: the kernel spreads them over both workers.
        for i in range(12):
            body = {"conversation_id": conv} if conv else {}
            r = replica.ask("How many races were there in 2020?", turn_id=f"turn_w{i}", **body)
            assert r.status_code == 200, r.text
            conv = r.json()["conversation_id"]
            seen.add(r.headers["x-datavox-replica"])
        history = httpx.get(f"{replica.url}/api/conversations/{conv}", timeout=10).json()
        assert len(history["turns"]) == 24
        assert len(seen) == 2, f"every request went to one worker: {seen}"
    finally:
        stop_replica(replica)


@pytest.mark.postgres
@pytest.mark.slow
def test_bench_serve_prints_its_figures(f1_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.scale.conftest import PG_ADMIN, _pg_or_skip, _redis_or_skip

    _pg_or_skip()
    _redis_or_skip()
    monkeypatch.chdir(tmp_path)
    args = [
        "bench",
        "serve",
        "--db",
        f"duckdb:///{f1_db}",
        "--store-admin",
        PG_ADMIN,
        "--state-url",
        REDIS_URL,
    ]
    result = CliRunner().invoke(
        main, [*args, "--questions", "10", "--concurrency", "2", "--fanout-turns", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "errors 0" in result.output and "errors 1" not in result.output
    assert "2 processes, shared state" in result.output
    assert "added by crossing processes (B - A) median" in result.output
    assert "never reached" not in result.output
