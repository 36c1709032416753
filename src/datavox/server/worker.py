"""The app of one `datavox serve --workers N` worker process.

uvicorn starts each worker as a fresh process and calls `create()`; the settings come from the environment
the serve command set (`DATAVOX_CONFIG`, `DATAVOX_*`), so every worker serves the same configuration.
"""

from __future__ import annotations

import os
from dataclasses import replace

from fastapi import FastAPI

from datavox.config import load_settings


def create() -> FastAPI:
    from datavox.cli_serve import setup_logging
    from datavox.server.app import create_app

    settings = load_settings()
    if settings.server.replica_id:
        # Workers must differ: the replica id is how a worker skips its own events coming back from Redis.
        server = replace(settings.server, replica_id=f"{settings.server.replica_id}-{os.getpid()}")
        settings = replace(settings, server=server)
    setup_logging(settings, os.environ.get("DATAVOX_WORKER_LOG_LEVEL", "info"))
    app = create_app(settings)
    state = app.state.datavox
    state.warm_on_start = True
    state.ready_message = f"datavox worker {os.getpid()} ({state.replica}) is ready"
    return app
