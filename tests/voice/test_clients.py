"""The test and benchmark clients' own bookkeeping (`datavox.voice.clients`), against a live uvicorn with
fake models: an interrupted answer and the answer to the interruption are two turns, each finished by its
own `response.done`, however the events interleave. `datavox bench soak` counted the answer to an
interruption as missing whenever it came while the client was still waiting for the interrupted answer to
"play out" (WebSocket), though the server had answered in full."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.voice.fakes import QUESTION, FakeBrain, FakeModels, speech
from tests.voice.server import serve

from datavox.config import Settings
from datavox.voice.clients import Conversation, RtcConversation, WsConversation, mint
from datavox.voice.engine import LocalRealtimeEngine

# 40 words: 4 s of fake speech, far longer than the interruption and its answer take
LONG_ANSWER = " ".join(["Max Verstappen won the 2021 drivers' championship for Red Bull."] * 4)


def long_answer_engine() -> LocalRealtimeEngine:
    settings = Settings()
    settings = replace(settings, realtime=replace(settings.realtime, max_sessions=4))
    brain = FakeBrain(LONG_ANSWER)
    return LocalRealtimeEngine(settings, brain, models=FakeModels(), loopback=True)  # type: ignore[arg-type]


def question_audio() -> np.ndarray:
    return np.concatenate([np.zeros(3200, np.int16), speech(1000)])


@pytest.mark.timeout(90)
@pytest.mark.parametrize("transport", [WsConversation, RtcConversation])
async def test_the_answer_to_an_interruption_is_its_own_turn(transport: type[Conversation]) -> None:
    engine = long_answer_engine()
    with serve(engine) as base:
        conv = transport(base, await mint(base))  # type: ignore[call-arg]
        await conv.connect()
        try:
            turn = await conv.ask(question_audio(), barge_in=speech(600), barge_in_after_ms=300, timeout_s=15)
            follow = await conv.follow_up(timeout_s=8)
        finally:
            await conv.close()
    await engine.close()
    assert turn.error is None, turn.error
    assert turn.barge_in_at is not None and turn.transcript == QUESTION
    # the client stops playing when it speaks: the interrupted turn ends at the cut, not 4 s later
    assert turn.status in ("completed", "cancelled")
    assert follow.error is None, f"{follow.error}; events: {[e['type'] for e in follow.events]}"
    assert follow.status == "completed" and follow.transcript == QUESTION
    assert follow.first_audio_at is not None and follow.latency_ms is not None
    done = [e["response"]["id"] for e in conv.events if e["type"] == "response.done"]
    assert len(done) == 2 and follow.of("response.done")[-1]["response"]["id"] == done[-1]
