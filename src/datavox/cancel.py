"""Cancelling a question that runs on another thread: a token its owner sets, honoured by the work.

A voice question is asked on a worker thread. When the user barges in or hangs up, the session cancels the
question's token; the brain then stops where it stands: no further LLM attempt (and no back-off sleep), no
offline fallback, and the database statement it runs is interrupted (`Executor.run` registers the
interrupt with the token). Code that does not know about tokens is unaffected: with no token on the
thread, `check()` does nothing and `sleep()` is `time.sleep`.

    token = CancelToken()
    with running_under(token):       # on the worker thread
        brain.ask(question, history)  # raises Cancelled once token.cancel() was called (any thread)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """The question was cancelled (barge-in, disconnect): nobody waits for its answer."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], object]] = {}
        self._next = 0

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel (idempotent, any thread): the callbacks registered so far run now, on this thread."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = list(self._callbacks.values()), {}
        for callback in callbacks:
            with contextlib.suppress(Exception):  # one failing interrupt must not keep the others
                callback()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once (raising Cancelled) if the token is cancelled meanwhile."""
        if self._event.wait(max(0.0, seconds)):
            raise Cancelled("cancelled")

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run `callback` when the token is cancelled (now, if it already is); returns an unregister."""
        with self._lock:
            if not self._event.is_set():
                key = self._next
                self._next += 1
                self._callbacks[key] = callback

                def unregister() -> None:
                    with self._lock:
                        self._callbacks.pop(key, None)

                return unregister
        callback()
        return lambda: None


_local = threading.local()


def current() -> CancelToken | None:
    """The token of the question this thread works on, if any."""
    token: CancelToken | None = getattr(_local, "token", None)
    return token


@contextlib.contextmanager
def running_under(token: CancelToken | None) -> Iterator[None]:
    """Work on this thread belongs to `token` until the block ends."""
    previous = current()
    _local.token = token
    try:
        yield
    finally:
        _local.token = previous


def check() -> None:
    """Raise Cancelled if this thread's question was cancelled."""
    token = current()
    if token is not None:
        token.check()


def call(fn: Callable[[], T], *, name: str = "datavox-cancellable") -> T:
    """`fn()`, but return (raising Cancelled) as soon as this thread's question is cancelled.

    For a blocking call that cannot be interrupted, such as an HTTP request to the LLM: it finishes on a
    helper thread and its result is dropped, while the caller (a brain worker every session shares) is
    free at once instead of waiting out the request's timeout. Without a token: just `fn()`.
    """
    token = current()
    if token is None:
        return fn()
    token.check()
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    unregister = token.on_cancel(done.set)
    try:
        threading.Thread(target=run, name=name, daemon=True).start()
        done.wait()
    finally:
        unregister()
    if "error" in box:
        raise box["error"]
    if "value" not in box:  # woken by the cancel, the call still runs: its answer is not wanted
        raise Cancelled("cancelled")
    value: T = box["value"]
    return value


def sleep(seconds: float) -> None:
    """`time.sleep` that a cancel cuts short (raising Cancelled)."""
    token = current()
    if token is None:
        time.sleep(seconds)
    else:
        token.sleep(seconds)
