"""The app event stream: what the page shows beside the audio (transcripts, answers, SQL, rows, timings).

Query results reach the page here, for every engine, never through model events. One WebSocket per page,
`/api/events`; the page's first message is `{"type": "hello", "conversation_id", "token"?}`.

Events (all carry `type`, `conversation_id`, `turn_id` where there is a turn, and `at`, epoch ms):

- `transcript.partial` / `transcript.final`: `text`, `source` ("voice" or "text").
- `answer`: `answer` = `Answer.to_dict()` (sql, columns, rows, truncated, chart, timings_ms, error, ...).
- `timings`: `timings_ms` for the turn, by stage.
- `error`: `code`, `message`.
- `turn.cancelled`: `reason` (barge-in while the answer or its query ran).
- `service`: `status` ("ok" or "degraded") and `problems` (sentences for people): the replica lost or
  regained its conversation database or Redis (sent on change, and after `ready` while degraded).
- Cloud engines (server/cloud.py): `engine` (`engine`, `reason`: which engine answers now and why),
  `usage` (`usage`: tokens in/out, text and audio, and `cost_usd` of a turn), `assistant.transcript`
  (`text`: what the model said), `session.renew` (start a new session: the provider's limit is near).

`publish(conversation_id, event)` is safe from any thread: the voice engine calls it from its workers. With
`server.state_url` set, published events also fan out to the other replicas through Redis (shared.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

log = logging.getLogger("datavox.server.events")

# Other names the voice engine may use for the same events; normalised before they reach the page.
ALIASES = {
    "transcript.delta": "transcript.partial",
    "user.transcript.partial": "transcript.partial",
    "user.transcript.delta": "transcript.partial",
    "transcript.completed": "transcript.final",
    "transcript.done": "transcript.final",
    "user.transcript": "transcript.final",
    "user.transcript.final": "transcript.final",
    "query.result": "answer",
    "query_result": "answer",
    "answer.done": "answer",
    "turn.timings": "timings",
}

QUEUE_SIZE = 256


def normalise(conversation_id: str, event: dict[str, Any]) -> dict[str, Any]:
    out = dict(event)
    kind = str(out.get("type", ""))
    out["type"] = ALIASES.get(kind, kind)
    out["conversation_id"] = conversation_id
    out.setdefault("at", int(time.time() * 1000))
    if out["type"] == "answer" and not isinstance(out.get("answer"), dict):
        # An engine may publish the answer's fields flat: fold them into the one shape the page reads.
        fields = {
            k: v for k, v in out.items() if k not in ("type", "conversation_id", "turn_id", "at", "source")
        }
        out = {k: v for k, v in out.items() if k in ("type", "conversation_id", "turn_id", "at", "source")}
        out["answer"] = fields
    return out


class EventHub:
    """Fan-out of events to the pages watching each conversation."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        with self._lock:
            self._subscribers.setdefault(conversation_id, set()).add(queue)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            subs = self._subscribers.get(conversation_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[conversation_id]

    def subscriber_count(self, conversation_id: str) -> int:
        with self._lock:
            return len(self._subscribers.get(conversation_id, ()))

    def send(self, event: dict[str, Any]) -> None:
        """Deliver an already normalised event; callable from any thread."""
        with self._lock:
            queues = list(self._subscribers.get(str(event.get("conversation_id")), ()))
        if not queues or self._loop is None:
            return
        for queue in queues:
            self._deliver(queue, event)

    def broadcast(self, event: dict[str, Any]) -> None:
        """Deliver one event to every page on this process (the `service` event); callable from any thread."""
        with self._lock:
            targets = [(conv, list(queues)) for conv, queues in self._subscribers.items()]
        if self._loop is None:
            return
        for conv, queues in targets:
            for queue in queues:
                self._deliver(queue, {**event, "conversation_id": conv})

    def _deliver(self, queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        def put() -> None:
            # A page that stopped reading loses old events rather than stalling everyone else.
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

        assert self._loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            put()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(put)
