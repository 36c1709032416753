"""Cancel tokens: callbacks, a sleep a cancel cuts short, the token of the current thread."""

from __future__ import annotations

import threading
import time

import pytest

from datavox import cancel
from datavox.cancel import Cancelled, CancelToken, running_under


def test_callbacks_run_once_and_late_ones_at_once() -> None:
    token = CancelToken()
    seen: list[str] = []
    token.on_cancel(lambda: seen.append("a"))
    gone = token.on_cancel(lambda: seen.append("unregistered"))
    gone()
    token.on_cancel(lambda: 1 / 0)  # a failing callback does not stop the others
    token.on_cancel(lambda: seen.append("b"))
    token.cancel()
    token.cancel()
    assert seen == ["a", "b"] and token.cancelled
    token.on_cancel(lambda: seen.append("late"))
    assert seen == ["a", "b", "late"]
    with pytest.raises(Cancelled):
        token.check()


def test_sleep_wakes_on_cancel_and_the_thread_token() -> None:
    token = CancelToken()
    cancel.check()  # no token on this thread: nothing to do
    with running_under(token):
        assert cancel.current() is token
        threading.Timer(0.1, token.cancel).start()
        started = time.perf_counter()
        with pytest.raises(Cancelled):
            cancel.sleep(5)
        assert time.perf_counter() - started < 2
        with pytest.raises(Cancelled):
            cancel.check()
    assert cancel.current() is None
    cancel.sleep(0.001)


def test_call_returns_raises_or_leaves_early() -> None:
    assert cancel.call(lambda: 42) == 42  # no token: a plain call
    token = CancelToken()
    with running_under(token):
        assert cancel.call(lambda: "done") == "done"
        with pytest.raises(ZeroDivisionError):
            cancel.call(lambda: 1 / 0)
        release = threading.Event()
        threading.Timer(0.1, token.cancel).start()
        started = time.perf_counter()
        with pytest.raises(Cancelled):
            cancel.call(lambda: release.wait(5))
        assert time.perf_counter() - started < 2
        release.set()
        with pytest.raises(Cancelled):
            cancel.call(lambda: "never runs")  # already cancelled
