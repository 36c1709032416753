"""The LLM engine against the fake OpenAI-compatible server, on a small football database the tests build.

The fake returns scripted turns; the tests check what the engine sends (dialect, linked schema, matched
values, examples, conversation), what it does with the replies (guard, retries with the error, answers from
templates) and what it costs (round trips per turn).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datavox.brain.examples import ExampleSet, examples_for, load_examples, usable
from datavox.brain.linking import ValueIndex
from datavox.brain.schema_link import LinkedSchema, LinkedTable, SchemaLinker, render_schema
from datavox.brain.sql_llm import LlmEngine
from datavox.brain.template_answer import render_template
from datavox.config import LlmSettings, Secrets, Settings
from datavox.data.connect import parse_url
from datavox.data.execute import Executor
from datavox.data.names import column_names, table_name
from datavox.data.schema import Catalog, introspect
from datavox.data.semantic import SemanticModel, build_model
from datavox.llm import Backoff, LlmClient, LlmUnavailable
from datavox.types import HistoryTurn, Intent
from fakes.openai_server import FakeOpenAIServer, Reply

UNRELATED = 40  # tables about other things, to make the schema large


def _build_db(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE teams (id VARCHAR PRIMARY KEY, name VARCHAR, city VARCHAR)")
    con.execute(
        "CREATE TABLE players (id VARCHAR PRIMARY KEY, name VARCHAR, team_id VARCHAR, position VARCHAR)"
    )
    con.execute("CREATE TABLE goals (match_id INTEGER, player_id VARCHAR, minute INTEGER, season INTEGER)")
    con.execute(
        "INSERT INTO teams VALUES ('mci', 'Manchester City', 'Manchester'), ('ars', 'Arsenal', 'London')"
    )
    con.execute(
        "INSERT INTO players VALUES ('haaland', 'Erling Haaland', 'mci', 'Forward'),"
        " ('saka', 'Bukayo Saka', 'ars', 'Winger'), ('odegaard', 'Martin Odegaard', 'ars', 'Midfielder')"
    )
    con.execute(
        "INSERT INTO goals VALUES (1, 'haaland', 12, 2023), (1, 'haaland', 55, 2023), (2, 'saka', 30, 2023),"
        " (3, 'haaland', 70, 2024), (3, 'odegaard', 88, 2024)"
    )
    topics = ["invoice", "payroll", "warehouse", "shipment", "ticket", "campaign", "supplier", "asset"]
    for i in range(UNRELATED):
        topic = topics[i % len(topics)]
        columns = f"id INTEGER, {topic}_code VARCHAR, amount DOUBLE, booked DATE"
        con.execute(f"CREATE TABLE {topic}_ledger_{i:02d} ({columns})")
    con.close()


@dataclass
class World:
    settings: Settings
    catalog: Catalog
    semantic: SemanticModel
    executor: Executor
    index: ValueIndex
    server: FakeOpenAIServer
    sleeps: list[float]

    def engine(self, *, examples: ExampleSet | None = None, **llm: Any) -> LlmEngine:
        settings = replace(self.settings, llm=replace(self.settings.llm, **llm)) if llm else self.settings
        client = LlmClient(
            settings, backoff=Backoff(base_s=0.001, cap_s=0.01), sleep=self.sleeps.append, budget_s=10.0
        )
        return LlmEngine(
            settings,
            self.catalog,
            self.semantic,
            self.executor,
            self.index,
            client=client,
            examples=examples if examples is not None else ExampleSet([]),
        )


@pytest.fixture(scope="module")
def football_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("llm") / "football.duckdb"
    _build_db(path)
    return path


@pytest.fixture
def world(football_db: Path) -> Iterator[World]:
    url = f"duckdb:///{football_db}"
    catalog = introspect(parse_url(url))
    semantic = build_model(catalog)
    executor = Executor(url)
    with FakeOpenAIServer() as server:
        settings = replace(
            Settings().with_db(url),
            llm=replace(LlmSettings(), provider="openai", model="gpt-test", base_url=server.url("/v1")),
            secrets=Secrets(llm_api_key="sk-test-key-0000"),
        )
        yield World(settings, catalog, semantic, executor, ValueIndex(catalog, semantic), server, [])
    executor.close()


def turn(
    sql: str | None,
    template: str = "",
    *,
    intent: str = "STATISTICAL",
    standalone: str = "",
    empty: str | None = None,
    chart: str | None = None,
) -> Reply:
    return Reply.json(
        {
            "intent": intent,
            "standalone_question": standalone,
            "sql": sql,
            "answer_template": template,
            "empty_answer": empty,
            "chart": chart,
        }
    )


# -- what goes into the prompt ----------------------------------------------------------------------------


def test_one_round_trip_prompt_holds_dialect_linked_schema_and_values(world: World) -> None:
    world.server.script(
        turn(
            "SELECT p.name AS player, COUNT(*) AS goals FROM goals g JOIN players p ON p.id = g.player_id "
            "WHERE g.player_id = 'haaland' GROUP BY p.name",
            "{player} scored {goals} goals.",
        )
    )
    answer = world.engine().ask("How many goals did Erling Haaland score?")
    assert answer.intent is Intent.STATISTICAL
    assert answer.answer == "Erling Haaland scored 3 goals."
    assert answer.rows == [["Erling Haaland", 3]]
    assert answer.engine == "llm"
    assert answer.context["llm"]["calls"] == 1
    assert answer.context["llm"]["round_trips"] == 1
    [request] = world.server.requests
    system, user = request.messages
    assert system["role"] == "system" and "duckdb" in system["content"]
    prompt = user["content"]
    assert "Dialect: duckdb" in prompt
    assert "Table goals" in prompt and "Table players" in prompt
    assert "players.name = 'Erling Haaland'" in prompt
    assert "players.id = 'haaland'" in prompt  # the key of the matched name, so the SQL can skip a join
    assert "ledger" not in prompt  # 40 unrelated tables stay out
    assert request.body["response_format"]["type"] == "json_schema"
    assert {"timings_ms", "answer"} <= set(answer.to_dict())
    assert {"link_ms", "llm_ms", "sql_ms", "total_ms"} <= set(answer.timings_ms)


def test_schema_linking_keeps_prompt_small_on_large_schema(world: World) -> None:
    linker = SchemaLinker(world.catalog, world.semantic)
    linked = linker.link("Which team does Bukayo Saka play for?", value_tables=[("players", "name")])
    assert {"players", "teams"} <= set(linked.table_names)
    assert not any("ledger" in name for name in linked.table_names)
    everything = LinkedSchema(
        tables=[LinkedTable(name, 0.0, t.column_names) for name, t in world.catalog.tables.items()]
    )
    full = render_schema(everything, world.catalog, world.semantic)
    small = render_schema(linked, world.catalog, world.semantic)
    assert len(small) * 5 < len(full)


def test_follow_up_sends_history_with_previous_sql(world: World) -> None:
    world.server.script(
        turn(
            "SELECT COUNT(*) AS goals FROM goals WHERE player_id = 'haaland' AND season = 2024",
            "He scored {goals} in 2024.",
            standalone="How many goals did Erling Haaland score in 2024?",
        )
    )
    history = [
        HistoryTurn("user", "How many goals did Erling Haaland score?"),
        HistoryTurn(
            "assistant",
            "Erling Haaland scored 3 goals.",
            meta={"sql": "SELECT COUNT(*) FROM goals WHERE player_id = 'haaland'"},
        ),
    ]
    answer = world.engine().ask("And in 2024?", history)
    assert answer.answer == "He scored 1 in 2024."
    assert answer.resolved_question == "How many goals did Erling Haaland score in 2024?"
    prompt = world.server.requests[0].messages[1]["content"]
    assert "User: How many goals did Erling Haaland score?" in prompt
    assert "SELECT COUNT(*) FROM goals WHERE player_id = 'haaland'" in prompt
    assert "Table goals" in prompt  # linked through the earlier question


def test_examples_closest_to_the_question_go_into_the_prompt(world: World, tmp_path: Path) -> None:
    path = tmp_path / "football.examples.yaml"
    path.write_text(
        "examples:\n"
        "  - question: Which city is Arsenal from?\n"
        "    sql: SELECT city FROM teams WHERE id = 'ars'\n"
        "  - question: How many goals were scored after the 80th minute?\n"
        "    sql: SELECT COUNT(*) FROM goals WHERE minute > 80\n"
        "  - question: Who plays in the missing_table?\n"
        "    sql: SELECT * FROM missing_table\n",
        encoding="utf-8",
    )
    settings = replace(world.settings, llm=replace(world.settings.llm, examples_file=str(path)))
    examples = examples_for(settings, world.catalog)
    assert len(examples) == 2  # the one on a table the database lacks is left out
    world.server.script(turn("SELECT COUNT(*) AS n FROM goals WHERE minute < 15", "{n} goals."))
    world.engine(examples=examples).ask("How many goals were scored in the first 15 minutes?")
    prompt = world.server.requests[0].messages[1]["content"]
    assert "SQL: SELECT COUNT(*) FROM goals WHERE minute > 80" in prompt


# -- retries with the error --------------------------------------------------------------------------------


def test_failing_sql_goes_back_with_its_error_up_to_three_attempts(world: World) -> None:
    world.server.script(
        turn("SELECT goalz FROM goals", "{goalz}"),  # database error: no such column
        turn("DELETE FROM goals", "{n}"),  # guard error: not a SELECT
        turn("SELECT COUNT(*) AS n FROM goals", "There are {n} goals."),
    )
    answer = world.engine().ask("How many goals are there?")
    assert answer.answer == "There are 5 goals."
    assert answer.error is None
    assert len(world.server.requests) == 3
    second, third = world.server.requests[1], world.server.requests[2]
    assert "goalz" in second.messages[-1]["content"]  # the database's error text goes back
    assert second.messages[-2]["role"] == "assistant"
    assert "guard" in third.messages[-1]["content"]
    assert answer.context["llm"]["attempts"] == 3
    assert answer.context["llm"]["round_trips"] == 3


def test_gives_up_after_three_attempts(world: World) -> None:
    world.server.script(*[turn("SELECT nothing FROM nowhere", "{x}")] * 5)
    answer = world.engine().ask("How many goals are there?")
    assert len(world.server.requests) == 3
    assert answer.error is not None and "3 attempts" in answer.error
    assert answer.rows == []
    assert answer.intent is Intent.STATISTICAL


def test_reply_that_is_not_json_is_asked_again(world: World) -> None:
    world.server.script(Reply.text("Sorry, I can't."), turn("SELECT COUNT(*) AS n FROM teams", "{n} teams."))
    answer = world.engine().ask("How many teams are there?")
    assert answer.answer == "2 teams."
    assert len(world.server.requests) == 2


# -- answers ----------------------------------------------------------------------------------------------


def test_small_talk_is_answered_without_sql(world: World) -> None:
    world.server.script(
        turn(None, "Hi! Ask me about players, teams and goals.", intent="CONVERSATIONAL", standalone="hello")
    )
    world.semantic.examples = ["Who scored the most goals?"]
    try:
        answer = world.engine().ask("Hello there!")
    finally:
        world.semantic.examples = []
    assert (
        "Questions this data can answer:\n- Who scored the most goals?"
        in world.server.requests[0].prompt_text
    )
    assert answer.intent is Intent.CONVERSATIONAL
    assert answer.sql is None and answer.rows == []
    assert answer.answer == "Hi! Ask me about players, teams and goals."
    assert len(world.server.requests) == 1


def test_empty_result_is_said_plainly(world: World) -> None:
    world.server.script(
        turn(
            "SELECT COUNT(*) AS n, MAX(minute) AS last FROM goals WHERE season = 2035 HAVING COUNT(*) > 0",
            "{n} goals.",
            empty="I couldn't find any goals in 2035.",
        )
    )
    answer = world.engine().ask("How many goals in 2035?")
    assert answer.answer == "I couldn't find any goals in 2035."
    assert answer.rows == []


def test_list_template_and_chart(world: World) -> None:
    world.server.script(
        turn(
            "SELECT p.name AS player, COUNT(*) AS goals FROM goals g JOIN players p ON p.id = g.player_id "
            "GROUP BY p.name ORDER BY goals DESC, player",
            "The scorers are {player*}.",
            chart="bar",
        )
    )
    answer = world.engine().ask("Who scored, and how many?")
    assert answer.answer == "The scorers are Erling Haaland, Bukayo Saka and Martin Odegaard."
    assert answer.chart == "bar"


def test_template_that_does_not_fit_the_rows_costs_a_second_small_call(world: World) -> None:
    world.server.script(
        turn("SELECT COUNT(*) AS n FROM goals", "There are {total_goals} goals."),
        Reply.text("There are five goals in the data."),
    )
    answer = world.engine().ask("How many goals are there?")
    assert answer.answer == "There are five goals in the data."
    assert answer.context["llm"]["calls"] == 2
    phrase_request = world.server.requests[1]
    assert "response_format" not in phrase_request.body
    assert "5" in phrase_request.messages[1]["content"]


def test_render_template() -> None:
    cols, rows = ["driver", "points", "year"], [["Ana", 12.5, 2019], ["Bo", 12000, 2020]]
    assert (
        render_template("{driver} had {points} points in {year}.", cols, rows)
        == "Ana had 12.5 points in 2019."
    )
    assert render_template("{driver*}: {row_count}", cols, rows) == "Ana and Bo: 2"
    assert render_template("{points*}", cols, rows[1:]) == "12,000"
    assert render_template("{unknown}", cols, rows) is None


# -- the endpoint failing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [Reply.status(429, retry_after="0"), Reply.status(500), Reply.hang(3)])
def test_unavailable_llm_backs_off_then_raises(world: World, failure: Reply) -> None:
    world.server.script(failure, failure, failure)
    engine = world.engine(timeout_s=0.3, max_retries=2)
    with pytest.raises(LlmUnavailable) as info:
        engine.ask("How many goals are there?")
    assert len(world.server.requests) == 3
    assert len(world.sleeps) == 2  # backed off between the attempts
    assert info.value.round_trips == 3


def test_azure_request_shape_through_the_engine(world: World) -> None:
    world.server.script(turn("SELECT COUNT(*) AS n FROM teams", "{n} teams."))
    engine = world.engine(provider="azure", azure_endpoint=world.server.url(), azure_deployment="gpt-dep")
    assert engine.ask("How many teams?").answer == "2 teams."
    [request] = world.server.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.body["model"] == "gpt-dep"
    assert request.headers["api-key"] == "sk-test-key-0000"
    assert "authorization" not in request.headers and "openai-beta" not in request.headers
    assert not request.query


def _brain_available() -> bool:
    try:
        from datavox.brain import brain  # noqa: F401
    except ImportError:
        return False
    return True


# -- the shipped F1DB examples ----------------------------------------------------------------------------

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "datavox" / "examples" / "f1db.examples.yaml"
DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "eval" / "f1db-dev.jsonl"


def test_shipped_examples_are_not_dev_questions() -> None:
    examples, _ = load_examples(SHIPPED)
    assert len(examples) >= 15
    if DEV_SET.is_file():
        dev = {
            " ".join(t["q"].lower().split())
            for line in DEV_SET.read_text(encoding="utf-8").splitlines()
            if line.strip()
            for t in json.loads(line)["turns"]
        }
        assert not dev & {" ".join(e.question.lower().split()) for e in examples}


F1_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "f1"


@pytest.fixture(scope="module")
def f1db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """F1DB loaded one table per CSV (names as the semantic model expects); skipped without the data."""
    files = sorted(F1_DIR.glob("f1db-*.csv"))
    if not files:
        pytest.skip(f"no F1DB CSV files in {F1_DIR}")
    path = tmp_path_factory.mktemp("f1") / "f1.duckdb"
    con = duckdb.connect(str(path))
    for file in files:
        table = table_name(file.stem, strip_prefix="f1db-")
        headers = con.read_csv(str(file), header=True).columns
        select = ", ".join(f'"{h}" AS {c}' for h, c in zip(headers, column_names(headers), strict=True))
        source = "read_csv_auto(?, header=true)"
        con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {source}", [str(file)])
    con.close()
    return f"duckdb:///{path}"


def test_shipped_f1db_examples_run_and_linking_shrinks_the_prompt(f1db: str) -> None:
    catalog = introspect(parse_url(f1db))
    semantic = build_model(catalog)
    examples, dialect = load_examples(SHIPPED)
    fitting = usable(examples, dialect, catalog)
    assert len(fitting) == len(examples)  # every example names only F1DB tables
    with Executor(f1db) as executor:
        for example in fitting:
            assert executor.run(example.sql).rows, example.question
    # Prompt size on F1DB's 48 tables: the linked schema is a small part of the whole.
    everything = LinkedSchema(tables=[LinkedTable(n, 0.0, t.column_names) for n, t in catalog.tables.items()])
    full = len(render_schema(everything, catalog, semantic))
    linker = SchemaLinker(catalog, semantic)
    for question, values in [
        ("Who won the Italian Grand Prix in 1999?", [("grands_prix", "name")]),
        ("How many pit stops did Fernando Alonso make in 2012?", [("drivers", "name")]),
        ("Which team scored the most points in 2005?", []),
    ]:
        linked = linker.link(question, value_tables=values)
        assert len(render_schema(linked, catalog, semantic)) * 3 < full, question


# -- through the Brain --------------------------------------------------------------------------------------


def _brain(world: World, **llm: Any) -> Any:
    brain_module = pytest.importorskip("datavox.brain.brain")
    settings = replace(world.settings, llm=replace(world.settings.llm, **llm))
    return brain_module.Brain(settings, engine="llm", catalog=world.catalog, model=world.semantic)


def test_brain_uses_the_llm_engine(world: World) -> None:
    brain = _brain(world)
    try:
        world.server.script(turn("SELECT COUNT(*) AS n FROM teams", "There are {n} teams."))
        answer = brain.ask("How many teams are there?")
    finally:
        brain.close()
    assert answer.engine == "llm"
    assert answer.answer == "There are 2 teams."
    assert answer.fallback_reason is None


@pytest.mark.parametrize(
    ("failure", "requests"),
    [
        (Reply.status(429, retry_after="0"), 3),
        (Reply.status(503, retry_after="0"), 3),
        (
            Reply.hang(3),
            1,
        ),  # 0.3 s timeout: the time budget (two timeouts) leaves no room for a 0.5 s backoff
    ],
)
def test_brain_falls_back_offline_when_the_llm_is_unavailable(
    world: World, failure: Reply, requests: int
) -> None:
    brain = _brain(world, timeout_s=0.3)  # the Brain's own client: real backoff, kept short by Retry-After: 0
    try:
        world.server.script(failure, failure, failure)
        answer = brain.ask("How many teams are there?")
    finally:
        brain.close()
    assert len(world.server.requests) == requests
    assert answer.engine != "llm"
    assert answer.fallback_reason and "attempt" in answer.fallback_reason
    assert "sk-test" not in answer.fallback_reason
    assert answer.rows == [[2]]  # the offline engine answered the question


def test_brain_answers_offline_when_three_llm_attempts_fail(world: World) -> None:
    brain = _brain(world)
    try:
        world.server.script(*[turn("SELECT nothing FROM nowhere", "{x}")] * 3)
        answer = brain.ask("How many teams are there?")
    finally:
        brain.close()
    assert len(world.server.requests) == 3
    assert answer.engine != "llm"
    assert answer.error is None and answer.rows == [[2]]
    assert answer.fallback_reason and "SQL failed" in answer.fallback_reason


def test_brain_keeps_the_llm_error_when_offline_cannot_answer_either(world: World) -> None:
    brain = _brain(world)
    try:
        world.server.script(*[turn("SELECT nothing FROM nowhere", "{x}")] * 3)
        answer = brain.ask("Blorp the quux of zanzibar?")
    finally:
        brain.close()
    assert answer.engine == "llm"
    assert answer.error is not None and "3 attempts" in answer.error


def test_brain_cancel_reaches_the_executor(world: World) -> None:
    class Recorder:
        dialect = "duckdb"
        cancelled = 0

        def cancel(self, thread_id: int | None = None) -> None:  # bb5e886: the caller's thread, or all
            self.cancelled += 1

        def close(self) -> None:
            pass

    recorder = Recorder()
    brain_module = pytest.importorskip("datavox.brain.brain")
    brain = brain_module.Brain(world.settings, catalog=world.catalog, model=world.semantic, executor=recorder)
    brain.cancel()
    assert recorder.cancelled == 1
