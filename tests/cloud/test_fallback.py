"""Fallback to the local engine when the (FAKE) cloud is slow or down, and back when it recovers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.cloud.conftest import ScriptBrain, cloud_settings, dial, event_stream, new_session, serve, until
from tests.fakes.realtime_cloud import FakeRealtimeCloud
from tests.server.conftest import FakeEngine

from datavox.realtime.costs import TurnUsage
from datavox.realtime.fallback import EngineChooser


async def test_a_slow_cloud_hands_the_next_session_to_the_local_engine_and_gets_it_back(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    cloud.delay_s = 0.3  # the FAKE model takes 300 ms before each response
    settings = cloud_settings(
        tmp_path, cloud, "openai", fallback="local", fallback_ms=200, fallback_window=1, retry_cloud_s=2
    )
    local = FakeEngine()
    with serve(settings, ScriptBrain(), engine=local) as base:
        session = (await new_session(base)).json()
        assert session["engine"] == "openai"
        conv = session["conversation_id"]
        async with event_stream(base, conv) as events:
            page = await dial(base, session)
            await until(lambda: cloud.calls and cloud.sideband_count() == 1)
            await asyncio.to_thread(cloud.say, "Who won the 2023 title?")
            switch = await until(
                lambda: [e for e in events.of("engine") if e["engine"] == "local"], what="the switch"
            )
            await page.pc.close()
        assert "ms on average, over the 200 ms limit" in switch[0]["reason"]
        timings = events.of("timings")[0]["timings_ms"]
        assert timings["cloud_model_ms"] >= 500  # two model responses of 300 ms each

        fallback = (await new_session(base, conv)).json()  # same conversation, same brain
        assert fallback["engine"] == "local" and fallback["conversation_id"] == conv
        assert "over the 200 ms limit" in fallback["fallback_reason"]
        assert local.minted[-1]["conversation_id"] == conv

        await asyncio.sleep(2.1)
        cloud.delay_s = 0.0
        back = (await new_session(base, conv)).json()
        assert back["engine"] == "openai"


async def test_an_unreachable_cloud_falls_back_at_once(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    settings = cloud_settings(tmp_path, cloud, "azure", fallback="local", retry_cloud_s=60)
    with serve(settings, ScriptBrain(), engine=FakeEngine()) as base:
        cloud.fail("client_secrets", 500, times=3)
        first = (await new_session(base)).json()
        assert first["engine"] == "local"
        assert "unreachable" in first["fallback_reason"]
        second = (await new_session(base)).json()  # no new attempt while retry_cloud_s runs
        assert second["engine"] == "local"
    assert len([r for r in cloud.requests if r.path.endswith("client_secrets")]) == 3


def test_the_running_average_decides() -> None:
    now = [0.0]
    chooser = EngineChooser(fallback_ms=600, window=3, retry_s=30, clock=lambda: now[0])
    assert chooser.record(500) is None and chooser.record(700) is None  # average 600: not over
    assert chooser.record(900) is not None  # average 700
    assert chooser.choose()[0] == "local"
    now[0] = 31.0
    assert chooser.choose() == ("cloud", "")
    off = EngineChooser(fallback_ms=1, window=1, retry_s=30, enabled=False)
    assert off.record(10_000) is None and off.choose()[0] == "cloud"


def test_cost_from_usage_and_the_price_table() -> None:
    from datavox.config import RealtimeSettings

    usage = TurnUsage()
    usage.add(
        {
            "input_token_details": {"text_tokens": 1000, "audio_tokens": 2000, "cached_tokens": 500},
            "output_token_details": {"text_tokens": 100, "audio_tokens": 1000},
        }
    )
    rt = RealtimeSettings()
    expected = (500 * 4.0 + 2000 * 32.0 + 500 * 0.4 + 100 * 16.0 + 1000 * 64.0) / 1e6
    assert usage.cost_usd(rt) == round(expected, 6)
