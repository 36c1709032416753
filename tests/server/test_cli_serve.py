"""`datavox doctor` says what is wrong and exits non-zero; `serve` options reach the settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from datavox.cli import main
from datavox.cli_serve import apply_options
from datavox.config import Settings


def test_doctor_fails_on_a_missing_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"duckdb:///{tmp_path}/missing.duckdb"
    result = CliRunner().invoke(main, ["doctor", "--skip-speech", "--db", url])
    assert result.exit_code != 0
    assert "FAIL database" in result.output
    assert "datavox demo" in result.output


def test_doctor_checks_a_broken_semantic_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sales (region VARCHAR, amount DOUBLE)")
    con.close()
    (tmp_path / "shop.semantic.yaml").write_text("tables: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["doctor", "--skip-speech", "--db", f"duckdb:///{db}"])
    assert "ok   database" in result.output
    assert "FAIL semantic model" in result.output
    assert result.exit_code != 0


def test_doctor_only_runs_the_checks_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An image build has no database yet: `--only listening` must not fail on the missing one.
    monkeypatch.chdir(tmp_path)
    url = f"duckdb:///{tmp_path}/missing.duckdb"
    result = CliRunner().invoke(main, ["doctor", "--only", "listening", "--db", url])
    assert result.exit_code == 0, result.output
    assert "listening" in result.output and "database" not in result.output
    result = CliRunner().invoke(main, ["doctor", "--only", "listening,database", "--db", url])
    assert result.exit_code != 0 and "FAIL database" in result.output


def test_doctor_refuses_an_unknown_check() -> None:
    result = CliRunner().invoke(main, ["doctor", "--only", "web,gpu"])
    assert result.exit_code == 2
    assert "gpu" in result.output and "speech" in result.output


def test_serve_options_override_settings() -> None:
    settings = apply_options(Settings(), "0.0.0.0", 9000, "azure")
    assert (settings.server.host, settings.server.port, settings.realtime.engine) == (
        "0.0.0.0",
        9000,
        "azure",
    )
    assert apply_options(Settings(), None, None, None) == Settings()
