# ruff: noqa: E501  (one line per question and its gold SQL reads best)
"""Builds tests/brain/blind_f1_imported.jsonl: a blind held-out F1 check set for issue 9.

The questions were written before any engine change for issue 9 and without reading the parser: they are
what a person who just imported the F1DB CSVs might ask. Expected values are computed by the gold SQL below
on F1DB loaded one table per CSV as /work/shared/eval/README.md describes (`f1db-races-race-results.csv` ->
`races_race_results`, CSV column names kept), never typed in by hand:

    .venv/bin/python -m tests.brain.make_blind ../shared/data/f1 tests/brain/blind_f1_imported.jsonl

Rule "values" takes every cell of the gold SQL's first row, "set" the distinct values of its first column,
"empty" checks that it returns nothing, "chat" is small talk (no SQL may run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from tests.brain.goldsets import Turn, write_dialogues

RR = "races_race_results"
WINNER = f"select d.name from {RR} r join races ra on ra.id=r.raceId join drivers d on d.id=r.driverId where r.positionNumber=1"
CHAMP = (
    "select d.name from seasons_driver_standings s join drivers d on d.id=s.driverId where s.positionNumber=1"
)
TEAM_CHAMP = "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructorId where s.positionNumber=1"

DIALOGUES: list[list[Turn]] = [
    [("How many drivers are there in the data?", "select count(*) from drivers", "values")],
    [("How many circuits are there?", "select count(*) from circuits", "values")],
    [("Which circuit is the longest?", "select name from circuits order by length desc limit 1", "values")],
    [("How many races has Interlagos hosted?", "select totalRacesHeld from circuits where id='interlagos'", "values")],
    [("Which constructor has the most podiums?", "select name from constructors order by totalPodiums desc limit 1", "values")],
    [("Which engine manufacturer has won the most races?", "select name from engine_manufacturers order by totalRaceWins desc limit 1", "values")],
    [("Which tyre manufacturer has the most race wins?", "select name from tyre_manufacturers order by totalRaceWins desc limit 1", "values")],
    [("How many race wins does Nico Rosberg have?", "select totalRaceWins from drivers where name='Nico Rosberg'", "values")],
    [("How many points did Sebastian Vettel score in 2013?", "select s.points from seasons_driver_standings s join drivers d on d.id=s.driverId where d.name='Sebastian Vettel' and s.year=2013", "values")],
    [("Who won the 2000 drivers' championship?", f"{CHAMP} and s.year=2000", "values")],
    [("Which team won the constructors' championship in 2005?", f"{TEAM_CHAMP} and s.year=2005", "values")],
    [("Who won the Belgian Grand Prix in 2008?", f"{WINNER} and ra.grandPrixId='belgium' and ra.year=2008", "values")],
    [("Who won the Australian Grand Prix in 2010?", f"{WINNER} and ra.grandPrixId='australia' and ra.year=2010", "values")],
    [("How many races did Ayrton Senna win in 1988?", f"select count(*) from {RR} r join drivers d on d.id=r.driverId where d.name='Ayrton Senna' and r.year=1988 and r.positionNumber=1", "values")],
    [("How many pole positions did Lewis Hamilton get in 2015?", f"select count(*) from {RR} r join drivers d on d.id=r.driverId where d.name='Lewis Hamilton' and r.year=2015 and r.polePosition", "values")],
    [("Which driver scored the most points in 2020?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driverId where s.year=2020 order by s.points desc limit 1", "values")],
    [("Who was on pole at the 2019 British Grand Prix?", f"select d.name from {RR} r join races ra on ra.id=r.raceId join drivers d on d.id=r.driverId where r.polePosition and ra.grandPrixId='great-britain' and ra.year=2019", "values")],
    [("Which driver won the most races in 1988?", f"select d.name from {RR} r join drivers d on d.id=r.driverId where r.positionNumber=1 and r.year=1988 group by d.name order by count(*) desc limit 1", "values")],
    [("How many French drivers are there?", "select count(*) from drivers where nationalityCountryId='france'", "values")],
    [("When was Alain Prost born?", "select dateOfBirth from drivers where name='Alain Prost'", "values")],
    [("Where was Ayrton Senna born?", "select placeOfBirth from drivers where name='Ayrton Senna'", "values")],
    [("What is Max Verstappen's permanent number?", "select permanentNumber from drivers where name='Max Verstappen'", "values")],
    [("How many laps has Fernando Alonso completed in his career?", "select totalRaceLaps from drivers where name='Fernando Alonso'", "values")],
    [("How many constructors are from Italy?", "select count(*) from constructors where countryId='italy'", "values")],
    [("Which country is the Suzuka circuit in?", "select co.name from circuits c join countries co on co.id=c.countryId where c.id='suzuka'", "values")],
    [("List the circuits in Spain.", "select name from circuits where countryId='spain'", "set")],
    [("How many races were there in 2010?", "select count(*) from races where year=2010", "values")],
    [("How many times has the Monaco Grand Prix been held?", "select totalRacesHeld from grands_prix where id='monaco'", "values")],
    [("Which driver has the most race starts?", "select name from drivers order by totalRaceStarts desc limit 1", "values")],
    [("Who finished third in the 2010 drivers' championship?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driverId where s.year=2010 and s.positionNumber=3", "values")],
    [("How many pit stops did Max Verstappen make in 2023?", "select count(*) from races_pit_stops p join drivers d on d.id=p.driverId where d.name='Max Verstappen' and p.year=2023", "values")],
    [("Which team did Kimi Raikkonen drive for in 2007?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructorId where e.driverId='kimi-raikkonen' and e.year=2007 and not e.testDriver", "values")],
    [("Which drivers raced for Williams in 2014?", "select distinct d.name from seasons_entrants_drivers e join drivers d on d.id=e.driverId where e.constructorId='williams' and e.year=2014 and not e.testDriver", "set")],
    [("Who won the 2023 Dutch Grand Prix?", f"{WINNER} and ra.grandPrixId='netherlands' and ra.year=2023", "values")],
    [("Which drivers have won more than 50 races?", "select name from drivers where totalRaceWins>50", "set")],
    [("How many drivers have never won a race?", "select count(*) from drivers where totalRaceWins=0", "values")],
    [("Who won the 2050 Monaco Grand Prix?", f"{WINNER} and ra.grandPrixId='monaco' and ra.year=2050", "empty")],
    [("Who won the 2007 drivers' championship?", f"{CHAMP} and s.year=2007", "values"),
     ("How many races did he win that year?", f"select count(*) from {RR} r where r.driverId='kimi-raikkonen' and r.year=2007 and r.positionNumber=1", "values")],
    [("How many podiums did Lando Norris get in 2024?", f"select count(*) from {RR} r join drivers d on d.id=r.driverId where d.name='Lando Norris' and r.year=2024 and r.positionNumber<=3", "values"),
     ("What about Oscar Piastri?", f"select count(*) from {RR} r join drivers d on d.id=r.driverId where d.name='Oscar Piastri' and r.year=2024 and r.positionNumber<=3", "values")],
    [("Which constructor won the 2016 constructors' championship?", f"{TEAM_CHAMP} and s.year=2016", "values"),
     ("And in 2010?", f"{TEAM_CHAMP} and s.year=2010", "values")],
    [("Good afternoon!", "", "chat"), ("What sort of things can I ask?", "", "chat"), ("Thanks a lot, goodbye.", "", "chat")],
]  # fmt: skip


def main(csv_dir: str, out: str) -> None:
    con = duckdb.connect()
    for path in sorted(Path(csv_dir).glob("f1db-*.csv")):
        table = path.stem.removeprefix("f1db-").replace("-", "_")
        con.execute(f"create table {table} as select * from read_csv_auto('{path}', header=true)")
    write_dialogues(con, DIALOGUES, "blind", Path(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
