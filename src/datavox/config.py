"""Settings: `datavox.toml` plus `DATAVOX_*` environment overrides.

Secrets (API keys, the server's bearer token) come only from the environment: a secret written into the
TOML file is refused, so it cannot end up in a repository. Wherever settings are printed, secrets are masked.

Environment overrides name the section and key: `DATAVOX_DATABASE_URL`, `DATAVOX_LLM_PROVIDER`,
`DATAVOX_SERVER_PORT`, ... Values are parsed as the type of the default (int, float, bool, list).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

CONFIG_ENV = "DATAVOX_CONFIG"
DEFAULT_CONFIG_FILE = "datavox.toml"

# Where the repository keeps the demo data by default: ../shared/data/f1 next to the checkout.
_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_F1_PATH = str(_REPO_ROOT.parent / "shared" / "data" / "f1")

SECRET_ENV = {
    "llm_api_key": ("DATAVOX_LLM_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"),
    "realtime_api_key": ("DATAVOX_REALTIME_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"),
    "api_token": ("DATAVOX_API_TOKEN",),
}


class ConfigError(ValueError):
    """A setting is missing, malformed or in the wrong place."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "duckdb:///data/f1.duckdb"
    semantic_model: str = ""  # empty: next to the database, `<db stem>.semantic.yaml`
    row_cap: int = 1000
    timeout_s: float = 10.0
    audit_log: str = "data/audit.jsonl"


@dataclass(frozen=True)
class DemoSettings:
    f1_path: str = DEFAULT_F1_PATH


@dataclass(frozen=True)
class LlmSettings:
    # none: offline engine only; openai, azure, compatible (Ollama, vLLM, llama.cpp, ...)
    provider: Literal["none", "openai", "azure", "compatible"] = "none"
    model: str = "gpt-4.1-mini"
    base_url: str = ""
    azure_endpoint: str = ""
    azure_deployment: str = ""
    azure_api_version: str = ""  # empty: the GA /openai/v1 surface
    azure_auth: Literal["key", "entra"] = "key"
    timeout_s: float = 15.0
    max_retries: int = 2
    examples_file: str = ""  # question→SQL pairs; empty: `<db stem>.examples.yaml` if present


@dataclass(frozen=True)
class RealtimeSettings:
    engine: Literal["local", "azure", "openai"] = "local"
    model: str = "gpt-realtime"
    azure_endpoint: str = ""
    azure_deployment: str = ""
    voice: str = "marin"
    secret_ttl_s: int = 60  # an ephemeral secret only has to live until the call starts
    max_sessions: int = 8
    max_session_s: int = 1800
    idle_timeout_s: int = 300
    half_duplex: bool = False
    # --- the cloud engines (azure, openai); docs/cloud.md says what each one does ---
    azure_auth: Literal["key", "entra"] = "key"
    openai_base_url: str = "https://api.openai.com/v1"
    connect: Literal["relay", "direct"] = "relay"  # relay: the page's SDP goes through datavox
    orchestration: Literal["tools", "classify"] = "tools"
    transcription_model: str = "gpt-4o-mini-transcribe"
    fallback: Literal["local", "none"] = "local"
    fallback_ms: int = 600  # running average cloud turn latency above which the next turn goes local
    fallback_window: int = 5  # turns in that running average
    retry_cloud_s: int = 60  # after the cloud failed, how long new sessions stay local before trying again
    history_turns: int = 8  # turns carried into a renewed session
    renew_margin_s: int = 120  # renew this long before the provider's maximum session length
    provider_max_session_s: int = 3600
    # USD per million tokens (gpt-realtime list prices, 2025-08; set yours from your price sheet)
    price_audio_in: float = 32.0
    price_audio_out: float = 64.0
    price_text_in: float = 4.0
    price_text_out: float = 16.0
    price_cached_in: float = 0.4


@dataclass(frozen=True)
class VoiceSettings:
    stt_threads: int = 1
    tts_threads: int = 1
    vad_threshold: float = 0.5
    silence_ms: int = 500
    prefix_padding_ms: int = 300
    early_end: bool = True
    stt_compute_type: str = "int8"  # int8 | int8_float32 | int16 | float32 (datavox bench speech)
    capacity: int = 0  # sessions admitted before engine_busy; 0: measured at start-up (voice/admission.py)
    latency_budget_ms: int = 1000  # end of speech to first audio that admitted sessions should keep
    heap_trim_s: float = 5.0  # malloc_trim after speech work, at most this often (voice/heap.py); 0: never


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = field(default_factory=list)
    rate_per_minute: int = 60
    app_db: str = "data/app.sqlite"
    otlp_endpoint: str = ""
    # --- scaling out (docs/deploy.md): empty means embedded, one process ---
    store_url: str = ""  # postgresql://user@host/db: conversations shared by every replica (else app_db)
    state_url: str = ""  # redis://host:6379/0: event fan-out, rate limits and voice secrets across replicas
    state_prefix: str = "datavox:"  # Redis key and channel prefix (several deployments on one Redis)
    replica_id: str = ""  # empty: hostname-pid; sent as X-Datavox-Replica for session affinity
    outbox_path: str = "data/outbox.sqlite"  # turns waiting for the store_url database while it is down


@dataclass(frozen=True)
class Secrets:
    llm_api_key: str = ""
    realtime_api_key: str = ""
    api_token: str = ""


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    secrets: Secrets = field(default_factory=Secrets)
    source: str = "defaults"

    def with_db(self, url: str | None) -> Settings:
        """The same settings with another database URL (the `--db` option)."""
        if not url:
            return self
        return replace(self, database=replace(self.database, url=url))

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets masked."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "secrets":
                out[f.name] = {k.name: mask(getattr(value, k.name)) for k in fields(value)}
            elif f.name == "database":
                from datavox.data.connect import redact_url  # the URL may hold a server password

                out[f.name] = {k.name: getattr(value, k.name) for k in fields(value)}
                out[f.name]["url"] = redact_url(value.url)
            elif f.name == "server":
                from datavox.data.connect import redact_url  # PostgreSQL and Redis URLs may hold passwords

                out[f.name] = {k.name: getattr(value, k.name) for k in fields(value)}
                out[f.name]["store_url"] = redact_url(value.store_url)
                out[f.name]["state_url"] = redact_url(value.state_url)
            elif is_dataclass(value):
                out[f.name] = {k.name: getattr(value, k.name) for k in fields(value)}
            else:
                out[f.name] = value
        return out


def mask(secret: str) -> str:
    """Show that a secret is set without showing it."""
    if not secret:
        return "(not set)"
    return f"****{secret[-2:]}" if len(secret) >= 12 else "****"


def _coerce(raw: str, default: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, list):
            return [part.strip() for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a valid {type(default).__name__}") from exc
    return raw


def _section(cls: type, table: dict[str, Any], env: dict[str, str], prefix: str, where: str) -> Any:
    defaults = cls()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {prefix.lower()}.{key}")
    for f in fields(cls):
        value = table.get(f.name, getattr(defaults, f.name))
        env_name = f"DATAVOX_{prefix}_{f.name.upper()}"
        if env_name in env:
            value = _coerce(env[env_name], getattr(defaults, f.name), env_name)
        values[f.name] = value
    return cls(**values)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and apply environment overrides."""
    env = dict(os.environ) if env is None else env
    file = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    source = "defaults"
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from exc
        source = str(file)
    elif path is not None:
        raise ConfigError(f"config file {file} does not exist")
    if "secrets" in data:
        raise ConfigError(f"{file}: secrets are read only from the environment, never from the config file")
    sections = {
        "database": DatabaseSettings,
        "demo": DemoSettings,
        "llm": LlmSettings,
        "realtime": RealtimeSettings,
        "voice": VoiceSettings,
        "server": ServerSettings,
    }
    for key in data:
        if key not in sections:
            raise ConfigError(f"{file}: unknown section [{key}]")
    built = {
        name: _section(cls, data.get(name, {}), env, name.upper(), str(file))
        for name, cls in sections.items()
    }
    for name, cls in sections.items():
        for f in fields(cls):
            if "key" in f.name or "token" in f.name or "password" in f.name:
                raise ConfigError(f"setting {name}.{f.name} looks like a secret")  # guard for future edits
    secrets = Secrets(
        **{name: next((env[e] for e in names if env.get(e)), "") for name, names in SECRET_ENV.items()}
    )
    return Settings(**built, secrets=secrets, source=source)


def llm_with_realtime_credentials(settings: Settings) -> Settings:
    """The LLM settings, with the realtime cloud's credentials where the LLM's own are unset.

    One Azure resource (or one OpenAI account) usually serves both the realtime voice and the brain's LLM, so
    `realtime.engine = azure` plus `llm.provider = azure` needs the endpoint and key only once. Only the same
    cloud is reused: an OpenAI realtime key is never sent to an Azure LLM endpoint, nor the other way round.
    """
    llm, rt, sec = settings.llm, settings.realtime, settings.secrets
    if llm.provider not in ("azure", "openai") or rt.engine != llm.provider:
        return settings
    new_llm, new_sec = llm, sec
    if llm.provider == "azure" and not llm.azure_endpoint and rt.azure_endpoint:
        new_llm = replace(llm, azure_endpoint=rt.azure_endpoint)
    if not sec.llm_api_key and sec.realtime_api_key:
        new_sec = replace(sec, llm_api_key=sec.realtime_api_key)
    if new_llm is llm and new_sec is sec:
        return settings
    return replace(settings, llm=new_llm, secrets=new_sec)
