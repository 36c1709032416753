"""`datavox bench speech`: latency per core of the speech models in the settings the engine can choose.

The shared workers (`voice/pool.py`) pick compute type, threads, window and batching from these figures:
- STT (faster-whisper tiny.en, short window): int8 vs int8_float32, 1 vs 2 threads, beam 1 vs 5, the
  silence margin after the speech (window length), and two sessions' windows one after the other, on two
  workers at once, or batched in one CTranslate2 call;
- TTS (piper joe-medium): first sentence with 1 vs 2 threads;
- VAD (silero v6): one 32 ms window per session vs one batched pass over every session's window.

Spoken questions are synthesised with piper at run time (no files, no network). Each figure is the median and
p95 over `--repeat` runs of every question, after a warm-up; "ms per core" multiplies by the threads used,
the cost that matters when 2 cores serve every session.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from datavox.voice.audio import from_bytes, resample
from datavox.voice.heuristics import normalise

QUESTIONS = [
    "Who won the 2021 drivers' championship?",
    "How many races did Lewis Hamilton win in 2020?",
    "Which team won the constructors' championship in 2019?",
    "Who won the Monaco Grand Prix in 2019?",
]
PROMPT = "Max Verstappen, Lewis Hamilton, Red Bull, Mercedes, Ferrari, Monaco."


def _same(heard: str, said: str) -> bool:
    """Same words, ignoring case, punctuation and apostrophes ("drivers'" = "Drivers")."""
    return normalise(heard).replace("'", "") == normalise(said).replace("'", "")


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    fn()  # warm-up
    out: list[float] = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, result


def _row(label: str, ms: list[float], threads: int, extra: str = "") -> str:
    med, p95 = _stats(ms)
    return f"| {label} | {med:.0f} | {p95:.0f} | {med * threads:.0f} | {extra} |"


def _one(stt: Any, audio: Any) -> str:
    return str(stt.transcribe_batch([audio], [PROMPT])[0])


def _spoken(tts: Any) -> list[np.ndarray[Any, np.dtype[np.float32]]]:
    out = []
    for q in QUESTIONS:
        pcm = resample(from_bytes(tts.synthesize(q, steady=True)), tts.sample_rate, 16_000)
        out.append(pcm.astype(np.float32) / 32768.0)
    return out


def bench_stt(audio: list[Any], repeat: int, echo: Callable[[str], None]) -> None:
    from datavox.voice.stt import WhisperStt

    echo("\n### STT (tiny.en, short window, prompt = F1 names)\n")
    echo("| setting | median ms | p95 ms | ms × threads | exact transcripts |")
    echo("|---|---|---|---|---|")
    configs = [
        ("int8", 1, 1, 1.0),
        ("int8", 2, 1, 1.0),
        ("int8_float32", 1, 1, 1.0),
        ("int8_float32", 2, 1, 1.0),
        ("int8", 1, 5, 1.0),
        ("int8", 1, 1, 0.5),
        ("int8", 1, 1, 2.0),
    ]
    models = [
        WhisperStt.load(threads=t, workers=2, compute_type=ct, beam_size=beam, margin_s=m)
        for ct, t, beam, m in configs
    ]
    times: list[list[float]] = [[] for _ in configs]
    texts: list[dict[str, str]] = [{} for _ in configs]
    # Round robin over the settings, so the machine's load moves every row alike.
    for m in models:
        _one(m, audio[0])  # warm-up
    for _ in range(repeat):
        for n, m in enumerate(models):
            for q, a in zip(QUESTIONS, audio, strict=True):
                t0 = time.perf_counter()
                texts[n][q] = _one(m, a)
                times[n].append((time.perf_counter() - t0) * 1000)
    for (ctype, threads, beam, margin), ms, heard in zip(configs, times, texts, strict=True):
        label = f"{ctype}, {threads} thread{'s' if threads > 1 else ''}, beam {beam}, margin {margin:g} s"
        misses = [t for q, t in heard.items() if not _same(t, q)]
        extra = f"{len(QUESTIONS) - len(misses)}/{len(QUESTIONS)}" + "".join(f"; {t!r}" for t in misses)
        echo(_row(label, ms, threads, extra))

    echo("\n### Two sessions' windows at once (int8, beam 1, margin 1 s; a batch pads both to one length)\n")
    echo("| how | median ms for both | p95 ms | ms × threads | |")
    echo("|---|---|---|---|---|")
    pairs = [(audio[i], audio[(i + 1) % len(audio)]) for i in range(len(audio))]
    one = WhisperStt.load(threads=1, workers=2)
    two = WhisperStt.load(threads=2, workers=1)

    def sequential(stt: Any, a: Any, b: Any) -> None:
        stt.transcribe_batch([a], [PROMPT])
        stt.transcribe_batch([b], [PROMPT])

    def parallel(a: Any, b: Any) -> None:
        t = threading.Thread(target=one.transcribe_batch, args=([b], [PROMPT]))
        t.start()
        one.transcribe_batch([a], [PROMPT])
        t.join()

    rows: list[tuple[str, Callable[[Any, Any], Any], int]] = [
        ("one after the other, 1 thread", lambda a, b: sequential(one, a, b), 1),
        ("one after the other, 2 threads", lambda a, b: sequential(two, a, b), 2),
        ("two workers in parallel, 1 thread each", parallel, 2),
        ("one batch of 2, 2 threads", lambda a, b: two.transcribe_batch([a, b], [PROMPT, PROMPT]), 2),
        ("one batch of 2, 1 thread", lambda a, b: one.transcribe_batch([a, b], [PROMPT, PROMPT]), 1),
    ]
    pair_times: list[list[float]] = [[] for _ in rows]
    for _, fn, _t in rows:
        fn(*pairs[0])  # warm-up
    for _ in range(repeat):
        for n, (_, fn, _t) in enumerate(rows):
            for a, b in pairs:
                t0 = time.perf_counter()
                fn(a, b)
                pair_times[n].append((time.perf_counter() - t0) * 1000)
    for (label, _, threads), ms in zip(rows, pair_times, strict=True):
        echo(_row(label, ms, threads))


def bench_tts(repeat: int, echo: Callable[[str], None]) -> None:
    from datavox.voice.tts import PiperTts, speech_chunks

    echo("\n### TTS (piper joe-medium), the first spoken chunk of an answer\n")
    echo("| threads | median ms | p95 ms | ms × threads | |")
    echo("|---|---|---|---|---|")
    answers = [
        "Max Verstappen won the 2021 drivers' championship.",
        "Lewis Hamilton won 11 races in 2020.",
        "Mercedes won the 2019 constructors' championship.",
    ]
    voices = {threads: PiperTts.load(threads=threads) for threads in (1, 2)}
    firsts = [speech_chunks(text)[0] for text in answers]
    tts_times: dict[int, list[float]] = {1: [], 2: []}
    for tts in voices.values():
        tts.synthesize(firsts[0])  # warm-up
    for _ in range(repeat):
        for threads, tts in voices.items():
            for first in firsts:
                t0 = time.perf_counter()
                tts.synthesize(first)
                tts_times[threads].append((time.perf_counter() - t0) * 1000)
    for threads, ms in tts_times.items():
        echo(_row(f"{threads}", ms, threads))


def bench_vad(sessions: int, repeat: int, echo: Callable[[str], None]) -> None:
    from datavox.voice.vad import SileroVad

    echo(f"\n### VAD (silero v6, one 32 ms window for each of {sessions} sessions)\n")
    echo("| how | median µs per tick | p95 µs | | |")
    echo("|---|---|---|---|---|")
    session = SileroVad.load_session()
    vads = [SileroVad(session) for _ in range(sessions)]
    rng = np.random.default_rng(1)
    windows = (rng.standard_normal((sessions, 512)) * 3000).astype(np.int16)

    def one_by_one() -> None:
        for vad, w in zip(vads, windows, strict=True):
            vad.prob(w)

    h = np.zeros((1, sessions, 128), np.float32)
    c = h.copy()
    ctx = np.zeros((sessions, 64), np.float32)

    def batched() -> None:
        x = np.concatenate([ctx, windows.astype(np.float32) / 32768.0], axis=1)
        session.run(None, {"input": x, "h": h, "c": c})

    reps = max(200, repeat * 100)
    for label, fn in (("one call per session", one_by_one), ("one batched call", batched)):
        try:
            ms, _ = _time(fn, reps)
        except Exception as exc:  # the ONNX graph may not take a batch
            echo(f"| {label} | n/a | n/a | | {type(exc).__name__}: {str(exc)[:80]} |")
            continue
        med, p95 = _stats(ms)
        echo(f"| {label} | {med * 1000:.0f} | {p95 * 1000:.0f} | | |")


@click.command("speech")
@click.option("--repeat", default=5, show_default=True, help="Timed runs per question and setting.")
@click.option("--sessions", default=4, show_default=True, help="Sessions for the batched VAD figure.")
@click.option("--only", type=click.Choice(["stt", "tts", "vad"]), multiple=True, help="Run only these parts.")
def command(repeat: int, sessions: int, only: tuple[str, ...]) -> None:
    """Latency per core of STT, TTS and VAD settings (compute type, threads, beam, window, batching).

    Run it with `nice` on a shared machine; the figures go into BENCHMARKS.md (Voice).
    """
    from datavox.voice.tts import PiperTts

    parts = set(only or ("stt", "tts", "vad"))
    echo = click.echo
    echo(f"datavox bench speech --repeat {repeat} --sessions {sessions}")
    if "stt" in parts:
        audio = _spoken(PiperTts.load(threads=1))
        seconds = ", ".join(f"{a.size / 16_000:.1f}" for a in audio)
        echo(f"questions: {len(audio)} piper-spoken ({seconds} s)")
        bench_stt(audio, repeat, echo)
    if "tts" in parts:
        bench_tts(repeat, echo)
    if "vad" in parts:
        bench_vad(sessions, repeat, echo)
