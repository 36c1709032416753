"""The LLM key never reaches what the page is shown, even when the server echoes it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from datavox.config import LlmSettings, Secrets, Settings
from datavox.llm import Backoff, LlmClient, LlmUnavailable
from fakes.openai_server import FakeOpenAIServer, Reply

KEY = "sk-test-echoed-secret-987654"


def test_a_refusal_that_echoes_the_key_is_masked() -> None:
    with FakeOpenAIServer() as server:
        server.script(Reply.status(401, message=f"Incorrect API key provided: {KEY}."))
        settings = replace(
            Settings(),
            llm=replace(LlmSettings(), provider="openai", base_url=server.url("/v1")),
            secrets=Secrets(llm_api_key=KEY),
        )
        client = LlmClient(settings, backoff=Backoff(base_s=0.001, cap_s=0.01), sleep=lambda _s: None)
        with pytest.raises(LlmUnavailable) as info:
            client.chat([{"role": "user", "content": "hello"}])
    assert KEY not in str(info.value) and KEY not in info.value.reason
    assert "Incorrect API key provided: ****" in info.value.reason
