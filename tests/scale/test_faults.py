"""Redis and PostgreSQL going away while typed questions run.

Every question gets an answer or a clear error, the replica reports `degraded` (and the page hears it on
its event stream), and once the service returns the stored conversation holds each answered turn once.
Redis here is a server of the test's own (stopped and started again); PostgreSQL is the shared server,
"lost" by terminating this test database's backends or by cutting a relay in front of it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from tests.scale.conftest import OwnRedis, Replica, TcpProxy, start_replica, stop_replica, terminate_backends
from websockets.sync.client import connect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def health(replica: Replica) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{replica.url}/healthz", timeout=5).json()
    return body


@contextmanager
def event_stream(replica: Replica, conversation_id: str) -> Iterator[list[dict[str, Any]]]:
    """The page's event stream on `replica`: events collect in the yielded list."""
    events: list[dict[str, Any]] = []
    ws_url = replica.url.replace("http://", "ws://") + "/api/events"
    with connect(ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": conversation_id}))

        def read() -> None:
            try:
                while True:
                    events.append(json.loads(ws.recv()))
            except Exception:
                return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_for(lambda: any(e["type"] == "ready" for e in events), what="the stream's ready event")
        yield events


def answers_for(events: list[dict[str, Any]], turn_id: str) -> bool:
    return any(e["type"] == "answer" and e.get("turn_id") == turn_id for e in events)


def turn_rows(url: str, conversation_id: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT turn_id, role, count(*) FROM turns WHERE conversation_id = %s GROUP BY turn_id, role",
            (conversation_id,),
        ).fetchall()
    return {(t, r): n for t, r, n in rows}


def assert_each_answered_turn_once(url: str, conversation_id: str, answered: list[str]) -> None:
    rows = turn_rows(url, conversation_id)
    assert set(rows.values()) <= {1}, f"a turn is stored twice: {rows}"
    for turn in answered:
        assert rows.get((turn, "user")) == 1 and rows.get((turn, "assistant")) == 1, turn


QUESTION = "How many races were there in 2020?"


def test_redis_stopped_and_restarted(
    own_redis: OwnRedis, pg: tuple[str, str], f1_db: Path, tmp_path: Path
) -> None:
    url, _ = pg
    prefix = f"dvtest:{uuid.uuid4().hex[:10]}:"
    common: dict[str, Any] = {"store_url": url, "state_url": own_redis.url, "prefix": prefix}
    a = start_replica("ra", tmp_path, f1_db, **common)
    b = start_replica("rb", tmp_path, f1_db, **common)
    conv = f"conv_redis{uuid.uuid4().hex[:8]}"
    answered: list[str] = []
    try:
        with event_stream(b, conv) as events:
            assert a.ask(QUESTION, conversation_id=conv, turn_id="turn_r0").status_code == 200
            answered.append("turn_r0")
            wait_for(lambda: answers_for(events, "turn_r0"), what="fan-out before the fault")

            own_redis.stop()
            for i in range(1, 6):  # typed questions go on while Redis is down
                r = a.ask(QUESTION, conversation_id=conv, turn_id=f"turn_r{i}")
                assert r.status_code == 200, r.text
                assert r.json()["stored"] is True  # the conversation database is fine
                answered.append(f"turn_r{i}")
            for replica in (a, b):
                wait_for(lambda r=replica: health(r)["status"] == "degraded", what="degraded")
            body = health(a)
            assert body["checks"]["state"]["ok"] is False and body["checks"]["store"]["ok"] is True
            assert httpx.get(f"{a.url}/readyz", timeout=5).status_code == 200  # still takes traffic
            wait_for(
                lambda: any(e["type"] == "service" and e["status"] == "degraded" for e in events),
                what="the page to hear about it",
            )
            service = next(e for e in events if e["type"] == "service")
            assert "Live updates from other servers are paused" in service["problems"][0]
            assert "redis://" not in json.dumps(service)  # no addresses on the page

            own_redis.start()
            for replica in (a, b):
                wait_for(lambda r=replica: health(r)["status"] == "ok", what="recovery")
            wait_for(
                lambda: any(e["type"] == "service" and e["status"] == "ok" for e in events),
                what="the page to hear of the recovery",
            )
            assert a.ask(QUESTION, conversation_id=conv, turn_id="turn_r9").status_code == 200
            answered.append("turn_r9")
            wait_for(lambda: answers_for(events, "turn_r9"), what="fan-out after the restart")
        assert_each_answered_turn_once(url, conv, answered)
    finally:
        stop_replica(a)
        stop_replica(b)


def test_postgres_connections_dropped_during_typed_questions(
    pg: tuple[str, str], redis_prefix: str, f1_db: Path, tmp_path: Path
) -> None:
    from tests.scale.conftest import REDIS_URL

    url, name = pg
    a = start_replica("pa", tmp_path, f1_db, store_url=url, state_url=REDIS_URL, prefix=redis_prefix)
    conv = f"conv_drop{uuid.uuid4().hex[:8]}"
    stop = threading.Event()
    terminated: list[int] = []

    def drop_connections() -> None:
        while not stop.is_set():
            terminated.append(terminate_backends(name))
            stop.wait(0.05)

    dropper = threading.Thread(target=drop_connections)
    answered: list[str] = []
    errors: list[dict[str, Any]] = []
    try:
        dropper.start()
        for i in range(30):
            r = a.ask(QUESTION, conversation_id=conv, turn_id=f"turn_d{i:02d}")
            if r.status_code == 200:
                assert r.json()["answer"]
                answered.append(f"turn_d{i:02d}")
            else:  # a clear error: a code and a sentence, never a bare 500 page
                detail = r.json()["detail"]
                assert detail["code"] and detail["message"], r.text
                errors.append(detail)
        stop.set()
        dropper.join()
        assert sum(terminated) > 0  # connections really were dropped
        assert len(answered) == 30, errors  # the store retries and queues: typed questions never fail
        wait_for(lambda: health(a)["checks"]["store"]["pending_writes"] == 0, what="the outbox to drain")
        assert_each_answered_turn_once(url, conv, answered)
    finally:
        stop.set()
        stop_replica(a)


def test_postgres_away_then_back_with_a_replica_killed_meanwhile(
    pg: tuple[str, str], pg_proxy: TcpProxy, redis_prefix: str, f1_db: Path, tmp_path: Path
) -> None:
    from tests.scale.conftest import REDIS_URL

    url, _ = pg
    proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    common: dict[str, Any] = {"store_url": proxied, "state_url": REDIS_URL, "prefix": redis_prefix}
    a = start_replica("qa", tmp_path, f1_db, **common)
    conv = f"conv_away{uuid.uuid4().hex[:8]}"
    answered: list[str] = []
    try:
        with event_stream(a, conv) as events:
            assert a.ask(QUESTION, conversation_id=conv, turn_id="turn_q0").json()["stored"] is True
            answered.append("turn_q0")
            pg_proxy.block()
            for i in range(1, 6):
                r = a.ask(QUESTION, conversation_id=conv, turn_id=f"turn_q{i}")
                assert r.status_code == 200, r.text  # answered from the data database...
                assert r.json()["stored"] is False  # ...and saved later
                answered.append(f"turn_q{i}")
            body = health(a)
            assert body["status"] == "degraded" and body["checks"]["store"]["pending_writes"] >= 10
            history = httpx.get(f"{a.url}/api/conversations/{conv}", timeout=10)
            assert history.status_code == 503 and history.json()["detail"]["code"] == "store_unavailable"
            wait_for(
                lambda: any(e["type"] == "service" and e["status"] == "degraded" for e in events),
                what="the page to hear about it",
            )
        a.kill()  # the replica dies holding queued turns
        pg_proxy.unblock()
        a = start_replica("qa", tmp_path, f1_db, **common)  # same outbox file
        wait_for(lambda: health(a)["checks"]["store"]["pending_writes"] == 0, what="the outbox to drain")
        turns = httpx.get(f"{a.url}/api/conversations/{conv}", timeout=10).json()["turns"]
        assert [t["turn_id"] for t in turns if t["role"] == "assistant"] == answered
        assert_each_answered_turn_once(url, conv, answered)
    finally:
        stop_replica(a)


def test_a_redis_that_stops_answering_does_not_stall_typed_questions(
    own_redis: OwnRedis, pg: tuple[str, str], f1_db: Path, tmp_path: Path
) -> None:
    """A partition: the connections stay open and nothing comes back. Questions are answered promptly (the
    rate limit falls back to this replica's memory) and the replica recovers when Redis answers again."""
    url, _ = pg
    proxy = TcpProxy(own_redis.port)
    proxy.unblock()
    state_url = f"redis://127.0.0.1:{proxy.port}/0"
    a = start_replica("ba", tmp_path, f1_db, store_url=url, state_url=state_url, prefix="dvtest:blackhole:")
    conv = f"conv_hole{uuid.uuid4().hex[:8]}"
    answered: list[str] = []
    try:
        proxy.pause()
        timings = []
        for i in range(8):
            t0 = time.monotonic()
            r = a.ask(QUESTION, conversation_id=conv, turn_id=f"turn_h{i}")
            timings.append(time.monotonic() - t0)
            assert r.status_code == 200, r.text
            answered.append(f"turn_h{i}")
        assert sorted(timings)[len(timings) // 2] < 0.5, timings  # one slow request at most, then local
        wait_for(lambda: health(a)["checks"]["state"]["ok"] is False, what="degraded")
        proxy.resume()
        wait_for(lambda: health(a)["status"] == "ok", what="recovery after the partition")
        assert_each_answered_turn_once(url, conv, answered)
    finally:
        proxy.resume()
        stop_replica(a)
        proxy.block()


def test_a_postgres_that_stops_answering_does_not_hang_typed_questions(
    pg: tuple[str, str], pg_proxy: TcpProxy, redis_prefix: str, f1_db: Path, tmp_path: Path
) -> None:
    """A partition: PostgreSQL's connections stay open and nothing comes back. Each question is answered
    within the store's 3 s wait, its turn queued; when the network heals every turn is stored once."""
    from tests.scale.conftest import REDIS_URL

    url, _ = pg
    proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    a = start_replica("pp", tmp_path, f1_db, store_url=proxied, state_url=REDIS_URL, prefix=redis_prefix)
    conv = f"conv_pause{uuid.uuid4().hex[:8]}"
    answered: list[str] = []
    try:
        assert a.ask(QUESTION, conversation_id=conv, turn_id="turn_p0").json()["stored"] is True
        answered.append("turn_p0")
        pg_proxy.pause()
        for i in range(1, 5):
            t0 = time.monotonic()
            r = a.ask(QUESTION, conversation_id=conv, turn_id=f"turn_p{i}")
            assert r.status_code == 200, r.text
            assert time.monotonic() - t0 < 8, "a question waited on a silent database"
            assert r.json()["stored"] is False
            answered.append(f"turn_p{i}")
        assert health(a)["status"] == "degraded"
        pg_proxy.resume()
        wait_for(lambda: health(a)["status"] == "ok", timeout=30, what="recovery after the partition")
        wait_for(lambda: health(a)["checks"]["store"]["pending_writes"] == 0, what="the outbox to drain")
        assert_each_answered_turn_once(url, conv, answered)
    finally:
        pg_proxy.resume()
        stop_replica(a)
