"""`datavox bench voice`: end of speech → first answer audio, measured at the client.

Spoken questions are made with piper at run time, streamed in real time (20 ms frames) to an in-process
server over WebRTC (aiortc client) and WebSocket. Printed: each turn with its stage breakdown, median and
p95 per transport; the same with 1, 2, 4, 8 concurrent sessions (and the most sessions held at p95 < 1 s);
CPU and memory; and, in the same run, a plain sequential cascade (wait for the silence, transcribe, ask,
synthesise the whole answer) as the baseline, with the ratio.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np

from datavox.cli import db_option, settings_from
from datavox.config import Settings
from datavox.types import Answer, HistoryTurn, Intent
from datavox.voice.audio import Pcm, from_bytes, resample
from datavox.voice.clients import TurnResult, mint, rtc_turn, serve_in_thread, speech_end, ws_turn
from datavox.voice.tts import split_sentences

QUESTIONS = [
    "Who won the 2021 drivers' championship?",
    "How many races did Lewis Hamilton win in 2020?",
    "Which team won the constructors' championship in 2019?",
    "Who won the Monaco Grand Prix in 2019?",
]
# Names the recogniser should expect (the server passes the database's own; the bench uses F1's).
VOCABULARY = ["Max Verstappen", "Lewis Hamilton", "Red Bull", "Mercedes", "Ferrari", "Monaco", "constructors"]
STAND_IN = {
    "2021": "Max Verstappen won the 2021 drivers' championship.",
    "Hamilton": "Lewis Hamilton won eleven races in 2020.",
    "constructor": "Mercedes won the 2019 constructors' championship.",
    "Monaco": "Lewis Hamilton won the 2019 Monaco Grand Prix.",
}


class StandInBrain:
    """Fixed answers, used when the real Brain cannot be built; the output says so."""

    label = "stand-in brain (fixed answers)"

    def __call__(self, question: str, history: list[HistoryTurn]) -> Answer:
        text = next(
            (a for k, a in STAND_IN.items() if k.lower() in question.lower()), "I do not know that one."
        )
        return Answer(question=question, intent=Intent.STATISTICAL, answer=text, engine="stand-in")


def demo_settings(settings: Settings, folder: str) -> tuple[Settings, str]:
    """The configured database, or (when its file is missing) the F1 demo imported into `folder`."""
    from datavox.data.connect import parse_url

    db = parse_url(settings.database.url)
    if not db.is_file or Path(db.path).is_file():
        return settings, db.redacted()
    try:
        from datavox.data.importer import import_demo

        demo = settings.with_db(f"duckdb:///{Path(folder) / 'f1.duckdb'}")
        import_demo(demo)
        return demo, f"{demo.database.url} (F1 demo imported for this run: {db.path} does not exist)"
    except Exception as exc:
        return settings, f"{db.redacted()} (missing; importing the demo failed: {exc})"


def load_brain(settings: Settings) -> tuple[Callable[[str, list[HistoryTurn]], Answer], str]:
    try:
        from datavox.brain.brain import Brain

        brain = Brain.from_settings(settings)
        return brain.ask, "real Brain"
    except Exception as exc:
        return (
            StandInBrain(),
            f"{StandInBrain.label}; the real Brain is unavailable: {type(exc).__name__}: {exc}",
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    if not values:
        return "no turns"
    return f"median {statistics.median(values):6.0f} ms   p95 {pct(values, 0.95):6.0f} ms   (n={len(values)})"


class Recorder:
    """Collects the engine's per-turn `timings` app events, keyed by response id."""

    def __init__(self) -> None:
        self.timings: dict[str, dict[str, float]] = {}

    def __call__(self, conversation_id: str, event: dict[str, Any]) -> None:
        if event.get("type") == "timings" and event.get("response_id"):
            self.timings[str(event["response_id"])] = dict(event.get("timings_ms") or {})

    def stages(self, result: TurnResult) -> str:
        created = result.of("response.created")
        if not created:
            return ""
        t = self.timings.get(created[-1]["response"]["id"], {})
        keys = [
            ("commit", "commit_ms"),
            ("stt", "stt_ms"),
            ("brain", "brain_ms"),
            ("tts1", "tts_first_ms"),
            ("server first audio", "first_audio_ms"),
        ]
        parts = [f"{name} {t[k]:.0f}" for name, k in keys if k in t]
        if t.get("early_end"):
            parts.append("early end")
        if t.get("prepared"):
            parts.append("answer prepared from a partial")
        return "  [" + ", ".join(parts) + "]" if parts else ""


async def run_turn(transport: str, base: str, pcm: Pcm, delay: float = 0.0) -> TurnResult:
    await asyncio.sleep(delay)
    secret = await mint(base)
    if transport == "webrtc":
        return await rtc_turn(base, secret, pcm, timeout_s=30)
    return await ws_turn(base, secret, pcm, tail_ms=1500, timeout_s=30)


def cascade(
    models: Any, ask: Callable[[str, list[HistoryTurn]], Answer], pcm: Pcm, silence_ms: int, prompt: str
) -> dict[str, float]:
    """The plain sequential baseline: wait out the silence, transcribe, ask, synthesise the whole answer."""
    t0 = time.perf_counter()
    time.sleep(silence_ms / 1000)
    t1 = time.perf_counter()
    # faster-whisper's standard call (30 s window), as a plain cascade would use it
    text = models.stt.transcribe_30s(pcm.astype(np.float32) / 32768.0, prompt)
    t2 = time.perf_counter()
    answer = ask(text, [])
    t3 = time.perf_counter()
    for sentence in split_sentences(answer.answer):
        models.tts.synthesize(sentence)
    t4 = time.perf_counter()
    return {
        "total": (t4 - t0) * 1000,
        "stt": (t2 - t1) * 1000,
        "brain": (t3 - t2) * 1000,
        "tts": (t4 - t3) * 1000,
    }


async def bench(
    settings: Settings,
    questions: int,
    levels: list[int],
    transports: list[str],
    rounds: int,
    workdir: str,
    *,
    concurrent_over: str = "websocket",
    ask: Callable[[str, list[HistoryTurn]], Answer] | None = None,
) -> None:
    """The whole benchmark; `ask` replaces the brain (default: the real Brain, else a labelled stand-in)."""
    import psutil

    from datavox.voice.engine import LocalRealtimeEngine
    from datavox.voice.models import get_models

    proc = psutil.Process()
    t = time.perf_counter()
    models = get_models(settings)
    click.echo(f"models loaded in {(time.perf_counter() - t) * 1000:.0f} ms {models.load_ms}")
    settings, where = demo_settings(settings, workdir)
    if ask is None:
        ask, label = load_brain(settings)
    else:
        label = f"brain passed in ({getattr(ask, '__qualname__', type(ask).__name__)})"
    click.echo(f"brain: {label}; database: {where}")
    texts = (QUESTIONS * 3)[:questions]
    clips: list[Pcm] = []
    for text in texts:
        pcm = resample(from_bytes(models.tts.synthesize(text)), models.tts.sample_rate, 16_000)
        clips.append(np.concatenate([np.zeros(4800, np.int16), pcm[: speech_end(pcm, 16_000) + 1600]]))
    recorder = Recorder()
    top = max(levels)
    settings = replace(
        settings, realtime=replace(settings.realtime, max_sessions=max(top, settings.realtime.max_sessions))
    )
    # With the real brain the recogniser's vocabulary comes from the database, as in `datavox serve`.
    vocabulary = VOCABULARY if isinstance(ask, StandInBrain) else None
    engine = LocalRealtimeEngine(settings, ask, recorder, models=models, loopback=True, vocabulary=vocabulary)
    engine.warm_up(wait=True)
    prompt = engine.options.vocabulary
    cpu0 = proc.cpu_times()
    wall0 = time.perf_counter()
    results: dict[str, list[float]] = {}
    with serve_in_thread(engine) as base:
        for transport in transports:
            click.echo(f"\n== {transport}: one session, {len(clips)} questions x {rounds}")
            lat: list[float] = []
            for _ in range(rounds):
                for pcm in clips:
                    r = await run_turn(transport, base, pcm)
                    ms = r.latency_ms
                    shown = f"{ms:6.0f} ms" if ms is not None else f"failed ({r.error})"
                    click.echo(f"  {shown}  {r.transcript!r} -> {r.answer_text!r}{recorder.stages(r)}")
                    if ms is not None:
                        lat.append(ms)
            results[transport] = lat
            click.echo(f"  {transport}: {summary(lat)}")
        conc_transport = concurrent_over
        click.echo(
            f"\n== concurrent sessions ({conc_transport}; starts staggered over 2 s; end of speech -> audio)"
        )
        held = 0
        for level in levels:
            # Staggered starts (seeded): people in different sessions do not stop talking at the same instant.
            rng = random.Random(level)
            turns = await asyncio.gather(
                *(
                    run_turn(
                        conc_transport, base, clips[i % len(clips)], delay=rng.uniform(0, 2.0) if i else 0.0
                    )
                    for i in range(level)
                )
            )
            lat = [r.latency_ms for r in turns if r.latency_ms is not None]
            failed = level - len(lat)
            click.echo(f"  {level} sessions: {summary(lat)}" + (f"   {failed} failed" if failed else ""))
            if lat and not failed and pct(lat, 0.95) < 1000:
                held = level
        click.echo(f"  most sessions held with p95 < 1 s: {held}")
    cpu1 = proc.cpu_times()
    wall = time.perf_counter() - wall0
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    click.echo(
        f"\nCPU {cpu:.1f} s over {wall:.1f} s wall ({cpu / wall * 100:.0f}% of one core, server + clients); "
        f"RSS {proc.memory_info().rss / 2**20:.0f} MB"
    )
    click.echo(
        "\n== baseline: plain sequential cascade (wait out the silence, faster-whisper's standard transcribe,"
        " ask, synthesise the whole answer)"
    )
    base_lat: list[float] = []
    for text, pcm in zip(texts, clips, strict=True):
        c = cascade(models, ask, pcm, settings.voice.silence_ms, prompt)
        base_lat.append(c["total"])
        click.echo(
            f"  {c['total']:6.0f} ms  [stt {c['stt']:.0f}, brain {c['brain']:.0f}, tts {c['tts']:.0f}]"
            f"  {text!r}"
        )
    click.echo(f"  cascade: {summary(base_lat)}")
    for transport, lat in results.items():
        if lat:
            ratio = statistics.median(base_lat) / statistics.median(lat)
            click.echo(
                f"  {transport}: median {statistics.median(lat):.0f} ms, {ratio:.1f}x faster than the cascade"
            )
    await engine.close()


@click.command("voice")
@click.option("--questions", default=3, show_default=True, help="Spoken questions per transport.")
@click.option("--rounds", default=1, show_default=True, help="Times each question is asked per transport.")
@click.option("--sessions", "levels", default="1,2,4,8", show_default=True, help="Concurrency levels.")
@click.option("--transports", default="webrtc,websocket", show_default=True)
@click.option(
    "--concurrent-over",
    type=click.Choice(["websocket", "webrtc"]),
    default="websocket",
    show_default=True,
    help="Transport of the concurrency runs (aiortc clients cost CPU of their own on this machine).",
)
@db_option
@click.pass_context
def command(
    ctx: click.Context,
    questions: int,
    rounds: int,
    levels: str,
    transports: str,
    concurrent_over: str,
    db: str | None,
) -> None:
    """End of speech to first answer audio, over WebRTC and WebSocket, against a sequential cascade."""
    settings = settings_from(ctx, db)
    with tempfile.TemporaryDirectory(prefix="datavox-bench-voice-") as workdir:
        asyncio.run(
            bench(
                settings,
                questions,
                [int(x) for x in levels.split(",") if x.strip()],
                [x.strip() for x in transports.split(",") if x.strip()],
                rounds,
                workdir,
                concurrent_over=concurrent_over,
            )
        )
