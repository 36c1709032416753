"""`datavox schema --describe` against the FAKE OpenAI server: one call, a diff shown, the words written into
the model file, kept by --refresh, and used by the offline engine with no LLM at question time."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from datavox.cli import main
from datavox.data.semantic import load_semantic_model
from fakes.openai_server import FakeOpenAIServer, Reply

DESCRIBED = {
    "description": "A small shop: its customers and their orders.",
    "examples": ["How many shoppers are there?", "Which city has the most customers?"],
    "tables": [
        {
            "name": "customers",
            "description": "People who buy from the shop.",
            "synonyms": ["shoppers", "Clients", "customers"],
            "columns": [
                {"name": "city", "description": "Town they live in.", "synonyms": ["town", "home town"]},
                {"name": "no_such_column", "description": "Invented.", "synonyms": ["ghost"]},
            ],
        },
        {"name": "ghosts", "description": "A table the database does not have.", "synonyms": ["spooks"]},
    ],
}


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DATAVOX_"):
            monkeypatch.delenv(name)
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INT, name VARCHAR, city VARCHAR)")
    con.execute("CREATE TABLE orders (id INT, customer_id INT, total DOUBLE)")
    con.execute("INSERT INTO customers VALUES (1, 'Alice Martin', 'Lyon'), (2, 'Bo Li', 'Oslo')")
    con.execute("INSERT INTO orders VALUES (1, 1, 10.5), (2, 2, 4.0), (3, 1, 7.0)")
    con.close()
    return path


def _config(tmp_path: Path, db: Path, base_url: str) -> Path:
    cfg = tmp_path / "datavox.toml"
    cfg.write_text(
        f'[database]\nurl = "duckdb:///{db}"\naudit_log = ""\n\n'
        f'[llm]\nprovider = "openai"\nmodel = "gpt-test"\nbase_url = "{base_url}"\nmax_retries = 0\n',
        encoding="utf-8",
    )
    return cfg


def test_describe_writes_the_llm_words_after_showing_a_diff(shop: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    with FakeOpenAIServer() as server:
        server.script(Reply.json(DESCRIBED))
        cfg = _config(tmp_path, shop, server.url("/v1"))
        env = {"DATAVOX_LLM_API_KEY": "sk-test-key-0000"}
        result = runner.invoke(main, ["--config", str(cfg), "schema", "--describe", "--yes"], env=env)
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 1  # asked once
        sent = server.requests[0]
        assert "customers" in sent.prompt_text and "Lyon" in sent.prompt_text
        assert sent.body["response_format"]["type"] == "json_schema"
    assert "+    description: People who buy from the shop." in result.output  # the diff shown
    path = shop.with_name("shop.semantic.yaml")
    model = load_semantic_model(path)
    customers = model.tables["customers"]
    assert customers.description == "People who buy from the shop."
    assert "shoppers" in customers.synonyms and "clients" in customers.synonyms
    assert customers.columns["city"].synonyms[-2:] == ["town", "home town"]
    assert "ghosts" not in model.tables and "no_such_column" not in customers.columns
    assert model.examples[0] == "How many shoppers are there?"

    # Regenerating keeps what was described; the offline engine uses the words with no LLM configured.
    plain = tmp_path / "offline.toml"
    plain.write_text(f'[database]\nurl = "duckdb:///{shop}"\naudit_log = ""\n', encoding="utf-8")
    refreshed = runner.invoke(main, ["--config", str(plain), "schema", "--refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "shoppers" in load_semantic_model(path).tables["customers"].synonyms
    asked = runner.invoke(
        main, ["--config", str(plain), "ask", "--engine", "offline", "How many shoppers are there?"]
    )
    assert asked.exit_code == 0, asked.output
    assert "2" in asked.output


def test_describe_without_an_llm_says_how_to_configure_one(shop: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "datavox.toml"
    cfg.write_text(f'[database]\nurl = "duckdb:///{shop}"\naudit_log = ""\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "schema", "--describe"])
    assert result.exit_code != 0 and "needs an LLM" in result.output
    assert not shop.with_name("shop.semantic.yaml").exists()


def test_describe_keeps_hand_written_words(shop: Path, tmp_path: Path) -> None:
    path = shop.with_name("shop.semantic.yaml")
    path.write_text(
        "tables:\n  customers:\n    description: Our buyers, written by hand.\n    synonyms: [buyers]\n",
        encoding="utf-8",
    )
    with FakeOpenAIServer() as server:
        server.script(Reply.json(DESCRIBED))
        cfg = _config(tmp_path, shop, server.url("/v1"))
        result = CliRunner().invoke(
            main, ["--config", str(cfg), "schema", "--describe", "--yes"], env={"DATAVOX_LLM_API_KEY": "sk-x"}
        )
    assert result.exit_code == 0, result.output
    customers = load_semantic_model(path).tables["customers"]
    assert customers.description == "Our buyers, written by hand."
    assert customers.synonyms[0] == "buyers" and "shoppers" in customers.synonyms
