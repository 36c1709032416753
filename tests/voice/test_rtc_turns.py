"""Barge-in over WebRTC (aiortc client, live uvicorn, fake models): the answer stops within 100 ms of the
user's first loud sample, counted in the answer audio the client received after it (20 ms frames), not in
wall-clock timeouts; a lone click pauses the answer for a moment and it plays on."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from tests.voice.fakes import ANSWER, QUESTION, Harness, silence, speech
from tests.voice.server import serve
from tests.voice.test_transports import make_engine

from datavox.voice.clients import RtcConversation, TurnResult, mint


def question_audio() -> np.ndarray:
    return np.concatenate([np.zeros(3200, np.int16), speech(1000)])


def heard_ms(turn: TurnResult) -> float:
    """Answer audio the client got, in 20 ms frames that carried sound."""
    loud = [a for a in turn.audio if int(np.abs(a.astype(np.int32)).max()) > 300]
    return sum(a.size for a in loud) / turn.audio_rate * 1000


@pytest.mark.timeout(90)
async def test_barge_in_stops_the_answer_within_100_ms_of_speech() -> None:
    engine = make_engine()
    with serve(engine) as base:
        conv = RtcConversation(base, await mint(base))
        await conv.connect()
        try:
            turn = await conv.ask(question_audio(), barge_in=speech(600), barge_in_after_ms=300, timeout_s=20)
            follow = await conv.follow_up(timeout_s=20)
        finally:
            await conv.close()
    assert turn.error is None, turn.error
    assert turn.transcript == QUESTION and turn.first_audio_at is not None and turn.barge_in_at is not None
    types = [e["type"] for e in turn.events]
    # the order a client sees: its speech detected, then the answer's audio cleared and the item cut to
    # what was heard (the response itself was done: fake speech is made far faster than it plays)
    started = max(i for i, t in enumerate(types) if t == "input_audio_buffer.speech_started")
    assert types.index("response.done") < started < types.index("output_audio_buffer.cleared")
    truncated = turn.of("conversation.item.truncated")
    assert truncated and 250 <= truncated[0]["audio_end_ms"] < 600
    # 300 ms into a 1.4 s answer; what still reached the client after the interruption's first loud sample:
    frames_after = int(np.ceil(turn.audio_after_barge_in_ms / 20))
    assert frames_after <= 5, f"{turn.audio_after_barge_in_ms:.0f} ms of answer after the user spoke"
    assert 250 <= heard_ms(turn) < 600  # what was played before the cut, and little after it
    # the interruption is a question of its own, answered in full
    assert follow.error is None and follow.status == "completed" and follow.answer_text == ANSWER
    await engine.close()


@pytest.mark.timeout(90)
async def test_a_click_pauses_the_answer_and_it_plays_on() -> None:
    engine = make_engine()
    click = np.concatenate([speech(20), np.zeros(3200, np.int16)])  # one loud window: not a turn
    with serve(engine) as base:
        conv = RtcConversation(base, await mint(base))
        await conv.connect()
        try:
            turn = await conv.ask(question_audio(), barge_in=click, barge_in_after_ms=300, timeout_s=20)
        finally:
            await conv.close()
    assert turn.error is None, turn.error
    assert turn.barge_in_at is not None  # the click was sent while the answer played
    types = [e["type"] for e in turn.events]
    assert "output_audio_buffer.cleared" not in types and "output_audio_buffer.stopped" in types
    assert turn.status == "completed"
    assert types.count("input_audio_buffer.speech_started") == 1  # only the question's
    assert heard_ms(turn) >= 100 * len(ANSWER.split()) - 100  # all of it (100 ms a word)
    await engine.close()


async def test_the_first_speech_window_holds_the_answer_until_the_vad_decides() -> None:
    h = Harness(player=True)
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    player = h.player
    assert player is not None and player.queued_ms() > 0 and not player.held
    await h.feed(speech(20))  # one speech window: held at once, no turn yet
    assert player.held and not player.clears and len(h.of("input_audio_buffer.speech_started")) == 1
    await h.feed(silence(100))  # it was a click: the answer plays on
    assert not player.held and player.holds == ["hold", "resume"] and not player.clears
    await h.feed(speech(300))  # a real turn: held at its first window, then cut when the VAD confirms it
    assert player.holds == ["hold", "resume", "hold"] and player.clears == 1 and not player.held
    assert len(h.of("input_audio_buffer.speech_started")) == 2 and h.of("output_audio_buffer.cleared")


@pytest.mark.timeout(60)
async def test_a_peer_that_hangs_up_frees_its_session_at_once() -> None:
    engine = make_engine()
    with serve(engine) as base:
        conv = RtcConversation(base, await mint(base))
        await conv.connect()
        turn = await conv.ask(question_audio(), timeout_s=20)
        assert turn.status == "completed" and len(engine.sessions) == 1 and len(engine.calls) == 1
        await conv.close()  # pc.close(), as a page does when it leaves: no hangup request
        for _ in range(50):  # not the ~30 s of ICE consent
            if not engine.sessions and not engine.calls:
                break
            await asyncio.sleep(0.1)
        assert not engine.sessions and not engine.calls
    await engine.close()
