"""The LLM client against the fake OpenAI-compatible server: request shapes, retries, timeouts, JSON."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from datavox.cancel import Cancelled, CancelToken, running_under
from datavox.config import ConfigError, LlmSettings, Secrets, Settings
from datavox.llm import Backoff, LlmClient, LlmUnavailable
from datavox.llm_json import LlmBadOutput, parse_json_object
from fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply

MESSAGES = [{"role": "user", "content": "hello"}]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def make_settings(key: str = "sk-test-secret-123456", **llm: Any) -> Settings:
    base = Settings()
    return replace(base, llm=replace(LlmSettings(), **llm), secrets=Secrets(llm_api_key=key))


def make_client(settings: Settings, **kwargs: Any) -> tuple[LlmClient, list[float]]:
    sleeps: list[float] = []
    client = LlmClient(settings, backoff=Backoff(base_s=0.001, cap_s=0.05), sleep=sleeps.append, **kwargs)
    return client, sleeps


# -- request shapes ---------------------------------------------------------------------------------------


def test_openai_shape(server: FakeOpenAIServer) -> None:
    server.script(Reply.text("hi"))
    client, _ = make_client(make_settings(provider="openai", model="gpt-test", base_url=server.url("/v1")))
    completion = client.chat(MESSAGES)
    assert completion.content == "hi"
    [req] = server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-secret-123456"
    assert "api-key" not in req.headers
    assert req.body["model"] == "gpt-test"
    assert "openai-beta" not in req.headers
    assert not req.query


def test_azure_ga_v1_shape_with_key(server: FakeOpenAIServer) -> None:
    server.script(Reply.text("hi"))
    settings = make_settings(
        provider="azure", azure_endpoint=server.url() + "/", azure_deployment="my-gpt", model="ignored"
    )
    client, _ = make_client(settings)
    client.chat(MESSAGES)
    [req] = server.requests
    assert req.path == "/openai/v1/chat/completions"
    assert req.query == {}  # no api-version on the GA surface
    assert req.headers["api-key"] == "sk-test-secret-123456"
    assert "authorization" not in req.headers
    assert "openai-beta" not in req.headers
    assert req.body["model"] == "my-gpt"  # the deployment is the model


def test_azure_ga_v1_shape_with_entra_token(server: FakeOpenAIServer) -> None:
    server.script(Reply.text("hi"))
    settings = make_settings(
        key="", provider="azure", azure_endpoint=server.url(), azure_deployment="dep", azure_auth="entra"
    )
    client, _ = make_client(settings, token_provider=lambda: "entra-token")
    client.chat(MESSAGES)
    [req] = server.requests
    assert req.path == "/openai/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer entra-token"
    assert "api-key" not in req.headers


def test_azure_versioned_shape(server: FakeOpenAIServer) -> None:
    server.script(Reply.text("hi"), Reply.text("hi"))
    settings = make_settings(
        provider="azure", azure_endpoint=server.url(), azure_deployment="dep1", azure_api_version="2024-10-21"
    )
    client, _ = make_client(settings)
    client.chat(MESSAGES)
    entra = replace(settings, llm=replace(settings.llm, azure_auth="entra"))
    client2, _ = make_client(entra, token_provider=lambda: "tok")
    client2.chat(MESSAGES)
    key_req, token_req = server.requests
    assert key_req.path == "/openai/deployments/dep1/chat/completions"
    assert key_req.deployment == "dep1"
    assert key_req.query == {"api-version": ["2024-10-21"]}
    assert key_req.headers["api-key"] == "sk-test-secret-123456"
    assert "authorization" not in key_req.headers
    assert token_req.headers["authorization"] == "Bearer tok"
    assert "api-key" not in token_req.headers


def test_compatible_without_key_sends_no_auth(server: FakeOpenAIServer) -> None:
    server.script(Reply.text("hi"))
    client, _ = make_client(
        make_settings(key="", provider="compatible", model="llama3", base_url=server.url("/v1"))
    )
    client.chat(MESSAGES)
    [req] = server.requests
    assert req.path == "/v1/chat/completions"
    assert "authorization" not in req.headers
    assert req.body["model"] == "llama3"


def test_configuration_errors_are_readable() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        LlmClient(make_settings(provider="compatible"))
    with pytest.raises(ConfigError, match="API key"):
        LlmClient(make_settings(key="", provider="openai"))
    with pytest.raises(ConfigError, match="azure_endpoint"):
        LlmClient(make_settings(provider="azure"))
    with pytest.raises(ConfigError, match="azure-identity"):  # the optional package is not installed here
        LlmClient(make_settings(key="", provider="azure", azure_endpoint="https://x", azure_auth="entra"))


# -- structured output ------------------------------------------------------------------------------------


def test_json_schema_response_format(server: FakeOpenAIServer) -> None:
    server.script(Reply.json({"answer": "42"}))
    client, _ = make_client(make_settings(provider="openai", base_url=server.url("/v1")))
    completion = client.chat(MESSAGES, schema=SCHEMA, schema_name="turn")
    assert completion.data == {"answer": "42"}
    fmt = server.requests[0].body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "turn"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == SCHEMA


def test_falls_back_to_plain_json_when_server_rejects_json_schema(server: FakeOpenAIServer) -> None:
    def rejects_schema(req: RecordedRequest) -> Reply:
        if "response_format" in req.body:
            return Reply.status(400, message="response_format json_schema is not supported")
        return Reply.text('Sure! ```json\n{"answer": "7"}\n```')

    server.script(rejects_schema, rejects_schema, rejects_schema)
    client, _ = make_client(make_settings(key="", provider="compatible", base_url=server.url("/v1")))
    first = client.chat(MESSAGES, schema=SCHEMA)
    assert first.data == {"answer": "7"}
    assert first.round_trips == 2 and not first.structured
    second = client.chat(MESSAGES, schema=SCHEMA)  # remembered: no second rejected request
    assert second.round_trips == 1
    assert [("response_format" in r.body) for r in server.requests] == [True, False, False]


def test_parse_json_object_variants() -> None:
    assert parse_json_object('{"a": 1}') == {"a": 1}
    assert parse_json_object('Here you go: {"a": "}{", "b": {"c": 2}} hope it helps') == {
        "a": "}{",
        "b": {"c": 2},
    }
    with pytest.raises(LlmBadOutput):
        parse_json_object("no json here")


# -- retries, backoff, timeouts ---------------------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(server: FakeOpenAIServer) -> None:
    server.script(Reply.status(429, retry_after="0.02"), Reply.text("ok"))
    client, sleeps = make_client(make_settings(provider="openai", base_url=server.url("/v1")))
    completion = client.chat(MESSAGES)
    assert completion.content == "ok"
    assert completion.round_trips == 2
    assert sleeps == [0.02]
    assert client.usage.round_trips == 2 and client.usage.calls == 1


def test_retry_after_is_capped(server: FakeOpenAIServer) -> None:
    server.script(Reply.status(429, retry_after="3600"), Reply.text("ok"))
    client, sleeps = make_client(make_settings(provider="openai", base_url=server.url("/v1")))
    client.chat(MESSAGES)
    assert sleeps == [0.05]


def test_429_every_time_raises_unavailable(server: FakeOpenAIServer) -> None:
    server.script(*[Reply.status(429, retry_after="0")] * 3)
    client, sleeps = make_client(make_settings(provider="openai", base_url=server.url("/v1"), max_retries=2))
    with pytest.raises(LlmUnavailable) as info:
        client.chat(MESSAGES)
    assert info.value.status == 429
    assert info.value.round_trips == 3
    assert len(server.requests) == 3
    assert len(sleeps) == 2


def test_500_backs_off_exponentially_then_raises(server: FakeOpenAIServer) -> None:
    server.script(*[Reply.status(500)] * 4)
    client, sleeps = make_client(make_settings(provider="openai", base_url=server.url("/v1"), max_retries=3))
    with pytest.raises(LlmUnavailable, match="HTTP 500"):
        client.chat(MESSAGES)
    assert len(server.requests) == 4
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2]  # 1, 2, 4 ms (+ jitter)


def test_timeout_retries_then_raises(server: FakeOpenAIServer) -> None:
    server.script(Reply.hang(5), Reply.hang(5))
    settings = make_settings(provider="openai", base_url=server.url("/v1"), timeout_s=0.2, max_retries=1)
    client, _ = make_client(settings)
    with pytest.raises(LlmUnavailable, match="timed out"):
        client.chat(MESSAGES)
    assert len(server.requests) == 2


def test_retries_stop_when_the_time_budget_is_spent(server: FakeOpenAIServer) -> None:
    server.script(*[Reply.hang(5)] * 6)
    settings = make_settings(provider="openai", base_url=server.url("/v1"), timeout_s=0.2, max_retries=5)
    client, _ = make_client(settings)  # default budget: two timeouts
    started = time.monotonic()
    with pytest.raises(LlmUnavailable, match="2 attempts") as info:
        client.chat(MESSAGES)
    # The attempt count is the budget's check; the clock only shows no reply was waited for in full (5 s),
    # with room for a loaded machine.
    assert time.monotonic() - started < 4.5
    assert info.value.round_trips == len(server.requests) == 2


def test_unreachable_server_raises_unavailable() -> None:
    with FakeOpenAIServer() as fake:
        url = fake.url("/v1")
    client, _ = make_client(make_settings(provider="openai", base_url=url, max_retries=1))
    with pytest.raises(LlmUnavailable, match="unreachable"):
        client.chat(MESSAGES)


def test_401_is_not_retried_and_key_is_not_in_the_message(server: FakeOpenAIServer) -> None:
    server.script(Reply.status(401, message="bad key"))
    client, sleeps = make_client(make_settings(provider="openai", base_url=server.url("/v1")))
    with pytest.raises(LlmUnavailable) as info:
        client.chat(MESSAGES)
    assert info.value.status == 401
    assert sleeps == []
    assert "sk-test-secret" not in str(info.value)


@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_key_never_logged(server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture, provider: str) -> None:
    server.script(Reply.status(500), Reply.status(500), Reply.status(500))
    settings = make_settings(provider=provider, base_url=server.url("/v1"), azure_endpoint=server.url())
    client, _ = make_client(settings)
    with caplog.at_level("DEBUG"), pytest.raises(LlmUnavailable):  # the SDK's own debug lines included
        client.chat(MESSAGES)
    assert "Request options" in caplog.text or "HTTP Request" in caplog.text
    assert "sk-test-secret" not in caplog.text


def test_a_cancelled_question_stops_retrying(server: FakeOpenAIServer) -> None:
    """A barge-in during the back-off: no further attempt, and the sleep ends at once."""
    server.script(*[Reply.status(429, retry_after="5")] * 3)
    settings = make_settings(provider="openai", base_url=server.url("/v1"), max_retries=2, timeout_s=20.0)
    client = LlmClient(settings, backoff=Backoff(base_s=5.0, cap_s=5.0))  # default sleep: cancel.sleep
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.perf_counter()
    with running_under(token), pytest.raises(Cancelled):
        client.chat(MESSAGES)
    assert time.perf_counter() - started < 3.0  # not the 5 s back-off / 6 s request
    assert len(server.requests) == 1
    # Already cancelled: not even the first request goes out.
    with running_under(token), pytest.raises(Cancelled):
        client.chat(MESSAGES)
    assert len(server.requests) == 1


def test_a_cancelled_question_frees_its_thread_during_the_request(server: FakeOpenAIServer) -> None:
    """The request itself cannot be interrupted; the brain thread waiting for it is freed at once."""
    server.script(Reply.hang(6.0))
    settings = make_settings(provider="openai", base_url=server.url("/v1"), max_retries=0, timeout_s=10.0)
    client = LlmClient(settings)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.perf_counter()
    with running_under(token), pytest.raises(Cancelled):
        client.chat(MESSAGES)
    assert time.perf_counter() - started < 3.0  # not the 5 s back-off / 6 s request
    assert len(server.requests) == 1
