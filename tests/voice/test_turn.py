"""The pure parts of a session: the turn state machine on virtual time (milliseconds), the input buffer."""

from __future__ import annotations

import numpy as np

from datavox.realtime import protocol as p
from datavox.voice.client_events import HANDLERS
from datavox.voice.input_buffer import InputBuffer
from datavox.voice.turn import BargeIn, Phase, Reply, TurnMachine, TurnRules

QUESTION = "Who won the 2021 drivers' championship?"


def test_a_turn_walks_the_states() -> None:
    m = TurnMachine()
    assert (m.phase, m.reply) == (Phase.LISTENING, Reply.IDLE)
    m.speech_started(1000, 700)
    assert m.phase is Phase.SPEAKING and m.speech_start_ms == 700
    assert m.paused() and m.phase is Phase.PAUSED
    m.resumed()
    assert m.phase is Phase.SPEAKING
    assert m.paused()
    token = m.committed()
    assert (m.phase, m.reply, m.turns, m.speech_start_ms) == (Phase.LISTENING, Reply.PENDING, 1, None)
    outcome = m.after_transcript(QUESTION, token, respond=True, responding=False, kept=True)
    assert (outcome.action, outcome.question, outcome.carried) == ("answer", QUESTION, False)
    assert m.reply is Reply.IDLE
    m.response_started(QUESTION)
    assert m.reply is Reply.RESPONDING
    m.first_audio(2500)
    assert m.reply is Reply.PLAYING
    m.response_ended()
    assert m.reply is Reply.IDLE


def test_no_pause_without_speech() -> None:
    m = TurnMachine()
    assert not m.paused() and m.phase is Phase.LISTENING


def test_partials_every_interval_one_at_a_time() -> None:
    m = TurnMachine(TurnRules(partial_every_ms=300))
    assert not m.partial_due(500, speculating=False)  # nobody speaks
    m.speech_started(1000, 800)
    assert not m.partial_due(1299, speculating=False)
    assert m.partial_due(1300, speculating=False)
    assert not m.partial_due(1700, speculating=False)  # the last one still runs
    m.partial_done()
    assert not m.partial_due(1700, speculating=True)  # a speculation already transcribes
    assert m.partial_due(1700, speculating=False)


def test_a_quiet_window_brings_the_next_partial_forward() -> None:
    m = TurnMachine(TurnRules(partial_every_ms=300, quiet_partial_ms=60))
    m.speech_started(1000, 800)
    assert m.partial_due(1300, speculating=False)
    m.partial_done()
    assert not m.partial_due(1340, speculating=False, quiet=True)  # too soon even so
    assert not m.partial_due(1400, speculating=False)  # not quiet: the interval holds
    assert m.partial_due(1400, speculating=False, quiet=True)  # a word just ended


def test_long_speech_is_cut() -> None:
    m = TurnMachine(TurnRules(max_turn_ms=30_000))
    assert not m.too_long(99_999)
    m.speech_started(1000, 1000)
    assert not m.too_long(31_000) and m.too_long(31_001)


def test_early_end_needs_a_complete_question_and_some_silence() -> None:
    m = TurnMachine(TurnRules(early_end_ms=160))
    assert not m.early_end_due(QUESTION, 100)
    assert m.early_end_due(QUESTION, 400)
    assert not m.early_end_due("Who won the", 5000)
    assert not TurnMachine(TurnRules(early_end=False)).early_end_due(QUESTION, 5000)


def test_barge_in_soon_after_the_answer_began_keeps_the_question() -> None:
    m = TurnMachine(TurnRules(carry_within_ms=1200))
    m.response_started()
    m.reply_question = "Who won the Monaco Grand Prix"
    m.first_audio(10_000)
    assert m.barge_in(10_500, responding=True, playing=True) is BargeIn.CANCEL
    assert m.carry == "Who won the Monaco Grand Prix"
    m.response_ended()
    token = (m.speech_started(11_000, 10_800), m.committed())[1]
    outcome = m.after_transcript("in 2019?", token, respond=True, responding=False, kept=True)
    assert outcome.carried and outcome.question == "Who won the Monaco Grand Prix in 2019?"
    assert m.carry == ""


def test_barge_in_late_in_the_answer_forgets_it() -> None:
    m = TurnMachine(TurnRules(carry_within_ms=1200))
    m.response_started()
    m.reply_question = QUESTION
    m.first_audio(10_000)
    assert m.barge_in(11_300, responding=True, playing=True) is BargeIn.CANCEL
    assert m.carry == ""
    # after the response: only the audio still playing is cut; nothing playing, nothing to do
    m.response_ended()
    assert m.barge_in(12_000, responding=False, playing=True) is BargeIn.STOP_PLAYBACK
    assert m.barge_in(12_000, responding=False, playing=False) is BargeIn.NONE


def test_a_turn_talked_over_is_superseded_and_carried() -> None:
    m = TurnMachine()
    m.speech_started(0, 0)
    token = m.committed()
    m.speech_started(900, 700)  # the user goes on before the transcript is back
    outcome = m.after_transcript(
        "Who won the Monaco Grand Prix", token, respond=True, responding=False, kept=True
    )
    assert outcome.action == "superseded" and m.carry == "Who won the Monaco Grand Prix"
    token = m.committed()
    outcome = m.after_transcript("in 2019?", token, respond=True, responding=False, kept=True)
    assert outcome.question == "Who won the Monaco Grand Prix in 2019?"


def test_no_answer_over_a_running_response_nor_for_silence() -> None:
    m = TurnMachine()
    token = m.committed()
    assert m.after_transcript(QUESTION, token, respond=True, responding=True, kept=True).action == "none"
    assert m.after_transcript("  ", token, respond=True, responding=False, kept=True).action == "none"
    assert m.after_transcript(QUESTION, token, respond=False, responding=False, kept=True).action == "none"
    assert m.after_transcript(QUESTION, token, respond=True, responding=False, kept=False).action == "none"


def test_input_buffer_keeps_chunks_and_slices_across_them() -> None:
    buf = InputBuffer()
    for n in range(5):
        buf.append(np.arange(n * 100, (n + 1) * 100, dtype=np.int16))
    buf.append(np.zeros(0, np.int16))
    assert (buf.start, buf.end, len(buf)) == (0, 500, 500)
    assert buf.slice(150, 320).tolist() == list(range(150, 320))
    buf.trim(230)
    assert (buf.start, buf.end) == (230, 500)
    assert buf.slice(0, 260).tolist() == list(range(230, 260))  # clipped to what is kept
    assert buf.slice(490, 900).tolist() == list(range(490, 500))
    assert buf.slice(400, 300).size == 0
    part = buf.slice(230, 240)
    part[:] = 0  # a copy: the buffer is untouched
    assert buf.slice(230, 240).tolist() == list(range(230, 240))
    buf.trim(10_000)  # never past what arrived
    assert (buf.start, buf.end, len(buf)) == (500, 500, 0)
    buf.append(np.ones(10, np.int16))
    assert buf.slice(500, 510).tolist() == [1] * 10


def test_every_client_event_has_a_handler() -> None:
    assert set(HANDLERS) == set(p.CLIENT_EVENTS)
