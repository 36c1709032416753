"""Real PostgreSQL and Redis for the scale-out tests: a fresh database and key prefix per test run.

PostgreSQL 127.0.0.1:5432 (trust, user postgres) and Redis 127.0.0.1:6379 are the machine's shared services;
tests skip with the reason only when they are absent. Fault tests that stop Redis run their own
`redis-server` on a free port, never the shared one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

PG_ADMIN = os.environ.get("DATAVOX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DATAVOX_TEST_REDIS", "redis://127.0.0.1:6379/0")
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_or_skip() -> None:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}")


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


def terminate_backends(dbname: str) -> int:
    """Drop every connection to `dbname` (ours only): what a PostgreSQL failover does to a replica."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
            "pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """(url, name) of a new empty database, dropped afterwards."""
    _pg_or_skip()
    name = f"datavox_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name
    finally:
        terminate_backends(name)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def pg() -> Iterator[tuple[str, str]]:
    with fresh_database() as found:
        yield found


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the shared Redis; its keys are deleted afterwards."""
    _redis_or_skip()
    prefix = f"dvtest:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


class OwnRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start again."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (the fault tests stop a Redis of their own)")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def f1_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The F1 DuckDB, with its semantic model written once (the replicas would otherwise race to write it)."""
    from dataclasses import replace

    from tests.brain.dbbuild import build_f1

    from datavox.config import Settings

    work = tmp_path_factory.mktemp("f1")
    path = build_f1(work / "f1.duckdb")
    settings = Settings().with_db(f"duckdb:///{path}")
    settings = replace(settings, database=replace(settings.database, audit_log=str(work / "audit.jsonl")))
    from datavox.brain.brain import Brain

    Brain.from_settings(settings).ask("How many races were there in 2020?", [])
    return path


class Replica:
    """`datavox serve` in a subprocess, on a free port."""

    def __init__(self, name: str, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.name, self.url, self.proc, self.log = name, url, proc, log

    def ask(self, question: str, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/api/ask", json={"question": question, **body}, timeout=30)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def start_replica(
    name: str,
    work: Path,
    f1_db: Path,
    *,
    store_url: str,
    state_url: str,
    prefix: str,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
) -> Replica:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAVOX_", "OPENAI_", "AZURE_"))}
    env |= {
        "DATAVOX_DATABASE_URL": f"duckdb:///{f1_db}",
        "DATAVOX_DATABASE_AUDIT_LOG": str(work / f"audit-{name}.jsonl"),
        "DATAVOX_SERVER_APP_DB": str(work / f"app-{name}.sqlite"),
        "DATAVOX_SERVER_OUTBOX_PATH": str(work / f"outbox-{name}.sqlite"),
        "DATAVOX_SERVER_STORE_URL": store_url,
        "DATAVOX_SERVER_STATE_URL": state_url,
        "DATAVOX_SERVER_STATE_PREFIX": prefix,
        "DATAVOX_SERVER_REPLICA_ID": name,
        "DATAVOX_LLM_PROVIDER": "none",
        **(extra_env or {}),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"scale-{name}.log"
    log = log_path.open("wb")
    # The openai engine without a key: no speech models load, typed questions only (what these tests need).
    cmd = [sys.executable, "-m", "datavox.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--engine", "openai", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"datavox serve {name} exited with {proc.returncode}; see {log_path}")
        try:
            ready = httpx.get(f"{url}/readyz", timeout=2)
            if ready.status_code == 200:
                break
            if ready.json().get("status") == "failed":
                proc.kill()
                raise RuntimeError(f"datavox serve {name} failed to start: {ready.json().get('problem')}")
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"datavox serve {name} was not ready within 120 s; see {log_path}")
        time.sleep(0.3)
    return Replica(name, url, proc, log_path)


def stop_replica(replica: Replica) -> None:
    if replica.proc.poll() is None:
        replica.proc.terminate()
        try:
            replica.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            replica.proc.kill()


class TcpProxy:
    """A TCP relay between a replica and PostgreSQL that a test can cut (`block`) and restore (`unblock`):
    the database "goes away" for that replica only, while the shared server keeps running for everyone else.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def pause(self) -> None:
        """Stop moving bytes without closing anything: a network partition, not a refused connection."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def unblock(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def block(self) -> None:
        """Refuse new connections and cut the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._flowing.wait()
            try:
                server = socket.create_connection(self.upstream, timeout=3)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(5432)
    proxy.unblock()
    yield proxy
    proxy.block()
