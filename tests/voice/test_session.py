"""The session state machine with fake models and virtual time."""

from __future__ import annotations

import asyncio
import base64
import json
import threading

import numpy as np
import pytest
from tests.voice.fakes import (
    ANSWER,
    QUESTION,
    BlockingBrain,
    FakeBrain,
    FakeStt,
    Harness,
    silence,
    speech,
)

from datavox import cancel
from datavox.types import Answer, HistoryTurn
from datavox.voice.heuristics import early_end_silence_ms, heard_text, looks_complete
from datavox.voice.session import SessionOptions

RESPONSE_ORDER = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio_transcript.delta",
    "response.output_audio.delta",
]


def ordered(types: list[str], expected: list[str]) -> bool:
    """`expected` appears in `types` in this order (other events may sit in between)."""
    it = iter(types)
    return all(any(t == e for t in it) for e in expected)


async def test_voice_turn_events_in_order() -> None:
    h = Harness()
    assert h.types() == ["session.created"]
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    types = h.types()
    assert ordered(
        types,
        [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.input_audio_transcription.delta",
            "conversation.item.input_audio_transcription.completed",
            "conversation.item.done",
            *RESPONSE_ORDER,
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ],
    ), types
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "completed"
    assert done["usage"]["output_tokens"] > 0
    assert h.of("conversation.item.input_audio_transcription.completed")[0]["transcript"] == QUESTION
    assert h.of("response.output_audio_transcript.done")[0]["transcript"] == ANSWER
    # partials while speaking; the complete-looking one started the answer, which the turn reused
    assert h.stt.calls >= 2 and h.brain.questions == [QUESTION]
    timings = next(e for e in h.published if e["type"] == "timings")["timings_ms"]
    assert timings.get("prepared") == 1.0
    # the query went to the UI, not to the model events
    kinds = [e["type"] for e in h.published]
    assert {"transcript.partial", "transcript.final", "answer", "timings"} <= set(kinds)
    answer = next(e for e in h.published if e["type"] == "answer")
    assert answer["answer"]["sql"] == "SELECT 1" and answer["turn_id"]
    assert not any("function_call" in t for t in types)
    audio = b"".join(base64.b64decode(e["delta"]) for e in h.of("response.output_audio.delta"))
    assert len(audio) > 0
    started = h.of("input_audio_buffer.speech_started")[0]
    assert started["audio_start_ms"] == 0  # prefix padding reaches back to the start of the buffer


async def test_speech_resuming_discards_speculation() -> None:
    h = Harness()
    await h.feed(speech(600))
    await h.feed(silence(200))  # a pause: speculation starts
    await h.feed(speech(600))  # speech resumes: thrown away
    await h.feed(silence(700))
    await h.settle()
    assert len(h.of("input_audio_buffer.speech_started")) == 1
    assert len(h.of("input_audio_buffer.committed")) == 1
    assert len(h.of("response.done")) == 1
    assert len(h.of("response.output_audio_transcript.done")) == 1  # the discarded speculation is not spoken


async def test_early_end_for_a_complete_question() -> None:
    h = Harness(options=SessionOptions(early_end=True, early_end_ms=200))
    await h.feed(speech(1000))
    await h.feed(silence(300))
    assert h.of("input_audio_buffer.speech_stopped"), "a complete question ends the turn before 500 ms"
    h2 = Harness(options=SessionOptions(early_end=True, early_end_ms=200), stt=FakeStt("Who won the"))
    await h2.feed(speech(1000))
    await h2.feed(silence(300))
    assert not h2.of("input_audio_buffer.speech_stopped"), "an unfinished question waits for the silence"


async def test_barge_in_cancels_truncates_and_the_next_turn_answers() -> None:
    # A first sentence with no name ahead is one chunk (1.1 s): the user talks over it halfway.
    answer = "The 2021 drivers' championship went to Max Verstappen of Red Bull. He drove for Red Bull."
    h = Harness(player=True, brain=FakeBrain(answer))
    await h.feed(speech(1000))
    # the first sentence was prepared while speaking; the second (tts_rest) is still being synthesised
    h.run.hold("tts_rest")
    await h.feed(silence(700))
    await h.settle()
    assert h.of("output_audio_buffer.started")
    await h.feed(speech(300))
    await h.settle()
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"]["reason"] == "turn_detected"
    assert h.of("output_audio_buffer.cleared")
    truncated = h.of("conversation.item.truncated")[0]
    assert 0 < truncated["audio_end_ms"] < 900  # cut to what was played
    item = done["output"][0]
    assert item["status"] == "incomplete"
    assert len(item["content"][0]["transcript"]) < len(answer)
    # the new turn is answered: no silent bot
    h.run.release("tts_rest")
    await h.feed(silence(700))
    await h.settle()
    dones = h.of("response.done")
    assert [d["response"]["status"] for d in dones] == ["cancelled", "completed"]
    # the brain saw the truncated answer as history, not the unheard part
    assert h.brain.histories[-1][-1].role == "assistant"
    assert h.brain.histories[-1][-1].text != answer


async def test_barge_in_during_the_query_cancels_it() -> None:
    brains = [BlockingBrain(), BlockingBrain()]
    sessions = [Harness(brain=brain) for brain in brains]  # two users, their queries both in flight
    for h, brain in zip(sessions, brains, strict=True):
        h.run.threaded.add("brain")
        await h.feed(speech(1000))
        await h.feed(silence(700))
        assert await asyncio.to_thread(brain.entered.wait, 5)
        await h.settle()
        assert h.of("response.created")
    h, other = sessions
    await h.feed(speech(300))
    # only the query this session's turn started, on the thread its ask runs on
    assert h.cancels == 1 and h.cancelled_threads == [brains[0].thread]
    assert other.cancels == 0 and brains[1].thread != brains[0].thread
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "cancelled" and done["output"] == []
    for brain in brains:
        brain.release.set()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if other.of("response.done"):
            break
    assert len(h.of("response.done")) == 1  # the late answer is not spoken
    assert other.of("response.done")[0]["response"]["status"] == "completed"


async def test_barge_in_before_the_query_starts_cancels_nothing() -> None:
    h = Harness()
    h.run.hold("brain")
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert h.of("response.created") and h.run.waiting.get("brain")
    await h.feed(speech(300))
    assert h.cancels == 0  # no statement of ours runs yet, and another session's must not be hit
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "cancelled" and done["output"] == []
    h.run.release("brain")
    await h.settle()
    assert len(h.of("response.done")) == 1  # the late answer is not spoken


async def test_half_duplex_ignores_speech_while_speaking() -> None:
    h = Harness(player=True, options=SessionOptions(early_end=False, half_duplex=True))
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert h.player is not None and h.player.queued_ms() > 0
    h.clear()
    await h.feed(speech(300))
    assert not h.of("input_audio_buffer.speech_started")
    assert not h.of("response.done")


async def test_response_cancel_and_errors_keep_the_session() -> None:
    h = Harness()
    await h.send({"type": "response.cancel", "event_id": "evt_1"})
    err = h.of("error")[0]["error"]
    assert err["code"] == "response_cancel_not_active" and err["event_id"] == "evt_1"
    await h.send({"type": "no.such.event"})
    assert h.of("error")[1]["error"]["code"] == "unknown_event"
    await h.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 7}}},
            },
        }
    )
    assert h.of("error")[2]["error"]["code"] == "invalid_value"
    assert h.session.config["audio"]["input"]["turn_detection"]["threshold"] == 0.5  # unchanged
    await h.send({"type": "input_audio_buffer.append", "audio": "%%%not base64"})
    assert h.of("error")[3]["error"]["code"] == "invalid_value"
    await h.send({"type": "input_audio_buffer.commit"})
    assert h.of("error")[4]["error"]["code"] == "input_audio_buffer_commit_empty"
    await h.send(
        {"type": "conversation.item.truncate", "item_id": "item_nope", "content_index": 0, "audio_end_ms": 10}
    )
    assert h.of("error")[5]["error"]["code"] == "item_not_found"
    await h.session.handle(["not", "an", "object"])
    assert h.of("error")[6]["error"]["code"] == "invalid_event"
    await h.send({"type": "conversation.item.truncate", "item_id": "item_x"})
    missing = h.of("error")[7]["error"]
    assert missing["code"] == "missing_required_parameter" and missing["param"] == "content_index"
    h.events[:] = [
        e for e in h.events if e["type"] != "error" or e["error"]["code"] != "missing_required_parameter"
    ]
    # still alive: a typed turn works
    h.run.hold("brain")
    await h.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        }
    )
    await h.send({"type": "response.create"})
    await h.send({"type": "response.create"})
    assert h.of("error")[7]["error"]["code"] == "conversation_already_has_active_response"
    await h.send({"type": "response.cancel"})
    assert h.of("response.done")[0]["response"]["status_details"]["reason"] == "client_cancelled"
    h.run.release("brain")
    await h.settle()


async def test_session_update_round_trip() -> None:
    h = Harness()
    await h.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "audio": {
                    "input": {
                        "turn_detection": {
                            "type": "server_vad",
                            "silence_duration_ms": 300,
                            "create_response": False,
                        }
                    },
                    "output": {"voice": "cedar"},
                },
            },
        }
    )
    s = h.of("session.updated")[0]["session"]
    assert s["instructions"] == "Be brief." and s["audio"]["output"]["voice"] == "cedar"
    assert s["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 300
    assert s["audio"]["input"]["turn_detection"]["threshold"] == 0.5  # partial update keeps the rest
    await h.feed(speech(800))
    await h.feed(silence(400))
    await h.settle()
    assert h.of("input_audio_buffer.committed")  # 300 ms silence was enough
    assert not h.of("response.created")  # create_response false: VAD events only


async def test_truncate_after_the_answer() -> None:
    h = Harness()
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    item = h.of("response.output_item.done")[0]["item"]
    await h.send(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 500}
    )
    assert h.of("conversation.item.truncated")[0]["audio_end_ms"] == 500
    await h.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
    kept = h.of("conversation.item.retrieved")[0]["item"]["content"][0]["transcript"]
    assert kept and ANSWER.startswith(kept) and len(kept) < len(ANSWER)
    await h.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item["id"],
            "content_index": 0,
            "audio_end_ms": 999_999,
        }
    )
    assert h.of("error")[0]["error"]["param"] == "audio_end_ms"


async def test_client_declared_tool_call_and_its_output() -> None:
    h = Harness()
    tool = {
        "type": "function",
        "name": "query_database",
        "description": "Ask the database.",
        "parameters": {
            "type": "object",
            "properties": {"question": {"type": "string"}},
            "required": ["question"],
        },
    }
    await h.send({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert h.brain.questions == []  # the client runs its own tool
    args = h.of("response.function_call_arguments.done")[0]
    assert json.loads(args["arguments"]) == {"question": QUESTION} and args["name"] == "query_database"
    done = h.of("response.done")[0]["response"]
    assert done["status"] == "completed" and done["output"][0]["type"] == "function_call"
    assert ordered(
        h.types(),
        [
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.done",
        ],
    )
    h.clear()
    await h.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": args["call_id"],
                "output": json.dumps({"answer": "Max Verstappen won it."}),
            },
        }
    )
    assert not h.of("response.created")  # no auto-response after a tool output
    await h.send({"type": "response.create"})
    await h.settle()
    assert h.of("response.output_audio_transcript.done")[0]["transcript"] == "Max Verstappen won it."
    assert h.of("response.done")[0]["response"]["status"] == "completed"


async def test_text_modality_and_push_to_talk() -> None:
    h = Harness()
    await h.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "output_modalities": ["text"],
                "audio": {"input": {"turn_detection": None}},
            },
        }
    )
    loud = speech(500)
    pcm24 = np.repeat(loud, 3)[::2]  # 16 kHz → 24 kHz for the wire
    await h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm24.tobytes()).decode()})
    assert not h.of("input_audio_buffer.speech_started")  # VAD off
    await h.send({"type": "input_audio_buffer.commit"})
    await h.settle()
    assert h.of("input_audio_buffer.committed")
    assert h.of("conversation.item.input_audio_transcription.completed")
    assert not h.of("response.created")
    await h.send({"type": "response.create"})
    await h.settle()
    assert h.of("response.output_text.done")[0]["text"] == ANSWER
    assert not h.of("response.output_audio.delta")


async def test_webrtc_player_events_and_manual_clear() -> None:
    h = Harness(player=True)
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert h.of("output_audio_buffer.started") and not h.of("response.output_audio.delta")
    h.clock.t += 0.3
    await h.send({"type": "output_audio_buffer.clear"})
    assert h.of("output_audio_buffer.cleared")
    assert h.of("conversation.item.truncated")[0]["audio_end_ms"] <= 1100
    h2 = Harness(player=True)
    await h2.feed(speech(1000))
    await h2.feed(silence(700))
    await h2.settle()
    h2.clock.t += 10
    h2.session.on_drained()
    assert h2.of("output_audio_buffer.stopped")


async def test_limits() -> None:
    h = Harness()
    now = h.clock.now()
    assert h.session.limit_exceeded(now + 1, 60, 30) is None
    code, message = h.session.limit_exceeded(now + 31, 60, 30) or ("", "")
    assert code == "session_idle_timeout" and "30 seconds" in message
    code, message = h.session.limit_exceeded(now + 61, 60, 3000) or ("", "")
    assert code == "session_expired" and "60 seconds" in message
    h.session.fail(code, message)
    assert h.of("error")[-1]["error"]["code"] == "session_expired" and h.session.closed


async def test_brain_failure_is_spoken() -> None:
    def broken(question: str, history: list) -> None:
        raise RuntimeError("database is gone")

    h = Harness(brain=broken)
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert h.of("response.done")[0]["response"]["status"] == "completed"
    assert "Sorry" in h.of("response.output_audio_transcript.done")[0]["transcript"]


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("Who won the 2021 drivers' championship?", True),
        ("Who won the", False),
        ("Hi?", False),
        ("How many races did he win in.", False),
        ("Which team won in 2019.", True),
    ],
)
def test_looks_complete(text: str, complete: bool) -> None:
    assert looks_complete(text) is complete


def test_early_end_silence() -> None:
    assert early_end_silence_ms("Who won the 2021 drivers' championship?", 200) == 200
    assert early_end_silence_ms("Who won the Monaco Grand Prix in 2019", 200) == 300
    assert early_end_silence_ms("Who won the Monaco Grand Prix in", 200) is None
    assert early_end_silence_ms("Lewis Hamilton and", 200) is None


def test_heard_text() -> None:
    sentences = [("One two three four.", 400.0), ("Five six.", 200.0)]
    assert heard_text(sentences, 1000) == "One two three four. Five six."
    assert heard_text(sentences, 200) == "One two"
    assert heard_text(sentences, 500) == "One two three four. Five"


def test_brain_fake_is_used() -> None:
    assert FakeBrain()("q", []).answer == ANSWER


async def test_transcription_off_hides_the_transcript_events_only() -> None:
    h = Harness()
    await h.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"transcription": None}}},
        }
    )
    await h.feed(speech(1000))
    await h.feed(silence(700))
    await h.settle()
    assert not h.of("conversation.item.input_audio_transcription.completed")
    assert h.of("response.done")[0]["response"]["status"] == "completed"


async def test_speech_before_the_answer_starts_answers_the_newer_turn() -> None:
    h = Harness()
    h.run.hold("stt")  # the first turn's transcript is slow
    await h.feed(speech(1000))
    await h.feed(silence(700))
    assert h.of("input_audio_buffer.committed") and not h.of("response.created")
    await h.feed(speech(500))  # the user goes on before any answer
    h.run.release("stt")
    await h.settle()
    assert not h.of("response.created")  # the stale turn is not answered while the user talks
    await h.feed(silence(700))
    await h.settle()
    assert len(h.of("input_audio_buffer.committed")) == 2
    assert len(h.of("response.done")) == 1 and h.of("response.done")[0]["response"]["status"] == "completed"
    assert h.brain.questions[-1] == f"{QUESTION} {QUESTION}"  # both fragments make the question


async def test_talking_on_as_the_answer_begins_keeps_the_question() -> None:
    h = Harness(player=True)
    await h.feed(speech(1000))
    h.run.hold("tts_rest")
    await h.feed(silence(700))
    await h.settle()
    assert h.of("output_audio_buffer.started")
    await h.feed(speech(400))  # within the first second of the answer
    h.run.release("tts_rest")
    await h.feed(silence(700))
    await h.settle()
    assert h.brain.questions[-1] == f"{QUESTION} {QUESTION}"
    h2 = Harness(player=True)
    await h2.feed(speech(1000))
    h2.run.hold("tts_rest")
    await h2.feed(silence(700))
    await h2.settle()
    h2.clock.t += 2.0  # two seconds of the answer were heard: a new question
    await h2.feed(speech(400))
    h2.run.release("tts_rest")
    await h2.feed(silence(700))
    await h2.settle()
    assert h2.brain.questions[-1] == QUESTION


class CancellableBrain(FakeBrain):
    """A query that runs until the question's cancel token says stop, as the real brain's SQL would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.tokens: list[cancel.CancelToken | None] = []

    def __call__(self, question: str, history: list[HistoryTurn]) -> Answer:
        token = cancel.current()
        self.tokens.append(token)
        self.entered.set()
        if token is not None:
            token.sleep(10)  # raises Cancelled when the token is cancelled
        return super().__call__(question, history)


async def test_barge_in_cancels_the_running_question_through_its_token() -> None:
    brain = CancellableBrain()
    h = Harness(brain=brain)
    h.run.threaded.add("brain")
    await h.feed(speech(1000))
    await h.feed(silence(700))
    assert await asyncio.to_thread(brain.entered.wait, 5)
    await h.settle()
    assert h.of("response.created") and not h.of("response.done")
    await h.feed(speech(200))
    first = brain.tokens[0]
    for _ in range(500):  # the worker thread notices the cancel and leaves the brain
        await asyncio.sleep(0.01)
        if first is not None and first.cancelled:
            break
    assert first is not None and first.cancelled
    assert h.of("response.done")[0]["response"]["status"] == "cancelled"
    await asyncio.sleep(0.05)
    assert not h.of("error")  # cancelling is not a server error


async def test_a_late_partial_does_not_start_a_second_answer() -> None:
    """A partial transcript that comes back after the speculation started must not prepare an answer
    of its own: it would run on, for nobody, after the turn adopted the speculation."""
    h = Harness()
    h.run.hold("stt_partial")  # the partials are slow (the pool is busy)
    await h.feed(speech(1000))
    await h.feed(silence(100))  # the pause: the speculation transcribes and asks
    await h.settle()
    h.run.release("stt_partial")
    await h.feed(silence(600))
    await h.settle()
    assert h.brain.questions == [QUESTION]
    assert h.of("response.done")[0]["response"]["status"] == "completed"
