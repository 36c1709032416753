"""Connect ways, orchestration modes, Entra auth, the real F1 database, no leaked key (FAKE cloud)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from tests.cloud.conftest import (
    KEY,
    TOKEN,
    ScriptBrain,
    cloud_settings,
    dial,
    event_stream,
    new_session,
    serve,
    until,
)
from tests.fakes.realtime_cloud import FakeRealtimeCloud

from datavox.realtime.cloud import CloudClient, CloudTarget, session_config


async def test_direct_connect_the_page_dials_the_cloud_and_datavox_joins(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    with serve(cloud_settings(tmp_path, cloud, "azure", connect="direct"), ScriptBrain()) as base:
        session = (await new_session(base)).json()
        assert session["secret"].startswith("ek_")  # ephemeral, 60 s; never the key
        assert session["calls_url"] == f"{cloud.azure_endpoint}/openai/v1/realtime/calls?webrtcfilter=on"
        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            assert page.answer_status == 201
            call_id = page.location.rsplit("/", 1)[-1]
            async with httpx.AsyncClient() as http:
                bad = await http.post(
                    base + session["attach_url"],
                    json={"call_id": call_id, "secret": "ek_forged_secret", "conversation_id": "c1"},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                assert bad.status_code == 401
                ok = await http.post(
                    base + session["attach_url"],
                    json={
                        "call_id": call_id,
                        "secret": session["secret"],
                        "conversation_id": session["conversation_id"],
                    },
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                assert ok.status_code == 204
            await until(lambda: cloud.sideband_count(call_id) == 1)
            await asyncio.to_thread(cloud.say, "Who won the 2023 title?", call_id)
            answer = (await events.wait("answer"))[0]
            await page.pc.close()
    assert answer["answer"]["rows"] == [["Max Verstappen", 575]]


async def test_classify_mode_fetches_first_then_lets_the_model_speak(
    tmp_path: Path, cloud: FakeRealtimeCloud
) -> None:
    brain = ScriptBrain()
    with serve(cloud_settings(tmp_path, cloud, "openai", orchestration="classify"), brain) as base:
        session = (await new_session(base)).json()
        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            await until(lambda: cloud.calls and cloud.sideband_count() == 1)
            call = cloud.call()
            await asyncio.to_thread(cloud.say, "Who won the 2023 title?")
            await events.wait("answer")
            await until(lambda: len(call.responses) == 1)
            await asyncio.to_thread(cloud.say, "hello there")
            await until(lambda: len(call.responses) == 2)
            await page.pc.close()
    minted = next(r for r in cloud.requests if r.path.endswith("client_secrets"))
    assert "tools" not in minted.body["session"]
    assert minted.body["session"]["audio"]["input"]["turn_detection"]["create_response"] is False
    assert call.responses[0]["output"][0]["text"] == "Max Verstappen won the 2023 title with 575 points."
    assert call.responses[1]["output"][0]["text"].startswith("Hello")  # small talk: no data, one answer
    assert [q for q, _ in brain.asked] == ["Who won the 2023 title?", "hello there"]
    assert len(events.of("answer")) == 1


async def test_entra_bearer_instead_of_a_key(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    settings = cloud_settings(tmp_path, cloud, "azure", azure_auth="entra")
    settings = replace(settings, secrets=replace(settings.secrets, realtime_api_key=""))
    target = CloudTarget.from_settings(settings, token_provider=lambda: "entra-token-xyz")
    client = CloudClient(target)
    minted = await client.mint_secret(session_config(settings, model=target.model, voice="marin"), 60)
    await client.aclose()
    assert minted["value"].startswith("ek_")
    sent = cloud.requests[-1]
    assert sent.headers["authorization"] == "Bearer entra-token-xyz" and "api-key" not in sent.headers
    assert sent.path == "/openai/v1/realtime/client_secrets" and not sent.query


@pytest.fixture(scope="module")
def f1_brain(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.brain.conftest import F1_DIR, _import, build_f1, settings_for

    from datavox.brain.brain import Brain

    if not F1_DIR.is_dir():
        pytest.skip(f"F1DB is not at {F1_DIR}")
    path = tmp_path_factory.mktemp("f1") / "f1.duckdb"
    if not _import(f"duckdb:///{path}", [F1_DIR], strip_prefix="f1db-"):
        build_f1(path)
    brain = Brain.from_settings(settings_for(path), engine="offline")
    yield brain
    brain.close()


async def test_the_tool_answers_from_the_real_f1_database_and_no_key_leaks(
    tmp_path: Path, cloud: FakeRealtimeCloud, f1_brain: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(cloud_settings(tmp_path, cloud, "azure"), f1_brain) as base:
        res = await new_session(base)
        session = res.json()
        async with httpx.AsyncClient() as http:
            config = await http.get(base + "/api/config", headers={"Authorization": f"Bearer {TOKEN}"})
        async with event_stream(base, session["conversation_id"]) as events:
            page = await dial(base, session)
            await until(lambda: cloud.calls and cloud.sideband_count() == 1)
            call = cloud.call()
            await asyncio.to_thread(cloud.say, "Who won the 2021 drivers championship?")
            answer = (await events.wait("answer", timeout=30))[0]["answer"]
            await until(lambda: len(call.responses) == 2, timeout=30)
            cloud.send_error("server_error", "FAKE")
            await events.wait("error")
            await page.pc.close()
    assert "Verstappen" in json.dumps(answer["rows"]) and answer["sql"]
    assert "Verstappen" in call.responses[-1]["output"][0]["text"]  # the model said what the tool found
    assert config.json()["realtime_available"] is True and config.json()["engine"] == "azure"
    to_page = [res.text, config.text, json.dumps(events.items), json.dumps(page.received)]
    minted_secret = next(iter(cloud.secrets))
    for text in to_page:
        assert KEY not in text
        assert minted_secret not in text  # relay mode: not even the ephemeral secret
    for record in caplog.records:
        assert KEY not in record.getMessage() and minted_secret not in record.getMessage()
