"""The in-process uvicorn used by the transport tests (shared with `datavox bench voice`)."""

from datavox.voice.clients import serve_in_thread as serve

__all__ = ["serve"]
