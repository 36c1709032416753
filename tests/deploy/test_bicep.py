"""deploy/azure/main.bicep: parsed with the tree-sitter Bicep grammar (no Bicep CLI installs from the
registries this machine reaches), then checked for what the deployment promises: the services, the CPU
scale rule, session affinity, and no secret outside Key Vault. `az bicep build` and a what-if against a
subscription were not run here (no Azure access); docs/deploy.md says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "azure" / "main.bicep"
PARAMETERS = ROOT / "deploy" / "azure" / "main.parameters.json"


@dataclass
class Template:
    source: str
    params: dict[str, str]  # name → its declaration with its decorators
    secure_params: set[str]
    resources: dict[str, tuple[str, str]]  # symbol → (type, body)
    outputs: dict[str, str]  # name → expression


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode()


def _errors(node: Node) -> list[Node]:
    found = [node] if node.type == "ERROR" or node.is_missing else []
    for child in node.children:
        found += _errors(child)
    return found


def parse(source: str) -> Template:
    raw = source.encode()
    tree = Parser(Language(tree_sitter_bicep.language())).parse(raw)
    errors = _errors(tree.root_node)
    assert not errors, [f"line {e.start_point[0] + 1}: {_text(raw, e)[:60]!r}" for e in errors]
    params: dict[str, str] = {}
    secure: set[str] = set()
    resources: dict[str, tuple[str, str]] = {}
    outputs: dict[str, str] = {}
    decorators = ""
    for node in tree.root_node.children:
        if node.type == "decorators":
            decorators = _text(raw, node)
            continue
        ident = next((c for c in node.children if c.type == "identifier"), None)
        name = _text(raw, ident) if ident else ""
        if node.type == "parameter_declaration":
            params[name] = decorators + _text(raw, node)
            if "@secure()" in decorators:
                secure.add(name)
        elif node.type == "resource_declaration":
            kind = next(c for c in node.children if c.type == "string")
            resources[name] = (_text(raw, kind).strip("'"), _text(raw, node))
        elif node.type == "output_declaration":
            outputs[name] = _text(raw, node).split("=", 1)[1]
        decorators = ""
    return Template(source, params, secure, resources, outputs)


@pytest.fixture(scope="module")
def template() -> Template:
    return parse(TEMPLATE.read_text(encoding="utf-8"))


def of_type(template: Template, kind: str) -> list[str]:
    return [body for t, body in template.resources.values() if t.split("@")[0] == kind]


def test_a_syntax_error_is_caught() -> None:
    # The check itself can fail: a brace removed from the real template must not parse.
    broken = TEMPLATE.read_text(encoding="utf-8").replace(
        "retentionInDays: 30\n  }", "retentionInDays: 30\n", 1
    )
    with pytest.raises(AssertionError):
        parse(broken)


def test_every_service_the_deployment_needs_is_declared(template: Template) -> None:
    kinds = {t.split("@")[0] for t, _ in template.resources.values()}
    for kind in (
        "Microsoft.App/containerApps",
        "Microsoft.App/managedEnvironments",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.Cache/redis",
        "Microsoft.CognitiveServices/accounts",
        "Microsoft.KeyVault/vaults",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
    ):
        assert kind in kinds, kind
    for kind, _ in template.resources.values():
        assert re.fullmatch(r"[\w.]+/[\w/]+@\d{4}-\d{2}-\d{2}(-preview)?", kind), kind


def test_openai_has_a_realtime_and_a_chat_deployment_with_keys_off(template: Template) -> None:
    deployments = of_type(template, "Microsoft.CognitiveServices/accounts/deployments")
    assert len(deployments) == 2
    assert "gpt-realtime" in template.params["realtimeModel"]
    (account,) = of_type(template, "Microsoft.CognitiveServices/accounts")
    assert "disableLocalAuth: true" in account
    allowed = template.params["location"]
    assert "'eastus2'" in allowed and "'swedencentral'" in allowed and "@allowed" in allowed


def test_the_app_scales_on_cpu_above_65_percent_with_session_affinity(template: Template) -> None:
    (app,) = of_type(template, "Microsoft.App/containerApps")
    assert re.search(
        r"type: 'cpu'\s+metadata: \{\s+type: 'Utilization'\s+value: string\(cpuScaleThreshold\)", app
    )
    assert re.search(r"param cpuScaleThreshold int = 65\b", template.params["cpuScaleThreshold"])
    assert "affinity: 'sticky'" in app
    for probe in ("Startup", "Liveness", "Readiness"):
        assert f"type: '{probe}'" in app


def test_no_secret_reaches_an_app_setting_or_an_output(template: Template) -> None:
    assert {"apiToken", "postgresAdminPassword"} <= template.secure_params
    (app,) = of_type(template, "Microsoft.App/containerApps")
    env_values = re.findall(r"\{ name: '(\w+)', value: ([^}]+) \}", app)
    assert env_values, "the app's plain settings were not found"
    for name, value in env_values:
        assert not any(p in value for p in template.secure_params), name
        assert "listKeys" not in value and "KEY" not in name and "TOKEN" not in name, name
    secret_refs = dict(re.findall(r"\{ name: '(\w+)', secretRef: '([\w-]+)' \}", app))
    assert {"DATAVOX_API_TOKEN", "DATAVOX_SERVER_STORE_URL", "DATAVOX_SERVER_STATE_URL"} <= set(secret_refs)
    # Each secret the app reads is a Key Vault reference read with the managed identity.
    for ref in secret_refs.values():
        assert re.search(
            rf"name: '{ref}'\s+keyVaultUrl: \w+\.properties\.secretUri\s+identity: identity\.id",
            template.source,
        )
    for name, expression in template.outputs.items():
        assert "listKeys" not in expression and not any(p in expression for p in template.secure_params), name
    # A secure parameter goes only into Key Vault secrets or the database server's own admin password.
    for param in template.secure_params:
        users = [s for s, (_, body) in template.resources.items() if re.search(rf"\b{param}\b", body)]
        for symbol in users:
            kind = template.resources[symbol][0].split("@")[0]
            assert kind in (
                "Microsoft.KeyVault/vaults/secrets",
                "Microsoft.DBforPostgreSQL/flexibleServers",
            ), (
                param,
                symbol,
            )


def test_every_parameter_is_used_and_the_parameters_file_matches(template: Template) -> None:
    for name in template.params:
        # A use, not a property key (`name:`) nor a member (`x.name`); minus the declaration itself.
        uses = len(re.findall(rf"(?<![.\w']){name}\b(?!\s*:)", template.source)) - 1
        assert uses >= 1, f"param {name} is never used"
    values = json.loads(PARAMETERS.read_text(encoding="utf-8"))["parameters"]
    assert set(values) <= set(template.params)
    assert not set(values) & template.secure_params, "secure values go on the command line, not in a file"
