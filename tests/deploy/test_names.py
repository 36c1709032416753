"""The deployment files name real settings and real endpoints: a renamed setting or route breaks this test,
not a production rollout. Every `DATAVOX_…` variable that compose.yaml, main.bicep, the Dockerfile or the
entrypoint sets must be one `load_settings` reads; every probe path must be a route of the app."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from fastapi.testclient import TestClient
from tests.server.conftest import FakeBrain, make_settings

from datavox.config import SECRET_ENV, Settings, load_settings
from datavox.server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    ROOT / "compose.yaml",
    ROOT / "deploy" / "azure" / "main.bicep",
    ROOT / "Dockerfile",
    ROOT / "deploy" / "docker" / "entrypoint.sh",
]
# Compose interpolation variables of the operator's shell, not settings of datavox.
COMPOSE_ONLY = {"DATAVOX_PORT", "DATAVOX_F1_DIR"}


def known_variables() -> set[str]:
    names = {name for names in SECRET_ENV.values() for name in names}
    for section in fields(Settings):
        if section.name in ("secrets", "source"):
            continue
        for f in fields(type(getattr(Settings(), section.name))):
            names.add(f"DATAVOX_{section.name.upper()}_{f.name.upper()}")
    return names


def test_every_variable_the_deployment_sets_is_a_setting() -> None:
    known = known_variables()
    assert "DATAVOX_SERVER_STATE_URL" in known and "DATAVOX_DATABASE_URL" in known
    for path in FILES:
        used = set(re.findall(r"\bDATAVOX_[A-Z0-9_]+\b", path.read_text(encoding="utf-8"))) - COMPOSE_ONLY
        unknown = used - known
        assert not unknown, f"{path.name} sets {sorted(unknown)}, which datavox does not read"


def test_the_settings_the_bicep_sets_load() -> None:
    # Plain values of the Container App's environment, as the container would see them.
    bicep = (ROOT / "deploy" / "azure" / "main.bicep").read_text(encoding="utf-8")
    env = dict(re.findall(r"\{ name: '(DATAVOX_\w+)', value: '([^']*)' \}", bicep))
    assert env, "no plain settings found in the container app"
    settings = load_settings(env={**env, "DATAVOX_CONFIG": str(ROOT / "no-such-file.toml")})
    assert settings.llm.provider == "azure" and settings.llm.azure_auth == "entra"
    assert settings.realtime.azure_auth == "entra"


def test_every_probe_path_is_a_route(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, engine="local"), brain=FakeBrain())
    bicep = (ROOT / "deploy" / "azure" / "main.bicep").read_text(encoding="utf-8")
    probes = set(re.findall(r"path: '(/[a-z]+)'", bicep))
    health = (ROOT / "deploy" / "docker" / "healthcheck.py").read_text(encoding="utf-8")
    probes |= set(re.findall(r"\}(/[a-z]+)\"", health))
    assert {"/livez", "/readyz", "/healthz"} <= probes
    with TestClient(app) as client:
        for path in probes:
            assert client.get(path).status_code != 404, path
