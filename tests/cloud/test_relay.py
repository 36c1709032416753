"""The cloud engines against the FAKE realtime cloud: session start, the SDP relay and the tool loop."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.cloud.conftest import (
    KEY,
    ScriptBrain,
    cloud_settings,
    dial,
    event_stream,
    new_session,
    serve,
    until,
)
from tests.fakes.realtime_cloud import FakeRealtimeCloud


@pytest.mark.parametrize("kind", ["azure", "openai"])
async def test_a_spoken_question_is_answered_by_the_tool_on_the_server(
    tmp_path: Path, cloud: FakeRealtimeCloud, kind: str
) -> None:
    brain = ScriptBrain()
    with serve(cloud_settings(tmp_path, cloud, kind), brain) as base:
        res = await new_session(base)
        assert res.status_code == 200, res.text
        session = res.json()
        assert session["engine"] == kind
        assert session["calls_url"] == "/api/realtime/calls"
        assert session["secret"].startswith("dvx_")  # datavox's one-time token, no cloud credential
        assert KEY not in res.text and "ek_" not in res.text

        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            assert page.answer_status == 201
            call = await until(lambda: cloud.calls and cloud.call(), what="the call")
            await until(lambda: cloud.sideband_count() == 1, what="the sideband")
            item_id = await _say(cloud, "Who won the 2023 drivers title?")

            answer = (await events.wait("answer"))[0]
            assert answer["turn_id"] == item_id
            assert answer["answer"]["rows"] == [["Max Verstappen", 575]]
            assert answer["answer"]["sql"].startswith("SELECT")
            assert (await events.wait("transcript.final"))[0]["text"] == "Who won the 2023 drivers title?"
            await until(lambda: len(call.responses) == 2, what="the answer response")
            spoken = call.responses[-1]["output"][0]["text"]
            assert spoken == "Max Verstappen won the 2023 title with 575 points."
            assert not call.pending_calls
            timings = (await events.wait("timings"))[0]["timings_ms"]
            assert {"cloud_transcript_ms", "cloud_tool_ms", "cloud_model_ms"} <= set(timings)
            usage = (await events.wait("usage"))[0]["usage"]
            assert usage["output_audio_tokens"] > 0 and usage["cost_usd"] > 0
            await page.pc.close()
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(base + "/metrics")).text
        assert brain.asked[0][0] == "Who won the 2023 drivers title?"
    assert 'datavox_turn_latency_seconds_count{stage="voice_cloud_tool"} 1.0' in metrics
    cost = next(x for x in metrics.splitlines() if x.startswith("datavox_cloud_cost_usd_total "))
    assert float(cost.split()[1]) > 0

    secrets_req = next(r for r in cloud.requests if r.path.endswith("/realtime/client_secrets"))
    calls_req = next(r for r in cloud.requests if r.path.endswith("/realtime/calls"))
    sideband_req = next(r for r in cloud.requests if r.method == "WS")
    if kind == "azure":
        assert secrets_req.path == "/openai/v1/realtime/client_secrets"
        assert secrets_req.headers["api-key"] == KEY and "authorization" not in secrets_req.headers
        assert "api-version" not in secrets_req.query
        assert secrets_req.body["session"]["model"] == "gpt-realtime-dep"  # the deployment name as model
        assert calls_req.query == {"webrtcfilter": "on"}  # tool traffic stays off the browser
        assert sideband_req.headers["api-key"] == KEY
    else:
        assert secrets_req.path == "/v1/realtime/client_secrets"
        assert secrets_req.headers["authorization"] == f"Bearer {KEY}"
        assert secrets_req.body["session"]["model"] == "gpt-realtime"
        assert sideband_req.headers["authorization"] == f"Bearer {KEY}"
    assert calls_req.headers["authorization"].startswith("Bearer ek_")  # the relay uses the ephemeral secret
    assert sideband_req.query["call_id"] == call.id
    session_sent = secrets_req.body["session"]
    assert session_sent["tools"][0]["name"] == "query_database"
    assert session_sent["audio"]["input"]["transcription"]["model"]
    assert session_sent["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert "query_database" in session_sent["instructions"]
    assert 10 <= secrets_req.body["expires_after"]["seconds"] <= 60


async def _say(cloud: FakeRealtimeCloud, text: str) -> str:
    import asyncio

    return await asyncio.to_thread(cloud.say, text)


async def test_azure_hides_the_tool_from_the_browser(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    with serve(cloud_settings(tmp_path, cloud, "azure"), ScriptBrain()) as base:
        session = (await new_session(base)).json()
        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            call = await until(lambda: cloud.calls and cloud.call())
            await until(lambda: cloud.sideband_count() == 1)
            await _say(cloud, "How many races were there in 2021?")
            await events.wait("answer")
            await until(lambda: len(call.responses) == 2)
            await until(
                lambda: any(e["type"] == "response.output_audio_transcript.done" for e in page.received)
            )
            await page.pc.close()
    kinds = {e["type"] for e in page.received}
    # The instructions and the tool's definition and calls stay off the data channel (§3.4 filter)...
    assert not kinds & {"session.created", "session.updated", "response.function_call_arguments.done"}
    assert "query_database" not in json.dumps(
        [e for e in page.received if e["type"] != "conversation.item.added"]
    )
    # ...while the page still gets what it shows: the transcript of the spoken answer.
    assert "response.output_audio_transcript.done" in kinds


async def test_a_relay_token_works_once(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    with serve(cloud_settings(tmp_path, cloud, "openai"), ScriptBrain()) as base:
        session = (await new_session(base)).json()
        first = await dial(base, session)
        second = await dial(base, session)
        assert first.answer_status == 201
        assert second.answer_status == 401
        assert second.received[-1]["body"]["error"]["code"] == "secret_expired"
        await first.pc.close()
        await second.pc.close()
