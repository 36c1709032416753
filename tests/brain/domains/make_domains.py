# ruff: noqa: E501  (one line per question and its gold SQL reads best)
"""Builds the other-domain question sets (penguins, Seattle weather, US airports): spoken questions with
expected values computed by our own SQL on the raw CSV files that PyPI packages ship (palmerpenguins,
vega_datasets), never typed in by hand.

    .venv/bin/python tests/brain/domains/make_domains.py

The questions were written before the engine was changed for them (blind); `datavox eval` scores them on a
database made with `datavox import` and its generated semantic model, with no hand edits. Each turn is
(question, gold SQL, rule): rule "values" takes every cell of the gold SQL's first row, "set" the distinct
values of its first column, "empty" checks that it returns nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from tests.brain.domains.files import domain_files

HERE = Path(__file__).parent
Turn = tuple[str, str, str]

PENGUINS: list[list[Turn]] = [
    [("How many penguins are there?", "select count(*) from penguins", "values")],
    [
        (
            "How many Adelie penguins are there?",
            "select count(*) from penguins where species='Adelie'",
            "values",
        )
    ],
    [
        (
            "What is the average body mass of Gentoo penguins?",
            "select avg(body_mass_g) from penguins where species='Gentoo'",
            "values",
        )
    ],
    [
        (
            "Which island has the most penguins?",
            "select island from penguins group by island order by count(*) desc limit 1",
            "values",
        )
    ],
    [("How many penguins were observed in 2008?", "select count(*) from penguins where year=2008", "values")],
    [("What is the longest flipper length?", "select max(flipper_length_mm) from penguins", "values")],
    [
        (
            "Which species has the highest average body mass?",
            "select species from penguins group by species order by avg(body_mass_g) desc limit 1",
            "values",
        )
    ],
    [
        (
            "How many female penguins live on Dream island?",
            "select count(*) from penguins where sex='female' and island='Dream'",
            "values",
        )
    ],
    [
        (
            "What is the average bill length of Chinstrap penguins?",
            "select avg(bill_length_mm) from penguins where species='Chinstrap'",
            "values",
        )
    ],
    [("How many different species are there?", "select count(distinct species) from penguins", "values")],
    [
        (
            "Which species live on Torgersen island?",
            "select distinct species from penguins where island='Torgersen'",
            "set",
        )
    ],
    [
        (
            "Which islands have Adelie penguins?",
            "select distinct island from penguins where species='Adelie'",
            "set",
        )
    ],
    [
        (
            "What species is the heaviest penguin?",
            "select species from penguins order by body_mass_g desc nulls last limit 1",
            "values",
        )
    ],
    [
        (
            "What is the smallest bill depth of an Adelie penguin?",
            "select min(bill_depth_mm) from penguins where species='Adelie'",
            "values",
        )
    ],
    [
        (
            "How many male Gentoo penguins were recorded in 2009?",
            "select count(*) from penguins where sex='male' and species='Gentoo' and year=2009",
            "values",
        )
    ],
    [
        (
            "How many penguins are there on each island?",
            "select count(*) from penguins group by island order by 1 desc",
            "set",
        )
    ],
    [
        (
            "Which islands have more than 100 penguins?",
            "select island from penguins group by island having count(*) > 100",
            "set",
        )
    ],
    [
        (
            "Which species are found on both Biscoe and Dream?",
            "select species from penguins where island='Biscoe' intersect select species from penguins where island='Dream'",
            "set",
        )
    ],
    [
        (
            "Which species are never seen on Torgersen?",
            "select species from penguins except select species from penguins where island='Torgersen'",
            "set",
        )
    ],
    [
        (
            "How many penguins weigh more than 5000 grams?",
            "select count(*) from penguins where body_mass_g > 5000",
            "values",
        )
    ],
    [
        (
            "How many Chinstrap penguins are there?",
            "select count(*) from penguins where species='Chinstrap'",
            "values",
        ),
        ("And Gentoo?", "select count(*) from penguins where species='Gentoo'", "values"),
    ],
    [
        (
            "What is the average flipper length of Adelie penguins?",
            "select avg(flipper_length_mm) from penguins where species='Adelie'",
            "values",
        ),
        (
            "What about Chinstrap?",
            "select avg(flipper_length_mm) from penguins where species='Chinstrap'",
            "values",
        ),
    ],
]

W = "seattle_weather"
WEATHER: list[list[Turn]] = [
    [
        (
            "How many rainy days were there in 2014?",
            f"select count(*) from {W} where weather='rain' and year(date)=2014",
            "values",
        )
    ],
    [
        (
            "What was the highest maximum temperature in 2015?",
            f"select max(temp_max) from {W} where year(date)=2015",
            "values",
        )
    ],
    [
        (
            "What was the total precipitation in 2012?",
            f"select sum(precipitation) from {W} where year(date)=2012",
            "values",
        )
    ],
    [("How many days had snow?", f"select count(*) from {W} where weather='snow'", "values")],
    [("What is the average wind speed?", f"select avg(wind) from {W}", "values")],
    [("What was the lowest minimum temperature recorded?", f"select min(temp_min) from {W}", "values")],
    [
        (
            "On which day was the precipitation highest?",
            f"select date from {W} order by precipitation desc limit 1",
            "values",
        )
    ],
    [
        (
            "What is the most common type of weather?",
            f"select weather from {W} group by weather order by count(*) desc limit 1",
            "values",
        )
    ],
    [
        (
            "How many sunny days were there in 2013?",
            f"select count(*) from {W} where weather='sun' and year(date)=2013",
            "values",
        )
    ],
    [
        (
            "What was the average maximum temperature in 2014?",
            f"select avg(temp_max) from {W} where year(date)=2014",
            "values",
        )
    ],
    [
        (
            "How many days had more than 20 millimetres of precipitation?",
            f"select count(*) from {W} where precipitation > 20",
            "values",
        )
    ],
    [("What was the windiest day?", f"select date from {W} order by wind desc limit 1", "values")],
    [
        (
            "How many foggy days were there in 2015?",
            f"select count(*) from {W} where weather='fog' and year(date)=2015",
            "values",
        )
    ],
    [
        (
            "What was the maximum wind speed in 2013?",
            f"select max(wind) from {W} where year(date)=2013",
            "values",
        )
    ],
    [("What kinds of weather are there?", f"select distinct weather from {W}", "set")],
    [("How many days of each weather type were there?", f"select count(*) from {W} group by weather", "set")],
    [
        (
            "Which year had the most precipitation?",
            f"select year(date) from {W} group by 1 order by sum(precipitation) desc limit 1",
            "values",
        )
    ],
    [
        (
            "What was the average minimum temperature in 2012?",
            f"select avg(temp_min) from {W} where year(date)=2012",
            "values",
        )
    ],
    [
        (
            "What was the hottest day in 2012?",
            f"select date from {W} where year(date)=2012 order by temp_max desc limit 1",
            "values",
        )
    ],
    [
        (
            "What was the total precipitation in 2013?",
            f"select sum(precipitation) from {W} where year(date)=2013",
            "values",
        ),
        ("And in 2014?", f"select sum(precipitation) from {W} where year(date)=2014", "values"),
    ],
    [
        (
            "How many snowy days were there in 2012?",
            f"select count(*) from {W} where weather='snow' and year(date)=2012",
            "values",
        ),
        ("What about 2015?", f"select count(*) from {W} where weather='snow' and year(date)=2015", "values"),
    ],
]

A = "airports"
AIRPORTS: list[list[Turn]] = [
    [("How many airports are there?", f"select count(*) from {A}", "values")],
    [("How many airports are in Houston?", f"select count(*) from {A} where city='Houston'", "values")],
    [
        (
            "Which city has the most airports?",
            f"select city from {A} where city is not null group by city order by count(*) desc limit 1",
            "values",
        )
    ],
    [
        (
            "What is the name of the airport with the code LAX?",
            f"select name from {A} where iata='LAX'",
            "values",
        )
    ],
    [
        (
            "In which city is John F Kennedy Intl?",
            f"select city from {A} where name='John F Kennedy Intl'",
            "values",
        )
    ],
    [("How many airports are in the state AK?", f"select count(*) from {A} where state='AK'", "values")],
    [
        (
            "Which state has the most airports?",
            f"select state from {A} group by state order by count(*) desc limit 1",
            "values",
        )
    ],
    [("How many countries are there?", f"select count(distinct country) from {A}", "values")],
    [("Which airports are in Thailand?", f"select name from {A} where country='Thailand'", "set")],
    [("What is the northernmost airport?", f"select name from {A} order by latitude desc limit 1", "values")],
    [("Which state is Honolulu in?", f"select distinct state from {A} where city='Honolulu'", "values")],
    [("List the airports in Anchorage.", f"select name from {A} where city='Anchorage'", "set")],
    [
        (
            "Which state has the fewest airports?",
            f"select state from {A} group by state order by count(*) asc limit 1",
            "values",
        )
    ],
    [
        (
            "What is the latitude of Denver Intl?",
            f"select latitude from {A} where name='Denver Intl'",
            "values",
        )
    ],
    [("Which city is Chicago Midway in?", f"select city from {A} where name='Chicago Midway'", "values")],
    [
        (
            "How many cities have more than 5 airports?",
            f"select count(*) from (select city from {A} where city is not null group by city having count(*) > 5)",
            "values",
        )
    ],
    [("Which airports are in Seattle?", f"select name from {A} where city='Seattle'", "set")],
    [
        (
            "What is the code of Seattle-Tacoma Intl?",
            f"select iata from {A} where name='Seattle-Tacoma Intl'",
            "values",
        )
    ],
    [
        (
            "How many airports are in the city of Columbus in OH?",
            f"select count(*) from {A} where city='Columbus' and state='OH'",
            "values",
        )
    ],
    [("What is the westernmost airport?", f"select name from {A} order by longitude asc limit 1", "values")],
    [
        ("How many airports are in Houston?", f"select count(*) from {A} where city='Houston'", "values"),
        ("And in Jackson?", f"select count(*) from {A} where city='Jackson'", "values"),
    ],
    [
        ("How many airports does the state TX have?", f"select count(*) from {A} where state='TX'", "values"),
        ("What about CA?", f"select count(*) from {A} where state='CA'", "values"),
    ],
]

# A second batch, written blind after the engine work on the first (2026-12-04 16:13 UTC): how general it is.
PENGUINS_2: list[list[Turn]] = [
    [
        (
            "How many penguins were recorded on Torgersen island?",
            "select count(*) from penguins where island='Torgersen'",
            "values",
        )
    ],
    [
        (
            "What is the average flipper length of male penguins?",
            "select avg(flipper_length_mm) from penguins where sex='male'",
            "values",
        )
    ],
    [
        (
            "Which year had the most penguins recorded?",
            "select year from penguins group by year order by count(*) desc limit 1",
            "values",
        )
    ],
    [
        (
            "What is the body mass of the heaviest Chinstrap penguin?",
            "select max(body_mass_g) from penguins where species='Chinstrap'",
            "values",
        )
    ],
    [
        (
            "How many female Adelie penguins are there?",
            "select count(*) from penguins where sex='female' and species='Adelie'",
            "values",
        )
    ],
    [("What is the shortest bill length?", "select min(bill_length_mm) from penguins", "values")],
    [
        (
            "Which island has the fewest penguins?",
            "select island from penguins group by island order by count(*) asc limit 1",
            "values",
        )
    ],
    [
        (
            "How many penguins have a bill length over 50 mm?",
            "select count(*) from penguins where bill_length_mm > 50",
            "values",
        )
    ],
    [
        (
            "What is the total body mass of all Gentoo penguins?",
            "select sum(body_mass_g) from penguins where species='Gentoo'",
            "values",
        )
    ],
    [
        (
            "Which species has the longest average flipper length?",
            "select species from penguins group by species order by avg(flipper_length_mm) desc limit 1",
            "values",
        )
    ],
    [
        (
            "How many Gentoo penguins live on Biscoe?",
            "select count(*) from penguins where species='Gentoo' and island='Biscoe'",
            "values",
        )
    ],
]
WEATHER_2: list[list[Turn]] = [
    [
        (
            "How many days had drizzle in 2012?",
            f"select count(*) from {W} where weather='drizzle' and year(date)=2012",
            "values",
        )
    ],
    [
        (
            "What was the total precipitation in 2015?",
            f"select sum(precipitation) from {W} where year(date)=2015",
            "values",
        )
    ],
    [
        (
            "What was the average wind speed in 2013?",
            f"select avg(wind) from {W} where year(date)=2013",
            "values",
        )
    ],
    [
        (
            "Which day had the lowest minimum temperature in 2014?",
            f"select date from {W} where year(date)=2014 order by temp_min asc limit 1",
            "values",
        )
    ],
    [
        (
            "How many days had a maximum temperature above 30 degrees?",
            f"select count(*) from {W} where temp_max > 30",
            "values",
        )
    ],
    [
        (
            "What was the rainiest day in 2013?",
            f"select date from {W} where year(date)=2013 order by precipitation desc limit 1",
            "values",
        )
    ],
    [
        (
            "How many snowy days were there in total?",
            f"select count(*) from {W} where weather='snow'",
            "values",
        )
    ],
    [("What was the highest wind speed recorded?", f"select max(wind) from {W}", "values")],
    [
        (
            "Which year had the highest average maximum temperature?",
            f"select year(date) from {W} group by 1 order by avg(temp_max) desc limit 1",
            "values",
        )
    ],
    [
        (
            "How many foggy days were there between 2013 and 2014?",
            f"select count(*) from {W} where weather='fog' and year(date) between 2013 and 2014",
            "values",
        )
    ],
]
AIRPORTS_2: list[list[Turn]] = [
    [("How many airports are in Chicago?", f"select count(*) from {A} where city='Chicago'", "values")],
    [("Which state is Denver Intl in?", f"select state from {A} where name='Denver Intl'", "values")],
    [("How many airports are in the state of FL?", f"select count(*) from {A} where state='FL'", "values")],
    [
        (
            "Which city in TX has the most airports?",
            f"select city from {A} where state='TX' group by city order by count(*) desc limit 1",
            "values",
        )
    ],
    [("What is the southernmost airport?", f"select name from {A} order by latitude asc limit 1", "values")],
    [
        (
            "How many airports are outside the USA?",
            f"select count(*) from {A} where country <> 'USA'",
            "values",
        )
    ],
    [
        (
            "How many cities are there in AK?",
            f"select count(distinct city) from {A} where state='AK'",
            "values",
        )
    ],
    [("Which airports are in Honolulu?", f"select name from {A} where city='Honolulu'", "set")],
    [
        (
            "How many states have more than 100 airports?",
            f"select count(*) from (select state from {A} group by state having count(*) > 100)",
            "values",
        )
    ],
    [("What is the easternmost airport?", f"select name from {A} order by longitude desc limit 1", "values")],
]

SETS: dict[str, list[list[Turn]]] = {"penguins": PENGUINS, "seattle_weather": WEATHER, "airports": AIRPORTS}
SECOND: dict[str, list[list[Turn]]] = {
    "penguins": PENGUINS_2,
    "seattle_weather": WEATHER_2,
    "airports": AIRPORTS_2,
}


def _expect(con: duckdb.DuckDBPyConnection, sql: str, rule: str) -> dict[str, Any]:
    rows = con.execute(sql).fetchall()
    if rule == "set":
        return {"intent": "STATISTICAL", "set": sorted({r[0] for r in rows}, key=str)}
    if rule == "empty":
        return {"intent": "STATISTICAL", "empty": True}
    if not rows:
        raise ValueError(f"no rows for {sql}")
    return {"intent": "STATISTICAL", "values": [_cell(c) for c in rows[0]]}


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def main() -> None:
    con = duckdb.connect()
    for name, path in domain_files().items():
        # The raw file, read apart from the importer ("NA" is how these files write a missing value).
        con.execute(f"create view {name} as select * from read_csv('{path}', nullstr='NA')")
    batches = [(f"{n}", d) for n, d in SETS.items()] + [(f"{n}_2", d) for n, d in SECOND.items()]
    for name, dialogues in batches:
        out = HERE / f"{name}.jsonl"
        with out.open("w", encoding="utf-8") as fh:
            for i, turns in enumerate(dialogues, 1):
                rows = [
                    {"q": q, "expect": _expect(con, sql, rule), "gold_sql": sql} for q, sql, rule in turns
                ]
                fh.write(json.dumps({"id": f"{name}-{i:03d}", "turns": rows}, ensure_ascii=False) + "\n")
        print(f"{out}: {len(dialogues)} dialogues")


if __name__ == "__main__":
    main()
