"""Endpoints, WebSocket, WebRTC and the official SDK against a live uvicorn, with fake models."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import replace

import httpx
import numpy as np
import pytest
import websockets
from openai import AsyncOpenAI
from tests.voice.fakes import ANSWER, QUESTION, FakeBrain, FakeModels, speech
from tests.voice.server import serve

from datavox.config import Settings
from datavox.voice.clients import mint, rtc_turn, ws_turn
from datavox.voice.engine import LocalRealtimeEngine


def make_engine(max_sessions: int = 8) -> LocalRealtimeEngine:
    settings = Settings()
    settings = replace(settings, realtime=replace(settings.realtime, max_sessions=max_sessions))
    return LocalRealtimeEngine(settings, FakeBrain(), models=FakeModels(), loopback=True)  # type: ignore[arg-type]


def question_audio() -> np.ndarray:
    return np.concatenate([np.zeros(3200, np.int16), speech(1000)])


async def test_openai_sdk_holds_a_spoken_turn() -> None:
    engine = make_engine()
    with serve(engine) as base:
        minter = AsyncOpenAI(api_key="unused", base_url=f"{base}/v1")
        secret = await minter.realtime.client_secrets.create(
            session={"type": "realtime", "model": "gpt-realtime"}
        )
        assert secret.value.startswith("ek_") and secret.expires_at > 0
        client = AsyncOpenAI(api_key=secret.value, base_url=f"{base}/v1", websocket_base_url=f"{base}/v1")
        seen: list[str] = []
        async with client.realtime.connect(model="gpt-realtime") as conn:
            first = await conn.recv()
            assert first.type == "session.created"
            await conn.session.update(
                session={
                    "type": "realtime",
                    "output_modalities": ["audio"],
                    "audio": {
                        "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 400}}
                    },
                }
            )
            await conn.send({"type": "no.such.event"})  # type: ignore[arg-type]
            pcm24 = np.repeat(question_audio(), 3)[::2]
            silence = np.zeros(480, np.int16)
            for i in range(0, pcm24.size, 480):
                await conn.input_audio_buffer.append(
                    audio=base64.b64encode(pcm24[i : i + 480].tobytes()).decode()
                )
            for _ in range(40):
                await conn.input_audio_buffer.append(audio=base64.b64encode(silence.tobytes()).decode())
            transcript = answer = ""
            audio_bytes = 0
            async with asyncio.timeout(20):
                async for event in conn:
                    seen.append(event.type)
                    if event.type == "error":
                        assert event.error.code == "unknown_event"
                    if event.type == "conversation.item.input_audio_transcription.completed":
                        transcript = event.transcript
                    if event.type == "response.output_audio.delta":
                        audio_bytes += len(base64.b64decode(event.delta))
                    if event.type == "response.output_audio_transcript.done":
                        answer = event.transcript
                    if event.type == "response.done":
                        assert event.response.status == "completed"
                        break
        assert "session.updated" in seen and "error" in seen
        assert seen.index("error") < seen.index("input_audio_buffer.speech_started")  # the session went on
        assert transcript == QUESTION and answer == ANSWER and audio_bytes > 0
    await engine.close()


async def test_http_errors_secrets_and_limits() -> None:
    engine = make_engine(max_sessions=1)
    with serve(engine) as base:
        async with httpx.AsyncClient() as http:
            secret = await mint(base)
            r = await http.post(
                f"{base}/v1/realtime/calls",
                content="this is not sdp",
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"},
            )
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_sdp"
            r = await http.post(
                f"{base}/v1/realtime/calls",
                content="v=0\r\n",
                headers={"Authorization": "Bearer ek_unknown", "Content-Type": "application/sdp"},
            )
            assert r.status_code == 401
            r = await http.post(f"{base}/v1/realtime/client_secrets", json={"expires_after": {"seconds": 5}})
            assert r.status_code == 400
            expired = await mint(base)
            grant = engine._secrets[expired]
            engine._secrets[expired] = replace(grant, expires_at=grant.expires_at - 10_000)
            r = await http.post(
                f"{base}/v1/realtime/calls",
                content="v=0\r\n",
                headers={"Authorization": f"Bearer {expired}", "Content-Type": "application/sdp"},
            )
            assert r.status_code == 401 and r.json()["error"]["code"] == "expired_api_key"
            ws_url = base.replace("http", "ws") + "/v1/realtime"
            with pytest.raises(websockets.exceptions.InvalidStatus):
                async with websockets.connect(
                    ws_url, additional_headers={"Authorization": f"Bearer {expired}"}
                ):
                    pass
            # browser-style auth through the subprotocol; holds the only session slot
            async with websockets.connect(
                ws_url, subprotocols=["realtime", f"openai-insecure-api-key.{secret}"]
            ) as first:
                assert first.subprotocol == "realtime"
                assert json.loads(await first.recv())["type"] == "session.created"
                async with websockets.connect(
                    ws_url, additional_headers={"Authorization": f"Bearer {secret}"}
                ) as ws2:
                    err = json.loads(await ws2.recv())
                    assert err["type"] == "error" and err["error"]["code"] == "session_limit_reached"
                    assert "limit of 1" in err["error"]["message"]
                r = await http.post(f"{base}/v1/realtime/client_secrets", json={})
                assert r.status_code == 429
    await engine.close()


async def test_websocket_client_turn_timing() -> None:
    engine = make_engine()
    with serve(engine) as base:
        secret = await mint(base)
        result = await ws_turn(base, secret, question_audio(), tail_ms=800)
    assert result.error is None
    assert result.transcript == QUESTION and result.answer_text == ANSWER
    assert result.latency_ms is not None and result.latency_ms < 1000
    await engine.close()


@pytest.mark.timeout(60)
async def test_webrtc_turn_with_aiortc_client() -> None:
    engine = make_engine()
    with serve(engine) as base:
        secret = await mint(base)
        result = await rtc_turn(base, secret, question_audio(), timeout_s=20)
    assert result.error is None, result.error
    types = [e["type"] for e in result.events]
    assert types[0] == "session.created"
    assert "output_audio_buffer.started" in types and "response.done" in types
    assert "response.output_audio.delta" not in types  # audio goes over the media track
    assert result.transcript == QUESTION and result.answer_text == ANSWER
    assert result.latency_ms is not None
    assert result.answer_audio().size > 0
    await engine.close()


async def test_multipart_call_sideband_and_hangup() -> None:
    from aiortc import RTCConfiguration, RTCPeerConnection

    from datavox.voice.rtc import patch_loopback

    patch_loopback()
    engine = make_engine()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("realtime-channel")  # any label works
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    with serve(engine) as base:
        secret = await mint(base)
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{base}/v1/realtime/calls",
                headers={"Authorization": f"Bearer {secret}"},
                files={
                    "sdp": (None, pc.localDescription.sdp),
                    "session": (None, json.dumps({"type": "realtime", "instructions": "Be brief."})),
                },
            )
            assert r.status_code == 201, r.text
            assert r.headers["content-type"].startswith("application/sdp")
            assert r.text.startswith("v=0")
            call_id = r.headers["location"].rsplit("/", 1)[-1]
            assert call_id.startswith("rtc_") and call_id in engine.calls
            session = engine.calls[call_id].session
            assert session.config["instructions"] == "Be brief."
            ws_url = base.replace("http", "ws") + f"/v1/realtime?call_id={call_id}"
            async with websockets.connect(
                ws_url, additional_headers={"Authorization": f"Bearer {secret}"}
            ) as side:
                created = json.loads(await side.recv())
                assert created["type"] == "session.created" and created["session"]["id"] == session.id
                await side.send(
                    json.dumps(
                        {
                            "type": "session.update",
                            "session": {"type": "realtime", "instructions": "Shorter."},
                        }
                    )
                )
                updated = json.loads(await side.recv())
                assert updated["type"] == "session.updated" and session.config["instructions"] == "Shorter."
            r = await http.post(
                f"{base}/v1/realtime/calls/{call_id}/hangup", headers={"Authorization": f"Bearer {secret}"}
            )
            assert r.status_code == 200 and call_id not in engine.calls and session.closed
    await pc.close()
    await engine.close()


async def test_idle_session_is_closed_with_a_clear_error() -> None:
    settings = Settings()
    settings = replace(settings, realtime=replace(settings.realtime, idle_timeout_s=1))
    engine = LocalRealtimeEngine(settings, FakeBrain(), models=FakeModels(), loopback=True)  # type: ignore[arg-type]
    with serve(engine) as base:
        secret = await mint(base)
        ws_url = base.replace("http", "ws") + "/v1/realtime"
        async with websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {secret}"}) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
            async with asyncio.timeout(5):
                err = json.loads(await ws.recv())
            assert err["type"] == "error" and err["error"]["code"] == "session_idle_timeout"
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                async with asyncio.timeout(5):
                    await ws.recv()
        assert not engine.sessions
    await engine.close()


async def test_a_slow_query_does_not_hold_up_another_session() -> None:
    import threading
    import time

    slow_once = threading.Event()
    fast = FakeBrain()

    def brain(question: str, history: list) -> object:  # the first question takes 3 s (a slow query)
        if not slow_once.is_set():
            slow_once.set()
            time.sleep(3)
        return fast(question, history)

    engine = LocalRealtimeEngine(Settings(), brain, models=FakeModels(), loopback=True)  # type: ignore[arg-type]
    with serve(engine) as base:
        a_secret, b_secret = await mint(base), await mint(base)

        async def later() -> object:
            await asyncio.sleep(0.3)
            return await ws_turn(base, b_secret, question_audio(), tail_ms=800)

        a, b = await asyncio.gather(ws_turn(base, a_secret, question_audio(), tail_ms=800), later())
    assert a.latency_ms is not None and b.latency_ms is not None  # type: ignore[attr-defined]
    assert a.latency_ms > 2000 > 1000 > b.latency_ms  # type: ignore[attr-defined]
    await engine.close()
