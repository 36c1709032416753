"""`datavox bench voice`: end of speech → first audible answer sample, measured at the client.

Spoken questions are made with piper at run time and streamed in real time (20 ms frames) over WebSocket
and WebRTC (aiortc client) to the local engine, which runs in a process of its own with the real models
and the real Brain on F1 data (`voice_server.py`). For each concurrency level, every session connects at a
staggered instant, asks its questions one after the other (a short think between them) and the figures
are per transport: median and p95, turns, sessions refused past capacity (`engine_busy`, or
`session_limit_reached` at `realtime.max_sessions`), wrong transcripts, the server's peak RSS and CPU.
In the same run, a plain sequential cascade (wait out the silence, transcribe, ask, synthesise the whole
answer) is the baseline, with the ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np

from datavox.bench.voice_levels import Level, barge_in_run, run_level, session_rss
from datavox.cli import db_option, settings_from
from datavox.config import Settings
from datavox.types import Answer, HistoryTurn, Intent
from datavox.voice.audio import Pcm, from_bytes, resample
from datavox.voice.clients import TurnResult, speech_end
from datavox.voice.tts import split_sentences

# Questions the F1 database answers; each session starts at a different one.
QUESTIONS = [
    "Who won the 2021 drivers' championship?",
    "How many races did Lewis Hamilton win in 2020?",
    "Which team won the constructors' championship in 2019?",
    "Who won the Monaco Grand Prix in 2019?",
    "How many races did Max Verstappen win in 2023?",
    "Who won the British Grand Prix in 2020?",
    "How many world titles has Michael Schumacher won?",
    "Who won the 2016 drivers' championship?",
    "How many races did Sebastian Vettel win in 2013?",
    "Who won the Italian Grand Prix in 2019?",
    "Which team won the constructors' championship in 2022?",
    "Which driver had the most pole positions in 2022?",
]
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
    return f"median {statistics.median(values):5.0f} ms  p95 {pct(values, 0.95):5.0f} ms  (n={len(values)})"


def spoken_questions(tts: Any, texts: list[str]) -> list[Pcm]:
    """Each question as the user says it: 300 ms of silence, the speech, 100 ms of its own tail."""
    clips = []
    for text in texts:
        pcm = resample(from_bytes(tts.synthesize(text)), tts.sample_rate, 16_000)
        clips.append(np.concatenate([np.zeros(4800, np.int16), pcm[: speech_end(pcm, 16_000) + 1600]]))
    return clips


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


def stages_of(timings: dict[str, dict[str, float]], result: TurnResult) -> str:
    created = result.of("response.created")
    if not created:
        return ""
    t = timings.get(created[-1]["response"]["id"], {})
    keys = [("commit", "commit_ms"), ("stt", "stt_ms"), ("brain", "brain_ms"), ("tts1", "tts_first_ms")]
    parts = [f"{name} {t[k]:.0f}" for name, k in keys if k in t]
    if "first_audio_ms" in t:
        parts.append(f"server first audio {t['first_audio_ms']:.0f}")
    if t.get("prepared"):
        parts.append("prepared from a partial")
    return "  [" + ", ".join(parts) + "]" if parts else ""


async def bench(
    settings: Settings,
    per_session: int,
    levels: list[int],
    transports: list[str],
    workdir: str,
    *,
    verbose: bool = False,
    barge_ins: int = 4,
) -> None:
    from datavox.bench.voice_server import load_note, server_process
    from datavox.voice.models import get_models

    click.echo(f"machine: {load_note()} at start")
    t = time.perf_counter()
    models = get_models(settings)
    click.echo(f"models loaded in {(time.perf_counter() - t) * 1000:.0f} ms (client side, for the questions)")
    settings, where = demo_settings(settings, workdir)
    texts = QUESTIONS[: max(per_session, 8)]
    clips = list(zip(texts, spoken_questions(models.tts, texts), strict=True))
    top = max(levels)
    settings = replace(
        settings, realtime=replace(settings.realtime, max_sessions=max(top, settings.realtime.max_sessions))
    )
    results: list[Level] = []
    # What the brain answers to each question as written: a spoken answer must say the same facts.
    ask, label = load_brain(settings)
    expected = {text: ask(text, []).answer for text in texts}
    with server_process(settings) as server:
        click.echo(f"server: pid {server.pid}, {server.label}; database: {where}")
        import psutil

        idle_rss = psutil.Process(server.pid).memory_info().rss / 2**20
        click.echo(f"server RSS after start-up (models loaded, no session): {idle_rss:.0f} MB")
        session_mb: dict[str, float] = {}
        for transport in transports:
            session_mb[transport] = await session_rss(server.base, server.pid, transport, 3)
            click.echo(
                f"RSS per connected session ({transport}, up to 3 opened side by side, listening): "
                f"{session_mb[transport]:.1f} MB"
            )

        def show(text: str, r: TurnResult) -> None:
            if not verbose:
                return
            server.drain()
            ms = f"{r.latency_ms:6.0f} ms" if r.latency_ms is not None else f"failed ({r.error})"
            click.echo(f"    {ms}  {r.transcript!r} -> {r.answer_text!r}{stages_of(server.timings, r)}")

        for sessions in levels:
            for transport in transports:
                click.echo(f"\n== {transport}, {sessions} session(s) x {per_session} questions")
                level = await run_level(
                    transport, server.base, server.pid, clips, sessions, per_session, show, expected
                )
                results.append(level)
                extra = []
                if level.refused:
                    extra.append(f"{level.refused} session(s) refused (busy)")
                if level.failed:
                    extra.append(f"{len(level.failed)} failed: {level.failed[0]}")
                if level.misheard:
                    extra.append(f"{level.misheard} transcript(s) not word for word")
                extra.append(f"{len(level.wrong)} answer(s) wrong, {level.asked_back} asked back")
                click.echo(f"  {summary(level.latencies)}" + ("; " + "; ".join(extra) if extra else ""))
                click.echo(
                    f"  server peak RSS {level.peak_rss_mb:.0f} MB; server CPU {level.cpu_s:.1f} s over "
                    f"{level.wall_s:.1f} s ({level.cpu_s / level.wall_s * 100:.0f}% of one core)"
                )
                for case in level.wrong:
                    click.echo(f"  wrong: {case}")
        if barge_ins and "webrtc" in transports:
            cut = await barge_in_run(server.base, clips, barge_ins)
            if cut:
                click.echo(
                    f"\n== barge-in over WebRTC, one session, {len(cut)} interruptions 600 ms into the "
                    "answer: answer audio the client got after the user's first loud sample: median "
                    f"{statistics.median(cut):.0f} ms, max {max(cut):.0f} ms (aim: <= 100 ms)"
                )
        click.echo(f"\nmachine: {load_note()} after the sessions")
    prompt = ", ".join(["Max Verstappen", "Lewis Hamilton", "Sebastian Vettel", "Michael Schumacher"])
    click.echo(
        "\n== baseline: plain sequential cascade (wait out the silence, faster-whisper's standard transcribe,"
        f" ask, synthesise the whole answer), {label}, in this process"
    )
    base_lat: list[float] = []
    for _text, pcm in clips:
        c = cascade(models, ask, pcm, settings.voice.silence_ms, prompt)
        base_lat.append(c["total"])
        if verbose:
            click.echo(
                f"    {c['total']:6.0f} ms  [stt {c['stt']:.0f}, brain {c['brain']:.0f}, tts {c['tts']:.0f}]"
            )
    click.echo(f"  cascade: {summary(base_lat)}")
    report(results, base_lat, idle_rss, session_mb)


def report(
    results: list[Level], base_lat: list[float], idle_rss: float, per_session: dict[str, float]
) -> None:
    base = statistics.median(base_lat) if base_lat else float("nan")
    click.echo("\n== summary: end of speech -> first audible answer sample, at the client")
    click.echo(f"  server RSS with no session: {idle_rss:.0f} MB; x cascade = cascade median / median")
    for transport, mb in per_session.items():
        click.echo(f"  RSS per connected session, {transport}: {mb:.1f} MB")
    click.echo("  transport   sessions  turns  median    p95  x cascade  refused  wrong  peak RSS  CPU")
    for lv in results:
        if not lv.latencies:
            click.echo(f"  {lv.transport:10} {lv.sessions:8}      0  (no turns; refused {lv.refused})")
            continue
        med, p95 = statistics.median(lv.latencies), pct(lv.latencies, 0.95)
        click.echo(
            f"  {lv.transport:10} {lv.sessions:8} {len(lv.latencies):6} {med:6.0f} {p95:6.0f} "
            f"{base / med:10.1f} {lv.refused:8} {len(lv.wrong):6} {lv.peak_rss_mb:6.0f} MB "
            f"{lv.cpu_s / lv.wall_s * 100:4.0f}%"
        )
    for transport in sorted({lv.transport for lv in results}):
        held = [
            lv.sessions
            for lv in results
            if lv.transport == transport and lv.latencies and not lv.failed and pct(lv.latencies, 0.95) < 1000
        ]
        click.echo(
            f"  {transport}: most sessions with every turn answered and p95 < 1 s: {max(held, default=0)}"
        )


@click.command("voice")
@click.option(
    "--questions",
    default=8,
    show_default=True,
    help="Spoken questions per session (≥ 8 gives a p95 worth reading).",
)
@click.option("--sessions", "levels", default="1,2,4,6,8", show_default=True, help="Concurrency levels.")
@click.option("--transports", default="websocket,webrtc", show_default=True)
@click.option("--barge-ins", default=4, show_default=True, help="WebRTC answers interrupted (0: none).")
@click.option("--verbose", "-v", is_flag=True, help="Print every turn with its stages.")
@db_option
@click.pass_context
def command(
    ctx: click.Context,
    questions: int,
    levels: str,
    transports: str,
    barge_ins: int,
    verbose: bool,
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
                workdir,
                verbose=verbose,
                barge_ins=barge_ins,
            )
        )
