"""The cloud realtime engines (Azure OpenAI, OpenAI gpt-realtime) over the GA surface, keys on the server.

- `CloudTarget.from_settings`: where the cloud is and how datavox authenticates (docs/realtime-protocol.md
  §1.1): Azure `https://<resource>.openai.azure.com/openai/v1/...` with `api-key` or an Entra bearer and no
  `api-version`; OpenAI `https://api.openai.com/v1/...` with `Bearer <key>`. The Azure deployment name is
  sent as the model.
- `CloudClient.mint_secret`: `POST …/realtime/client_secrets`, an ephemeral `ek_…` secret for one session.
- `CloudClient.create_call`: relays the page's SDP offer to `POST …/realtime/calls` and returns the answer
  SDP and the call id from `Location`.
- `session_config`: instructions, voice, input transcription, turn detection and the `query_database` tool.

Errors are `CloudError` with a stable `code` and a sentence for the user; nothing here logs or returns a key.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from datavox import prompts
from datavox.config import ConfigError, Settings

TokenProvider = Callable[[], str]

# The one tool the model gets. The server runs it over the sideband; the browser never sees it run.
QUERY_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "query_database",
    "description": (
        "Answer a question about the user's data: counts, totals, who/which/when, rankings, facts. Pass the "
        "user's question as a standalone sentence; the result holds the answer to say and the rows."
    ),
    "parameters": {
        "type": "object",
        "properties": {"question": {"type": "string", "description": "The question, standalone."}},
        "required": ["question"],
        "additionalProperties": False,
    },
}


class CloudError(RuntimeError):
    """The cloud refused or failed. `code` is stable; `message` is for the user; `status` the HTTP status."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def unreachable(self) -> bool:
        """The cloud is down or unreachable (as opposed to refusing this request): worth falling back."""
        return self.code in ("cloud_unreachable", "cloud_failed", "cloud_timeout")


@dataclass(frozen=True)
class CloudTarget:
    kind: str  # "azure" or "openai"
    base_url: str  # …/openai/v1 or …/v1, no trailing slash
    model: str  # the Azure deployment name, or the OpenAI model
    key: str = field(repr=False, default="")
    token_provider: TokenProvider | None = field(repr=False, default=None)

    @classmethod
    def from_settings(cls, settings: Settings, token_provider: TokenProvider | None = None) -> CloudTarget:
        rt, key = settings.realtime, settings.secrets.realtime_api_key
        if rt.engine == "azure":
            if not rt.azure_endpoint:
                raise ConfigError(
                    "realtime.engine = azure needs realtime.azure_endpoint "
                    "(https://<resource>.openai.azure.com): set DATAVOX_REALTIME_AZURE_ENDPOINT"
                )
            if not rt.azure_deployment:
                raise ConfigError(
                    "realtime.engine = azure needs realtime.azure_deployment (the name of your gpt-realtime "
                    "deployment): set DATAVOX_REALTIME_AZURE_DEPLOYMENT"
                )
            if rt.azure_auth == "entra":
                if token_provider is None:
                    from datavox.llm_providers import default_token_provider

                    token_provider = default_token_provider()
            elif not key:
                raise ConfigError(
                    "realtime.engine = azure needs a key: set DATAVOX_REALTIME_API_KEY or "
                    "AZURE_OPENAI_API_KEY (or realtime.azure_auth = entra)"
                )
            base = rt.azure_endpoint.rstrip("/")
            base = base if base.endswith("/openai/v1") else f"{base}/openai/v1"
            return cls("azure", base, rt.azure_deployment, key, token_provider)
        if rt.engine == "openai":
            if not key:
                raise ConfigError("realtime.engine = openai needs a key: set DATAVOX_REALTIME_API_KEY")
            return cls("openai", rt.openai_base_url.rstrip("/"), rt.model, key)
        raise ConfigError(f"realtime.engine = {rt.engine!r} is not a cloud engine")

    def server_headers(self) -> dict[str, str]:
        """The long-lived credential: only ever sent from this server to the cloud."""
        if self.kind == "azure":
            if self.token_provider is not None:
                return {"Authorization": f"Bearer {self.token_provider()}"}
            return {"api-key": self.key}
        return {"Authorization": f"Bearer {self.key}"}

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def sideband_url(self, call_id: str) -> str:
        parts = urlsplit(self.url("realtime"))
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        return urlunsplit((scheme, parts.netloc, parts.path, f"call_id={call_id}", ""))

    def calls_url(self) -> str:
        # Azure's data-channel filter keeps instructions and tool traffic off the browser (protocol §3.4).
        return self.url("realtime/calls") + ("?webrtcfilter=on" if self.kind == "azure" else "")

    def secrets_in(self) -> list[str]:
        return [s for s in (self.key,) if s]


def session_config(
    settings: Settings, *, model: str, voice: str, orchestration: str | None = None
) -> dict[str, Any]:
    """The GA session: what the model is told, how it hears and speaks, and (tools mode) its one tool."""
    rt = settings.realtime
    mode = orchestration or rt.orchestration
    turn_detection: dict[str, Any] = {
        "type": "server_vad",
        "threshold": settings.voice.vad_threshold,
        "prefix_padding_ms": settings.voice.prefix_padding_ms,
        "silence_duration_ms": settings.voice.silence_ms,
        "interrupt_response": True,
        # classify mode: datavox decides when the model speaks, after it fetched the data.
        "create_response": mode == "tools",
    }
    session: dict[str, Any] = {
        "type": "realtime",
        "model": model,
        "instructions": prompts.realtime_instructions(mode),
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "transcription": {"model": rt.transcription_model},
                "turn_detection": turn_detection,
            },
            "output": {"voice": voice},
        },
    }
    if mode == "tools":
        session["tools"] = [QUERY_TOOL]
        session["tool_choice"] = "auto"
    return session


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def error_for(status: int, body: str, retry_after_s: float | None = None) -> CloudError:
    """A provider HTTP error as a CloudError the page can explain (the body is never shown: it may echo)."""
    low = body.lower()
    if status in (401, 403):
        if "expired" in low:
            return CloudError(
                "secret_expired", "The voice session took too long to start. Press talk again.", status=status
            )
        return CloudError(
            "cloud_auth",
            "The cloud voice service refused this server's credentials. "
            "Ask the administrator to check the realtime key.",
            status=status,
        )
    if status == 404:
        return CloudError(
            "cloud_not_found",
            "The cloud voice deployment was not found. Ask the administrator "
            "to check realtime.azure_deployment / realtime.model.",
            status=status,
        )
    if status == 429:
        return CloudError(
            "cloud_rate_limited",
            "The cloud voice service is busy. Try again in a moment.",
            status=status,
            retry_after_s=retry_after_s,
        )
    if status >= 500:
        return CloudError(
            "cloud_failed", "The cloud voice service failed. Try again, or type your question.", status=status
        )
    return CloudError("cloud_rejected", "The cloud voice service rejected the request.", status=status)


class CloudClient:
    """HTTP calls to one cloud target; 429 and 5xx are retried with jittered backoff, `Retry-After` kept."""

    def __init__(
        self,
        target: CloudTarget,
        *,
        timeout_s: float = 10.0,
        attempts: int = 3,
        base_delay_s: float = 0.25,
        cap_delay_s: float = 4.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self.attempts = attempts
        self.base_delay_s = base_delay_s
        self.cap_delay_s = cap_delay_s
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self.paused_until = 0.0  # set from rate_limits.updated / Retry-After

    async def aclose(self) -> None:
        await self._http.aclose()

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self.cap_delay_s)
        # Full jitter: many sessions hitting one 429 do not come back in step.
        return random.uniform(0, min(self.cap_delay_s, self.base_delay_s * 2**attempt))

    async def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        last: CloudError | None = None
        for attempt in range(self.attempts):
            wait = self.paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, self.cap_delay_s))
            try:
                response = await self._http.post(url, **kwargs)
            except httpx.TimeoutException:
                last = CloudError("cloud_timeout", "The cloud voice service did not answer in time.")
            except httpx.HTTPError:
                last = CloudError("cloud_unreachable", "The cloud voice service cannot be reached.")
            else:
                if response.status_code < 400:
                    return response
                last = error_for(response.status_code, response.text, _retry_after(response))
                if response.status_code != 429 and response.status_code < 500:
                    raise last
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.delay(attempt, last.retry_after_s))
        assert last is not None
        raise last

    async def mint_secret(self, session: dict[str, Any], ttl_s: int) -> dict[str, Any]:
        """`{value, expires_at, session}`; the value is an ephemeral `ek_…` secret, never the key."""
        body = {
            "expires_after": {"anchor": "created_at", "seconds": max(10, min(7200, ttl_s))},
            "session": session,
        }
        headers = {**self.target.server_headers(), "Content-Type": "application/json"}
        response = await self._post(self.target.url("realtime/client_secrets"), json=body, headers=headers)
        data = response.json()
        value = data.get("value") or (data.get("client_secret") or {}).get("value")
        if not isinstance(value, str) or not value:
            raise CloudError("cloud_failed", "The cloud voice service returned no session secret.")
        return {"value": value, "expires_at": data.get("expires_at"), "session": data.get("session") or {}}

    async def create_call(self, offer_sdp: str, secret: str) -> tuple[str, str]:
        """Relay an SDP offer with the ephemeral secret: (answer SDP, call id from `Location`)."""
        headers = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/sdp",
            "Accept": "application/sdp",
        }
        response = await self._post(self.target.calls_url(), content=offer_sdp.encode(), headers=headers)
        call_id = call_id_from(response.headers.get("location", ""))
        if not call_id:
            raise CloudError("cloud_failed", "The cloud voice service did not say which call it started.")
        return response.text, call_id


def call_id_from(location: str) -> str:
    """The call id is the last path segment of `Location: …/realtime/calls/rtc_…`."""
    tail = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.startswith("rtc_") or (tail and tail != "calls") else ""
