"""An in-process uvicorn serving the realtime router on a free loopback port (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_in_thread(engine: Any, *, setup: Any = None, **router_kw: Any) -> Iterator[str]:
    """uvicorn on a free loopback port in a background thread, serving the realtime router; yields its URL."""
    import threading

    import uvicorn
    from fastapi import FastAPI

    from datavox.voice.routes import create_router

    app = FastAPI()
    app.include_router(create_router(engine, **router_kw))
    if setup is not None:
        setup(app)  # extra routes, e.g. a test page
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="dv-uvicorn")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
