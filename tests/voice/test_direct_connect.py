"""Direct connections like the provider's: a server-side client may open `GET /v1/realtime` (and post an SDP
offer) with the standard credential, as OpenAI allows with a standard key; a browser still needs an `ek_`."""

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
from datavox.voice.clients import mint
from datavox.voice.engine import EngineError, LocalRealtimeEngine

TOKEN = "server-api-token-123"


def make_engine(*, token: str = "", host: str = "127.0.0.1") -> LocalRealtimeEngine:
    settings = Settings()
    settings = replace(
        settings,
        server=replace(settings.server, host=host),
        secrets=replace(settings.secrets, api_token=token),
    )
    return LocalRealtimeEngine(settings, FakeBrain(), models=FakeModels(), loopback=True)  # type: ignore[arg-type]


async def spoken_turn(api_key: str, base: str) -> tuple[str, str, int]:
    """One turn through the official SDK with `api_key`: (transcript, answer, audio bytes)."""
    client = AsyncOpenAI(api_key=api_key, base_url=f"{base}/v1", websocket_base_url=f"{base}/v1")
    transcript = answer = ""
    audio = 0
    async with client.realtime.connect(model="gpt-realtime") as conn:
        assert (await conn.recv()).type == "session.created"
        pcm24 = np.repeat(np.concatenate([np.zeros(3200, np.int16), speech(1000)]), 3)[::2]
        for i in range(0, pcm24.size, 480):
            await conn.input_audio_buffer.append(
                audio=base64.b64encode(pcm24[i : i + 480].tobytes()).decode()
            )
        for _ in range(40):
            await conn.input_audio_buffer.append(audio=base64.b64encode(bytes(960)).decode())
        async with asyncio.timeout(20):
            async for event in conn:
                if event.type == "conversation.item.input_audio_transcription.completed":
                    transcript = event.transcript
                elif event.type == "response.output_audio.delta":
                    audio += len(base64.b64decode(event.delta))
                elif event.type == "response.output_audio_transcript.done":
                    answer = event.transcript
                elif event.type == "response.done":
                    assert event.response.status == "completed"
                    break
    return transcript, answer, audio


async def test_openai_sdk_connects_with_the_servers_api_token() -> None:
    engine = make_engine(token=TOKEN)
    with serve(engine) as base:
        transcript, answer, audio = await spoken_turn(TOKEN, base)
        assert transcript == QUESTION and answer == ANSWER and audio > 0
        # a wrong standard key is refused before the handshake completes
        client = AsyncOpenAI(api_key="not-the-token", base_url=f"{base}/v1", websocket_base_url=f"{base}/v1")
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with client.realtime.connect(model="gpt-realtime") as conn:
                await conn.recv()
    await engine.close()


async def test_loopback_server_without_a_token_takes_any_bearer() -> None:
    engine = make_engine()
    with serve(engine) as base:
        transcript, answer, _audio = await spoken_turn("sk-anything", base)
        assert transcript == QUESTION and answer == ANSWER
    await engine.close()


def test_a_server_open_to_the_network_needs_its_token_or_a_secret() -> None:
    engine = make_engine(host="0.0.0.0")  # (check_bind refuses this without a token; the engine still checks)
    with pytest.raises(EngineError) as err:
        engine.authorize("sk-anything")
    assert err.value.status == 401
    secret = engine.mint_secret({})["value"]
    assert engine.authorize(secret, browser=True).session["type"] == "realtime"


async def test_a_browser_needs_an_ephemeral_secret() -> None:
    engine = make_engine(token=TOKEN)
    with serve(engine) as base:
        ws_url = base.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
        origin = {"Origin": "http://127.0.0.1:9999"}
        # the page's way (subprotocol) with the standard key, from a browser: refused
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(
                ws_url,
                subprotocols=["realtime", f"openai-insecure-api-key.{TOKEN}"],
                additional_headers=origin,
            ):
                pass
        # WebRTC from a browser with the standard key: refused, with a clear reason
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{base}/v1/realtime/calls",
                content="v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
                headers={**origin, "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sdp"},
            )
        assert r.status_code == 401 and "ephemeral" in r.json()["error"]["message"]
        # the same browser with an ek_ secret is let in
        secret = await mint(base, TOKEN)
        async with websockets.connect(
            ws_url, subprotocols=["realtime", f"openai-insecure-api-key.{secret}"], additional_headers=origin
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
    await engine.close()
