"""The contracts every part of datavox shares: query results, conversation turns and answers.

One shape per concept, so the CLI, the HTTP API, the eval command, both voice engines and the web page
all speak the same language.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Cell = str | int | float | bool | None
"""A JSON-safe cell: executors convert dates, decimals and bytes before they leave the data layer."""


class Intent(StrEnum):
    """The seed's two classes of turn."""

    STATISTICAL = "STATISTICAL"
    CONVERSATIONAL = "CONVERSATIONAL"


@dataclass(frozen=True)
class QueryResult:
    """What a checked statement returned."""

    sql: str
    columns: list[str]
    rows: list[list[Cell]]
    truncated: bool
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HistoryTurn:
    """One earlier turn of the conversation, as the client remembers it."""

    role: Literal["user", "assistant"]
    text: str
    # Optional structured context of an assistant turn (the SQL it ran, the entities it named); engines
    # that carry context between turns read it, others ignore it.
    meta: dict[str, Any] = field(default_factory=dict)


ChartKind = Literal["bar", "line"]


@dataclass
class Answer:
    """The brain's reply to one user turn."""

    question: str
    intent: Intent
    answer: str
    engine: str
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    truncated: bool = False
    chart: ChartKind | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Set when the engine could not answer (a rejected or failed query, a question it did not understand).
    error: str | None = None
    # The standalone question after follow-up resolution, when it differs from `question`.
    resolved_question: str | None = None
    # Why an LLM turn fell back to the offline engine, when it did.
    fallback_reason: str | None = None
    cached: bool = False
    # Engine-private context that later turns need (entities, slots); round-trips through HistoryTurn.meta.
    context: dict[str, Any] = field(default_factory=dict)
    # A question asked back when the transcript was unclear ("Did you mean ...?"); `answer` says it too.
    clarify: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["intent"] = self.intent.value
        return data
