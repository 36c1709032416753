"""A real browser (headless Chromium) on the WebRTC path: fake microphone playing a piper-made question,
data channel `oai-events`, SDP posted to `/v1/realtime/calls`, the answer on the remote track."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from tests.voice.test_real_models import QUESTION, VOCABULARY, fixed_brain

from datavox.config import Settings
from datavox.voice.audio import from_bytes, resample
from datavox.voice.clients import mint, serve_in_thread, speech_end
from datavox.voice.engine import LocalRealtimeEngine
from datavox.voice.models import get_models

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><html><body><script>
window.events = [];
window.heard = 0;
async function call(secret) {
  const pc = new RTCPeerConnection();
  const mic = await navigator.mediaDevices.getUserMedia(
    {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const dc = pc.createDataChannel("oai-events");
  dc.onmessage = (e) => window.events.push(JSON.parse(e.data));
  pc.ontrack = (e) => {
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(e.streams[0]);
    const an = ctx.createAnalyser(); src.connect(an);
    const buf = new Float32Array(an.fftSize);
    setInterval(() => { an.getFloatTimeDomainData(buf);
      const peak = buf.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      if (peak > 0.02) window.heard += 1; }, 20);
    const el = document.createElement("audio"); el.srcObject = e.streams[0]; el.muted = true; el.play();
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => { if (pc.iceGatheringState === "complete") ok();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && ok(); });
  const r = await fetch("/v1/realtime/calls", {method: "POST", body: pc.localDescription.sdp,
    headers: {"Authorization": "Bearer " + secret, "Content-Type": "application/sdp"}});
  if (r.status !== 201) return "HTTP " + r.status + " " + await r.text();
  await pc.setRemoteDescription({type: "answer", sdp: await r.text()});
  window.pc = pc;
  return "ok";
}
</script></body></html>"""


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make system-deps)")
@pytest.mark.timeout(180)
async def test_chromium_holds_a_spoken_turn(tmp_path: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api")
    async_playwright = async_api.async_playwright

    models = get_models(Settings())
    speech = resample(
        from_bytes(models.tts.synthesize(QUESTION, steady=True)), models.tts.sample_rate, 48_000
    )
    speech = speech[: speech_end(speech, 48_000) + 4800]
    mic = tmp_path / "mic.wav"
    write_wav(
        mic, np.concatenate([np.zeros(48_000, np.int16), speech, np.zeros(48_000 * 8, np.int16)]), 48_000
    )
    engine = LocalRealtimeEngine(Settings(), fixed_brain, models=models, loopback=True, vocabulary=VOCABULARY)

    def page(app: FastAPI) -> None:
        app.add_api_route("/", lambda: HTMLResponse(PAGE))

    with serve_in_thread(engine, setup=page) as base:
        secret = await mint(base)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={mic}%noloop",
                    "--allow-loopback-in-peer-connection",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            tab = await browser.new_page()
            await tab.goto(base + "/")
            assert await tab.evaluate("(s) => call(s)", secret) == "ok"
            events: list[dict[str, Any]] = []
            async with asyncio.timeout(40):
                while not any(e["type"] == "output_audio_buffer.stopped" for e in events):
                    await asyncio.sleep(0.2)
                    events = await tab.evaluate("window.events")
            heard = await tab.evaluate("window.heard")
            await browser.close()
    types = [e["type"] for e in events]
    assert types[0] == "session.created"
    done = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "2021" in done["transcript"] and "championship" in done["transcript"].lower()
    assert next(e for e in events if e["type"] == "response.done")["response"]["status"] == "completed"
    assert heard > 10, "the browser's analyser heard no answer audio"
    await engine.close()
