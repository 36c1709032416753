"""The local engine in a process of its own, for `datavox bench voice` and `datavox bench soak`.

The clients (WebSocket, aiortc) run in the benchmark's process as a browser runs in its own: they share
the 2 cores but not the server's interpreter lock, and the server's RSS and CPU are its own to measure.
The server answers with the real Brain on the given database (or the app server with its store, for the
soak) and sends its per-turn `timings` events back through a queue.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from datavox.config import Settings


@dataclass
class ServerProcess:
    base: str
    pid: int
    label: str
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    _queue: Any = None

    def drain(self) -> None:
        """Collect the timings events sent so far (response id → stage → ms)."""
        while True:
            try:
                response_id, stages = self._queue.get_nowait()
            except Exception:
                return
            self.timings[response_id] = stages


def _serve(settings: Settings, port: int, queue: Any, ready: Any, app_mode: bool) -> None:
    """Child process: load everything, then serve until killed."""
    import asyncio
    import contextlib
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)

    def forward(_conversation: str, event: dict[str, Any]) -> None:
        if event.get("type") == "timings" and event.get("response_id"):
            with contextlib.suppress(Exception):
                queue.put_nowait((str(event["response_id"]), dict(event.get("timings_ms") or {})))

    if app_mode:
        # The whole app (store, event stream, `/api`), as `datavox serve` runs it: the soak checks that
        # every voice turn is stored.
        from datavox.server.app import create_app

        app = create_app(settings)
        state = app.state.datavox
        state.warm_on_start = True
        publish = state.publish

        def both(conversation: str, event: dict[str, Any]) -> None:
            publish(conversation, event)
            forward(conversation, event)

        state.publish = both
        engine = state.engine
        if engine is not None:
            engine.publish = both

        @app.get("/_bench/tasks")  # this benchmark's child process only: what the soak checks for leaks
        async def tasks(collect: bool = False) -> dict[str, Any]:
            import collections
            import gc
            import re
            import threading

            if collect:  # a leak is what a full collection leaves; aiortc's objects are cyclic garbage
                gc.collect()

            sessions = len(engine.sessions) if engine is not None else 0
            names = collections.Counter(
                re.sub(r"[-_ ]?\d+(_\d+)?$", "", t.name) for t in threading.enumerate()
            )
            # native threads too (onnxruntime, CTranslate2, DuckDB...), by the name the OS knows
            with contextlib.suppress(OSError):
                for task in os.listdir("/proc/self/task"):
                    with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as fh:
                        names["os:" + re.sub(r"[-_ ]?\d+$", "", fh.read().strip())] += 1
            heap = getattr(engine, "heap", None)  # voice/heap.py: malloc_trim calls and what they gave back
            trims = {"trims": heap.trims, "released": heap.released} if heap is not None else {}
            return {
                "tasks": len(asyncio.all_tasks()),
                "sessions": sessions,
                "threads": dict(names),
                "heap": trims,
            }

        app.router.routes.insert(0, app.router.routes.pop())  # before the page's catch-all routes

        label = "the app (datavox serve) with the real Brain"
    else:
        from fastapi import FastAPI

        from datavox.bench.voice import load_brain
        from datavox.voice.engine import LocalRealtimeEngine
        from datavox.voice.routes import create_router

        ask, label = load_brain(settings)
        engine = LocalRealtimeEngine(settings, ask, forward, loopback=True)
        engine.warm_up(wait=True)
        app = FastAPI()
        app.include_router(create_router(engine))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                return
            await asyncio.sleep(0.05)
        ready.put(label)
        await task

    asyncio.run(run())


@contextmanager
def server_process(
    settings: Settings, *, app_mode: bool = False, timeout_s: float = 180
) -> Iterator[ServerProcess]:
    """Start the engine's server in a child process on a free loopback port; stop it on exit."""
    from datavox.voice.serving import free_port

    ctx = mp.get_context("spawn")
    queue, ready = ctx.Queue(), ctx.Queue()
    port = free_port()
    proc = ctx.Process(target=_serve, args=(settings, port, queue, ready, app_mode), daemon=True)
    proc.start()
    deadline = time.monotonic() + timeout_s
    label = ""
    while True:
        try:
            label = ready.get(timeout=0.5)
            break
        except Exception:
            if not proc.is_alive() or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the server process did not start (exit code {proc.exitcode})") from None
    assert proc.pid is not None
    try:
        yield ServerProcess(f"http://127.0.0.1:{port}", proc.pid, label, _queue=queue)
    finally:
        proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def load_note() -> str:
    """The machine's load, to read the figures by (others share these cores)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"
