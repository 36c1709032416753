"""A real `datavox serve` on a free port with the F1 DuckDB, and headless Debian chromium with a fake mic.

The microphone is Chromium's fake capture device playing a WAV made with piper at test time
(offline-stack §6 flags). For barge-in the page's mic track is routed through WebAudio, so the test can
play a second WAV into it at the moment the answer starts speaking.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
STATIC_INDEX = REPO_ROOT / "src" / "datavox" / "static" / "index.html"
MIC_RATE = 48_000

# Lets the test add a second utterance to the mic while the page is in a call.
INJECT_SCRIPT = """
(() => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    const real = await original(constraints);
    const ctx = new AudioContext({ sampleRate: 48000 });
    const dest = ctx.createMediaStreamDestination();
    ctx.createMediaStreamSource(real).connect(dest);
    window.__injectWav = async (b64) => {
      if (ctx.state !== "running") await ctx.resume();
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const buffer = await ctx.decodeAudioData(bytes.buffer);
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(dest);
      source.start();
      return buffer.duration;
    };
    return dest.stream;
  };
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def speech_wav(text: str, *, lead_s: float = 2.5, tail_s: float = 1.5) -> bytes:
    """`text` spoken by piper (joe-medium), as 48 kHz mono 16-bit WAV bytes with silence around it.

    Chromium's fake microphone starts playing the file when the page opens it, before the call is
    connected: the lead silence covers the connection's set-up, which takes over half a second on a loaded
    machine (a 0.6 s lead lost "Who won the" and the test heard "2021 Drivers Championship").
    """
    from datavox.voice.tts import PiperTts

    tts = PiperTts.load(threads=1)
    pcm = np.frombuffer(tts.synthesize(text, steady=True), dtype=np.int16).astype(np.float32)
    n_out = int(len(pcm) * MIC_RATE / tts.sample_rate)
    resampled = np.interp(np.linspace(0, len(pcm) - 1, n_out), np.arange(len(pcm)), pcm)
    audio = np.concatenate(
        [np.zeros(int(lead_s * MIC_RATE)), resampled * 0.8, np.zeros(int(tail_s * MIC_RATE))]
    ).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(MIC_RATE)
        w.writeframes(audio.tobytes())
    return buf.getvalue()


def wav_b64(text: str) -> str:
    return base64.b64encode(speech_wav(text, lead_s=0.1, tail_s=1.0)).decode()


def _require() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make system-deps)")
    if not STATIC_INDEX.is_file():
        pytest.skip("the web page is not built (make web-build)")
    external = os.environ.get("DATAVOX_E2E_URL")  # a server started by hand, for debugging the page
    if not external and importlib.util.find_spec("datavox.brain.brain") is None:
        pytest.skip("the brain (datavox.brain.brain) is not installed yet")


@pytest.fixture(scope="session")
def f1_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require()
    if os.environ.get("DATAVOX_E2E_URL"):
        return Path("/nonexistent")
    from tests.brain.dbbuild import build_f1

    return build_f1(tmp_path_factory.mktemp("f1") / "f1.duckdb")


@contextmanager
def serve(
    f1_db: Path, work: Path, *, log_name: str, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """`datavox serve` in a subprocess; yields its URL once /healthz answers (models are loaded by then)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAVOX_")}
    env |= {
        "DATAVOX_DATABASE_URL": f"duckdb:///{f1_db}",
        "DATAVOX_DATABASE_AUDIT_LOG": str(work / "audit.jsonl"),
        "DATAVOX_SERVER_APP_DB": str(work / "app.sqlite"),
        "DATAVOX_LLM_PROVIDER": "none",
        **(extra_env or {}),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "datavox.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--engine", "local"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"datavox serve exited with {proc.returncode}; see {log_path}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("datavox serve did not come up within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(f1_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("DATAVOX_E2E_URL"):  # a server started by hand, for debugging the page
        yield os.environ["DATAVOX_E2E_URL"].rstrip("/")
        return
    with serve(f1_db, tmp_path_factory.mktemp("serve"), log_name="e2e-serve.log") as url:
        yield url


@pytest.fixture(scope="session")
def mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require()
    path = tmp_path_factory.mktemp("mic") / "question.wav"
    path.write_bytes(speech_wav("Who won the 2021 drivers' championship?"))
    return path


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is open, which
# would break every asyncio test collected after the browser tests.
@pytest.fixture(scope="package")
def browser(mic_wav: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic_wav}%noloop",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
