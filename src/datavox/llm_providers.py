"""The `openai` SDK client for each provider kind of `settings.llm.provider` (see `datavox.llm`): `openai`,
`azure` (the GA `/openai/v1/` surface, or the versioned one with `azure_api_version`; an API key or an Entra
ID token) and `compatible` (a local server, key optional). The SDK's own retries are off: the client's are
used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from openai import Omit, OpenAI

from datavox.config import ConfigError, Settings

TokenProvider = Callable[[], str]

# Entra ID scope for Azure OpenAI (Cognitive Services).
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"

# A placeholder key for servers without authentication: the SDK insists on one; the header is then omitted.
_NO_KEY = "no-key"


def build_client(
    settings: Settings, token_provider: TokenProvider | None
) -> tuple[OpenAI, str, dict[str, str | Omit]]:
    """The SDK client for the configured provider, the model (or Azure deployment) to name, and the headers
    every request sends (an Azure key, or none at all for a local server without one)."""
    llm = settings.llm
    key = settings.secrets.llm_api_key
    common: dict[str, Any] = {"timeout": llm.timeout_s, "max_retries": 0}
    if llm.provider == "openai":
        if not key:
            raise ConfigError(
                "llm.provider = openai needs an API key: set DATAVOX_LLM_API_KEY (or OPENAI_API_KEY)"
            )
        return OpenAI(api_key=key, base_url=llm.base_url or None, **common), llm.model, {}
    if llm.provider == "compatible":
        if not llm.base_url:
            raise ConfigError(
                "llm.provider = compatible needs llm.base_url (e.g. http://127.0.0.1:11434/v1 for Ollama)"
            )
        # Local servers usually want no key; the SDK wants one, so send none at all.
        headers: dict[str, str | Omit] = {} if key else {"Authorization": Omit()}
        return OpenAI(api_key=key or _NO_KEY, base_url=llm.base_url, **common), llm.model, headers
    if llm.provider == "azure":
        return _build_azure(settings, token_provider, common)
    raise ConfigError(f"llm.provider = {llm.provider!r}: no LLM configured (openai, azure or compatible)")


def _build_azure(
    settings: Settings, token_provider: TokenProvider | None, common: dict[str, Any]
) -> tuple[OpenAI, str, dict[str, str | Omit]]:
    llm = settings.llm
    key = settings.secrets.llm_api_key
    if not llm.azure_endpoint:
        raise ConfigError(
            "llm.provider = azure needs llm.azure_endpoint (https://<resource>.openai.azure.com)"
        )
    deployment = llm.azure_deployment or llm.model
    endpoint = llm.azure_endpoint.rstrip("/")
    if llm.azure_auth == "entra":
        token_provider = token_provider or default_token_provider()
    elif not key:
        raise ConfigError("llm.azure_auth = key needs DATAVOX_LLM_API_KEY or AZURE_OPENAI_API_KEY")
    if llm.azure_api_version:
        # The versioned surface: /openai/deployments/{deployment}/chat/completions?api-version=...
        auth: dict[str, Any] = {"api_key": key}
        if token_provider is not None:
            auth = {"azure_ad_token_provider": token_provider}
        client: OpenAI = openai.AzureOpenAI(
            azure_endpoint=endpoint,
            api_version=llm.azure_api_version,
            azure_deployment=deployment,
            **auth,
            **common,
        )
        return client, deployment, {}
    # The GA /openai/v1/ surface speaks the plain OpenAI protocol: no api-version, deployment as model.
    base_url = f"{endpoint}/openai/v1/"
    if token_provider is not None:
        # The SDK calls the provider before each request and sends `Authorization: Bearer <token>`.
        return OpenAI(api_key=token_provider, base_url=base_url, **common), deployment, {}
    # Azure keys go in the `api-key` header; the SDK's default `Authorization: Bearer` is dropped.
    headers: dict[str, str | Omit] = {"api-key": key, "Authorization": Omit()}
    return OpenAI(api_key=key, base_url=base_url, **common), deployment, headers


def default_token_provider() -> TokenProvider:
    try:
        from azure.identity import (  # type: ignore[import-not-found, unused-ignore]
            DefaultAzureCredential,
            get_bearer_token_provider,
        )
    except ImportError as exc:
        raise ConfigError(
            "llm.azure_auth = entra needs the optional azure-identity package: pip install azure-identity "
            "(or pass a token provider)"
        ) from exc
    provider: TokenProvider = get_bearer_token_provider(DefaultAzureCredential(), AZURE_SCOPE)
    return provider
