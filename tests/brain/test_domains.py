"""Other-domain question sets (penguins, Seattle weather, US airports; tests/brain/domains): a floor per set.

The CSV files ship in PyPI packages (dev dependencies); each is imported with the importer, as
`datavox import` does, and asked on its generated semantic model with no hand edits. The questions were
written blind (before the engine was changed for them); BENCHMARKS.md has each set's first-run and current
score.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.brain.conftest import settings_for
from tests.brain.domains.files import domain_files

from datavox.brain.brain import Brain
from datavox.brain.evaluate import load_dialogues, run_dialogues, summarise
from datavox.data.importer import import_paths

HERE = Path(__file__).with_name("domains")
# Just under what the engine reaches on each set, so a regression fails.
FLOORS = {"penguins": 0.95, "seattle_weather": 0.95, "airports": 0.75}
# The second batch (`*_2.jsonl`), written blind after the engine work on the first.
FLOORS_2 = {"penguins": 0.95, "seattle_weather": 0.95, "airports": 0.95}


@pytest.fixture(scope="module", params=sorted(FLOORS))
def domain(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Brain]]:
    name = str(request.param)
    files = domain_files()
    if name not in files:
        pytest.skip(f"the package that ships {name} is not installed")
    path = tmp_path_factory.mktemp(name) / f"{name}.duckdb"
    import_paths(f"duckdb:///{path}", [files[name]])
    brain = Brain.from_settings(settings_for(path), engine="offline")
    yield name, brain
    brain.close()


def test_domain_pass_rate(domain: tuple[str, Brain]) -> None:
    name, brain = domain
    results = list(run_dialogues(load_dialogues(HERE / f"{name}.jsonl"), brain.ask))
    summary = summarise(results)
    failed = [(r.id, r.q, r.reason) for r in results if not r.passed]
    assert summary.total >= 20
    assert summary.accuracy >= FLOORS[name], failed
    second = list(run_dialogues(load_dialogues(HERE / f"{name}_2.jsonl"), brain.ask))
    summary = summarise(second)
    assert summary.total >= 10
    assert summary.accuracy >= FLOORS_2[name], [(r.id, r.q, r.reason) for r in second if not r.passed]
