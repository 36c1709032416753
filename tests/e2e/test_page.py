"""The page in a real browser against `datavox serve`: typed and spoken questions, audio, barge-in."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import INJECT_SCRIPT, wav_b64

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WAIT_MS = 90_000  # two shared CPU cores run whisper, piper and the brain: be patient, not flaky


def open_page(browser: Any, url: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(INJECT_SCRIPT)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("text=Live", timeout=20_000)  # the app event stream is connected
    return page


def log_types(page: Any) -> list[str]:
    return list(page.locator(".log-lines .type").all_text_contents())


def test_typed_question_shows_sql_rows_and_answer(browser: Any, server: str, artifacts: Path) -> None:
    page = open_page(browser, server)
    page.get_by_label("Type a question").fill("Who won the 2021 drivers' championship?")
    page.get_by_role("button", name="Ask").click()
    turn = page.locator(".turn").last
    turn.locator("table").wait_for(timeout=WAIT_MS)
    assert "SELECT" in turn.locator(".sql pre").inner_text().upper()
    assert turn.locator("tbody tr").count() >= 1
    answer = turn.get_by_test_id("assistant-text").inner_text()
    assert "Verstappen" in answer, answer
    assert "Question → answer" in turn.inner_text()
    # A category against a number gets a chart, drawn from whatever columns the result has.
    page.get_by_label("Type a question").fill("Top 5 constructors by race wins")
    page.get_by_label("Type a question").press("Enter")  # the keyboard works too
    turn = page.locator(".turn").nth(1)
    turn.locator("figure.chart svg[data-kind=bar]").wait_for(timeout=WAIT_MS)
    assert turn.locator("tbody tr").count() == 5
    assert turn.locator("rect.chart-bar").count() == 5
    page.screenshot(path=str(artifacts / "page-typed-1280.png"), full_page=True)
    # A reload shows the same conversation from the server's store.
    page.reload()
    page.locator(".turn table").first.wait_for(timeout=20_000)
    assert "Verstappen" in page.locator(".turn").first.inner_text()
    page.context.close()


def bytes_received(page: Any) -> int:
    return int(
        page.evaluate(
            """async () => {
                const pc = window.__datavox && window.__datavox.pc();
                if (!pc) return 0;
                let total = 0;
                (await pc.getStats()).forEach((r) => {
                    if (r.type === "inbound-rtp" && r.kind === "audio") total += r.bytesReceived || 0;
                });
                return total;
            }"""
        )
    )


def test_spoken_question_then_barge_in(browser: Any, server: str, artifacts: Path) -> None:
    page = open_page(browser, server)
    page.get_by_role("button", name="Start talking").click()
    page.wait_for_selector("[data-testid=call-status]:text-matches('Listening|Answering')", timeout=30_000)

    # 1. The fake mic's WAV: transcript, SQL, rows, the answer's text, and its audio.
    first = page.locator(".turn").first
    page.wait_for_function(
        "() => [...document.querySelectorAll('.turn .bubble.user:not(.partial) p')]"
        ".some((p) => /2021/.test(p.textContent))",
        timeout=WAIT_MS,
    )
    first.locator("table").wait_for(timeout=WAIT_MS)
    assert "SELECT" in first.locator(".sql pre").inner_text().upper()
    assert first.locator("tbody tr").count() >= 1
    page.wait_for_function(
        "() => /Verstappen/i.test("
        "document.querySelector('.turn [data-testid=assistant-text]')?.textContent ?? '')",
        timeout=WAIT_MS,
    )
    page.wait_for_function("() => window.__datavox.remotePeak() > 0.005", timeout=WAIT_MS)
    deadline = time.monotonic() + 30
    while bytes_received(page) < 5_000:  # Opus frames of the spoken answer
        assert time.monotonic() < deadline, "no answer audio arrived over WebRTC"
        page.wait_for_timeout(200)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.log-lines .type')]"
        ".some((e) => e.textContent === 'output_audio_buffer.stopped')",  # the whole answer was heard
        timeout=WAIT_MS,
    )
    assert page.locator(".turn .tag").count() == 0  # nothing was interrupted yet
    page.screenshot(path=str(artifacts / "page-1280.png"), full_page=True)

    # 2. A second question, and a third WAV spoken while its answer plays: the answer stops.
    started_before = log_types(page).count("output_audio_buffer.started")
    page.evaluate(
        "(b64) => window.__injectWav(b64)", wav_b64("How many races did Lewis Hamilton win in 2020?")
    )
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.log-lines .type')]"
        ".filter((e) => e.textContent === 'output_audio_buffer.started').length > n",
        arg=started_before,
        timeout=WAIT_MS,
    )
    page.evaluate("(b64) => window.__injectWav(b64)", wav_b64("Who won the 2019 constructors' championship?"))
    page.locator(".turn").nth(1).locator(".tag", has_text="interrupted").wait_for(timeout=WAIT_MS)
    types = log_types(page)
    assert "output_audio_buffer.cleared" in types or "turn.cancelled" in types, types[-30:]
    page.wait_for_function(
        "() => [...document.querySelectorAll('.turn .bubble.user:not(.partial) p')]"
        ".some((p) => /2019/.test(p.textContent))",
        timeout=WAIT_MS,
    )
    last = page.locator(".turn").last
    last.locator("table").wait_for(timeout=WAIT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.turn')].pop()"
        ".querySelector('[data-testid=assistant-text]')?.textContent.trim().length > 0",
        timeout=WAIT_MS,
    )

    # 3. The stop button: response.cancel (if it still runs) and output_audio_buffer.clear.
    started_before = log_types(page).count("output_audio_buffer.started")
    page.evaluate("(b64) => window.__injectWav(b64)", wav_b64("Which drivers have the most pole positions?"))
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.log-lines .type')]"
        ".filter((e) => e.textContent === 'output_audio_buffer.started').length > n",
        arg=started_before,
        timeout=WAIT_MS,
    )
    page.get_by_role("button", name="Stop answer").click()
    assert "output_audio_buffer.clear" in log_types(page)
    page.locator(".turn").nth(3).locator(".tag", has_text="interrupted").wait_for(timeout=10_000)

    page.screenshot(path=str(artifacts / "page-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "page-390.png"), full_page=True)
    page.get_by_role("button", name="End conversation").click()
    page.context.close()


def alert_after_start(page: Any) -> str:
    page.get_by_role("button", name="Start talking").click()
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=20_000)
    text = str(alert.inner_text())
    page.get_by_role("button", name="Dismiss this message").click()
    return text


def test_errors_are_explained(browser: Any, server: str) -> None:
    page = open_page(browser, server)
    # Engine busy: the session limit, as the server words it.
    busy = {"detail": {"code": "engine_busy", "message": "Try again in a minute, or type your question."}}
    page.route("**/api/realtime/session", lambda r: r.fulfill(status=429, json=busy))
    assert "busy" in alert_after_start(page)
    # With the engine's Retry-After: "Voice is busy. Type your question below, or try again in 12 s."
    page.unroute("**/api/realtime/session")
    page.route(
        "**/api/realtime/session",
        lambda r: r.fulfill(status=429, json=busy, headers={"Retry-After": "12"}),
    )
    text = alert_after_start(page)
    assert "Voice is busy" in text and "Type your question" in text and "try again in 12 s" in text
    # Secret expired before the call started.
    page.unroute("**/api/realtime/session")
    expired = {"error": {"type": "invalid_request_error", "code": "expired_api_key", "message": "expired"}}
    page.route("**/v1/realtime/calls", lambda r: r.fulfill(status=401, json=expired))
    assert "expired" in alert_after_start(page)
    page.unroute("**/v1/realtime/calls")
    # Server unreachable.
    page.route("**/api/realtime/session", lambda r: r.abort())
    assert "cannot be reached" in alert_after_start(page)
    page.context.close()


def test_microphone_denied_is_explained(browser: Any, server: str) -> None:
    from tests.e2e.conftest import CHROMIUM

    # Without --use-fake-ui-for-media-stream, headless chromium denies the microphone.
    args = ["--no-sandbox", "--use-fake-device-for-media-stream"]
    denied = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        page = denied.new_page()
        page.goto(server)
        page.wait_for_selector("text=Live", timeout=20_000)
        text = alert_after_start(page)
    finally:
        denied.close()
    assert "microphone is blocked" in text and "type your question" in text


def test_a_token_protected_server_asks_for_the_token_once(
    browser: Any, f1_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.e2e.conftest import serve

    token = "e2e-token-0123456789"
    work = tmp_path_factory.mktemp("serve-token")
    with serve(f1_db, work, log_name="e2e-serve-token.log", extra_env={"DATAVOX_API_TOKEN": token}) as url:
        page = browser.new_page()
        page.goto(url)
        page.get_by_label("Access token").fill(token)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_selector("text=Live", timeout=20_000)
        page.get_by_label("Type a question").fill("How many races did Lewis Hamilton win in 2020?")
        page.get_by_role("button", name="Ask").click()
        page.locator(".turn table").wait_for(timeout=WAIT_MS)
        assert token not in page.content()
        # Kept for this tab only: a reload needs no new paste.
        page.reload()
        page.wait_for_selector("text=Live", timeout=20_000)
        assert page.get_by_label("Access token").count() == 0
        page.close()
    from tests.e2e.conftest import ARTIFACTS

    assert token not in (ARTIFACTS / "e2e-serve-token.log").read_text(encoding="utf-8", errors="replace")


def test_server_log_holds_no_secrets(server: str) -> None:
    """Run last: what `datavox serve` logged during the calls above names no secret."""
    from tests.e2e.conftest import ARTIFACTS

    text = (ARTIFACTS / "e2e-serve.log").read_text(encoding="utf-8", errors="replace")
    assert "ek_" not in text.replace("ek_****", "")
    assert "Bearer " not in text.replace("Bearer ****", "")
