"""The brain's LLM reuses the realtime cloud's credentials when its own are unset (FAKE servers)."""

from __future__ import annotations

from dataclasses import replace

from tests.fakes.openai_server import FakeOpenAIServer, Reply

from datavox.config import LlmSettings, RealtimeSettings, Secrets, Settings, llm_with_realtime_credentials
from datavox.llm import LlmClient

RT_KEY = "rt-key-shared-by-voice-and-llm"


def test_azure_llm_uses_the_realtime_endpoint_and_key() -> None:
    with FakeOpenAIServer() as server:
        server.script(Reply.text("hello"))
        settings = replace(
            Settings(),
            llm=replace(LlmSettings(), provider="azure", azure_deployment="gpt-4.1-mini"),
            realtime=replace(RealtimeSettings(), engine="azure", azure_endpoint=server.url()),
            secrets=Secrets(realtime_api_key=RT_KEY),
        )
        client = LlmClient(settings)
        client.chat([{"role": "user", "content": "hi"}])
    sent = server.requests[0]
    assert sent.path == "/openai/v1/chat/completions"
    assert sent.headers["api-key"] == RT_KEY and "api-version" not in sent.query


def test_only_the_same_cloud_is_reused_and_own_settings_win() -> None:
    base = replace(
        Settings(),
        llm=replace(LlmSettings(), provider="azure", azure_endpoint="https://llm.example"),
        realtime=replace(RealtimeSettings(), engine="openai"),
        secrets=Secrets(realtime_api_key=RT_KEY),
    )
    assert llm_with_realtime_credentials(base).secrets.llm_api_key == ""  # an OpenAI key is not sent to Azure
    same = replace(base, realtime=replace(base.realtime, engine="azure", azure_endpoint="https://rt.example"))
    own = replace(same, secrets=Secrets(realtime_api_key=RT_KEY, llm_api_key="llm-own-key"))
    filled = llm_with_realtime_credentials(own)
    assert filled.llm.azure_endpoint == "https://llm.example" and filled.secrets.llm_api_key == "llm-own-key"
    assert llm_with_realtime_credentials(same).secrets.llm_api_key == RT_KEY
