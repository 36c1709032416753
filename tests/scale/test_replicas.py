"""Two `datavox serve` processes as one service, on the real PostgreSQL and Redis.

A conversation started on one replica continues on the other; a page's event stream on one receives the
turn answered on the other; rate limits are counted once for both; killing one loses no stored turn.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from tests.scale.conftest import (
    REDIS_URL,
    Replica,
    fresh_database,
    start_replica,
    stop_replica,
)
from websockets.sync.client import connect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pair(f1_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Replica, str]]:
    """Replicas `a` and `b` on one fresh database and one fresh Redis prefix; yields (a, b, database url)."""
    work = tmp_path_factory.mktemp("pair")
    prefix = f"dvtest:{uuid.uuid4().hex[:10]}:"
    with fresh_database() as (url, _):
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
        common: dict[str, Any] = {"store_url": url, "state_url": REDIS_URL, "prefix": prefix}
        env = {"DATAVOX_SERVER_RATE_PER_MINUTE": "6"}
        a = start_replica("a", work, f1_db, extra_env=env, **common)
        b = start_replica("b", work, f1_db, extra_env=env, **common)
        try:
            yield a, b, url
        finally:
            stop_replica(a)
            stop_replica(b)
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)


def stored_turns(url: str, conversation_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT turn_id, role, replica FROM turns WHERE conversation_id = %s ORDER BY created_at, seq",
            (conversation_id,),
        ).fetchall()
    return [(t, r, rep) for t, r, rep in rows]


def test_a_conversation_continues_on_the_other_replica(pair: tuple[Replica, Replica, str]) -> None:
    a, b, url = pair
    first = a.ask("Who won the 2021 drivers' championship?")
    assert first.status_code == 200, first.text
    assert first.headers["x-datavox-replica"] == "a"
    conv = first.json()["conversation_id"]
    second = b.ask("How many races were there in 2020?", conversation_id=conv)
    assert second.status_code == 200, second.text
    assert second.headers["x-datavox-replica"] == "b" and second.json()["stored"] is True
    history = httpx.get(f"{a.url}/api/conversations/{conv}", timeout=10).json()  # read on a, b wrote
    assert [(t["role"], t["text"][:8]) for t in history["turns"]] == [
        ("user", "Who won "),
        ("assistant", first.json()["answer"][:8]),
        ("user", "How many"),
        ("assistant", second.json()["answer"][:8]),
    ]
    assert [rep for _, _, rep in stored_turns(url, conv)] == ["a", "a", "b", "b"]


def test_the_event_stream_on_one_replica_sees_a_turn_answered_on_the_other(
    pair: tuple[Replica, Replica, str],
) -> None:
    a, b, _ = pair
    conv = httpx.post(f"{b.url}/api/conversations", timeout=10).json()["conversation_id"]
    ws_url = b.url.replace("http://", "ws://") + "/api/events"
    with connect(ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": conv}))
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        got: dict[str, Any] = {}

        def read() -> None:
            while "answer" not in got:
                event = json.loads(ws.recv(timeout=15))
                got[event["type"]] = event

        reader = threading.Thread(target=read)
        reader.start()
        answered = a.ask("How many races were there in 2020?", conversation_id=conv, turn_id="turn_fanout1")
        reader.join(timeout=20)
    assert answered.status_code == 200
    assert got["transcript.final"]["turn_id"] == "turn_fanout1"
    assert got["answer"]["turn_id"] == "turn_fanout1"
    assert got["answer"]["answer"]["answer"] == answered.json()["answer"]


def test_rate_limits_are_shared(pair: tuple[Replica, Replica, str]) -> None:
    """6 questions a minute per client: however they are spread over the replicas, the 7th is refused."""
    a, b, _ = pair
    codes = [(a if i % 2 else b).ask("hello").status_code for i in range(8)]
    assert codes.count(429) >= 2 and 200 in codes
    refused = [(r.ask("hello").status_code) for r in (a, b)]
    assert refused == [429, 429]


def test_killing_one_replica_loses_no_stored_turn(
    pair: tuple[Replica, Replica, str], f1_db: Path, tmp_path: Path
) -> None:
    a, b, url = pair
    # The rate limit of the pair is low: this test gets its own replica with a high one, on the same database.
    c = start_replica(
        "c",
        tmp_path,
        f1_db,
        store_url=url,
        state_url=REDIS_URL,
        prefix=f"dvtest:{uuid.uuid4().hex[:10]}:",
        extra_env={"DATAVOX_SERVER_RATE_PER_MINUTE": "6000"},
    )
    conv = f"conv_kill{uuid.uuid4().hex[:8]}"
    answered: list[str] = []
    stop = threading.Event()

    def ask_until_killed() -> None:
        i = 0
        while not stop.is_set():
            turn = f"turn_k{i:04d}"
            try:
                r = c.ask("How many races were there in 2020?", conversation_id=conv, turn_id=turn)
            except httpx.HTTPError:
                return
            if r.status_code == 200:
                answered.append(turn)
            i += 1

    asker = threading.Thread(target=ask_until_killed)
    asker.start()
    while len(answered) < 5:
        threading.Event().wait(0.05)
    c.kill()  # SIGKILL mid-question
    stop.set()
    asker.join(timeout=30)
    stored = stored_turns(url, conv)
    answers = [t for t, role, _ in stored if role == "assistant"]
    assert set(answered) <= set(answers)  # every answer the client saw is stored...
    assert len(stored) == len(set((t, role) for t, role, _ in stored))  # ...once
    history = httpx.get(f"{b.url}/api/conversations/{conv}", timeout=10).json()
    assert len([t for t in history["turns"] if t["role"] == "assistant"]) == len(answers)
    assert a.proc.poll() is None and b.proc.poll() is None
