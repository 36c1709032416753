"""`datavox schema`, `datavox ask` and `datavox eval`."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import click

from datavox.cli import db_option, settings_from
from datavox.config import Settings
from datavox.types import HistoryTurn

engine_option = click.option(
    "--engine",
    type=click.Choice(["offline", "llm"]),
    default=None,
    help="Engine (default: llm if configured).",
)


def _brain(settings: Settings, engine: str | None) -> Any:
    from datavox.brain.brain import Brain
    from datavox.data.connect import ConnectionError_, parse_url

    try:
        db = parse_url(settings.database.url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not db.exists():
        raise click.ClickException(
            f"database {db.path} does not exist: run `datavox demo` or `datavox import`"
        )
    try:
        return Brain.from_settings(settings, engine=engine)
    except ConnectionError_ as exc:
        raise click.ClickException(str(exc)) from exc


# -- schema ----------------------------------------------------------------------------------------------


def _describe(settings: Any, catalog: Any, model: Any, *, yes: bool) -> None:
    """One LLM call; the diff of the model file is shown and written once accepted."""
    from datavox.data import describe
    from datavox.data.semantic import semantic_path
    from datavox.llm import LlmClient, LlmUnavailable
    from datavox.llm_json import LlmBadOutput

    if settings.llm.provider == "none":
        raise click.ClickException(
            "--describe needs an LLM: set [llm] provider (and model) in datavox.toml and the key in "
            "DATAVOX_LLM_API_KEY; the offline engine then uses what it writes with no LLM"
        )
    path = semantic_path(settings)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    client = LlmClient(settings)
    try:
        answer = describe.ask(client, catalog, model)
    except (LlmUnavailable, LlmBadOutput) as exc:
        raise click.ClickException(f"the LLM did not describe the data: {exc}") from exc
    finally:
        client.close()
    text = describe.render(describe.apply(model, answer))
    changes = describe.diff(old, text, path)
    if not changes:
        click.echo("The LLM added nothing new; the model file is unchanged.")
        return
    click.echo(changes)
    if yes or click.confirm(f"Write these changes to {path}?", default=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
    else:
        click.echo("Nothing written.", err=True)


@click.command("schema")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {tables: [{name, rows, columns}]}.")
@click.option("--refresh", is_flag=True, help="(Re)write the semantic model file next to the database.")
@click.option(
    "--describe",
    is_flag=True,
    help="Ask the configured LLM once for descriptions, synonyms and example questions; show the diff.",
)
@click.option("--yes", is_flag=True, help="With --describe: write the changes without asking.")
@click.pass_context
def schema_command(
    ctx: click.Context, db: str | None, as_json: bool, refresh: bool, describe: bool, yes: bool
) -> None:
    """Print the catalog and semantic model of the database.

    \b
    Examples:
      datavox schema --refresh          regenerate the model file, keeping your edits
      datavox schema --describe         let the LLM describe the data once (you review the diff)
    """
    from datavox.data.connect import ConnectionError_, parse_url
    from datavox.data.schema import introspect
    from datavox.data.semantic import SemanticModelError, model_for
    from datavox.data.semantic import refresh as refresh_model

    settings = settings_from(ctx, db)
    try:
        url = parse_url(settings.database.url)
        catalog = introspect(url)
        if refresh:
            path = refresh_model(settings)
            click.echo(f"wrote {path}", err=True)
        model = model_for(settings, catalog)
        if describe:
            _describe(settings, catalog, model, yes=yes)
            return
    except (ValueError, ConnectionError_, SemanticModelError) as exc:
        raise click.ClickException(str(exc)) from exc
    tables: list[dict[str, Any]] = []
    for name, table in catalog.tables.items():
        tm = model.tables.get(name)
        columns: list[dict[str, Any]] = []
        for col in table.columns:
            cm = tm.columns.get(col.name) if tm else None
            columns.append(
                {
                    "name": col.name,
                    "type": col.type,
                    "role": cm.role if cm else "",
                    "description": cm.description if cm else "",
                    "synonyms": cm.synonyms if cm else [],
                    "samples": col.samples,
                }
            )
        tables.append(
            {
                "name": name,
                "rows": table.rows,
                "kind": table.kind,
                "description": tm.description if tm else "",
                "synonyms": tm.synonyms if tm else [],
                "exposed": tm.exposed if tm else True,
                "entity": tm.entity if tm else [],
                "foreign_keys": [
                    {"column": fk.column, "references": f"{fk.ref_table}.{fk.ref_column}"}
                    for fk in table.foreign_keys
                ],
                "columns": columns,
            }
        )
    if as_json:
        click.echo(json.dumps({"tables": tables, "measures": list(model.measures)}, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console()
    from datavox.data.connect import redact_url

    title = f"{redact_url(settings.database.url)} — {len(tables)} tables"
    grid = RichTable(title=title, show_lines=False)
    for head in ("table", "rows", "columns", "description"):
        grid.add_column(head, overflow="fold")
    for t in tables:
        cols = ", ".join(c["name"] for c in t["columns"][:12]) + (" …" if len(t["columns"]) > 12 else "")
        grid.add_row(t["name"], str(t["rows"]), cols, str(t["description"])[:80])
    console.print(grid)
    if model.measures:
        console.print("measures: " + ", ".join(model.measures))


# -- ask -------------------------------------------------------------------------------------------------


def _history(path: str | None) -> list[HistoryTurn]:
    if not path:
        return []
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"cannot read history {path}: {exc}") from exc
    turns = raw.get("history", raw) if isinstance(raw, dict) else raw
    out = []
    for t in turns:
        role = t.get("role", "user")
        if role not in ("user", "assistant"):
            raise click.ClickException(f"history: role must be user or assistant, not {role!r}")
        out.append(HistoryTurn(role=role, text=str(t.get("text", "")), meta=dict(t.get("meta") or {})))
    return out


@click.command("ask")
@db_option
@engine_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
@click.option(
    "--history", "history_file", metavar="FILE", help="JSON list of earlier turns {role, text, meta}."
)
@click.argument("question", nargs=-1, required=True)
@click.pass_context
def ask_command(
    ctx: click.Context,
    db: str | None,
    engine: str | None,
    as_json: bool,
    history_file: str | None,
    question: tuple[str, ...],
) -> None:
    """Ask one question (offline parser or LLM) and print the answer."""
    settings = settings_from(ctx, db)
    brain = _brain(settings, engine)
    try:
        answer = brain.ask(" ".join(question), _history(history_file))
    finally:
        brain.close()
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, default=str))
        return
    click.echo(answer.answer)
    if answer.sql:
        click.echo(f"\nSQL: {answer.sql}", err=True)
        for row in answer.rows[:10]:
            click.echo("  " + " | ".join("" if c is None else str(c) for c in row), err=True)
        if len(answer.rows) > 10:
            click.echo(f"  … {len(answer.rows)} rows", err=True)
    if answer.fallback_reason:
        click.echo(f"(offline fallback: {answer.fallback_reason})", err=True)
    if answer.error:
        sys.exit(1)


# -- eval ------------------------------------------------------------------------------------------------


@click.command("eval")
@db_option
@engine_option
@click.option("--benchmark", type=click.Choice(["spider", "bird"]), default=None, help="Execution accuracy.")
@click.option("--out", "out_file", metavar="RESULTS.json", help="Write one object per turn.")
@click.option("--limit", type=int, default=None, help="Only the first N dialogues/questions.")
@click.option("-v", "--verbose", is_flag=True, help="Print every failed turn with its SQL.")
@click.option(
    "--model",
    "model_file",
    metavar="FILE.semantic.yaml",
    help="Semantic model file to use (instead of the one next to the database, or none for benchmarks).",
)
@click.argument("file", required=False)
@click.pass_context
def eval_command(
    ctx: click.Context,
    db: str | None,
    engine: str | None,
    benchmark: str | None,
    out_file: str | None,
    limit: int | None,
    verbose: bool,
    model_file: str | None,
    file: str | None,
) -> None:
    """Score a question file (../shared/eval format) or the Spider/BIRD formula_1 slices."""
    from rich.console import Console
    from rich.progress import Progress

    from datavox.brain import evaluate

    console = Console(stderr=True)
    if model_file and not Path(model_file).is_file():
        raise click.ClickException(f"no semantic model file at {model_file}")
    if benchmark:
        _benchmark(ctx, benchmark, engine, out_file, limit, verbose, model_file)
        return
    if not file:
        raise click.UsageError("give a question FILE.jsonl or --benchmark spider|bird")
    settings = _with_model(settings_from(ctx, db), model_file)
    try:
        dialogues = evaluate.load_dialogues(file)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if limit:
        dialogues = dialogues[:limit]
    brain = _brain(settings, engine)
    results = []
    total_turns = sum(len(d.get("turns", [])) for d in dialogues)
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("asking", total=total_turns)
            for r in evaluate.run_dialogues(dialogues, brain.ask):
                results.append(r)
                progress.advance(task)
    finally:
        brain.close()
    summary = evaluate.summarise(results)
    if verbose:
        for r in results:
            if not r.passed:
                click.echo(f"FAIL {r.id} turn {r.turn}: {r.q}\n  {r.reason}\n  SQL: {r.sql}\n  {r.answer}")
    click.echo(f"turns passed: {summary.passed}/{summary.total} ({summary.accuracy:.1%})")
    for intent, (p, n) in summary.per_intent.items():
        click.echo(f"  {intent}: {p}/{n} ({p / n:.1%})")
    click.echo(f"latency per turn: median {summary.median_ms:.1f} ms, p95 {summary.p95_ms:.1f} ms")
    if out_file:
        Path(out_file).write_text(
            json.dumps([r.out() for r in results], indent=2, default=str), encoding="utf-8"
        )
        click.echo(f"wrote {out_file}")


def _benchmark(
    ctx: click.Context,
    name: str,
    engine: str | None,
    out_file: str | None,
    limit: int | None,
    verbose: bool,
    model_file: str | None = None,
) -> None:
    from rich.console import Console
    from rich.progress import Progress

    from datavox.brain import evaluate

    console = Console(stderr=True)
    try:
        questions, db_path = evaluate.benchmark_questions(name)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    settings = settings_from(ctx, f"sqlite:///{db_path}")
    settings = _with_model(_no_semantic_file(settings), model_file)
    brain = _brain(settings, engine)
    scored = skipped = correct = 0
    latencies: list[float] = []
    records: list[dict[str, Any]] = []
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(name, total=len(questions[:limit] if limit else questions))
            for q in questions[:limit] if limit else questions:
                progress.advance(task)
                gold = evaluate.gold_rows(db_path, q.gold_sql)
                if not gold:
                    skipped += 1
                    continue
                scored += 1
                t0 = time.perf_counter()
                answer = brain.ask(q.question, [])
                latencies.append((time.perf_counter() - t0) * 1000)
                ok = bool(answer.sql) and evaluate.same_result(
                    gold, answer.rows, evaluate.has_order_by(q.gold_sql)
                )
                correct += int(ok)
                records.append({"q": q.question, "gold": q.gold_sql, "sql": answer.sql, "ok": ok})
                if verbose and not ok:
                    click.echo(f"MISS {q.question}\n  gold: {q.gold_sql}\n  ours: {answer.sql}")
    finally:
        brain.close()
    acc = correct / scored if scored else 0.0
    click.echo(
        f"{name} formula_1 execution accuracy: {correct}/{scored} ({acc:.1%}), {skipped} skipped (empty gold)"
    )
    if latencies:
        click.echo(f"latency: median {statistics.median(latencies):.1f} ms")
    if out_file:
        Path(out_file).write_text(json.dumps(records, indent=2), encoding="utf-8")


def _with_model(settings: Settings, model_file: str | None) -> Settings:
    """`--model FILE`: that semantic model file (read as written by hand, completed from the catalog)."""
    from dataclasses import replace

    if not model_file:
        return settings
    return replace(settings, database=replace(settings.database, semantic_model=str(model_file)))


def _no_semantic_file(settings: Settings) -> Settings:
    """Benchmarks read a database we must not write next to: the semantic model stays in memory."""
    from dataclasses import replace

    return replace(settings, database=replace(settings.database, semantic_model="", audit_log=""))
