"""Chat completions for OpenAI, Azure OpenAI and OpenAI-compatible servers, through the official `openai` SDK.

One small client for the three provider kinds of `settings.llm.provider`:

- `openai`: `OpenAI(api_key, base_url)`; the model is `settings.llm.model`.
- `azure`: Azure OpenAI. Without `azure_api_version` the GA `/openai/v1/` surface is used
  (`OpenAI(base_url=f"{endpoint}/openai/v1/")`, the deployment name as the model, no `api-version`); with it,
  `AzureOpenAI(azure_endpoint, api_version, azure_deployment)` and the `/openai/deployments/{name}/` paths.
  Authentication is an API key sent as the `api-key` header (`azure_auth = "key"`) or a Microsoft Entra ID
  token (`azure_auth = "entra"`): pass `token_provider=` (a callable returning a bearer token), or install
  the optional `azure-identity` package (`pip install azure-identity`) and `DefaultAzureCredential` is used.
- `compatible`: Ollama, vLLM, llama.cpp and the like: `base_url` required, API key optional.

Retries are ours, not the SDK's (its own are switched off), so the backoff can honour `Retry-After` with a
cap, be tiny in tests, and every HTTP round trip can be counted for the bench. Retries stop after
`1 + llm.max_retries` attempts or when the call's time budget (two timeouts by default) is spent; then the
client raises `LlmUnavailable` and callers (the brain) fall back to the offline engine.

Structured output asks for `response_format={"type": "json_schema", ...}`. Servers that reject it get the
same request again without it (remembered for the client's lifetime), and the JSON is then parsed out of
the plain message content, code fences and chatter around it included.

Keys never reach a log line or an exception message: errors name the provider, status and path only.

The SDK client of each provider is built in `llm_providers`; JSON is read out of a reply in `llm_json`.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from datavox import cancel
from datavox.config import Settings, llm_with_realtime_credentials
from datavox.llm_json import parse_json_object
from datavox.llm_providers import TokenProvider, build_client

log = logging.getLogger(__name__)

Message = Mapping[str, Any]


class LlmUnavailable(RuntimeError):
    """The LLM endpoint cannot give an answer now (unreachable, rate limited, failing, refusing the key).

    `reason` is a short, key-free description for `Answer.fallback_reason`; `status` the last HTTP status.
    """

    def __init__(self, reason: str, *, status: int | None = None, round_trips: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.round_trips = round_trips


@dataclass
class Completion:
    """One chat completion, with what it cost."""

    content: str
    data: dict[str, Any] | None = None  # the parsed JSON when structured output was asked for
    round_trips: int = 1  # HTTP requests it took, retries included
    duration_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    structured: bool = False  # whether the server enforced the JSON schema


@dataclass
class Usage:
    """Running totals for one client (the engine reads and resets them per turn)."""

    calls: int = 0
    round_trips: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_chars: list[int] = field(default_factory=list)

    def reset(self) -> None:
        self.calls = self.round_trips = self.prompt_tokens = self.completion_tokens = 0
        self.prompt_chars = []


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base · 2^attempt (with up to 10 % jitter), `Retry-After` honoured, all capped."""

    base_s: float = 0.5
    cap_s: float = 8.0

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return max(0.0, min(retry_after_s, self.cap_s))
        raw = self.base_s * (2**attempt) * (1 + random.random() * 0.1)
        return float(min(raw, self.cap_s))


class LlmClient:
    """Chat completions with retries, timeouts and structured output, for one configured provider."""

    def __init__(
        self,
        settings: Settings,
        *,
        token_provider: TokenProvider | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = cancel.sleep,
        budget_s: float | None = None,
    ) -> None:
        settings = llm_with_realtime_credentials(settings)  # one Azure resource for voice and LLM
        self.settings = settings
        self.provider = settings.llm.provider
        self.timeout_s = settings.llm.timeout_s
        self.attempts = 1 + max(0, settings.llm.max_retries)
        # The most one call may take, retries and backoff included (default: two timeouts).
        self.budget_s = budget_s if budget_s is not None else 2 * settings.llm.timeout_s
        self.backoff = backoff or Backoff()
        self.usage = Usage()
        self._sleep = sleep
        self._json_schema_ok = True  # until a server says otherwise
        self.client, self.model, self._extra_headers = build_client(settings, token_provider)

    # -- calls -----------------------------------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        schema_name: str = "output",
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        """One chat completion; with `schema`, the reply is JSON parsed into `Completion.data`.

        Raises `LlmUnavailable` when every attempt failed and `LlmBadOutput` when the reply is not JSON.
        """
        kwargs: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        structured = schema is not None and self._json_schema_ok
        if structured and schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True},
            }
        self.usage.calls += 1
        self.usage.prompt_chars.append(sum(len(str(m.get("content", ""))) for m in messages))
        started = time.perf_counter()
        round_trips = 0
        try:
            response, round_trips = self._create(kwargs)
        except _SchemaRejected as rejected:
            # The server does not know json_schema: ask again without it, and remember for next time.
            log.info("LLM server rejected response_format json_schema; parsing JSON from plain content")
            self._json_schema_ok = False
            kwargs.pop("response_format", None)
            structured = False
            response, more = self._create(kwargs)
            round_trips = rejected.round_trips + more
        content = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        completion = Completion(
            content=content,
            round_trips=round_trips,
            duration_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            structured=structured,
        )
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        if schema is not None:
            completion.data = parse_json_object(content)
        return completion

    def _create(self, kwargs: dict[str, Any]) -> tuple[Any, int]:
        """The request with our retry loop. Returns the response and the HTTP round trips it took.

        Attempts stop at `self.attempts` or when the time budget is spent, whichever comes first: a voice
        turn should fall back to the offline engine rather than wait for a third slow timeout.
        """
        last: LlmUnavailable | None = None
        deadline = time.monotonic() + self.budget_s
        floor = min(self.timeout_s, 1.0) / 2  # an attempt with less time than this is not worth making
        made = 0
        for attempt in range(self.attempts):
            cancel.check()  # the question was cancelled (barge-in): no further attempt
            remaining = deadline - time.monotonic()
            if attempt and remaining < floor:
                break
            made += 1
            self.usage.round_trips += 1
            try:
                timeout = min(self.timeout_s, max(remaining, floor))
                # cancel.call: a barge-in frees this (shared) brain thread at once; the request itself
                # ends on its own thread and its reply is dropped.
                create = functools.partial(
                    self.client.chat.completions.create,
                    **kwargs,
                    extra_headers=self._extra_headers,
                    timeout=timeout,
                )
                response = cancel.call(create, name="datavox-llm")
                return response, made
            except openai.APITimeoutError:
                last = LlmUnavailable(f"{self.provider} LLM timed out after {self.timeout_s:g} s")
                retry_after = None
            except openai.APIConnectionError as exc:
                cause = type(exc.__cause__ or exc).__name__
                last = LlmUnavailable(f"{self.provider} LLM unreachable: {cause}")
                retry_after = None
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status in (400, 422) and "response_format" in kwargs and _mentions_format(exc):
                    raise _SchemaRejected(made) from exc
                if status != 429 and status < 500 and status != 408:
                    # 401/403/404/400: retrying will not help; the brain falls back offline at once.
                    # The server's message goes to the page (fallback_reason): a server may echo the key.
                    detail = _short(exc, secret=self.settings.secrets.llm_api_key)
                    raise LlmUnavailable(
                        f"{self.provider} LLM refused the request: HTTP {status} {detail}",
                        status=status,
                        round_trips=made,
                    ) from exc
                last = LlmUnavailable(f"{self.provider} LLM answered HTTP {status}", status=status)
                retry_after = _retry_after_s(exc.response.headers)
            if attempt + 1 < self.attempts:
                delay = self.backoff.delay(attempt, retry_after)
                if time.monotonic() + delay + floor > deadline:
                    break
                log.warning("%s (attempt %d of %d); retrying in %.2fs", last, made, self.attempts, delay)
                self._sleep(delay)  # cancel.sleep by default: a cancel wakes it and raises Cancelled
        assert last is not None
        last.round_trips = made
        last.reason = f"{last.reason} ({made} attempt{'s' if made != 1 else ''})"
        last.args = (last.reason,)
        raise last

    def close(self) -> None:
        self.client.close()


class _SchemaRejected(Exception):
    def __init__(self, round_trips: int) -> None:
        super().__init__("json_schema rejected")
        self.round_trips = round_trips


def _mentions_format(exc: openai.APIStatusError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text or "structured" in text


def _short(exc: openai.APIStatusError, *, secret: str = "") -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            text = str(message)
            return (text.replace(secret, "****") if secret else text)[:200]
    return ""


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms` (OpenAI, Azure) or `Retry-After` in seconds; HTTP dates are treated as absent."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            continue
    return None
