"""The brain: one interface, `Brain.ask(question, history) -> Answer`, for every engine that asks.

It holds the catalog, the semantic model, the value index and the read-only executor, picks the engine (the
LLM when one is configured, else the offline parser), falls back to the offline parser when the LLM cannot be
reached, and answers repeated questions in the same context from a cache keyed by the normalised question,
the resolved context and the data version (an import changes the version, so the cache empties itself).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from datavox import cancel
from datavox.brain.linking import ValueIndex
from datavox.brain.offline import OfflineEngine
from datavox.brain.text import fold
from datavox.brain.turn_context import CONTEXT_KEY, find_context
from datavox.config import Settings
from datavox.data.connect import DatabaseUrl, parse_url
from datavox.data.schema import Catalog, _file_version, introspect
from datavox.data.semantic import SemanticModel, model_for
from datavox.types import Answer, HistoryTurn, Intent, QueryResult

CACHE_SIZE = 512


class Brain:
    def __init__(
        self,
        settings: Settings,
        *,
        engine: str | None = None,
        catalog: Catalog | None = None,
        model: SemanticModel | None = None,
        executor: Any = None,
    ) -> None:
        self.settings = settings
        self.db: DatabaseUrl = parse_url(settings.database.url)
        self.engine_name = engine or ("llm" if settings.llm.provider != "none" else "offline")
        if self.engine_name not in ("offline", "llm"):
            raise ValueError(f"unknown engine {self.engine_name!r}: use offline or llm")
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, Answer] = OrderedDict()
        self._executor = executor
        self._own_executor = executor is None
        self._llm: Any = None
        self._load(catalog, model)

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: str | None = None) -> Brain:
        return cls(settings, engine=engine)

    # -- loading -------------------------------------------------------------------------------------------
    def _load(self, catalog: Catalog | None = None, model: SemanticModel | None = None) -> None:
        self.catalog = catalog or introspect(self.db)
        self.model = model or model_for(self.settings, self.catalog)
        self.version = self.catalog.version
        self._file_version = _file_version(self.db)
        if self._own_executor:
            if self._executor is not None:
                self._executor.close()
            self._executor = self._make_executor()
        self.index = ValueIndex(self.catalog, self.model, fetch=self._fetch)
        self.offline = OfflineEngine(
            self.catalog, self.model, self._run, dialect=self.db.dialect, index=self.index
        )
        self._llm = None
        self._cache.clear()

    def _make_executor(self) -> Any:
        from datavox.data.audit import AuditLog
        from datavox.data.execute import Executor

        audit = AuditLog(self.settings.database.audit_log) if self.settings.database.audit_log else None
        return Executor(
            self.db,
            allowed_tables=self.model.exposed_tables(),
            row_cap=self.settings.database.row_cap,
            timeout_s=self.settings.database.timeout_s,
            audit=audit,
        )

    def _fetch(self, sql: str) -> list[list[object]]:
        """Start-up lookups of our own (prominence of names), through the same read-only executor."""
        result: QueryResult = self._executor.run(sql, source="brain-index")
        return [list(r) for r in result.rows]

    def _run(self, sql: str) -> QueryResult:
        result: QueryResult = self._executor.run(sql, source="brain")
        return result

    @property
    def executor(self) -> Any:
        return self._executor

    def refresh_if_changed(self) -> bool:
        """Reload the catalog when the database file changed (an import): the cache empties with it."""
        current = _file_version(self.db)
        if current and current != self._file_version:
            with self._lock:
                if current != self._file_version:
                    self._load(introspect(self.db, refresh=True))
                    return True
        return False

    def invalidate(self) -> None:
        """Forget the catalog and the cache (call after an import into a server database)."""
        with self._lock:
            self._load(introspect(self.db, refresh=True))

    # -- the turn ------------------------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[HistoryTurn] = ()) -> Answer:
        """The answer to `question`. Raises `cancel.Cancelled` when the thread's cancel token (a voice
        turn's) is cancelled: before starting, between LLM attempts, instead of the offline fallback, and
        from the database statement it interrupts."""
        cancel.check()
        started = time.perf_counter()
        self.refresh_if_changed()
        key = self._cache_key(question, history)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is not None:
            took = _ms(started)
            answer = replace(hit, cached=True, timings_ms={"cache_ms": took, "total_ms": took})
            return answer
        if self.engine_name == "llm":
            answer = self._ask_llm(question, history)
        else:
            answer = self.offline.ask(question, history)
        answer.timings_ms["total_ms"] = _ms(started)
        if answer.error is None:
            with self._lock:
                self._cache[key] = answer
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return answer

    def _ask_llm(self, question: str, history: Sequence[HistoryTurn]) -> Answer:
        from datavox.llm import LlmUnavailable

        try:
            engine = self._llm_engine()
        except Exception as exc:  # LLM settings that cannot work (no key, no endpoint): offline, and say why
            answer = self.offline.ask(question, history)
            answer.fallback_reason = f"the LLM engine is not configured: {exc}"
            return answer
        try:
            llm_answer: Answer = engine.ask(question, history)
        except LlmUnavailable as exc:
            cancel.check()  # nobody waits for this answer: no fallback either
            answer = self.offline.ask(question, history)
            answer.fallback_reason = str(exc) or "the language model could not be reached"
            return answer
        if llm_answer.error is not None and llm_answer.intent is Intent.STATISTICAL:
            # Three attempts failed the guard or the database: the offline parser may still answer; if it
            # cannot either, the LLM's own error is the better explanation.
            cancel.check()
            offline = self.offline.ask(question, history)
            if offline.error is None and offline.intent is Intent.STATISTICAL:
                offline.fallback_reason = f"the language model's SQL failed: {llm_answer.error}"
                return offline
        return llm_answer

    def _llm_engine(self) -> Any:
        if self._llm is None:
            from datavox.brain.sql_llm import LlmEngine

            self._llm = LlmEngine(self.settings, self.catalog, self.model, self._executor, self.index)
        return self._llm

    def _cache_key(self, question: str, history: Sequence[HistoryTurn]) -> str:
        ctx = find_context(history)
        if ctx is None and history:
            # Plain-text history: the last exchange is the context.
            ctx = {"text": [fold(t.text) for t in history[-2:]]}
        return json.dumps(
            [self.engine_name, fold(question), ctx or {}, self.version], sort_keys=True, default=str
        )

    def cancel(self, thread_id: int | None = None) -> None:
        """Cancel the statement that thread `thread_id` runs now (a voice barge-in: the engine asks on worker
        threads), leaving other users' statements on the shared executor alone; None cancels every one."""
        if self._executor is not None:
            self._executor.cancel(thread_id)

    def close(self) -> None:
        if self._own_executor and self._executor is not None:
            self._executor.close()
            self._executor = None

    def conversational(self, question: str) -> bool:
        return self.offline.ask(question).intent is Intent.CONVERSATIONAL


def context_of(answer: Answer) -> dict[str, Any]:
    """What an assistant turn should carry in `HistoryTurn.meta` for follow-ups."""
    return {CONTEXT_KEY: answer.context.get(CONTEXT_KEY)} if CONTEXT_KEY in answer.context else {}


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
