"""`datavox bench cloud`: what datavox adds to a cloud tool turn; how many cloud sessions one server carries.

The cloud is the FAKE realtime cloud of tests/fakes/ (so this needs the repository checkout), in this process,
with a configurable model delay and no media: in cloud mode the audio goes from the browser to the cloud and
never through datavox, so what datavox carries per session is the sideband. datavox itself runs as a real
`datavox serve` subprocess (engine openai, connect direct, the offline brain on the configured database).

Per tool turn, the fake measures the turnaround it sees (function call done → function_call_output and
`response.create` received) and datavox reports the brain's own time (`cloud_tool_ms`); datavox's added
latency is the difference. The baseline, in the same run, is the same questions asked of the brain directly.
Then N sessions at once, each asking a question every `--think` seconds: added p95 at each level, and the
most sessions held with added p95 under 50 ms.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import httpx

from datavox.cli import db_option, settings_from
from datavox.config import Settings

REPO = Path(__file__).resolve().parents[3]
QUESTIONS = [
    "Who won the 2021 drivers' championship?",
    "How many races did Lewis Hamilton win in 2020?",
    "Which team won the constructors' championship in 2019?",
    "Who won the Monaco Grand Prix in 2019?",
]
TOKEN = "bench-token-0123456789abcdef"
KEY = "bench-fake-cloud-key-0123456789"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def line(values: list[float]) -> str:
    if not values:
        return "no turns"
    return f"median {statistics.median(values):7.1f} ms   p95 {pct(values, 0.95):7.1f} ms   (n={len(values)})"


def fake_cloud(delay_s: float) -> Any:
    if not (REPO / "tests" / "fakes" / "realtime_cloud.py").is_file():
        raise click.ClickException("bench cloud uses the FAKE cloud in tests/fakes/: run it from a checkout")
    sys.path.insert(0, str(REPO))
    # By name: the fake is test code, outside the package (and outside mypy's strict run).
    fake = importlib.import_module("tests.fakes.realtime_cloud")
    return fake.FakeRealtimeCloud(key=KEY, delay_s=delay_s, media=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    settings: Settings, cloud: Any, work: Path, orchestration: str = "tools"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAVOX_", "AZURE_OPENAI", "OPENAI_"))}
    env |= {
        "DATAVOX_DATABASE_URL": settings.database.url,
        "DATAVOX_DATABASE_AUDIT_LOG": "",
        "DATAVOX_LLM_PROVIDER": "none",
        "DATAVOX_REALTIME_ENGINE": "openai",
        "DATAVOX_REALTIME_OPENAI_BASE_URL": cloud.openai_base,
        "DATAVOX_REALTIME_CONNECT": "direct",
        "DATAVOX_REALTIME_ORCHESTRATION": orchestration,
        "DATAVOX_REALTIME_FALLBACK": "none",
        "DATAVOX_REALTIME_API_KEY": KEY,
        "DATAVOX_API_TOKEN": TOKEN,
        "DATAVOX_SERVER_APP_DB": str(work / "app.sqlite"),
        "DATAVOX_SERVER_RATE_PER_MINUTE": "1000000",
    }
    log = (work / "serve.log").open("wb")
    cmd = [sys.executable, "-m", "datavox.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # cwd: relative URLs work
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            tail = (work / "serve.log").read_text(errors="replace")[-2000:]
            raise click.ClickException(f"datavox serve exited:\n{tail}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise click.ClickException("datavox serve did not start within 120 s")
        time.sleep(0.3)


class Session:
    """One page: a direct-connect session, the call (no media), attach, and its event stream."""

    def __init__(self, http: httpx.AsyncClient, base: str, cloud: Any) -> None:
        self.http, self.base, self.cloud = http, base, cloud
        self.brain_ms: dict[str, float] = {}
        self.call_id = ""
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        import websockets

        auth = {"Authorization": f"Bearer {TOKEN}"}
        session = (await self.http.post(self.base + "/api/realtime/session", json={}, headers=auth)).json()
        call = await self.http.post(
            session["calls_url"],
            content=b"v=0\r\n",
            headers={"Authorization": f"Bearer {session['secret']}", "Content-Type": "application/sdp"},
        )
        self.call_id = call.headers["location"].rsplit("/", 1)[-1]
        conv = session["conversation_id"]
        self.ws = await websockets.connect(self.base.replace("http", "ws") + "/api/events")
        await self.ws.send(json.dumps({"type": "hello", "conversation_id": conv, "token": TOKEN}))
        self._reader = asyncio.ensure_future(self._read())
        body = {"call_id": self.call_id, "secret": session["secret"], "conversation_id": conv}
        await self.http.post(self.base + session["attach_url"], json=body, headers=auth)
        while self.cloud.sideband_count(self.call_id) < 1:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # the sideband's session.update lands first

    async def _read(self) -> None:
        async for message in self.ws:
            event = json.loads(message)
            if event.get("type") == "timings":
                self.brain_ms[str(event.get("turn_id"))] = float(event["timings_ms"].get("cloud_tool_ms", 0))

    async def turn(self, question: str) -> tuple[float, float, float] | None:
        """(datavox's turnaround as the cloud sees it, brain time, whole turn) in ms for one question.

        Turnaround: tools mode, function call done → output + response.create; classify mode, transcript
        done → response.create. Whole turn: transcript done → the spoken answer's response.done.
        """
        call = self.cloud.call(self.call_id)
        item_id = await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(call.say(question), self.cloud.loop)
        )
        deadline = time.monotonic() + 30
        while item_id not in self.brain_ms or item_id not in call.turn_ms:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.01)
        call_id = next((c for c, turn in call.call_turn.items() if turn == item_id), None)
        turnaround = call.turnaround_ms[call_id] if call_id else call.create_ms[item_id]
        return turnaround, self.brain_ms[item_id], call.turn_ms[item_id]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()


async def level(
    base: str, cloud: Any, sessions: int, turns: int, think_s: float
) -> tuple[list[float], int, list[float]]:
    """`sessions` pages at once, each asking `turns` questions: datavox's added ms per turn, failures, and
    whole-turn ms."""
    added: list[float] = []
    whole: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=sessions + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        pages = [Session(http, base, cloud) for _ in range(sessions)]
        await asyncio.gather(*(p.open() for p in pages))

        async def drive(page: Session) -> None:
            nonlocal failed
            await asyncio.sleep(random.uniform(0, think_s))  # pages do not all talk at once
            for i in range(turns):
                result = await page.turn(QUESTIONS[i % len(QUESTIONS)])
                if result is None:
                    failed += 1
                else:
                    added.append(max(0.0, result[0] - result[1]))
                    whole.append(result[2])
                await asyncio.sleep(think_s * random.uniform(0.5, 1.5))

        await asyncio.gather(*(drive(p) for p in pages))
        await asyncio.gather(*(p.close() for p in pages))
    return added, failed, whole


def baseline(settings: Settings, rounds: int) -> list[float]:
    from datavox.brain.brain import Brain

    brain = Brain.from_settings(settings)
    out = []
    try:
        for i in range(rounds * len(QUESTIONS)):
            started = time.perf_counter()
            brain.ask(QUESTIONS[i % len(QUESTIONS)], [])
            out.append((time.perf_counter() - started) * 1000)
    finally:
        brain.close()
    return out


@click.command("cloud")
@click.option(
    "--delay-ms", default=200, show_default=True, help="The FAKE model's delay before each response."
)
@click.option("--turns", default=12, show_default=True, help="Sequential tool turns for the added latency.")
@click.option(
    "--sessions", "levels", default="1,10,50,100,250", show_default=True, help="Concurrency levels."
)
@click.option("--turns-per-session", default=3, show_default=True)
@click.option(
    "--orchestration",
    type=click.Choice(["tools", "classify"]),
    default="tools",
    show_default=True,
    help="tools: the model calls query_database; classify: datavox fetches first (the seed's flow).",
)
@click.option(
    "--think", "think_s", default=4.0, show_default=True, help="Seconds between a page's questions."
)
@db_option
@click.pass_context
def command(
    ctx: click.Context,
    delay_ms: int,
    turns: int,
    levels: str,
    turns_per_session: int,
    orchestration: str,
    think_s: float,
    db: str | None,
) -> None:
    """datavox's added latency per cloud tool turn (median/p95) and concurrent cloud sessions per server."""
    settings = settings_from(ctx, db)
    click.echo(
        f"database: {settings.database.url}; FAKE cloud model delay {delay_ms} ms; cpus {os.cpu_count()}"
    )
    click.echo("baseline, the brain called directly:")
    direct = baseline(settings, max(1, turns // len(QUESTIONS)))
    click.echo(f"  brain.ask                      {line(direct)}")
    with tempfile.TemporaryDirectory() as tmp, fake_cloud(delay_ms / 1000.0) as cloud:
        proc, base = start_server(settings, cloud, Path(tmp), orchestration)
        try:
            click.echo(f"{turns} sequential turns, orchestration {orchestration}:")
            added, failed, whole = asyncio.run(level(base, cloud, 1, turns, 0.05))
            click.echo(f"  datavox added per turn         {line(added)}   failed {failed}")
            click.echo(f"  whole turn (transcript→answer) {line(whole)}")
            best = 0
            for n in [int(x) for x in levels.split(",") if x.strip()]:
                added, failed, _ = asyncio.run(level(base, cloud, n, turns_per_session, think_s))
                p95 = pct(added, 0.95)
                ok = failed == 0 and p95 < 50.0
                best = n if ok else best
                click.echo(
                    f"  {n:4d} sessions: added {line(added)}   failed {failed}   {'ok' if ok else 'over'}"
                )
            click.echo(f"most sessions held with added p95 < 50 ms: {best}")
        finally:
            proc.terminate()
            proc.wait(15)
