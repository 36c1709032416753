# ruff: noqa: E501  (one line per question and its gold SQL reads best)
"""Builds tests/brain/holdout_f1.jsonl: held-out spoken F1 questions, their expected values computed by our
own SQL on the demo database (never typed in by hand).

    .venv/bin/python -m tests.brain.make_holdout /tmp/gen/f1.duckdb

Each turn is (question, gold SQL, rule): rule "values" takes every cell of the gold SQL's first row,
"set" the distinct values of its first column, "empty" checks that it returns nothing, "chat" is small talk.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from tests.brain.goldsets import Turn, write_dialogues

RR = "races_race_results"
WIN = f"select count(*) from {RR} r join drivers d on d.id=r.driver_id where r.position_number=1"
CHAMP = (
    "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id "
    "where s.position_number=1"
)
GP_WINNER = (
    f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id "
    "where r.position_number=1"
)

DIALOGUES: list[list[Turn]] = [
    [("How many Grands Prix did Sebastian Vettel win in 2013?", f"{WIN} and d.name='Sebastian Vettel' and r.year=2013", "values")],
    [("Who was the world champion in 1994?", f"{CHAMP} and s.year=1994", "values")],
    [("Who took the drivers' title in 2016?", f"{CHAMP} and s.year=2016", "values")],
    [("Which team took the constructors' title in 2012?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=2012 and s.position_number=1", "values")],
    [("How many pole positions did Ayrton Senna get in his career?", "select total_pole_positions from drivers where name='Ayrton Senna'", "values")],
    [("How many points did Lewis Hamilton score in 2019?", "select s.points from seasons_driver_standings s join drivers d on d.id=s.driver_id where d.name='Lewis Hamilton' and s.year=2019", "values")],
    [("Who won the Italian Grand Prix in 2019?", f"{GP_WINNER} and ra.grand_prix_id='italy' and ra.year=2019", "values")],
    [("Who won at Silverstone in 2021?", f"{GP_WINNER} and ra.circuit_id='silverstone' and ra.year=2021", "values")],
    [("Who won the race at Spa in 2020?", f"{GP_WINNER} and ra.circuit_id='spa-francorchamps' and ra.year=2020", "values")],
    [("Who won the Japanese Grand Prix in 2005?", f"{GP_WINNER} and ra.grand_prix_id='japan' and ra.year=2005", "values")],
    [("Who won in Baku in 2018?", f"{GP_WINNER} and ra.circuit_id='baku' and ra.year=2018", "values")],
    [("Who won the race at Suzuka in 2022?", f"{GP_WINNER} and ra.circuit_id='suzuka' and ra.year=2022", "values")],
    [("Who won the Brazilian Grand Prix in 2016?", f"{GP_WINNER} and ra.grand_prix_id='brazil' and ra.year=2016", "values")],
    [("Who finished third in the 2021 Abu Dhabi Grand Prix?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=3 and ra.grand_prix_id='abu-dhabi' and ra.year=2021", "values")],
    [("Where did Fernando Alonso finish in the 2023 Monaco Grand Prix?", f"select r.position_number from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where d.name='Fernando Alonso' and ra.grand_prix_id='monaco' and ra.year=2023", "values")],
    [("Which team did Lewis Hamilton drive for in 2012?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id join drivers d on d.id=e.driver_id where d.name='Lewis Hamilton' and e.year=2012 and not e.test_driver", "values")],
    [("Who were Max Verstappen's teammates in 2019?", "select distinct d2.name from seasons_entrants_drivers a join seasons_entrants_drivers b on a.constructor_id=b.constructor_id and a.year=b.year join drivers d2 on d2.id=b.driver_id where a.driver_id='max-verstappen' and a.year=2019 and b.driver_id<>'max-verstappen' and not b.test_driver", "set")],
    [("Which driver has the most race wins of all time?", "select name from drivers order by total_race_wins desc limit 1", "values")],
    [("Which team has won the most races in history?", "select name from constructors order by total_race_wins desc limit 1", "values")],
    [("Who won the most races in the 2010s?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.position_number=1 and r.year between 2010 and 2019 group by d.name order by count(*) desc limit 1", "values")],
    [("Which driver scored the most points in 2018?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2018 order by s.points desc limit 1", "values")],
    [("Who had the most pole positions in 2023?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.pole_position and r.year=2023 group by d.name order by count(*) desc limit 1", "values")],
    [("How many races were held in 1950?", "select count(*) from races where year=1950", "values")],
    [("How many races has Monza hosted?", "select count(*) from races where circuit_id='monza'", "values")],
    [("How many times has the British Grand Prix been held?", "select total_races_held from grands_prix where id='great-britain'", "values")],
    [("Who won the first race of 2024?", f"{GP_WINNER} and ra.year=2024 and ra.round=1", "values")],
    [("Who won the last race of the 2021 season?", f"{GP_WINNER} and ra.year=2021 and ra.round=(select max(round) from races where year=2021)", "values")],
    [("How many Finnish drivers have won the world championship?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='Finnish' and d.total_championship_wins>0", "values")],
    [("How many German drivers have won a race?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='German' and d.total_race_wins>0", "values")],
    [("When was Charles Leclerc born?", "select date_of_birth from drivers where name='Charles Leclerc'", "values")],
    [("What is the nationality of Kimi Raikkonen?", "select c.demonym from drivers d join countries c on c.id=d.nationality_country_id where d.id='kimi-raikkonen'", "values")],
    [("How many fastest laps did Lewis Hamilton set in 2020?", "select count(*) from races_fastest_laps f where f.driver_id='lewis-hamilton' and f.year=2020 and f.position_number=1", "values")],
    [("Who set the fastest lap at the 2023 British Grand Prix?", "select d.name from races_fastest_laps f join races ra on ra.id=f.race_id join drivers d on d.id=f.driver_id where f.position_number=1 and ra.grand_prix_id='great-britain' and ra.year=2023", "values")],
    [("Who won the sprint at the 2021 Sao Paulo Grand Prix?", "select d.name from races_sprint_race_results s join races ra on ra.id=s.race_id join drivers d on d.id=s.driver_id where s.position_number=1 and ra.grand_prix_id='sao-paulo' and ra.year=2021", "values")],
    [("How many driver of the day awards has Lando Norris won?", "select total_driver_of_the_day from drivers where name='Lando Norris'", "values")],
    [("How many pit stops did Lewis Hamilton make in the 2021 Abu Dhabi Grand Prix?", "select count(*) from races_pit_stops p join races ra on ra.id=p.race_id where p.driver_id='lewis-hamilton' and ra.grand_prix_id='abu-dhabi' and ra.year=2021", "values")],
    [("Which constructor has won the most constructors' championships?", "select name from constructors order by total_championship_wins desc limit 1", "values")],
    [("How many world titles does Alain Prost have?", "select total_championship_wins from drivers where name='Alain Prost'", "values")],
    [("How many podiums did Lewis Hamilton get in 2014?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2014 and position_number<=3", "values")],
    [("Who have been the world champions since 2014?", "select distinct d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.championship_won and s.year>=2014", "set")],
    [("Which drivers won the title in the 2000s?", "select distinct d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.position_number=1 and s.year between 2000 and 2009", "set")],
    [("Who was the runner-up in the 2021 championship?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2021 and s.position_number=2", "values")],
    [("Who was third in the 2007 drivers' standings?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2007 and s.position_number=3", "values")],
    [("Where did Ferrari finish in the 2020 constructors' championship?", "select s.position_number from seasons_constructor_standings s where s.constructor_id='ferrari' and s.year=2020", "values")],
    [("Who won the 2035 drivers' championship?", f"{CHAMP} and s.year=2035", "empty")],
    [("How many races were held in 2020?", "select count(*) from races where year=2020", "values")],
    [("How many Grands Prix took place in the 1980s?", "select count(*) from races where year between 1980 and 1989", "values")],
    [("How many British drivers have won the world championship?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='British' and d.total_championship_wins>0", "values")],
    [("Which driver had the most podiums in 2016?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.year=2016 and r.position_number<=3 group by d.name order by count(*) desc limit 1", "values")],
    [("Who has the most fastest laps ever?", "select name from drivers order by total_fastest_laps desc limit 1", "values")],
    [("How many races has Lando Norris started?", "select total_race_starts from drivers where name='Lando Norris'", "values")],
    [("How many sprint races has Oscar Piastri won?", "select total_sprint_race_wins from drivers where name='Oscar Piastri'", "values")],
    [("How many times has Lewis Hamilton won the British Grand Prix?", f"select count(*) from {RR} r join races ra on ra.id=r.race_id where r.driver_id='lewis-hamilton' and r.position_number=1 and ra.grand_prix_id='great-britain'", "values")],
    [("Which team did Michael Schumacher race for in 2010?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='michael-schumacher' and e.year=2010 and not e.test_driver", "values")],
    [("Who drove for Ferrari in 2008?", "select distinct d.name from seasons_entrants_drivers e join drivers d on d.id=e.driver_id where e.constructor_id='ferrari' and e.year=2008 and not e.test_driver", "set")],
    [("Which circuit hosted the very first race?", "select c.name from races r join circuits c on c.id=r.circuit_id order by r.date limit 1", "values")],
    [("How many race wins did Red Bull have in 2023?", f"select count(*) from {RR} where constructor_id='red-bull' and year=2023 and position_number=1", "values")],
    [("Did Nico Rosberg ever win the world championship?", "select total_championship_wins from drivers where name='Nico Rosberg'", "values")],
    # Second batch: written after the first was passing, to find what still does not generalise.
    [("Who won the Hungarian Grand Prix in 2021?", f"{GP_WINNER} and ra.grand_prix_id='hungary' and ra.year=2021", "values")],
    [("Who was champion in 1976?", f"{CHAMP} and s.year=1976", "values")],
    [("Who won the constructors' championship in 1998?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=1998 and s.position_number=1", "values")],
    [("How many world championships did Juan Manuel Fangio win?", "select total_championship_wins from drivers where name='Juan Manuel Fangio'", "values")],
    [("How many races did Mercedes win between 2014 and 2020?", f"select count(*) from {RR} where constructor_id='mercedes' and position_number=1 and year between 2014 and 2020", "values")],
    [("How many Grands Prix were there in 2019?", "select count(*) from races where year=2019", "values")],
    [("How many races were held at Spa?", "select count(*) from races where circuit_id='spa-francorchamps'", "values")],
    [("Who drove for McLaren in 1988?", "select distinct d.name from seasons_entrants_drivers e join drivers d on d.id=e.driver_id where e.constructor_id='mclaren' and e.year=1988 and not e.test_driver", "set")],
    [("Which team did Max Verstappen drive for in 2015?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='max-verstappen' and e.year=2015 and not e.test_driver", "values")],
    [("Who won the last Grand Prix of 2016?", f"{GP_WINNER} and ra.year=2016 and ra.round=(select max(round) from races where year=2016)", "values")],
    [("Which country is Max Verstappen from?", "select c.name from drivers d join countries c on c.id=d.nationality_country_id where d.id='max-verstappen'", "values")],
    [("Where was Lewis Hamilton born?", "select place_of_birth from drivers where id='lewis-hamilton'", "values")],
    [("When did Michael Schumacher win his first title?", "select min(year) from seasons_driver_standings where driver_id='michael-schumacher' and championship_won", "values")],
    [("Who won the sprint race in Austria in 2023?", "select d.name from races_sprint_race_results s join races ra on ra.id=s.race_id join drivers d on d.id=s.driver_id where s.position_number=1 and ra.grand_prix_id='austria' and ra.year=2023", "values")],
    [("How many sprint races were held in 2023?", "select count(distinct race_id) from races_sprint_race_results where year=2023", "values")],
    [("How many pit stops were made in the 2023 Monaco Grand Prix?", "select count(*) from races_pit_stops p join races ra on ra.id=p.race_id where ra.grand_prix_id='monaco' and ra.year=2023", "values")],
    [("Who had the fastest lap at Monza in 2019?", "select d.name from races_fastest_laps f join races ra on ra.id=f.race_id join drivers d on d.id=f.driver_id where f.position_number=1 and ra.circuit_id='monza' and ra.year=2019", "values")],
    [("Which driver has the most driver of the day awards?", "select name from drivers order by total_driver_of_the_day desc limit 1", "values")],
    [("How many Italian drivers have won a Grand Prix?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='Italian' and d.total_race_wins>0", "values")],
    [("How many drivers from Brazil have won races?", "select count(*) from drivers d where d.nationality_country_id='brazil' and d.total_race_wins>0", "values")],
    [("Which constructor won the most races since 2014?", f"select c.name from {RR} r join constructors c on c.id=r.constructor_id where r.position_number=1 and r.year>=2014 group by c.name order by count(*) desc limit 1", "values")],
    [("Who has the most podiums of all time?", "select name from drivers order by total_podiums desc limit 1", "values")],
    [("What is the date of birth of Max Verstappen?", "select date_of_birth from drivers where id='max-verstappen'", "values")],
    [("Who won at Interlagos in 2019?", f"{GP_WINNER} and ra.circuit_id='interlagos' and ra.year=2019", "values")],
    [("Who won at Imola in 2005?", f"{GP_WINNER} and ra.circuit_id='imola' and ra.year=2005", "values")],
    [("How many races has Fernando Alonso entered?", "select total_race_entries from drivers where id='fernando-alonso'", "values")],
    [("Who came third in the 2019 Monaco Grand Prix?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=3 and ra.grand_prix_id='monaco' and ra.year=2019", "values")],
    [("What position did Ferrari finish in the 2022 constructors' championship?", "select position_number from seasons_constructor_standings where constructor_id='ferrari' and year=2022", "values")],
    [("Who won more races, Senna or Prost?", "select name from drivers where id in ('ayrton-senna','alain-prost') order by total_race_wins desc limit 1", "values")],
    [("What was Michael Schumacher's best championship finish?", "select best_championship_position from drivers where id='michael-schumacher'", "values")],
    [("Which Grand Prix has been held the most times?", "select name from grands_prix order by total_races_held desc limit 1", "values")],
    [("How many world champions are there?", "select count(distinct driver_id) from seasons_driver_standings where championship_won", "values")],
    [
        ("How many poles did Max Verstappen get in 2023?", f"select count(*) from {RR} where driver_id='max-verstappen' and year=2023 and pole_position", "values"),
        ("What about Charles Leclerc?", f"select count(*) from {RR} where driver_id='charles-leclerc' and year=2023 and pole_position", "values"),
        ("And Ferrari?", f"select count(*) from {RR} where constructor_id='ferrari' and year=2023 and pole_position", "values"),
    ],
    [
        ("Who won the 2016 drivers' championship?", f"{CHAMP} and s.year=2016", "values"),
        ("Who was his teammate?", "select distinct d2.name from seasons_entrants_drivers a join seasons_entrants_drivers b on a.constructor_id=b.constructor_id and a.year=b.year join drivers d2 on d2.id=b.driver_id where a.driver_id='nico-rosberg' and a.year=2016 and b.driver_id<>'nico-rosberg' and not b.test_driver", "set"),
    ],
    [
        ("Which team won the constructors' title in 2017?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=2017 and s.position_number=1", "values"),
        ("And in 2022?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=2022 and s.position_number=1", "values"),
    ],
    [
        ("Who won at Silverstone in 2008?", f"{GP_WINNER} and ra.circuit_id='silverstone' and ra.year=2008", "values"),
        ("And the year after?", f"{GP_WINNER} and ra.circuit_id='silverstone' and ra.year=2009", "values"),
    ],
    [
        ("Who won the 2019 Italian Grand Prix?", f"{GP_WINNER} and ra.grand_prix_id='italy' and ra.year=2019", "values"),
        ("Where did Lewis Hamilton finish?", f"select r.position_number from {RR} r join races ra on ra.id=r.race_id where r.driver_id='lewis-hamilton' and ra.grand_prix_id='italy' and ra.year=2019", "values"),
    ],
    [("Good evening", "", "chat"), ("What can I ask you?", "", "chat"), ("Cheers!", "", "chat")],
    # Third batch: conversations of three turns, written after the second.
    [
        ("Who won the 2014 drivers' championship?", f"{CHAMP} and s.year=2014", "values"),
        ("Who finished second that year?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2014 and s.position_number=2", "values"),
        ("And in 2015?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2015 and s.position_number=2", "values"),
    ],
    [
        ("How many races did Fernando Alonso win in 2005?", f"{WIN} and d.id='fernando-alonso' and r.year=2005", "values"),
        ("And in 2006?", f"{WIN} and d.id='fernando-alonso' and r.year=2006", "values"),
        ("What about Michael Schumacher?", f"{WIN} and d.id='michael-schumacher' and r.year=2006", "values"),
    ],
    [
        ("Which team won the most races in 2019?", f"select c.name from {RR} r join constructors c on c.id=r.constructor_id where r.position_number=1 and r.year=2019 group by c.name order by count(*) desc limit 1", "values"),
        ("Who drove for them?", "select distinct d.name from seasons_entrants_drivers e join drivers d on d.id=e.driver_id where e.constructor_id='mercedes' and e.year=2019 and not e.test_driver", "set"),
    ],
    [
        ("How many podiums did Lewis Hamilton get in 2020?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2020 and position_number<=3", "values"),
        ("And how many poles?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2020 and pole_position", "values"),
        ("What about wins?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2020 and position_number=1", "values"),
    ],
    [
        ("Who won the 2021 Sao Paulo Grand Prix?", f"{GP_WINNER} and ra.grand_prix_id='sao-paulo' and ra.year=2021", "values"),
        ("Who was on pole?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.pole_position and ra.grand_prix_id='sao-paulo' and ra.year=2021", "values"),
        ("Who came second?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=2 and ra.grand_prix_id='sao-paulo' and ra.year=2021", "values"),
    ],
    [
        ("How many races has Lewis Hamilton won?", "select total_race_wins from drivers where id='lewis-hamilton'", "values"),
        ("And Sebastian Vettel?", "select total_race_wins from drivers where id='sebastian-vettel'", "values"),
    ],
    [
        ("Which team did Sebastian Vettel drive for in 2015?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='sebastian-vettel' and e.year=2015 and not e.test_driver", "values"),
        ("Who was his teammate?", "select distinct d2.name from seasons_entrants_drivers a join seasons_entrants_drivers b on a.constructor_id=b.constructor_id and a.year=b.year join drivers d2 on d2.id=b.driver_id where a.driver_id='sebastian-vettel' and a.year=2015 and b.driver_id<>'sebastian-vettel' and not b.test_driver", "set"),
    ],
    [
        ("Who won the Japanese Grand Prix in 2019?", f"{GP_WINNER} and ra.grand_prix_id='japan' and ra.year=2019", "values"),
        ("Where did Lewis Hamilton finish?", f"select r.position_number from {RR} r join races ra on ra.id=r.race_id where r.driver_id='lewis-hamilton' and ra.grand_prix_id='japan' and ra.year=2019", "values"),
    ],
    # Fourth batch: written blind (gold first, engine after), to measure rather than to fix.
    [("Who won the 2011 Japanese Grand Prix?", f"{GP_WINNER} and ra.grand_prix_id='japan' and ra.year=2011", "values")],
    [("Which driver won the 1992 championship?", f"{CHAMP} and s.year=1992", "values")],
    [("How many races did Nigel Mansell win in 1992?", f"{WIN} and d.id='nigel-mansell' and r.year=1992", "values")],
    [("How many career wins does Alain Prost have?", "select total_race_wins from drivers where id='alain-prost'", "values")],
    [("Which constructor finished first in the 2015 constructors' standings?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=2015 and s.position_number=1", "values")],
    [("Who won the Australian Grand Prix in 2023?", f"{GP_WINNER} and ra.grand_prix_id='australia' and ra.year=2023", "values")],
    [("Who won the race at Zandvoort in 2021?", f"{GP_WINNER} and ra.circuit_id='zandvoort' and ra.year=2021", "values")],
    [("How many points did Ferrari score in the 2019 constructors' championship?", "select points from seasons_constructor_standings where constructor_id='ferrari' and year=2019", "values")],
    [("How many pole positions does Michael Schumacher have?", "select total_pole_positions from drivers where id='michael-schumacher'", "values")],
    [("Who won the most races in 2011?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.position_number=1 and r.year=2011 group by d.name order by count(*) desc limit 1", "values")],
    [("How many races did Red Bull win in the 2010s?", f"select count(*) from {RR} where constructor_id='red-bull' and position_number=1 and year between 2010 and 2019", "values")],
    [("Which team has the most constructors' titles?", "select name from constructors order by total_championship_wins desc limit 1", "values")],
    [("Who won the first Grand Prix of the 2019 season?", f"{GP_WINNER} and ra.year=2019 and ra.round=1", "values")],
    [("How many Austrian drivers have won a world title?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='Austrian' and d.total_championship_wins>0", "values")],
    [("What nationality is Jenson Button?", "select c.demonym from drivers d join countries c on c.id=d.nationality_country_id where d.id='jenson-button'", "values")],
    [("Who finished fourth in the 2022 drivers' championship?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2022 and s.position_number=4", "values")],
    [("How many races were held at Suzuka?", "select count(*) from races where circuit_id='suzuka'", "values")],
    [("Who was Fernando Alonso's teammate in 2007?", "select distinct d2.name from seasons_entrants_drivers a join seasons_entrants_drivers b on a.constructor_id=b.constructor_id and a.year=b.year join drivers d2 on d2.id=b.driver_id where a.driver_id='fernando-alonso' and a.year=2007 and b.driver_id<>'fernando-alonso' and not b.test_driver", "set")],
    [("How many fastest laps did Max Verstappen set in 2023?", "select count(*) from races_fastest_laps where driver_id='max-verstappen' and year=2023 and position_number=1", "values")],
    [("When was Fernando Alonso born?", "select date_of_birth from drivers where id='fernando-alonso'", "values")],
    [
        ("Who won the 2012 drivers' title?", f"{CHAMP} and s.year=2012", "values"),
        ("How many poles did he have that season?", f"select count(*) from {RR} where driver_id='sebastian-vettel' and year=2012 and pole_position", "values"),
        ("And Fernando Alonso?", f"select count(*) from {RR} where driver_id='fernando-alonso' and year=2012 and pole_position", "values"),
    ],
    [
        ("How many races did Kimi Raikkonen win for Ferrari?", f"select count(*) from {RR} where driver_id='kimi-raikkonen' and constructor_id='ferrari' and position_number=1", "values"),
        ("And for McLaren?", f"select count(*) from {RR} where driver_id='kimi-raikkonen' and constructor_id='mclaren' and position_number=1", "values"),
    ],
    [
        ("Who won the Canadian Grand Prix in 2018?", f"{GP_WINNER} and ra.grand_prix_id='canada' and ra.year=2018", "values"),
        ("Which team was he driving for?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='sebastian-vettel' and e.year=2018 and not e.test_driver", "values"),
    ],
    [("Hey!", "", "chat"), ("How are you today?", "", "chat")],
    # Fifth batch: shapes added after the fourth (single-season records, the noun after "most").
    [("Which driver won the most races in a single season?", f"select d.name, count(*) from {RR} r join drivers d on d.id=r.driver_id where r.position_number=1 group by d.name, r.year order by 2 desc limit 1", "values")],
    [("Who scored the most points in one season?", "select d.name, s.points, s.year from seasons_driver_standings s join drivers d on d.id=s.driver_id order by s.points desc limit 1", "values")],
    [("Who won the most poles in the 2000s?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.pole_position and r.year between 2000 and 2009 group by d.name order by count(*) desc limit 1", "values")],
    [("Which year did Lewis Hamilton win his first championship?", "select min(year) from seasons_driver_standings where driver_id='lewis-hamilton' and championship_won", "values")],
    [("Who is the youngest driver to win a race?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=1 order by date_diff('day', d.date_of_birth, ra.date) limit 1", "values")],
    [("Who was the youngest world champion?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.championship_won order by date_diff('day', d.date_of_birth, (select max(date) from races where year=s.year)) limit 1", "values")],
    [("Who is the oldest world champion?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.championship_won order by date_diff('day', d.date_of_birth, (select max(date) from races where year=s.year)) desc limit 1", "values")],
    # Sixth batch: written blind again.
    [("Who won the Spanish Grand Prix in 2016?", f"{GP_WINNER} and ra.grand_prix_id='spain' and ra.year=2016", "values")],
    [("How many races did Jim Clark win?", "select total_race_wins from drivers where id='jim-clark'", "values")],
    [("Which team did Niki Lauda drive for in 1984?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='niki-lauda' and e.year=1984 and not e.test_driver", "values")],
    [("How many Grands Prix did McLaren win in 2008?", f"select count(*) from {RR} where constructor_id='mclaren' and year=2008 and position_number=1", "values")],
    [("Who came second in the 2012 drivers' championship?", "select d.name from seasons_driver_standings s join drivers d on d.id=s.driver_id where s.year=2012 and s.position_number=2", "values")],
    [("How many titles did Jackie Stewart win?", "select total_championship_wins from drivers where id='jackie-stewart'", "values")],
    [("Who won the Singapore Grand Prix in 2008?", f"{GP_WINNER} and ra.grand_prix_id='singapore' and ra.year=2008", "values")],
    [("Which constructor won the most races in 1988?", f"select c.name from {RR} r join constructors c on c.id=r.constructor_id where r.position_number=1 and r.year=1988 group by c.name order by count(*) desc limit 1", "values")],
    [("How many podiums did Fernando Alonso get in 2012?", f"select count(*) from {RR} where driver_id='fernando-alonso' and year=2012 and position_number<=3", "values")],
    [("Who was on pole at the 2023 Monaco Grand Prix?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.pole_position and ra.grand_prix_id='monaco' and ra.year=2023", "values")],
    [("How many Finnish drivers have won a race?", "select count(*) from drivers d join countries c on c.id=d.nationality_country_id where c.demonym='Finnish' and d.total_race_wins>0", "values")],
    [("Where did Charles Leclerc finish in the 2022 championship?", "select position_number from seasons_driver_standings where driver_id='charles-leclerc' and year=2022", "values")],
    [
        ("Who won the Bahrain Grand Prix in 2014?", f"{GP_WINNER} and ra.grand_prix_id='bahrain' and ra.year=2014", "values"),
        ("Who finished third?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=3 and ra.grand_prix_id='bahrain' and ra.year=2014", "values"),
        ("And in 2015?", f"select d.name from {RR} r join races ra on ra.id=r.race_id join drivers d on d.id=r.driver_id where r.position_number=3 and ra.grand_prix_id='bahrain' and ra.year=2015", "values"),
    ],
    [
        ("How many wins did Williams have in 1992?", f"select count(*) from {RR} where constructor_id='williams' and year=1992 and position_number=1", "values"),
        ("And McLaren?", f"select count(*) from {RR} where constructor_id='mclaren' and year=1992 and position_number=1", "values"),
    ],
    [("Thanks so much!", "", "chat"), ("Bye!", "", "chat")],
    # Follow-ups.
    [
        ("Who won the 2017 drivers' championship?", f"{CHAMP} and s.year=2017", "values"),
        ("How many poles did he get that year?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2017 and pole_position", "values"),
        ("And in 2018?", f"select count(*) from {RR} where driver_id='lewis-hamilton' and year=2018 and pole_position", "values"),
    ],
    [
        ("How many races did Charles Leclerc win in 2019?", f"{WIN} and d.name='Charles Leclerc' and r.year=2019", "values"),
        ("What about Carlos Sainz?", f"{WIN} and d.id='carlos-sainz-jr' and r.year=2019", "values"),
        ("And in 2023?", f"{WIN} and d.id='carlos-sainz-jr' and r.year=2023", "values"),
    ],
    [
        ("Which team won the constructors' championship in 2021?", "select c.name from seasons_constructor_standings s join constructors c on c.id=s.constructor_id where s.year=2021 and s.position_number=1", "values"),
        ("Who drove for them that year?", "select distinct d.name from seasons_entrants_drivers e join drivers d on d.id=e.driver_id where e.constructor_id='mercedes' and e.year=2021 and not e.test_driver", "set"),
    ],
    [
        ("How many races did Ferrari win in 2022?", f"select count(*) from {RR} where constructor_id='ferrari' and year=2022 and position_number=1", "values"),
        ("What about Mercedes?", f"select count(*) from {RR} where constructor_id='mercedes' and year=2022 and position_number=1", "values"),
    ],
    [
        ("How many races did Lewis Hamilton win in 2018?", f"{WIN} and d.name='Lewis Hamilton' and r.year=2018", "values"),
        ("What about Ferrari?", f"select count(*) from {RR} where constructor_id='ferrari' and year=2018 and position_number=1", "values"),
    ],
    [
        ("Who won the Monaco Grand Prix in 2021?", f"{GP_WINNER} and ra.grand_prix_id='monaco' and ra.year=2021", "values"),
        ("And in 2019?", f"{GP_WINNER} and ra.grand_prix_id='monaco' and ra.year=2019", "values"),
    ],
    [
        ("When was Ayrton Senna born?", "select date_of_birth from drivers where name='Ayrton Senna'", "values"),
        ("How many titles did he win?", "select total_championship_wins from drivers where name='Ayrton Senna'", "values"),
    ],
    [
        ("Who won the 2010 Abu Dhabi Grand Prix?", f"{GP_WINNER} and ra.grand_prix_id='abu-dhabi' and ra.year=2010", "values"),
        ("Which team was he driving for?", "select distinct c.name from seasons_entrants_drivers e join constructors c on c.id=e.constructor_id where e.driver_id='sebastian-vettel' and e.year=2010 and not e.test_driver", "values"),
    ],
    [
        ("How many Grands Prix has Sergio Perez won?", "select total_race_wins from drivers where id='sergio-perez'", "values"),
        ("How about Valtteri Bottas?", "select total_race_wins from drivers where id='valtteri-bottas'", "values"),
    ],
    [
        ("Which driver won the most races for Ferrari?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.constructor_id='ferrari' and r.position_number=1 group by d.name order by count(*) desc limit 1", "values"),
        ("And for Williams?", f"select d.name from {RR} r join drivers d on d.id=r.driver_id where r.constructor_id='williams' and r.position_number=1 group by d.name order by count(*) desc limit 1", "values"),
    ],
    [
        ("Who won the 2009 championship?", f"{CHAMP} and s.year=2009", "values"),
        ("Who was his teammate?", "select distinct d2.name from seasons_entrants_drivers a join seasons_entrants_drivers b on a.constructor_id=b.constructor_id and a.year=b.year join drivers d2 on d2.id=b.driver_id where a.driver_id='jenson-button' and a.year=2009 and b.driver_id<>'jenson-button' and not b.test_driver", "set"),
    ],
    [
        ("How many points did Lando Norris score in 2024?", "select points from seasons_driver_standings where driver_id='lando-norris' and year=2024", "values"),
        ("What about Oscar Piastri?", "select points from seasons_driver_standings where driver_id='oscar-piastri' and year=2024", "values"),
        ("And the year before?", "select points from seasons_driver_standings where driver_id='oscar-piastri' and year=2023", "values"),
    ],
    # Small talk.
    [("Good morning!", "", "chat"), ("Who won the 2005 drivers' championship?", f"{CHAMP} and s.year=2005", "values"), ("Thank you very much.", "", "chat")],
    [("hi", "", "chat")],
    [("Who are you?", "", "chat")],
    [("Bye for now!", "", "chat")],
    [("Great, thanks!", "", "chat")],
]  # fmt: skip


def main(db: str, out: Path) -> None:
    write_dialogues(duckdb.connect(db, read_only=True), DIALOGUES, "hold", out)


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen/f1.duckdb",
        Path(__file__).with_name("holdout_f1.jsonl"),
    )
