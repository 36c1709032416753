"""Barge-in and failures against the FAKE realtime cloud: a clear message for each, no turn lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.cloud.conftest import ScriptBrain, cloud_settings, dial, event_stream, new_session, serve, until
from tests.fakes.realtime_cloud import FakeRealtimeCloud


async def _call(base: str, cloud: FakeRealtimeCloud, events_conv: str | None = None) -> tuple[dict, object]:
    session = (await new_session(base, events_conv)).json()
    page = await dial(base, session)
    await until(lambda: cloud.calls and cloud.sideband_count() == 1, what="the sideband")
    return session, page


async def test_barge_in_mid_tool_cancels_the_query_and_the_next_turn_is_answered(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    brain = ScriptBrain()
    with serve(cloud_settings(tmp_path, cloud, "openai"), brain) as base:
        session = (await new_session(base)).json()
        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            await until(lambda: cloud.calls and cloud.sideband_count() == 1)
            call = cloud.call()
            brain.hold.clear()  # the first query is slow
            first = await asyncio.to_thread(cloud.say, "Who won the most races ever?")
            await until(lambda: brain.asked, what="the tool call")
            first_call_id = next(iter(call.pending_calls))
            second = await asyncio.to_thread(cloud.say, "Who won the 2023 title?")  # the user talks over it
            cancelled = (await events.wait("turn.cancelled"))[0]
            assert cancelled["turn_id"] == first and cancelled["reason"] == "turn_detected"
            assert brain.cancelled, "the running query was not cancelled"
            answers = await events.wait("answer")
            await until(lambda: len([r for r in call.responses if r["status"] == "completed"]) == 3)
            await asyncio.sleep(0.2)
            await page.pc.close()
    # The late result of the first turn was dropped: one answer, for the second turn, and it was spoken.
    assert [a["turn_id"] for a in events.of("answer")] == [second]
    assert answers[0]["answer"]["rows"] == [["Max Verstappen", 575]]
    outputs = {o["call_id"]: json.loads(o["output"]) for o in call.outputs}
    assert "cancelled" in outputs[first_call_id]["error"]  # no function call left pending
    assert not call.pending_calls
    assert call.responses[-1]["output"][0]["text"].startswith("Max Verstappen")  # not a silent bot
    creates = [e for e in call.received if e["type"] == "response.create"]
    assert len(creates) == 1  # only the live turn asked for a spoken answer


async def test_a_refused_key_says_so(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    cloud.fail("client_secrets", 401)
    with serve(cloud_settings(tmp_path, cloud, "azure"), ScriptBrain()) as base:
        res = await new_session(base)
    assert res.status_code == 503
    assert res.json()["detail"]["code"] == "cloud_auth"
    assert "realtime key" in res.json()["detail"]["message"]


async def test_429_and_500_are_retried_then_explained(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    with serve(cloud_settings(tmp_path, cloud, "openai"), ScriptBrain()) as base:
        cloud.fail("client_secrets", 429, times=1, retry_after="0")
        cloud.fail("client_secrets", 500, times=1)
        ok = await new_session(base)
        assert ok.status_code == 200  # two failures, then the third attempt went through
        cloud.fail("client_secrets", 429, times=3, retry_after="0")
        busy = await new_session(base)
        assert busy.status_code == 429 and busy.headers["retry-after"]
        assert busy.json()["detail"]["code"] == "cloud_rate_limited"
        cloud.fail("client_secrets", 500, times=3)
        failed = await new_session(base)
        assert failed.status_code == 502
        assert "type your question" in failed.json()["detail"]["message"]
    minted = [r for r in cloud.requests if r.path.endswith("client_secrets")]
    assert len(minted) == 3 + 3 + 3


async def test_an_expired_secret_is_a_clear_401_for_the_page(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    with serve(cloud_settings(tmp_path, cloud, "azure"), ScriptBrain()) as base:
        session = (await new_session(base)).json()
        cloud.expire_secrets()
        page = await dial(base, session)
        await page.pc.close()
    assert page.answer_status == 401  # web/src/realtime.ts turns a 401 into "secret_expired"
    assert page.received[-1]["body"]["error"]["code"] == "secret_expired"
    assert "Press talk again" in page.received[-1]["body"]["error"]["message"]


async def test_a_dropped_sideband_is_rejoined_and_the_turn_goes_on(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    with serve(cloud_settings(tmp_path, cloud, "openai"), ScriptBrain()) as base:
        session, page = await _call(base, cloud)
        async with event_stream(base, session["conversation_id"]) as events:
            await asyncio.to_thread(cloud.drop_sidebands)
            await until(lambda: cloud.sideband_count() == 1, what="the sideband to come back")
            await asyncio.sleep(0.1)
            await asyncio.to_thread(cloud.say, "Who won the 2023 title?")
            await events.wait("answer")
            # Now the cloud refuses every re-join: the user is told, the stored turn stays.
            cloud.fail("sideband", 1008, times=10)
            await asyncio.to_thread(cloud.drop_sidebands)
            error = (await events.wait("error", timeout=15))[0]
            assert error["code"] == "cloud_dropped"
            assert "Press talk" in error["message"] and "conversation is kept" in error["message"]
        await page.pc.close()  # type: ignore[attr-defined]
        import httpx
        from tests.cloud.conftest import TOKEN

        async with httpx.AsyncClient() as http:
            stored = await http.get(
                f"{base}/api/conversations/{session['conversation_id']}",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    turns = stored.json()["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert turns[1]["rows"] == [["Max Verstappen", 575]]


async def test_a_provider_error_event_reaches_the_user(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    with serve(cloud_settings(tmp_path, cloud, "azure"), ScriptBrain()) as base:
        session, page = await _call(base, cloud)
        async with event_stream(base, session["conversation_id"]) as events:
            cloud.send_error("server_error", "FAKE internal error")
            error = (await events.wait("error"))[0]
        await page.pc.close()  # type: ignore[attr-defined]
    assert error["code"] == "cloud_server_error"
    assert "Ask again" in error["message"]
    assert "FAKE internal error" not in error["message"]  # provider text is not shown as is


async def test_a_new_session_carries_the_last_turns_of_the_conversation(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    settings = cloud_settings(tmp_path, cloud, "openai", history_turns=2)
    with serve(settings, ScriptBrain()) as base:
        session, page = await _call(base, cloud)
        conv = session["conversation_id"]
        async with event_stream(base, conv) as events:
            await asyncio.to_thread(cloud.say, "Who won the 2023 title?")
            await events.wait("answer")
        await page.pc.close()  # type: ignore[attr-defined]
        renewed = (await new_session(base, conv)).json()
        second = await dial(base, renewed)
        await until(lambda: len(cloud.calls) == 2 and cloud.sideband_count() == 1)
        call = cloud.call()
        await until(lambda: len([e for e in call.received if e["type"] == "conversation.item.create"]) == 2)
        await second.pc.close()
    seeded = [e["item"] for e in call.received if e["type"] == "conversation.item.create"]
    assert [(i["role"], i["content"][0]["text"]) for i in seeded] == [
        ("user", "Who won the 2023 title?"),
        ("assistant", "Max Verstappen won the 2023 title with 575 points."),
    ]


async def test_an_exhausted_rate_limit_holds_new_requests_until_it_resets(cloud: FakeRealtimeCloud) -> None:
    import time

    from datavox.realtime.cloud import CloudClient, CloudTarget

    client = CloudClient(
        CloudTarget("openai", cloud.openai_base, "gpt-realtime", "fake-server-key-0123456789")
    )
    from datavox.server.cloud import CloudService

    CloudService._on_rate_limits(  # type: ignore[arg-type]
        type("S", (), {"client": client})(),
        [{"name": "requests", "limit": 100, "remaining": 0, "reset_seconds": 0.3}],
    )
    started = time.monotonic()
    await client.mint_secret({"type": "realtime", "model": "gpt-realtime"}, 60)
    await client.aclose()
    assert time.monotonic() - started >= 0.25
