"""The shared-state building blocks on the real PostgreSQL and Redis, in one process.

Migrations run once however many replicas start together; a turn written twice (retry, outbox replay) is
stored once; writes made while the database is away wait in the outbox and arrive exactly once; rate limits,
voice secrets and events are shared by two "replicas" (two SharedState objects on one Redis prefix).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.scale.conftest import REDIS_URL, TcpProxy, terminate_backends

from datavox.server.outbox import OutboxStore
from datavox.server.pgstore import MIGRATIONS, PostgresStore, StoreUnavailable
from datavox.server.shared import SharedBucket, SharedState

pytestmark = pytest.mark.postgres


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def turn_counts(url: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT turn_id, role, count(*) FROM turns GROUP BY turn_id, role").fetchall()
    return {(t, r): n for t, r, n in rows}


def test_replicas_starting_together_migrate_once(pg: tuple[str, str]) -> None:
    url, _ = pg
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresStore(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM datavox_schema ORDER BY version")]
        columns = {
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'turns'"
            )
        }
    assert versions == [v for v, _, _ in MIGRATIONS]
    assert "replica" in columns  # migration 2 ran on top of 1


def test_a_turn_written_twice_is_stored_once(pg: tuple[str, str]) -> None:
    url, _ = pg
    store = PostgresStore(url, replica="a")
    answer = {"answer": "Seven.", "sql": "SELECT 7", "columns": ["n"], "rows": [[7]]}
    for _ in range(2):
        store.save_user("conv_1", "turn_1", "How many?", source="text", at=100.0)
        store.save_answer("conv_1", "turn_1", answer, source="text", at=101.0)
    store.save_user("conv_1", "turn_2", "And then?", source="text", at=102.0)
    history = store.history("conv_1")
    assert history is not None
    assert [(t["turn_id"], t["role"]) for t in history["turns"]] == [
        ("turn_1", "user"),
        ("turn_1", "assistant"),
        ("turn_2", "user"),
    ]
    assert history["turns"][1]["rows"] == [[7]] and history["turns"][1]["sql"] == "SELECT 7"
    assert set(turn_counts(url).values()) == {1}
    store.close()


def test_a_terminated_connection_is_retried(pg: tuple[str, str]) -> None:
    url, name = pg
    store = PostgresStore(url)
    store.save_user("conv_1", "turn_1", "first", source="text")
    assert terminate_backends(name) >= 1  # the pooled connection is now dead
    store.save_user("conv_1", "turn_2", "second", source="text")
    history = store.history("conv_1")
    assert history is not None and [t["text"] for t in history["turns"]] == ["first", "second"]


def test_writes_wait_in_the_outbox_while_the_database_is_away(pg: tuple[str, str], tmp_path: Path) -> None:
    url, _ = pg
    proxy = TcpProxy(5432)
    proxy.unblock()
    proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    store = OutboxStore(
        lambda: PostgresStore(proxied, connect_timeout_s=1), tmp_path / "outbox.sqlite", interval_s=0.2
    )
    try:
        assert store.save_user("conv_1", "turn_1", "before", source="text") is True
        proxy.block()
        # The next write finds the connection cut: it is queued, not lost, and the store says why.
        assert store.save_user("conv_1", "turn_2", "during", source="text") is False
        assert store.save_answer("conv_1", "turn_2", {"answer": "ok", "rows": []}, source="text") is False
        healthy, detail = store.status()
        assert not healthy and "outbox" in detail
        assert store.pending() == 2
        with pytest.raises(StoreUnavailable):
            store.history("conv_1")
        proxy.unblock()
        wait_for(lambda: store.pending() == 0 and store.status()[0])
        history = store.history("conv_1")
        assert history is not None
        assert [(t["turn_id"], t["role"], t["text"]) for t in history["turns"]] == [
            ("turn_1", "user", "before"),
            ("turn_2", "user", "during"),
            ("turn_2", "assistant", "ok"),
        ]
        assert set(turn_counts(url).values()) == {1}
    finally:
        store.close()
        proxy.block()


def test_a_replayed_outbox_stores_each_turn_once(pg: tuple[str, str], tmp_path: Path) -> None:
    """A process killed between writing a queued turn and removing it replays it: still one row."""
    url, _ = pg
    down = "postgresql://postgres@127.0.0.1:1/none"
    first = OutboxStore(
        lambda: PostgresStore(down, connect_timeout_s=1), tmp_path / "o.sqlite", interval_s=60
    )
    first.save_user("conv_1", "turn_1", "queued", source="text")
    entries = first.outbox.head()
    first.close()
    direct = PostgresStore(url)
    direct.save_user("conv_1", "turn_1", "queued", source="text", at=entries[0][2]["at"])  # already written
    second = OutboxStore(lambda: PostgresStore(url), tmp_path / "o.sqlite", interval_s=0.2)
    try:
        wait_for(lambda: second.pending() == 0)
        assert turn_counts(url) == {("turn_1", "user"): 1}
    finally:
        second.close()


def replicas(prefix: str, n: int = 2) -> list[SharedState]:
    return [SharedState(REDIS_URL, prefix, f"replica-{i}") for i in range(n)]


def test_rate_limits_are_counted_across_replicas(redis_prefix: str) -> None:
    a, b = replicas(redis_prefix)
    bucket_a, bucket_b = SharedBucket(a, "ask", 3), SharedBucket(b, "ask", 3)
    results = [bucket.allow("10.0.0.1")[0] for bucket in (bucket_a, bucket_b, bucket_a, bucket_b)]
    assert results == [True, True, True, False]
    allowed, wait = bucket_a.allow("10.0.0.1")
    assert not allowed and 0 < wait <= 20
    assert bucket_b.allow("10.0.0.2")[0]  # another client has its own bucket
    a.close()
    b.close()


def test_a_secret_minted_on_one_replica_is_valid_on_another(redis_prefix: str) -> None:
    a, b = replicas(redis_prefix)
    a.put_grant("ek_abc", {"session": {"type": "realtime"}, "conversation_id": "conv_1"}, time.time() + 30)
    a.put_grant("ek_old", {"session": {}, "conversation_id": None}, time.time() + 0.2)
    found = b.get_grant("ek_abc")
    assert found is not None and found["conversation_id"] == "conv_1"
    assert b.get_grant("ek_unknown") is None
    # Redis holds a digest, never the secret itself.
    assert not [k for k in b.client.scan_iter(match=redis_prefix + "*") if b"ek_abc" in k]
    time.sleep(0.4)
    assert b.get_grant("ek_old") is None  # expired with its secret
    a.close()
    b.close()


def test_events_fan_out_to_the_other_replica_only(redis_prefix: str) -> None:
    a, b = replicas(redis_prefix)
    got_a: list[dict[str, Any]] = []
    got_b: list[dict[str, Any]] = []
    a.start(got_a.append)
    b.start(got_b.append)
    deadline = time.monotonic() + 10
    while not got_b and time.monotonic() < deadline:  # until b's subscription is up
        a.publish({"type": "answer", "conversation_id": "conv_1", "turn_id": "t1", "answer": {"answer": "x"}})
        time.sleep(0.2)
    assert got_b and {e["turn_id"] for e in got_b} == {"t1"}
    time.sleep(0.2)
    assert got_a == []  # the replica that answered delivered to its own pages already
    a.close()
    b.close()


def test_the_local_engine_accepts_a_secret_another_replica_minted(redis_prefix: str) -> None:
    from datavox.config import Settings
    from datavox.voice.engine import EngineError, LocalRealtimeEngine

    a, b = replicas(redis_prefix)
    engines = []
    for shared in (a, b):
        engine = LocalRealtimeEngine(Settings(), ask=lambda q, h: None)
        engine.shared_secrets = shared
        engines.append(engine)
    minted = engines[0].mint_secret(conversation_id="conv_x1", ttl_s=30)
    grant = engines[1].authorize(minted["value"])  # replica B never saw this secret
    assert grant.conversation_id == "conv_x1"
    assert grant.session["type"] == "realtime"
    with pytest.raises(EngineError):
        engines[1].authorize("ek_" + "0" * 32)
    alone = LocalRealtimeEngine(Settings(), ask=lambda q, h: None)  # a replica without Redis
    with pytest.raises(EngineError, match="Unknown client secret"):
        alone.authorize(minted["value"])
    a.close()
    b.close()


def test_doctor_checks_the_shared_services(
    pg: tuple[str, str], redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from datavox.cli import main

    url, _ = pg
    monkeypatch.setenv("DATAVOX_SERVER_STORE_URL", url)
    monkeypatch.setenv("DATAVOX_SERVER_STATE_URL", REDIS_URL)
    result = CliRunner().invoke(main, ["doctor", "--only", "store,state"])
    assert result.exit_code == 0, result.output
    assert f"schema version {MIGRATIONS[-1][0]}" in result.output and "(Redis " in result.output
    monkeypatch.setenv("DATAVOX_SERVER_STORE_URL", "postgresql://postgres:hunter22@127.0.0.1:1/none")
    monkeypatch.setenv("DATAVOX_SERVER_STATE_URL", "redis://:hunter22@127.0.0.1:1/0")
    result = CliRunner().invoke(main, ["doctor", "--only", "store,state"])
    assert result.exit_code != 0
    assert "FAIL conversation store" in result.output and "FAIL shared state" in result.output
    assert "hunter22" not in result.output


def test_nul_characters_are_dropped_not_refused(pg: tuple[str, str]) -> None:
    url, _ = pg
    store = PostgresStore(url)
    store.save_user("conv_1", "turn_1", "who\x00 won?", source="text")
    store.save_answer("conv_1", "turn_1", {"answer": "x\x00y", "rows": [["a\x00b"]]}, source="text")
    history = store.history("conv_1")
    assert history is not None
    assert [t["text"] for t in history["turns"]] == ["who won?", "xy"]
    assert history["turns"][1]["rows"] == [["ab"]]


def test_an_entry_the_database_refuses_is_set_aside(pg: tuple[str, str], tmp_path: Path) -> None:
    url, _ = pg
    path = tmp_path / "outbox.sqlite"
    store = OutboxStore(lambda: PostgresStore(url), path, interval_s=0.2)
    try:
        store.outbox.add(
            "user",
            {"conversation_id": "c", "turn_id": "t1", "text": "x", "source": "text", "at": "not a time"},
        )
        store.save_user("c", "t2", "fine", source="text")
        store.outbox.add(
            "user",
            {"conversation_id": "c", "turn_id": "t3", "text": "y", "source": "text", "at": time.time()},
        )
        wait_for(lambda: store.pending() == 0)
        assert store.status()[0]  # one bad entry does not hold the replica degraded
        assert sorted(turn_counts(url)) == [("t2", "user"), ("t3", "user")]
        with sqlite3.connect(path) as conn:
            refused = conn.execute("SELECT payload, error FROM outbox_refused").fetchall()
        assert len(refused) == 1 and "not a time" in refused[0][0] and refused[0][1]
    finally:
        store.close()


def test_migrate_command_creates_then_reports_up_to_date(pg: tuple[str, str]) -> None:
    from click.testing import CliRunner

    from datavox.cli import main

    url, _ = pg
    first = CliRunner().invoke(main, ["migrate", "--store-url", url])
    assert first.exit_code == 0, first.output
    assert "applied 1 (conversations and turns), 2 (" in first.output
    again = CliRunner().invoke(main, ["migrate", "--store-url", url])
    assert (
        "applied none (up to date)" in again.output and f"schema version {MIGRATIONS[-1][0]}" in again.output
    )
    bad = CliRunner().invoke(main, ["migrate", "--store-url", "postgresql://postgres:s3cretpw@127.0.0.1:1/x"])
    assert bad.exit_code != 0 and "s3cretpw" not in bad.output and "****" in bad.output
