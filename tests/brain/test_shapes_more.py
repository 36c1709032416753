"""More shapes on F1, checked against our own SQL: "who is X?" profiles, per-row bounds ("more than 400
points in a season"), the best placed (ties said), and follow-ups that carry the right thing."""

from __future__ import annotations

from pathlib import Path

import duckdb
from tests.brain.test_compound import _col, _one

from datavox.brain.brain import Brain
from datavox.brain.english import well_formed
from datavox.types import Answer, HistoryTurn


def _after(brain: Brain, *questions: str) -> Answer:
    history: list[HistoryTurn] = []
    answer: Answer | None = None
    for q in questions:
        answer = brain.ask(q, history)
        history += [
            HistoryTurn(role="user", text=q),
            HistoryTurn(role="assistant", text=answer.answer, meta=answer.context),
        ]
    assert answer is not None
    return answer


def test_who_is_a_profile_of_the_row(f1_brain: Brain, f1_db: Path) -> None:
    answer = f1_brain.ask("Who is Lewis Hamilton?")
    assert answer.rows and answer.rows[0][0] == "Lewis Hamilton" and len(answer.rows) == 1
    born = _one(f1_db, "select date_of_birth from drivers where name='Lewis Hamilton'")
    assert str(born) in [str(c) for c in answer.rows[0]]
    assert well_formed(answer.answer) and answer.answer.startswith("Lewis Hamilton:")
    assert "id" not in answer.answer.split()
    # The profile's name is who "he" means next.
    follow = _after(f1_brain, "Who is Lewis Hamilton?", "How many races did he win in 2020?")
    assert follow.rows == f1_brain.ask("How many races did Lewis Hamilton win in 2020?").rows


def test_bound_on_each_row(f1_brain: Brain, f1_db: Path) -> None:
    answer = f1_brain.ask("Which drivers scored more than 400 points in a season?")
    gold = _col(
        f1_db,
        "select distinct d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id "
        "where s.points > 400",
    )
    assert {r[0] for r in answer.rows} == gold and gold


def test_best_placed_after_a_constructor(f1_brain: Brain, f1_db: Path) -> None:
    answer = _after(
        f1_brain,
        "Which constructor won the 2019 constructors' championship?",
        "Who was their best placed driver?",
    )
    with duckdb.connect(str(f1_db), read_only=True) as con:
        rows = con.execute(
            "select d.name, min(r.position_number) p from races_race_results r "
            "join drivers d on d.id=r.driver_id "
            "join constructors c on c.id=r.constructor_id where c.name='Mercedes' and r.year=2019 group by 1"
        ).fetchall()
    best = min(p for _, p in rows)
    assert {r[0] for r in answer.rows} == {n for n, p in rows if p == best}


def test_team_after_a_champion_and_another_driver(f1_brain: Brain, f1_db: Path) -> None:
    team = _after(f1_brain, "Who won the 2008 drivers' championship?", "Which team was he with?")
    gold = _col(
        f1_db,
        "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id "
        "where e.driver_id='lewis-hamilton' and e.year=2008 and not e.test_driver",
    )
    assert {r[0] for r in team.rows} == gold
    sainz = _after(f1_brain, "How many races did Charles Leclerc win in 2024?", "What about Carlos Sainz?")
    wins = _one(
        f1_db,
        "select count(*) from races_race_results r join drivers d on d.id=r.driver_id "
        "where d.name='Carlos Sainz Jr.' and r.year=2024 and r.position_number=1",
    )
    assert sainz.rows == [[wins]] and "Carlos Sainz" in sainz.answer
