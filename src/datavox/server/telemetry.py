"""Prometheus metrics and OpenTelemetry spans for each turn and stage.

Each app gets its own metrics registry and tracer provider, so tests can build many apps in one process.
Spans leave the process only when `server.otlp_endpoint` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`) is
set (OTLP over HTTP).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger("datavox.server")

# Seconds; a voice turn should land well under one second, a slow LLM turn may take several.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turn_latency = Histogram(
            "datavox_turn_latency_seconds",
            "Turn latency by stage (total, sql, execute, answer, transcript, first_audio, ...).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.questions = Counter(
            "datavox_questions_total",
            "Questions answered, by source (text or voice).",
            ["source"],
            registry=self.registry,
        )
        self.queries = Counter(
            "datavox_queries_total",
            "SQL queries run for answers, by outcome (ok, rejected, error).",
            ["outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "datavox_errors_total",
            "Errors by kind (brain, rate_limited, unauthorized, engine, ...).",
            ["kind"],
            registry=self.registry,
        )
        self.sessions = Counter(
            "datavox_realtime_sessions_total",
            "Realtime secrets minted, by engine.",
            ["engine"],
            registry=self.registry,
        )
        self.event_streams = Gauge(
            "datavox_event_streams", "Pages connected to the app event stream.", registry=self.registry
        )
        # The local engine's shared speech workers (voice/pool.py), read at each scrape.
        self.voice_queue = Gauge(
            "datavox_voice_queue_depth",
            "Speech work waiting for the shared workers, by kind (stt, tts, tts_rest, tts_early, "
            "stt_partial); running:<kind> counts the work on a worker now.",
            ["kind"],
            registry=self.registry,
        )
        self.voice_work = Histogram(
            "datavox_voice_work_seconds",
            "Speech work on the shared workers by kind: time queued (wait) and on a worker (run).",
            ["kind", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.voice_sessions = Gauge(
            "datavox_voice_sessions", "Live sessions on the local realtime engine.", registry=self.registry
        )
        self.voice_heap_released = Gauge(
            "datavox_voice_heap_released_bytes",
            "Resident memory the local engine's malloc_trim calls gave back to the OS (voice/heap.py).",
            registry=self.registry,
        )
        self.voice_capacity = Gauge(
            "datavox_voice_capacity",
            "Sessions the local engine admits before it answers engine_busy.",
            registry=self.registry,
        )

    def render(self, engine: Any = None) -> bytes:
        if engine is not None:
            self.observe_engine(engine)
        return bytes(generate_latest(self.registry))

    def observe_work(self, kind: str, wait_s: float, run_s: float) -> None:
        """Called by the engine's speech workers (any thread) for each job."""
        self.voice_work.labels(kind or "other", "wait").observe(wait_s)
        self.voice_work.labels(kind or "other", "run").observe(run_s)

    def observe_engine(self, engine: Any) -> None:
        """Queue depths and sessions of the local engine, when it has them (duck-typed: the engine is
        optional and a test may pass a fake)."""
        depths = getattr(engine, "queue_depths", None)
        if callable(depths):
            seen = dict(depths())
            for kind in ("stt", "tts", "tts_rest", "tts_early", "stt_partial"):
                seen.setdefault(kind, 0)
            for kind, n in seen.items():
                self.voice_queue.labels(kind).set(n)
        sessions = getattr(engine, "sessions", None)
        if isinstance(sessions, dict):
            self.voice_sessions.set(len(sessions))
        capacity = getattr(engine, "capacity", None)
        if isinstance(capacity, int):
            self.voice_capacity.set(capacity)
        released = getattr(getattr(engine, "heap", None), "released", None)
        if isinstance(released, int):
            self.voice_heap_released.set(released)

    def observe_answer(self, answer: Mapping[str, Any], source: str) -> None:
        self.questions.labels(source).inc()
        timings = answer.get("timings_ms") or {}
        for stage, ms in timings.items():
            if isinstance(ms, int | float):
                self.turn_latency.labels(stage.removesuffix("_ms")).observe(float(ms) / 1000.0)
        if answer.get("sql"):
            self.queries.labels("error" if answer.get("error") else "ok").inc()
        elif answer.get("error"):
            self.queries.labels("rejected").inc()


def make_tracer(otlp_endpoint: str) -> tuple[TracerProvider, Tracer]:
    provider = TracerProvider(resource=Resource.create({"service.name": "datavox"}))
    # The standard variables are what a platform's managed agent sets (Azure Container Apps' OpenTelemetry
    # agent injects them); server.otlp_endpoint, when set, wins.
    otlp_endpoint = (
        otlp_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider, provider.get_tracer("datavox.server")


def stage_spans(tracer: Tracer, parent_end_ns: int, timings_ms: Mapping[str, Any]) -> None:
    """One child span per stage the brain timed, laid end to end and ending when the turn ended."""
    stages = [
        (k.removesuffix("_ms"), float(v))
        for k, v in timings_ms.items()
        if isinstance(v, int | float) and k not in ("total", "total_ms")
    ]
    start = parent_end_ns - int(sum(ms for _, ms in stages) * 1e6)
    for stage, ms in stages:
        end = start + int(ms * 1e6)
        span = tracer.start_span(f"stage.{stage}", start_time=start, attributes={"datavox.stage": stage})
        span.end(end_time=end)
        start = end


def mark_error(span: Span, message: str) -> None:
    span.set_status(Status(StatusCode.ERROR, message))


def now_ns() -> int:
    return time.time_ns()


# Secrets never reach the logs: this filter masks ephemeral keys and bearer values in every record.
_SECRET_PATTERNS = [
    re.compile(r"\bek_[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{4,}"),
]


class RedactSecrets(logging.Filter):
    def __init__(self, extra: list[str] | None = None) -> None:
        super().__init__()
        self.extra = [s for s in (extra or []) if s]

    def redact(self, text: str) -> str:
        for value in self.extra:
            text = text.replace(value, "****")
        text = _SECRET_PATTERNS[0].sub("ek_****", text)
        return _SECRET_PATTERNS[1].sub(r"\1****", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        # A traceback (log.exception) carries the exception's message, which may hold a key or a URL with
        # a token. Formatters print `exc_text` when it is set, so set it, masked.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(_TRACEBACKS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


def install_redaction(secrets: list[str]) -> RedactSecrets:
    """Attach the filter to the root and uvicorn loggers and their handlers.

    A filter on a logger misses records from its children; one on each handler does not.
    """
    flt = RedactSecrets(secrets)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "datavox"):
        logger = logging.getLogger(name)
        logger.addFilter(flt)
        for handler in logger.handlers:
            handler.addFilter(flt)
    return flt
