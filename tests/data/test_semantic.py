"""The semantic model: generated from the catalog, merged with hand edits, loaded, refreshed to a file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
import yaml

from datavox.config import DatabaseSettings, Settings
from datavox.data.connect import parse_url
from datavox.data.schema import introspect
from datavox.data.semantic import (
    MODELS_DIR,
    SemanticModel,
    SemanticModelError,
    generate,
    load_semantic_model,
    merge,
    refresh,
    semantic_path,
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INT, name VARCHAR, email VARCHAR, city VARCHAR)")
    con.execute("CREATE TABLE orders (id INT, customer_id INT, order_date DATE, total DOUBLE, paid BOOLEAN)")
    con.execute(
        "INSERT INTO customers VALUES (1, 'Alice Martin', 'a@x.org', 'Lyon'), (2, 'Bo Li', 'b@x.org', 'Oslo')"
    )
    con.execute("INSERT INTO orders VALUES (1, 1, '2024-01-02', 10.5, true)")
    con.close()
    return path


def test_generate(shop: Path) -> None:
    model = generate(introspect(parse_url(f"duckdb:///{shop}")))
    customers = model.tables["customers"]
    assert customers.entity == ["name"] and customers.person
    assert "customer" in customers.synonyms
    orders = model.tables["orders"].columns
    assert orders["order_date"].role == "time" and orders["total"].role == "measure"
    assert orders["paid"].role == "flag" and orders["customer_id"].role == "identifier"
    assert [(r.from_, r.to) for r in model.relationships] == [("orders.customer_id", "customers.id")]


def test_merge_keeps_hand_edits(shop: Path) -> None:
    generated = generate(introspect(parse_url(f"duckdb:///{shop}")))
    edited = SemanticModel.from_dict(
        {
            "description": "A shop.",
            "tables": {
                "customers": {"description": "People who buy.", "synonyms": ["client"], "columns": {
                    "city": {"description": "Town.", "synonyms": ["town"]}}},
                "gone": {"description": "A table dropped since."},
            },
            "relationships": [{"from": "orders.customer_id", "to": "customers.id", "description": "Buyer."}],
            "measures": {"paid_orders": {"table": "orders", "filter": "paid", "synonyms": ["paid order"]}},
        }
    )  # fmt: skip
    merged = merge(generated, edited)
    assert merged.description == "A shop."
    assert merged.tables["customers"].description == "People who buy."
    assert merged.tables["customers"].synonyms == ["client"]
    assert merged.tables["customers"].entity == ["name"]  # generated fields fill what was not written
    assert merged.tables["customers"].columns["city"].synonyms == ["town"]
    assert merged.tables["customers"].columns["email"].role  # new columns come from the catalog
    assert "gone" not in merged.tables
    assert merged.relationships[0].description == "Buyer." and len(merged.relationships) == 1
    assert merged.measures["paid_orders"].filter == "paid"


def test_yaml_roundtrip_and_errors(tmp_path: Path) -> None:
    model = load_semantic_model(MODELS_DIR / "f1db.semantic.yaml")
    again = SemanticModel.from_dict(yaml.safe_load(model.to_yaml()))
    assert again.to_dict() == model.to_dict()
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  t:\n    colour: red\n")
    with pytest.raises(SemanticModelError, match="unknown key"):
        load_semantic_model(bad)
    bad.write_text("relationships:\n  - {from: a}\n")
    with pytest.raises(SemanticModelError, match="from"):
        load_semantic_model(bad)


def test_f1_model_names_real_columns() -> None:
    """Every table and column the hand-written F1DB model names exists in the CSV headers."""
    from datavox.data.names import column_names, table_name

    f1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "f1"
    if not f1.is_dir():
        pytest.skip("no F1DB")
    headers: dict[str, set[str]] = {}
    for csv_file in f1.glob("f1db-*.csv"):
        first = csv_file.read_text(encoding="utf-8").splitlines()[0]
        headers[table_name(csv_file.stem, strip_prefix="f1db-")] = set(
            column_names(h.strip('"') for h in first.split(","))
        )
    model = load_semantic_model(MODELS_DIR / "f1db.semantic.yaml")
    for tname, table in model.tables.items():
        assert tname in headers, tname
        assert set(table.columns) <= headers[tname], (tname, set(table.columns) - headers[tname])
        assert set(table.entity) <= headers[tname]
    for name, m in model.measures.items():
        assert m.table in headers, name
    assert model.tables["drivers"].entity == ["name"]
    assert "total_race_wins" in model.tables["drivers"].columns


def test_refresh_writes_next_to_the_database(shop: Path) -> None:
    settings = replace(Settings(), database=DatabaseSettings(url=f"duckdb:///{shop}", audit_log=""))
    path = refresh(settings)
    assert path == shop.with_name("shop.semantic.yaml") == semantic_path(settings)
    text = path.read_text()
    path.write_text(text.replace("tables:", "description: Hand-written.\ntables:", 1))
    refresh(settings)
    assert load_semantic_model(path).description == "Hand-written."
    custom = tmp = shop.with_name("custom.yaml")
    settings2 = replace(settings, database=replace(settings.database, semantic_model=str(custom)))
    assert refresh(settings2) == tmp and custom.is_file()


def test_untouched_generated_file_follows_a_newer_shipped_model(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datavox.data import semantic

    settings = replace(Settings(), database=DatabaseSettings(url=f"duckdb:///{shop}", audit_log=""))
    path = refresh(settings)
    assert not semantic.edited_by_hand(path)
    catalog = introspect(parse_url(settings.database.url))
    newer = replace(generate(catalog), description="Shipped, newer release.")
    monkeypatch.setattr(semantic, "shipped_model_for", lambda _catalog: newer)
    # Nobody edited the file: the newer shipped model is what the brain gets.
    assert semantic.model_for(settings, catalog).description == "Shipped, newer release."
    # Once edited by hand, the file is the base and stays so.
    path.write_text(path.read_text().replace("tables:", "description: Mine.\ntables:", 1))
    assert semantic.edited_by_hand(path)
    assert semantic.model_for(settings, catalog).description == "Mine."
    # A file written entirely by hand (no marker) is always the user's.
    path.write_text("description: Hand-made.\ntables: {}\n")
    assert semantic.edited_by_hand(path)
