"""`datavox import`, `datavox demo` and `datavox sql` through click."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from datavox.cli import main

from .dbs import SEED_DATA


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no datavox.toml: defaults, audit log under tmp_path/data
    for name in list(os.environ):
        if name.startswith("DATAVOX_"):
            monkeypatch.delenv(name)
    return CliRunner()


def test_import_seed_then_sql(runner: CliRunner, tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'seed.duckdb'}"
    maps = [
        "--map=formula_one_records_10_years=F1Records",
        "--map=formula_one_circuit_winners_10_years=F1CircuitWinners",
        "--map=formula_one_constructor_champions_10_years=F1ConstructorChampions",
        "--map=formula_one_results_sample=F1ResultsSample",
    ]
    result = runner.invoke(main, ["import", "--db", db, *maps, str(SEED_DATA)])
    assert result.exit_code == 0, result.output
    assert "f1_records" in result.stdout and "4 table(s), 65 rows" in result.stdout
    assert "semantic model:" in result.stdout and "schema --describe" in result.stdout

    ok = runner.invoke(
        main, ["sql", "--db", db, "--json", "SELECT driver, points FROM f1_records WHERE year = 2019"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["rows"] == [["Lewis Hamilton", 413]]

    rejected = runner.invoke(main, ["sql", "--db", db, "DELETE FROM f1_records"])
    assert rejected.exit_code == 3
    assert "rejected: only SELECT" in rejected.stderr

    failed = runner.invoke(main, ["sql", "--db", db, "SELECT no_such_column FROM f1_records"])
    assert failed.exit_code == 1 and "failed:" in failed.stderr

    table = runner.invoke(
        main, ["sql", "--db", db, "SELECT year FROM f1_constructor_champions ORDER BY year"]
    )
    assert table.exit_code == 0 and "2014" in table.stdout and "10 row(s)" in table.stdout

    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [r["outcome"] for r in audit] == ["ok", "rejected", "error", "ok"]
    assert all(r["source"] == "cli" for r in audit)


def test_import_reports_rejected_lines_and_strict_fails(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = runner.invoke(main, ["import", "--db", db, str(path)])
    assert result.exit_code == 0, result.output
    assert "line 3" in result.stdout
    strict = runner.invoke(main, ["import", "--db", db, "--strict", "--table", "ragged", str(path)])
    assert strict.exit_code == 1 and "strict" in strict.stdout


def test_demo_with_its_own_folder_and_if_missing(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "f1"
    folder.mkdir()
    files = {
        "f1db-seasons.csv": "year,wikipedia\n1950,x\n1951,y\n",
        "f1db-drivers.csv": "id,name\nsenna,Ayrton\n",
    }
    sums = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        sums.append(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    db = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    result = runner.invoke(main, ["demo", "--db", db, "--path", str(folder)])
    assert result.exit_code == 0, result.output
    assert "seasons" in result.stdout and "CC BY 4.0" in result.stdout
    again = runner.invoke(main, ["demo", "--db", db, "--path", str(folder), "--if-missing"])
    assert again.exit_code == 0 and "nothing to do" in again.stdout
    (folder / "f1db-drivers.csv").write_text("id,name\nsenna,Changed\n", encoding="utf-8")
    damaged = runner.invoke(
        main, ["demo", "--db", f"duckdb:///{tmp_path / 'other.duckdb'}", "--path", str(folder)]
    )
    assert damaged.exit_code != 0 and "SHA256SUMS" in damaged.output
