"""`datavox bench serve`: typed questions through 1 vs 2 `datavox serve` processes, and event fan-out delay.

Needs the shared services (`--store-admin`, a PostgreSQL URL that may create databases, and `--state-url`, a
Redis): the run creates a fresh database and a fresh key prefix and removes both afterwards. Everything is on
loopback; the load is bounded (`--questions` in all, `--concurrency` in flight).

- Throughput: the same typed questions, `--concurrency` at a time, against one process with embedded state
  (SQLite, in-memory events: what sharing costs), one process on shared state, then against two
  processes on the same shared state, the client spreading requests over them in turn (what a load balancer
  does). Questions per second, and median / p95 of each request as the client sees it. The one-process run is
  the baseline of the same run: the machine is shared and noisy.
- Fan-out: a page's event stream on each process, watching one conversation; a question is asked of
  process A. The delay from the turn's `answer` event reaching A's page to reaching B's page is what going
  through Redis adds; the delay from the event's creation (`at`) to A's page is the same-process baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import httpx

from datavox.cli import db_option, settings_from

QUESTIONS = [
    "Who won the 2021 drivers' championship?",
    "How many races were there in 2020?",
    "Which team won the constructors' championship in 2019?",
    "Who won the Monaco Grand Prix in 2019?",
    "How many races did Lewis Hamilton win in 2020?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def line(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values):7.1f} ms   p95 {pct(values, 0.95):7.1f} ms   (n={len(values)})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def absolute(url: str) -> str:
    """A file database's URL with an absolute path: the processes run in a scratch folder."""
    for scheme in ("duckdb:///", "sqlite:///"):
        if url.startswith(scheme) and not url[len(scheme) :].startswith("/"):
            return scheme + os.path.abspath(url[len(scheme) :])
    return url


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"datavox_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def start(name: str, env: dict[str, str], work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "datavox.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--engine", "openai", "--log-level", "warning"]  # no key: no speech models, typed questions only
    log = (work / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        cmd, env={**env, "DATAVOX_SERVER_REPLICA_ID": name}, stdout=log, stderr=subprocess.STDOUT, cwd=work
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"datavox serve exited; see {work / (name + '.log')}")
        with contextlib.suppress(httpx.HTTPError, ValueError):
            ready = httpx.get(f"{url}/readyz", timeout=2)
            if ready.status_code == 200:
                return proc, url
            if ready.json().get("status") == "failed":
                proc.kill()
                raise click.ClickException(f"datavox serve could not start: {ready.json().get('problem')}")
        time.sleep(0.3)
    proc.kill()
    raise click.ClickException(f"datavox serve was not ready within 120 s; see {work / (name + '.log')}")


async def load(urls: list[str], questions: int, concurrency: int) -> tuple[float, list[float], int]:
    """(questions per second, per-request ms, errors): `questions` typed questions, round-robin over urls."""
    latencies: list[float] = []
    errors = 0
    next_i = 0
    limits = httpx.Limits(max_connections=concurrency * len(urls))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_i, errors
            while next_i < questions:
                i = next_i
                next_i += 1
                body = {
                    "question": QUESTIONS[i % len(QUESTIONS)],
                    "conversation_id": f"conv_bench{i % 16:02d}",
                }
                t0 = time.perf_counter()
                try:
                    r = await client.post(f"{urls[i % len(urls)]}/api/ask", json=body)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors


async def fan_out(url_a: str, url_b: str, turns: int) -> tuple[list[float], list[float], list[float]]:
    """(A's page: creation → received, B's page: creation → received, B minus A) per turn, in ms."""
    from websockets.asyncio.client import connect

    conv = f"conv_fan{uuid.uuid4().hex[:8]}"
    received: dict[str, dict[str, float]] = {"a": {}, "b": {}}
    created: dict[str, float] = {}

    async def watch(name: str, url: str, ready: asyncio.Event) -> None:
        async with connect(url.replace("http://", "ws://") + "/api/events") as ws:
            await ws.send(json.dumps({"type": "hello", "conversation_id": conv}))
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "ready":
                    ready.set()
                elif event.get("type") == "answer" and event.get("turn_id"):
                    received[name][event["turn_id"]] = time.time() * 1000
                    created[event["turn_id"]] = float(event.get("at") or 0)

    ready_a, ready_b = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(watch("a", url_a, ready_a)), asyncio.create_task(watch("b", url_b, ready_b))]
    await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 10)
    await asyncio.sleep(0.2)  # B's Redis subscription is up before the first turn
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(turns):
            turn = f"turn_fan{i:04d}"
            body = {"question": QUESTIONS[i % len(QUESTIONS)], "conversation_id": conv, "turn_id": turn}
            await client.post(f"{url_a}/api/ask", json=body)
            deadline = time.monotonic() + 5
            while turn not in received["b"] and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
    for task in tasks:
        task.cancel()
    both = [t for t in received["a"] if t in received["b"]]
    local = [received["a"][t] - created[t] for t in both]
    remote = [received["b"][t] - created[t] for t in both]
    added = [received["b"][t] - received["a"][t] for t in both]
    if len(both) < turns:
        click.echo(f"  {turns - len(both)} turn(s) never reached B's page")
    return local, remote, added


@click.command("serve")
@db_option
@click.option(
    "--store-admin",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="PostgreSQL URL allowed to create the run's fresh database.",
)
@click.option("--state-url", default="redis://127.0.0.1:6379/0", show_default=True, help="Redis for the run.")
@click.option("--questions", default=300, show_default=True, type=click.IntRange(10, 5000))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--fanout-turns", default=100, show_default=True, type=click.IntRange(5, 2000))
@click.pass_context
def command(
    ctx: click.Context,
    db: str | None,
    store_admin: str,
    state_url: str,
    questions: int,
    concurrency: int,
    fanout_turns: int,
) -> None:
    """Typed-question throughput and p95, 1 vs 2 processes; event fan-out delay across processes."""
    settings = settings_from(ctx, db)
    prefix = f"dvbench:{uuid.uuid4().hex[:10]}:"
    cores = os.cpu_count() or 1
    click.echo(f"datavox bench serve: {questions} typed questions, {concurrency} in flight, {cores} cores")
    with (
        tempfile.TemporaryDirectory(prefix="datavox-bench-serve-") as tmp,
        fresh_database(store_admin) as url,
    ):
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATAVOX_")}
        env |= {
            "DATAVOX_DATABASE_URL": absolute(settings.database.url),
            "DATAVOX_DATABASE_AUDIT_LOG": "",
            "DATAVOX_SERVER_STORE_URL": url,
            "DATAVOX_SERVER_STATE_URL": state_url,
            "DATAVOX_SERVER_STATE_PREFIX": prefix,
            "DATAVOX_SERVER_OUTBOX_PATH": str(work / "outbox.sqlite"),
            "DATAVOX_SERVER_RATE_PER_MINUTE": "1000000",
            "DATAVOX_LLM_PROVIDER": "none",
        }
        procs: list[subprocess.Popen[bytes]] = []
        try:
            # Baseline of what sharing costs: one process with embedded state (SQLite, in-memory events).
            embedded = {k: v for k, v in env.items() if not k.startswith("DATAVOX_SERVER_STO")}
            embedded |= {"DATAVOX_SERVER_STATE_URL": "", "DATAVOX_SERVER_APP_DB": str(work / "app.sqlite")}
            proc_e, url_e = start("embedded", embedded, work)
            procs.append(proc_e)
            asyncio.run(load([url_e], min(questions, 40), concurrency))
            qps0, lat0, err0 = asyncio.run(load([url_e], questions, concurrency))
            proc_e.terminate()
            proc_e.wait(timeout=15)
            proc_a, url_a = start("a", env, work)
            procs.append(proc_a)
            asyncio.run(load([url_a], min(questions, 40), concurrency))  # warm: brain caches, connections
            qps1, lat1, err1 = asyncio.run(load([url_a], questions, concurrency))
            proc_b, url_b = start("b", env, work)
            procs.append(proc_b)
            asyncio.run(load([url_b], min(questions, 40), concurrency))
            qps2, lat2, err2 = asyncio.run(load([url_a, url_b], questions, concurrency))
            click.echo("typed questions (POST /api/ask, conversations in PostgreSQL, events through Redis)")
            rows = [
                ("1 process, embedded state (SQLite)", qps0, lat0, err0),
                ("1 process, shared state", qps1, lat1, err1),
                ("2 processes, shared state", qps2, lat2, err2),
            ]
            for label, qps, lat, err in rows:
                click.echo(f"  {label:36s} {qps:7.1f} q/s   {line(lat)}   errors {err}")
            if qps1:
                click.echo(f"  2 vs 1 processes: x{qps2 / qps1:.2f} throughput")
            local, remote, added = asyncio.run(fan_out(url_a, url_b, fanout_turns))
            click.echo(f"event fan-out ({fanout_turns} answers asked of A; pages on A and B)")
            click.echo(f"  A's page (same process, baseline)   {line(local)}")
            click.echo(f"  B's page (through Redis)            {line(remote)}")
            click.echo(f"  added by crossing processes (B - A) {line(added)}")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            import redis

            with contextlib.suppress(redis.RedisError):
                client = redis.Redis.from_url(state_url)
                keys = list(client.scan_iter(match=prefix + "*"))
                if keys:
                    client.delete(*keys)
