"""`datavox bench soak`: a bounded soak of the local engine (loopback only; it stops by itself).

The whole app (`datavox serve`: store, event stream, the local engine with the real models and Brain) runs
in a child process on 127.0.0.1. Several users talk to it for `--minutes`: each asks a few questions over
WebSocket or WebRTC (alternating), sometimes interrupts the answer with the next question, then hangs up
and reconnects to the same conversation. Afterwards, with every session closed, the server's RSS,
threads, file descriptors and asyncio tasks are compared with the same figures after a warm-up round,
and every turn the clients saw committed must be in the store (and every completed answer with it).
Exit status 1 when a check fails.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click
import httpx

from datavox.bench.voice import QUESTIONS, demo_settings, pct, spoken_questions
from datavox.cli import db_option, settings_from
from datavox.config import Settings
from datavox.voice.clients import Conversation, RtcConversation, TurnResult, WsConversation

THREAD_SLACK = 8


@dataclass
class Tally:
    turns: int = 0
    interrupted: int = 0
    reconnects: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # conversation id -> committed user item ids, and the item ids whose answer completed
    committed: dict[str, set[str]] = field(default_factory=dict)
    answered: dict[str, set[str]] = field(default_factory=dict)
    # the turns without response.done: what the client had seen of them
    missed: list[str] = field(default_factory=list)


def note_turn(tally: Tally, conversation_id: str, turn: TurnResult, what: str = "question") -> None:
    for event in turn.events:
        kind = event.get("type")
        if kind == "conversation.item.input_audio_transcription.completed":
            tally.committed.setdefault(conversation_id, set()).add(str(event["item_id"]))
        elif kind == "response.done" and event["response"]["status"] == "completed":
            tally.answered.setdefault(conversation_id, set()).add(str(event["response"]["id"]))
    if turn.latency_ms is not None:
        tally.latencies.append(turn.latency_ms)
    if turn.error:
        tally.errors.append(turn.error)
    if turn.error and "response.done" in turn.error:
        seen: list[list[Any]] = []  # runs of one event type: [type, count]
        for event in turn.events:
            kind = short(event)
            if seen and seen[-1][0] == kind:
                seen[-1][1] += 1
            else:
                seen.append([kind, 1])
        runs = " ".join(k if n == 1 else f"{k}x{n}" for k, n in seen)
        tally.missed.append(f"{turn.transport} {what}: {runs or 'no events'}")


def short(event: dict[str, Any]) -> str:
    kind = str(event.get("type", "?"))
    kind = kind.replace("conversation.item.", "item.").replace("input_audio_buffer.", "in.")
    kind = kind.replace("response.", "r.").replace("output_audio_buffer.", "out.")
    if kind == "r.done":
        kind += f"({event['response']['status']})"
    if kind == "error":
        kind += f"({event['error'].get('code')})"
    return kind


async def user(
    index: int,
    base: str,
    clips: list[Any],
    deadline: float,
    tally: Tally,
    rng: random.Random,
    *,
    once: bool = False,
) -> None:
    """One user until `deadline`: connect, ask 2-4 questions (some interrupted), hang up, reconnect.
    `once`: one connection with one question on each transport (the warm-up)."""
    conversation_id: str | None = None
    n = 0
    await asyncio.sleep(0 if once else rng.uniform(0, 2.0))
    rounds = 0
    while time.monotonic() < deadline or (once and rounds < 2):
        rounds += 1
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(
                f"{base}/api/realtime/session",
                json={"conversation_id": conversation_id} if conversation_id else {},
            )
        if r.status_code in (429, 503):
            tally.refused += 1
            await asyncio.sleep(float(r.headers.get("retry-after", "5")))
            continue
        r.raise_for_status()
        body = r.json()
        conversation_id = str(body["conversation_id"])
        kind = RtcConversation if (index + tally.reconnects) % 2 else WsConversation
        conv: Conversation = kind(base, str(body["secret"]))
        try:
            await conv.connect()
        except ConnectionError as exc:
            tally.errors.append(f"connect: {exc}")
            await asyncio.sleep(2)
            continue
        try:
            for _ in range(1 if once else rng.randint(2, 4)):
                if time.monotonic() >= deadline and not once:
                    break
                _text, pcm = clips[(index * 5 + n) % len(clips)]
                n += 1
                if rng.random() < 0.3 or (
                    once and rounds == 2
                ):  # interrupt the answer with the next question
                    _next_text, next_pcm = clips[(index * 5 + n) % len(clips)]
                    n += 1
                    turn = await conv.ask(pcm, barge_in=next_pcm, barge_in_after_ms=rng.uniform(200, 900))
                    note_turn(tally, conversation_id, turn, "interrupted question")
                    follow = await conv.follow_up()
                    note_turn(tally, conversation_id, follow, "interruption")
                    tally.turns += 2
                    tally.interrupted += 1
                else:
                    note_turn(tally, conversation_id, await conv.ask(pcm))
                    tally.turns += 1
                await asyncio.sleep(rng.uniform(0.2, 1.0))
        finally:
            await conv.close()
        tally.reconnects += 1
        await asyncio.sleep(rng.uniform(0.2, 1.0))


def server_figures(pid: int, base: str, *, collect: bool = False) -> dict[str, Any]:
    import psutil

    proc = psutil.Process(pid)
    tasks = httpx.get(f"{base}/_bench/tasks", params={"collect": collect}, timeout=30).json()
    return {
        "rss_mb": proc.memory_info().rss / 2**20,
        "threads": proc.num_threads(),
        "fds": proc.num_fds(),
        "tasks": float(tasks["tasks"]),
        "sessions": float(tasks["sessions"]),
        "thread_names": tasks.get("threads", {}),
        "heap": tasks.get("heap", {}),
    }


async def check_store(base: str, tally: Tally) -> list[str]:
    """Every committed user turn and every completed answer is in the store."""
    missing: list[str] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for conversation_id, items in tally.committed.items():
            r = await http.get(f"{base}/api/conversations/{conversation_id}")
            if r.status_code != 200:
                missing.append(f"{conversation_id}: HTTP {r.status_code}")
                continue
            turns = r.json()["turns"]
            users = {t["turn_id"] for t in turns if t["role"] == "user"}
            answers = [t for t in turns if t["role"] == "assistant"]
            missing += [f"{conversation_id}: user turn {i}" for i in sorted(items - users)]
            want = len(tally.answered.get(conversation_id, set()))
            if len(answers) < want:
                missing.append(f"{conversation_id}: {want - len(answers)} answer(s)")
    return missing


async def settle(pid: int, base: str, seconds: float = 8.0) -> dict[str, Any]:
    """The server's figures once no session is left (calls close asynchronously)."""
    end = time.monotonic() + seconds
    figures = server_figures(pid, base)
    while figures["sessions"] > 0 and time.monotonic() < end:
        await asyncio.sleep(0.5)
        figures = server_figures(pid, base)
    await asyncio.sleep(1.0)
    return server_figures(pid, base, collect=True)


async def soak(settings: Settings, minutes: float, users: int, rss_bound_mb: float, workdir: str) -> bool:
    from datavox.bench.voice_server import load_note, server_process
    from datavox.voice.models import get_models

    click.echo(f"machine: {load_note()} at start")
    settings, where = demo_settings(settings, workdir)
    server = replace(
        settings.server,
        host="127.0.0.1",
        app_db=str(Path(workdir) / "app.sqlite"),
        outbox_path=str(Path(workdir) / "outbox.sqlite"),
        store_url="",
        state_url="",
        rate_per_minute=max(settings.server.rate_per_minute, 600),
    )
    realtime = replace(
        settings.realtime, engine="local", max_sessions=max(settings.realtime.max_sessions, users)
    )
    settings = replace(settings, server=server, realtime=realtime)
    tts = get_models(settings).tts
    clips = list(zip(QUESTIONS, spoken_questions(tts, QUESTIONS), strict=True))
    with server_process(settings, app_mode=True) as proc:
        click.echo(f"server: pid {proc.pid}, {proc.label}; database: {where}; loopback {proc.base}")
        # warm-up: one question per user, so lazily built things exist before the baseline
        warm = Tally()
        await asyncio.gather(
            *(user(i, proc.base, clips, 0.0, warm, random.Random(i), once=True) for i in range(users))
        )
        before = await settle(proc.pid, proc.base)
        click.echo(
            f"after warm-up: RSS {before['rss_mb']:.0f} MB, {before['threads']:.0f} threads, "
            f"{before['fds']:.0f} fds, {before['tasks']:.0f} asyncio tasks"
        )
        tally = Tally()
        deadline = time.monotonic() + minutes * 60
        samples: list[float] = []  # the server's RSS every ~10 s while the users talk
        with click.progressbar(length=int(minutes * 60), label=f"{users} users for {minutes:g} min") as bar:

            async def tick() -> None:
                import psutil

                server = psutil.Process(proc.pid)
                start = time.monotonic()
                while time.monotonic() < deadline:
                    await asyncio.sleep(1)
                    bar.update(1)
                    if int(time.monotonic() - start) % 10 == 0:
                        samples.append(server.memory_info().rss / 2**20)

            await asyncio.gather(
                tick(),
                *(user(i, proc.base, clips, deadline, tally, random.Random(100 + i)) for i in range(users)),
            )
        after = await settle(proc.pid, proc.base)
        missing = await check_store(proc.base, tally)
        click.echo(f"machine: {load_note()} at the end")
    growth = after["rss_mb"] - before["rss_mb"]
    if len(samples) >= 4:
        quarters = [
            samples[min(len(samples) - 1, round(q * (len(samples) - 1)))] for q in (0, 0.25, 0.5, 0.75, 1)
        ]
        click.echo(
            "server RSS while talking (start, 1/4, 1/2, 3/4, end): "
            + ", ".join(f"{x:.0f}" for x in quarters)
            + " MB"
        )
        click.echo(f"  growth over the second half: {quarters[4] - quarters[2]:+.0f} MB")
    heap = after["heap"]
    if heap:
        click.echo(
            f"malloc_trim (voice.heap_trim_s={settings.voice.heap_trim_s:g}): {heap['trims']} calls gave "
            f"back {heap['released'] / 2**20:.0f} MB"
        )
    checks = {
        f"RSS growth {growth:+.0f} MB (bound {rss_bound_mb:.0f} MB)": growth <= rss_bound_mb,
        # thread pools that grow on demand (anyio's, the loop's executor) may keep a few idle workers
        f"threads {before['threads']:.0f} -> {after['threads']:.0f} (bound +{THREAD_SLACK})": after["threads"]
        <= before["threads"] + THREAD_SLACK,
        f"file descriptors {before['fds']:.0f} -> {after['fds']:.0f}": after["fds"] <= before["fds"],
        f"asyncio tasks {before['tasks']:.0f} -> {after['tasks']:.0f}": after["tasks"] <= before["tasks"],
        f"sessions left open: {after['sessions']:.0f}": after["sessions"] == 0,
        # a turn the client waited 30 s for in vain: the server dropped it, or the client lost count
        f"turns answered: {len(tally.missed)} without response.done within 30 s": not tally.missed,
        f"turns stored: {len(missing)} missing"
        + (f" ({', '.join(missing[:3])})" if missing else ""): not missing,
    }
    if after["threads"] > before["threads"]:
        grew = {
            k: f"{before['thread_names'].get(k, 0)} -> {v}"
            for k, v in after["thread_names"].items()
            if v > before["thread_names"].get(k, 0)
        }
        click.echo(f"threads that grew: {grew}")
    lat = tally.latencies
    click.echo(
        f"\n{tally.turns} turns ({tally.interrupted} interrupted) in {tally.reconnects} connections over "
        f"{minutes:g} min; {tally.refused} refused; {len(tally.errors)} turn errors"
        + (f" (first: {tally.errors[0]})" if tally.errors else "")
    )
    if lat:
        click.echo(
            f"end of speech -> first audio: median {statistics.median(lat):.0f} ms, "
            f"p95 {pct(lat, 0.95):.0f} ms"
        )
    for case in tally.missed:
        click.echo(f"  no response.done: {case}")
    for label, ok in checks.items():
        click.echo(f"  {'ok  ' if ok else 'FAIL'} {label}")
    return all(checks.values())


@click.command("soak")
@click.option("--minutes", default=10.0, show_default=True, help="How long the users talk (then it stops).")
@click.option("--users", default=4, show_default=True, help="Concurrent users.")
@click.option("--rss-bound-mb", default=150.0, show_default=True, help="Allowed RSS growth after warm-up.")
@db_option
@click.pass_context
def command(ctx: click.Context, minutes: float, users: int, rss_bound_mb: float, db: str | None) -> None:
    """Users asking, interrupting and reconnecting for a while: leaks, growth and stored turns."""
    settings = settings_from(ctx, db)
    with tempfile.TemporaryDirectory(prefix="datavox-soak-") as workdir:
        ok = asyncio.run(soak(settings, minutes, users, rss_bound_mb, workdir))
    sys.exit(0 if ok else 1)
