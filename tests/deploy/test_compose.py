"""compose.yaml is valid for Compose (Debian's docker-compose validates it without an engine) and refuses to
start datavox without a bearer token, since the container listens beyond loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (make system-deps installs Debian's)")
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_stack_is_valid_with_a_token() -> None:
    result = compose_config({"DATAVOX_API_TOKEN": "t0ken"})
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {"datavox", "postgres", "redis", "otel-collector"}
    app = resolved["services"]["datavox"]
    assert app["environment"]["DATAVOX_API_TOKEN"] == "t0ken"
    assert app["environment"]["DATAVOX_SERVER_STATE_URL"].startswith("redis://redis:")
    assert app["environment"]["DATAVOX_SERVER_STORE_URL"].startswith("postgresql://")
    assert {"postgres", "redis"} <= set(app["depends_on"])
    # Published on the host's loopback only.
    assert app["ports"] and all(str(p).startswith("127.0.0.1:") for p in app["ports"])


def test_the_stack_refuses_to_start_without_a_token() -> None:
    result = compose_config({})
    assert result.returncode != 0
    assert "DATAVOX_API_TOKEN" in result.stderr
