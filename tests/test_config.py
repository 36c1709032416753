"""Settings: file, environment overrides, secrets only from the environment and always masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datavox.cli import main
from datavox.config import ConfigError, load_settings, mask


def test_defaults_use_embedded_duckdb(tmp_path: Path) -> None:
    settings = load_settings(None, env={"DATAVOX_CONFIG": str(tmp_path / "x")})
    assert settings.database.url.startswith("duckdb:///")
    assert settings.llm.provider == "none"
    assert settings.source == "defaults"


def test_file_then_environment_override(tmp_path: Path) -> None:
    file = tmp_path / "datavox.toml"
    file.write_text(
        '[database]\nurl = "sqlite:///a.sqlite"\nrow_cap = 50\n[server]\ncors_origins = ["http://a"]\n'
    )
    env = {"DATAVOX_DATABASE_ROW_CAP": "75", "DATAVOX_SERVER_CORS_ORIGINS": "http://x, http://y"}
    settings = load_settings(file, env=env)
    assert settings.database.url == "sqlite:///a.sqlite"
    assert settings.database.row_cap == 75
    assert settings.server.cors_origins == ["http://x", "http://y"]
    assert settings.source == str(file)


def test_bad_values_and_unknown_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATAVOX_DATABASE_ROW_CAP"):
        load_settings(
            None, env={"DATAVOX_CONFIG": str(tmp_path / "none"), "DATAVOX_DATABASE_ROW_CAP": "many"}
        )
    file = tmp_path / "datavox.toml"
    file.write_text("[database]\nurll = 'x'\n")
    with pytest.raises(ConfigError, match=r"database\.urll"):
        load_settings(file, env={})


def test_secrets_are_refused_in_the_file(tmp_path: Path) -> None:
    file = tmp_path / "datavox.toml"
    file.write_text('[secrets]\napi_token = "hunter2hunter2"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_settings(file, env={})


def test_secrets_come_from_environment_and_are_masked(tmp_path: Path) -> None:
    env = {"DATAVOX_CONFIG": str(tmp_path / "none"), "OPENAI_API_KEY": "sk-test-abcdefghijklmnop"}
    settings = load_settings(None, env=env)
    assert settings.secrets.llm_api_key == "sk-test-abcdefghijklmnop"
    dumped = json.dumps(settings.masked())
    assert "abcdefghijklmnop" not in dumped
    with_db = settings.with_db("postgresql://bob:db-password-42@db.example/f1").masked()
    assert with_db["database"]["url"] == "postgresql://bob:****@db.example/f1"
    assert mask("") == "(not set)"


def test_config_command_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAVOX_API_TOKEN", "very-secret-token-value")
    result = CliRunner().invoke(main, ["config", "--json"])
    assert result.exit_code == 0, result.output
    assert "very-secret-token-value" not in result.output
    assert json.loads(result.output)["secrets"]["api_token"].startswith("****")


def test_with_db_overrides_url() -> None:
    settings = load_settings(None, env={"DATAVOX_CONFIG": "/nonexistent/datavox.toml"})
    assert settings.with_db("sqlite:///x.sqlite").database.url == "sqlite:///x.sqlite"
    assert settings.with_db(None) is settings
