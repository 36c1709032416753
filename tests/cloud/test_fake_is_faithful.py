"""The official `openai` SDK's realtime client against the FAKE cloud.

The same calls that work against the provider work against the fake, so the fake's shapes are the SDK's
shapes (and datavox's tests mean something).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openai import AsyncOpenAI
from tests.cloud.conftest import KEY
from tests.fakes.realtime_cloud import FakeRealtimeCloud


async def _offer() -> tuple[Any, str]:
    from aiortc import RTCConfiguration, RTCPeerConnection

    from datavox.voice.rtc import SpeechTrack, keep_loopback_candidates, patch_loopback

    patch_loopback()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(SpeechTrack())
    pc.createDataChannel("oai-events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, keep_loopback_candidates(pc.localDescription.sdp)


def _client(cloud: FakeRealtimeCloud, key: str = KEY) -> AsyncOpenAI:
    ws = cloud.openai_base.replace("http://", "ws://")
    return AsyncOpenAI(api_key=key, base_url=cloud.openai_base, websocket_base_url=ws, max_retries=0)


async def test_sdk_mints_dials_and_joins_the_sideband(tmp_path: Path, cloud: FakeRealtimeCloud) -> None:
    server = _client(cloud)
    secret = await server.realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60},
        session={"type": "realtime", "model": "gpt-realtime", "instructions": "Be brief."},
    )
    assert secret.value.startswith("ek_") and secret.expires_at > 0
    assert secret.session.type == "realtime"

    pc, sdp = await _offer()
    browser = _client(cloud, secret.value)  # what a page would do with the ephemeral secret
    raw = await browser.realtime.calls.with_raw_response.create(sdp=sdp)
    assert raw.status_code == 201
    call_id = raw.headers["location"].rsplit("/", 1)[-1]
    assert call_id.startswith("rtc_") and "a=fingerprint" in raw.text

    async with server.realtime.connect(call_id=call_id) as conn:
        created = await conn.recv()
        assert created.type == "session.created"
        tool = {
            "type": "function",
            "name": "query_database",
            "description": "Ask the database.",
            "parameters": {"type": "object", "properties": {"question": {"type": "string"}}},
        }
        await conn.session.update(session={"type": "realtime", "tools": [tool]})
        assert (await conn.recv()).type == "session.updated"
        await cloud_say(cloud, call_id, "How many titles has Lewis Hamilton won?")
        seen: list[str] = []
        call = None
        while True:
            event = await conn.recv()
            seen.append(event.type)
            if event.type == "response.function_call_arguments.done":
                call = event
            if event.type == "response.done":
                break
        assert call is not None and call.name == "query_database"
        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": '{"answer": "Seven."}'}
        )
        await conn.response.create()
        transcript = ""
        while True:
            event = await conn.recv()
            if event.type == "response.output_audio_transcript.done":
                transcript = event.transcript
            if event.type == "response.done":
                assert event.response.status == "completed"
                assert event.response.usage is not None and event.response.usage.output_tokens > 0
                break
        assert transcript == "Seven."
    assert seen[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    assert "conversation.item.input_audio_transcription.completed" in seen
    await pc.close()
    await server.close()
    await browser.close()


async def cloud_say(cloud: FakeRealtimeCloud, call_id: str, text: str) -> None:
    import asyncio

    await asyncio.to_thread(cloud.say, text, call_id)


async def test_sdk_websocket_session_and_errors(cloud: FakeRealtimeCloud) -> None:
    server = _client(cloud)
    async with server.realtime.connect(model="gpt-realtime") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": "call_nope", "output": "{}"}
        )
        error = await conn.recv()
        assert error.type == "error" and error.error.code == "invalid_value"
    bad = _client(cloud, "sk-wrong")
    try:
        await bad.realtime.client_secrets.create(session={"type": "realtime", "model": "gpt-realtime"})
    except Exception as exc:  # the SDK's AuthenticationError, from the fake's 401 body
        assert type(exc).__name__ == "AuthenticationError"
    else:
        raise AssertionError("a wrong key was accepted")
    await server.close()
    await bad.close()
