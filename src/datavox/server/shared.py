"""State shared by replicas through Redis (`server.state_url`): event fan-out, rate limits, voice secrets.

- Events: every replica publishes the events of its turns on `<prefix>events:<conversation>` and listens to
  `<prefix>events:*`, so a page whose event stream is on replica A sees a turn answered on replica B. The
  replica that answered delivers to its own pages directly (no round trip) and skips its own echo.
- Rate limits: one token bucket per client in a Redis hash, updated by a Lua script (atomic across
  replicas, clocked by Redis's TIME so replicas' clocks do not matter).
- Voice secrets: a minted `ek_…` is recorded under the SHA-256 of its value (the value itself never sits in
  Redis) with its expiry, so any replica accepts it.

Redis going away never fails a request: publishing is queued to a sender thread (events of an outage reach
only this replica's pages; the turns themselves are in the conversation store), rate limits fall back to
this replica's in-memory buckets, and the replica reports itself degraded until Redis answers again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from datavox.data.connect import redact_url
from datavox.server.ratelimit import TokenBucket

log = logging.getLogger("datavox.server.shared")

EventSink = Callable[[dict[str, Any]], None]

_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(s[1]) or burst
local last = tonumber(s[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif rate > 0 then
  wait = (1 - tokens) / rate
else
  wait = 60
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {allowed, tostring(wait)}
"""

_PUBLISH_QUEUE = 10_000


class SharedState:
    """One Redis connection pool per process, a sender thread and a listener thread."""

    def __init__(self, url: str, prefix: str, replica: str, *, timeout_s: float = 0.5) -> None:
        self.url = url
        self.shown_url = redact_url(url)
        self.prefix = prefix
        self.replica = replica
        # health_check_interval: the subscriber's idle connection is PINGed, so a Redis that stops
        # answering without closing the connection (a network partition) is noticed within seconds.
        self.client: redis.Redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=2
        )
        self._bucket = self.client.register_script(_BUCKET_LUA)
        self._healthy = False
        self._known = False  # the first check decides quietly; later changes are logged
        self._problem = "connecting to Redis"
        self._state_lock = threading.Lock()
        self.on_change: Callable[[], None] | None = None
        self.sink: EventSink | None = None  # where events from other replicas go (EventHub.send)
        self._outgoing: queue.Queue[tuple[str, str] | None] = queue.Queue(_PUBLISH_QUEUE)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.check()

    def start(self, sink: EventSink) -> None:
        self.sink = sink
        for target, name in ((self._send_loop, "dv-redis-send"), (self._listen_loop, "dv-redis-listen")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._outgoing.put_nowait(None)
        for thread in self._threads:
            thread.join(timeout=3)
        self.client.close()

    # --- health -----------------------------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        return self._healthy

    def status(self) -> tuple[bool, str]:
        if self._healthy:
            return True, f"redis {self.shown_url}"
        return False, self._problem

    def _set(self, healthy: bool, problem: str = "") -> None:
        with self._state_lock:
            changed = healthy != self._healthy or not self._known
            quiet = not self._known and healthy
            self._known = True
            self._healthy, self._problem = healthy, problem or self._problem
        if changed and not quiet:
            if healthy:
                log.warning("Redis is back: events fan out to every replica again")
            else:
                log.warning("Redis unavailable (%s): events reach this replica's pages only", problem)
            if self.on_change is not None:
                self.on_change()

    def _failed(self, exc: Exception) -> None:
        self._set(False, f"cannot reach Redis {self.shown_url}: {type(exc).__name__}: {exc}")

    def check(self) -> bool:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            self._failed(exc)
            return False
        self._set(True)
        return True

    # --- events -----------------------------------------------------------------------------------
    def channel(self, conversation_id: str) -> str:
        return f"{self.prefix}events:{conversation_id}"

    def publish(self, event: dict[str, Any]) -> None:
        """Queue a normalised event for the other replicas; never blocks the caller."""
        message = json.dumps({"origin": self.replica, "event": event}, default=str)
        try:
            self._outgoing.put_nowait((self.channel(str(event.get("conversation_id"))), message))
        except queue.Full:
            log.warning("dropping an event for other replicas: the Redis send queue is full")

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            item = self._outgoing.get()
            if item is None:
                return
            if not self._healthy and not self.check():
                continue  # Redis is down: other replicas miss this event; the turn itself is stored
            try:
                self.client.publish(*item)
            except redis.RedisError as exc:
                self._failed(exc)

    def _listen_loop(self) -> None:
        pattern = f"{self.prefix}events:*"
        backoff = 0.2
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(pattern)
                self._set(True)
                backoff = 0.2
                checked = time.monotonic()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._deliver(message.get("data"))
                    if time.monotonic() - checked > 2.0:
                        # The monitor: a request that failed marks Redis down; this marks it up again once
                        # it answers (and notices an outage when no request does).
                        checked = time.monotonic()
                        self.client.ping()
                        self._set(True)
            except (redis.RedisError, OSError) as exc:
                self._failed(exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()

    def _deliver(self, data: Any) -> None:
        try:
            message = json.loads(data)
        except (TypeError, ValueError):
            return
        if not isinstance(message, dict) or message.get("origin") == self.replica:
            return
        event = message.get("event")
        if isinstance(event, dict) and self.sink is not None:
            self.sink(event)

    # --- voice secrets -----------------------------------------------------------------------------------
    def _grant_key(self, secret: str) -> str:
        return f"{self.prefix}grant:{hashlib.sha256(secret.encode()).hexdigest()}"

    def put_grant(self, secret: str, grant: dict[str, Any], expires_at: float) -> None:
        ttl_ms = int((expires_at - time.time()) * 1000)
        if ttl_ms <= 0 or not self._healthy:  # Redis down: the secret works on this replica only
            return
        try:
            value = json.dumps({**grant, "expires_at": expires_at}, default=str)
            self.client.set(self._grant_key(secret), value, px=ttl_ms)
        except redis.RedisError as exc:
            self._failed(exc)  # the secret still works on the replica that minted it

    def get_grant(self, secret: str) -> dict[str, Any] | None:
        if not self._healthy:  # called on the event loop: no waiting on a Redis known to be down
            return None
        try:
            raw = self.client.get(self._grant_key(secret))
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        if raw is None:
            return None
        grant = json.loads(raw)
        return grant if isinstance(grant, dict) else None


class SharedBucket:
    """A token bucket counted in Redis (the same limits on every replica), or locally while Redis is down."""

    def __init__(self, state: SharedState, name: str, rate_per_minute: float, burst: float | None = None):
        self.state = state
        self.name = name
        self.local = TokenBucket(rate_per_minute, burst)
        self.rate = self.local.rate
        self.burst = self.local.burst
        # Idle buckets vanish once they would be full again.
        self.ttl_s = int(self.burst / self.rate) + 60 if self.rate > 0 else 3600

    def allow(self, key: str) -> tuple[bool, float]:
        if not self.state.healthy:
            return self.local.allow(key)
        try:
            allowed, wait = self.state._bucket(
                keys=[f"{self.state.prefix}rate:{self.name}:{key}"], args=[self.rate, self.burst, self.ttl_s]
            )
        except redis.RedisError as exc:
            self.state._failed(exc)
            return self.local.allow(key)
        return bool(int(allowed)), float(wait)
