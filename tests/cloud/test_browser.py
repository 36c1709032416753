"""End to end: chromium (fake mic playing a piper WAV) → `datavox serve` → the FAKE Azure cloud, both connect
ways. The fake hears the audio over WebRTC and "transcribes" it by its length; datavox answers the tool call
from the real F1 database; the page shows the SQL, the rows and what the model said."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cloud.conftest import KEY
from tests.e2e.conftest import CHROMIUM, STATIC_INDEX, free_port, speech_wav
from tests.fakes.realtime_cloud import FakeRealtimeCloud

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
QUESTION = "Who won the 2021 drivers' championship?"


@pytest.fixture(scope="module")
def f1_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.brain.conftest import F1_DIR, _import, build_f1

    if not Path(CHROMIUM).exists() or not STATIC_INDEX.is_file():
        pytest.skip("needs Debian chromium and the built page (make system-deps web-build)")
    if not F1_DIR.is_dir():
        pytest.skip(f"F1DB is not at {F1_DIR}")
    path = tmp_path_factory.mktemp("f1") / "f1.duckdb"
    if not _import(f"duckdb:///{path}", [F1_DIR], strip_prefix="f1db-"):
        build_f1(path)
    return path


def serve(
    f1: Path, work: Path, cloud: FakeRealtimeCloud, connect: str, extra: dict[str, str] | None = None
) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAVOX_", "AZURE_", "OPENAI_"))}
    env |= {
        "DATAVOX_DATABASE_URL": f"duckdb:///{f1}",
        "DATAVOX_DATABASE_AUDIT_LOG": "",
        "DATAVOX_SERVER_APP_DB": str(work / "app.sqlite"),
        "DATAVOX_LLM_PROVIDER": "none",
        "DATAVOX_REALTIME_ENGINE": "azure",
        "DATAVOX_REALTIME_AZURE_ENDPOINT": cloud.azure_endpoint,
        "DATAVOX_REALTIME_AZURE_DEPLOYMENT": "gpt-realtime-dep",
        "DATAVOX_REALTIME_CONNECT": connect,
        "DATAVOX_REALTIME_FALLBACK": "none",
        "AZURE_OPENAI_API_KEY": KEY,
    } | (extra or {})
    log = (work / "serve.log").open("w")
    cmd = [sys.executable, "-m", "datavox.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (work / "serve.log").read_text()
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "datavox serve did not start"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    assert KEY not in (work / "serve.log").read_text()


def chromium_args(wav: Path) -> list[str]:
    return [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]


@pytest.mark.parametrize("connect", ["relay", "direct"])
def test_a_spoken_question_through_the_fake_cloud(f1_path: Path, tmp_path: Path, connect: str) -> None:
    from playwright.sync_api import sync_playwright

    wav = tmp_path / "question.wav"
    wav.write_bytes(speech_wav(QUESTION))
    args = chromium_args(wav)
    with FakeRealtimeCloud(key=KEY, transcripts={2.5: QUESTION}) as cloud:
        for url in serve(f1_path, tmp_path, cloud, connect):
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
                page: Any = browser.new_page()
                page.goto(url)
                page.wait_for_selector("text=Live", timeout=20_000)
                assert "Azure OpenAI" in page.get_by_test_id("engine").inner_text()
                page.get_by_role("button", name="Start talking").click()
                turn = page.locator(".turn").last
                turn.locator("table").wait_for(timeout=60_000)
                assert "SELECT" in turn.locator(".sql pre").inner_text().upper()
                assert "Verstappen" in turn.locator("tbody").inner_text()
                page.wait_for_function(
                    "() => [...document.querySelectorAll('[data-testid=assistant-text]')]"
                    ".some(e => e.textContent.includes('Verstappen'))",
                    timeout=30_000,
                )
                assert QUESTION.rstrip("?") in turn.get_by_test_id("user-text").inner_text()
                browser.close()
    call = list(cloud.calls.values())[-1]
    assert not call.pending_calls
    assert len(call.sidebands) in (0, 1)
    calls_req = next(r for r in cloud.requests if r.path.endswith("/realtime/calls"))
    assert calls_req.headers["authorization"].startswith("Bearer ek_")
    if connect == "direct":
        assert calls_req.headers.get("origin", "").startswith("http://127.0.0.1")  # the page dialed the cloud
    else:
        assert "origin" not in calls_req.headers  # datavox relayed it


def record_session(sessions: list[dict[str, Any]], response: Any) -> None:
    if response.url.endswith("/api/realtime/session"):
        sessions.append(response.json())


def test_a_slow_cloud_shows_the_switch_to_the_local_engine(f1_path: Path, tmp_path: Path) -> None:
    """The FAKE cloud takes 400 ms per response: after the first answer the running average is over the
    limit, the page says the local engine answers now and why, and its next session is a local one."""
    from playwright.sync_api import sync_playwright

    wav = tmp_path / "question.wav"
    wav.write_bytes(speech_wav(QUESTION))
    slow = {
        "DATAVOX_REALTIME_FALLBACK": "local",
        "DATAVOX_REALTIME_FALLBACK_MS": "200",
        "DATAVOX_REALTIME_FALLBACK_WINDOW": "1",
    }
    sessions: list[dict[str, Any]] = []  # what the page got from POST /api/realtime/session
    with FakeRealtimeCloud(key=KEY, transcripts={2.5: QUESTION}, delay_s=0.4) as cloud:
        for url in serve(f1_path, tmp_path, cloud, "relay", slow):
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args(wav))
                page: Any = browser.new_page()
                page.on("response", functools.partial(record_session, sessions))
                page.goto(url)
                page.wait_for_selector("text=Live", timeout=20_000)
                assert "Azure OpenAI" in page.get_by_test_id("engine").inner_text()
                page.get_by_role("button", name="Start talking").click()
                page.locator(".turn").last.locator("table").wait_for(timeout=60_000)
                page.wait_for_function(
                    "() => (document.querySelector('[data-testid=engine]')?.textContent ?? '')"
                    ".includes('Local')",
                    timeout=30_000,
                )
                reason = page.get_by_test_id("engine-reason").inner_text()
                assert "over the 200 ms limit" in reason
                # The page ends the cloud call once the answer is spoken and asks for the next session,
                # which the server gives to the local engine with the same conversation.
                deadline = time.monotonic() + 60
                while not any(s.get("engine") == "local" for s in sessions):
                    if time.monotonic() > deadline:
                        page.locator("details.event-log summary").click()
                        log = page.locator("ol.log-lines").inner_text()
                        raise AssertionError(f"no local session after the switch; page log: {log[-3000:]}")
                    page.wait_for_timeout(250)
                browser.close()
    assert sessions[0]["engine"] == "azure"
    local = next(s for s in sessions if s.get("engine") == "local")
    assert local["conversation_id"] == sessions[0]["conversation_id"]
    assert "over the 200 ms limit" in local.get("fallback_reason", "")
