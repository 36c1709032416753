"""The `datavox` command.

Subcommands live beside the code they drive and are imported only when used, so `datavox --help` and
`datavox sql` start fast and never load speech models.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import click

from datavox import __version__
from datavox.config import ConfigError, Settings, load_settings

# name -> "module:attribute" of a click command; bench subcommands are registered the same way.
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("datavox.cli_data:import_command", "Import CSV files (or folders of them) as tables."),
    "demo": ("datavox.cli_data:demo_command", "Import the F1DB demo data (checked against its SHA256SUMS)."),
    "sql": ("datavox.cli_data:sql_command", "Run one SELECT through the guard and the read-only executor."),
    "schema": ("datavox.cli_brain:schema_command", "Print the catalog and semantic model of the database."),
    "ask": (
        "datavox.cli_brain:ask_command",
        "Ask one question (offline parser or LLM) and print the answer.",
    ),
    "eval": ("datavox.cli_brain:eval_command", "Score a question file or the Spider/BIRD slices."),
    "serve": ("datavox.cli_serve:serve_command", "Start the web page, the API and the realtime engine."),
    "migrate": (
        "datavox.cli_serve:migrate_command",
        "Create or upgrade the conversation store's schema in PostgreSQL (server.store_url).",
    ),
    "doctor": (
        "datavox.cli_serve:doctor_command",
        "Check the database, models and settings; print what is wrong.",
    ),
}
BENCH_COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("datavox.bench.data:command", "Import time, guard time and executor overhead."),
    "brain": ("datavox.bench.brain:command", "Per-turn latency of the offline brain; LLM round trips."),
    "voice": (
        "datavox.bench.voice:command",
        "End of speech to first answer audio, over WebRTC and WebSocket.",
    ),
    "speech": (
        "datavox.bench.speech:command",
        "Latency per core of STT/TTS/VAD settings: compute type, threads, beam, window, batching.",
    ),
    "serve": (
        "datavox.bench.serve:command",
        "Typed questions through 1 vs 2 processes on PostgreSQL + Redis; event fan-out delay.",
    ),
    "soak": (
        "datavox.bench.soak:command",
        "Bounded soak of the local engine: users asking, interrupting, reconnecting; leaks, stored turns.",
    ),
    "cloud": (
        "datavox.bench.cloud:command",
        "datavox's added latency per cloud tool turn; sessions per server.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            target = self.lazy[cmd_name][0]
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table, so `--help` does not import every subcommand.
        rows = [(name, help_text) for name, (_, help_text) in sorted(self.lazy.items())]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items()) if n not in self.lazy]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def settings_from(ctx: click.Context, db: str | None = None) -> Settings:
    """The settings for this invocation, with `--db` applied."""
    root = ctx.find_root()
    settings = root.obj if isinstance(root.obj, Settings) else None
    if settings is None:
        try:
            settings = load_settings(root.params.get("config_file"))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        root.obj = settings
    return settings.with_db(db)


db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    default=None,
    help="Database URL, e.g. duckdb:///data/f1.duckdb (overrides config).",
)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_file", metavar="FILE", default=None, help="Settings file (default: ./datavox.toml)."
)
@click.version_option(__version__, prog_name="datavox")
def main(config_file: str | None) -> None:
    """datavox: ask spoken questions about your data and hear the answers.

    \b
    Quick start (the F1 demo on DuckDB, offline):
      datavox demo                      import F1DB into data/f1.duckdb
      datavox ask "Who won the 2021 drivers' championship?"
      datavox serve                     open http://127.0.0.1:8000
    """


@main.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML-like text.")
@click.pass_context
def config_command(ctx: click.Context, as_json: bool) -> None:
    """Show the effective settings (file, environment overrides; secrets masked)."""
    settings = settings_from(ctx)
    data = settings.masked()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"# source: {data.pop('source')}")
    for section, values in data.items():
        click.echo(f"[{section}]")
        for key, value in values.items():
            click.echo(f"{key} = {json.dumps(value)}")
        click.echo()


@main.group("bench", cls=LazyGroup, lazy=BENCH_COMMANDS)
def bench() -> None:
    """Benchmarks that print medians and p95 against a baseline measured in the same run."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
