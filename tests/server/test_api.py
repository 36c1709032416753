"""The JSON API with a fake brain and a fake voice engine."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from tests.server.conftest import FakeBrain, FakeEngine, make_settings

from datavox.server.app import create_app
from datavox.types import Answer, HistoryTurn


def test_ask_returns_the_answer_and_passes_history(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        res = client.post(
            "/api/ask",
            json={"question": "Who has the most titles?", "history": [{"role": "user", "text": "hello"}]},
        )
    assert res.status_code == 200
    body = res.json()
    assert body["answer"] == "Lewis Hamilton won seven titles."
    assert body["columns"] == ["driver", "titles"]
    assert body["rows"][0] == ["Lewis Hamilton", 7]
    assert body["intent"] == "STATISTICAL"
    assert body["conversation_id"].startswith("conv_") and body["turn_id"].startswith("turn_")
    assert "total_ms" in body["timings_ms"]
    question, history = brain.calls[0]
    assert question == "Who has the most titles?"
    assert [(h.role, h.text) for h in history] == [("user", "hello")]


def test_empty_question_is_refused(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        assert client.post("/api/ask", json={"question": ""}).status_code == 422
        assert client.post("/api/ask", json={"question": "   "}).json()["detail"]["code"] == "empty_question"


def test_conversation_survives_a_restart(tmp_path: Path, brain: FakeBrain) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, brain=brain)) as client:
        conv = client.post("/api/conversations").json()["conversation_id"]
        client.post("/api/ask", json={"question": "hello", "conversation_id": conv})
        client.post("/api/ask", json={"question": "Who has the most titles?", "conversation_id": conv})
    with TestClient(create_app(settings, brain=FakeBrain())) as client:
        res = client.get(f"/api/conversations/{conv}")
        assert client.get("/api/conversations/conv_unknown").status_code == 404
    assert res.status_code == 200
    turns = res.json()["turns"]
    assert [(t["role"], t["text"]) for t in turns] == [
        ("user", "hello"),
        ("assistant", "Hi! Ask me about F1."),
        ("user", "Who has the most titles?"),
        ("assistant", "Lewis Hamilton won seven titles."),
    ]
    assert turns[3]["sql"].startswith("SELECT")
    assert turns[3]["row_count"] == 3 and turns[3]["columns"] == ["driver", "titles"]
    assert turns[3]["chart"] == "bar"


def test_schema_health_and_metrics(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        assert client.get("/api/schema").json()["tables"][0]["name"] == "drivers"
        assert client.get("/healthz").json()["status"] == "ok"
        client.post("/api/ask", json={"question": "Who has the most titles?"})
        metrics = client.get("/metrics").text
    assert 'datavox_turn_latency_seconds_count{stage="total"} 1.0' in metrics
    assert 'datavox_turn_latency_seconds_count{stage="sql"} 1.0' in metrics
    assert 'datavox_questions_total{source="text"} 1.0' in metrics
    assert 'datavox_queries_total{outcome="ok"} 1.0' in metrics


def test_client_timings_reach_metrics(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        res = client.post(
            "/api/conversations/conv_x/timings",
            json={"turn_id": "turn_1", "timings_ms": {"first_audio": 640.0, "transcript": 210.0}},
        )
        assert res.status_code == 204
        metrics = client.get("/metrics").text
    assert 'datavox_turn_latency_seconds_count{stage="client_first_audio"} 1.0' in metrics


def test_event_stream_carries_typed_turns(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        conv = client.post("/api/conversations").json()["conversation_id"]
        with client.websocket_connect("/api/events") as ws:
            ws.send_json({"type": "hello", "conversation_id": conv})
            assert ws.receive_json() == {"type": "ready", "conversation_id": conv}
            client.post("/api/ask", json={"question": "Who has the most titles?", "conversation_id": conv})
            first, second = ws.receive_json(), ws.receive_json()
    assert first["type"] == "transcript.final" and first["text"] == "Who has the most titles?"
    assert second["type"] == "answer" and second["turn_id"] == first["turn_id"]
    assert second["answer"]["sql"].startswith("SELECT") and second["answer"]["rows"][0][0] == "Lewis Hamilton"


def test_voice_engine_events_from_a_thread_reach_the_page_and_the_store(
    tmp_path: Path, brain: FakeBrain
) -> None:
    app = create_app(make_settings(tmp_path, engine="local"), brain=brain, engine=FakeEngine())
    state = app.state.datavox
    with TestClient(app) as client:
        conv = client.post("/api/conversations").json()["conversation_id"]
        with client.websocket_connect("/api/events") as ws:
            ws.send_json({"type": "hello", "conversation_id": conv})
            ws.receive_json()

            def engine_turn() -> None:
                state.publish(conv, {"type": "transcript.partial", "turn_id": "item_1", "text": "who has"})
                state.publish(
                    conv, {"type": "transcript.final", "turn_id": "item_1", "text": "who has the most titles"}
                )
                answer = state.voice_ask("who has the most titles", [])
                # Flat fields are folded into the one `answer` shape the page reads.
                state.publish(conv, {"type": "query.result", "turn_id": "item_1", **answer.to_dict()})

            worker = threading.Thread(target=engine_turn)
            worker.start()
            worker.join()
            events = [ws.receive_json() for _ in range(3)]
        history = client.get(f"/api/conversations/{conv}").json()
        metrics = client.get("/metrics").text
    assert [e["type"] for e in events] == ["transcript.partial", "transcript.final", "answer"]
    assert events[2]["answer"]["columns"] == ["driver", "titles"]
    assert [t["role"] for t in history["turns"]] == ["user", "assistant"]
    assert history["turns"][0]["source"] == "voice"
    assert 'datavox_questions_total{source="voice"} 1.0' in metrics


def test_schema_is_read_from_the_database_when_the_brain_has_no_catalog(tmp_path: Path) -> None:
    class BareBrain:
        def ask(self, question: str, history: list[HistoryTurn]) -> Answer:
            raise AssertionError("not asked")

    db = tmp_path / "shop.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, total REAL)")
        conn.commit()
    settings = make_settings(tmp_path).with_db(f"sqlite:///{db}")
    with TestClient(create_app(settings, brain=BareBrain())) as client:
        res = client.get("/api/schema")
    assert res.status_code == 200
    assert list(res.json()["tables"]) == ["orders"]


def test_barge_in_cancels_the_query_of_the_asking_thread_only(tmp_path: Path) -> None:
    class CancellableBrain(FakeBrain):
        def __init__(self) -> None:
            super().__init__()
            self.cancelled: list[int | None] = []

        def cancel(self, thread_id: int | None = None) -> None:
            self.cancelled.append(thread_id)

    brain = CancellableBrain()
    app = create_app(make_settings(tmp_path, engine="local"), brain=brain, engine=FakeEngine())
    app.state.datavox.cancel_query(4242)  # what the voice engine calls with its ask's worker thread
    assert brain.cancelled == [4242]  # never None: that would cancel every user's query


def test_realtime_session_binds_the_secret_to_the_conversation(tmp_path: Path, brain: FakeBrain) -> None:
    engine = FakeEngine()
    app = create_app(make_settings(tmp_path, engine="local"), brain=brain, engine=engine)
    with TestClient(app) as client:
        res = client.post("/api/realtime/session", json={"voice": "cedar"})
    assert res.status_code == 200
    body = res.json()
    assert body["engine"] == "local" and body["calls_url"] == "/v1/realtime/calls"
    assert body["secret"] == engine.minted[0]["value"]
    assert body["conversation_id"] == engine.minted[0]["conversation_id"]
    assert engine.minted[0]["voice"] == "cedar"
    assert engine.closed  # closed with the app


def test_engine_busy_is_explained(tmp_path: Path, brain: FakeBrain) -> None:
    engine = FakeEngine()
    engine.busy = True
    with TestClient(
        create_app(make_settings(tmp_path, engine="local"), brain=brain, engine=engine)
    ) as client:
        res = client.post("/api/realtime/session", json={})
    assert res.status_code == 429
    assert res.json()["detail"]["code"] == "engine_busy"
    assert "type your question" in res.json()["detail"]["message"]
    assert res.headers["retry-after"] == "30"  # the fake engine gives no figure: the default


def test_an_unconfigured_cloud_engine_names_the_missing_setting(tmp_path: Path, brain: FakeBrain) -> None:
    # The cloud engines themselves are tested against a fake cloud in tests/cloud/.
    with TestClient(create_app(make_settings(tmp_path, engine="azure"), brain=brain)) as client:
        res = client.post("/api/realtime/session", json={})
    assert res.status_code == 503
    assert "DATAVOX_REALTIME_AZURE_ENDPOINT" in res.json()["detail"]["message"]


def test_the_page_or_a_build_hint_is_served(tmp_path: Path, brain: FakeBrain) -> None:
    with TestClient(create_app(make_settings(tmp_path), brain=brain)) as client:
        res = client.get("/")
    assert res.status_code == 200 and "datavox" in res.text
