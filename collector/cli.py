"""``pricelens``: the server's command line (serve, migrate, tokens, users, jobs, scheduler, demo)."""

from __future__ import annotations

import getpass
import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from collector import migrate as migrations
from collector.api.deps import PRINCIPAL_TTL_SECONDS
from collector.db import engine_for, session_scope
from collector.demo.runner import demo_command
from collector.scheduler.cli import jobs_app, run_scheduler
from collector.settings import Settings, get_settings
from collector.tokens import SCOPES, TokenError, create_token, list_tokens, revoke_token
from collector.users import ROLES, UserError, create_user

app = typer.Typer(
    help="Pricelens: what went wrong, for which supplier, and since when.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens for agents, services and scripts.", no_args_is_help=True)
user_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(jobs_app, name="jobs")
app.command("demo")(demo_command)
app.command("scheduler", help="Run the ClickHouse jobs alone (one leader at a time).")(run_scheduler)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.check_production_ready()
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    return settings


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def migrate() -> None:
    """Create or upgrade the pricelens_* tables (other tables in the database are left alone)."""
    settings = _settings()
    migrations.upgrade(settings.effective_database_url)
    console.print(f"database is at the latest schema ({_safe_url(settings.effective_database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8061,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="do not run the ClickHouse jobs")
    ] = False,
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="serve the API only")] = False,
) -> None:
    """Run the API and dashboard (and the scheduler unless --no-scheduler)."""
    import uvicorn

    from collector.server import build_server_app, freeze_heap

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.migrate_on_start:
        migrations.upgrade(settings.effective_database_url)
    application = build_server_app(settings, scheduler=not no_scheduler, dashboard=not no_dashboard)
    freeze_heap()
    console.print(
        f"Pricelens listening on http://{host}:{port}/ ({_safe_url(settings.effective_database_url)})"
    )
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="a name people recognise, e.g. agent-ftp01")],
    scope: Annotated[str, typer.Option("--scope", help="ingest | admin")] = "ingest",
    service: Annotated[
        str | None, typer.Option("--service", help="only accept events of this service")
    ] = None,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    if scope not in SCOPES:
        raise _fail(f"--scope must be one of {', '.join(SCOPES)}")
    with session_scope(engine_for(_settings().effective_database_url)) as session:
        try:
            _, plain = create_token(session=session, name=name, scope=scope, service=service)
        except TokenError as exc:
            raise _fail(str(exc)) from exc
    err.print(f"token {name!r} created (scope {scope}); it is shown only this once:")
    typer.echo(plain)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never the tokens themselves)."""
    table = Table("scope", "service", "prefix", "created", "last used", "revoked")
    table.columns.insert(0, Column("name", no_wrap=True))
    with session_scope(engine_for(_settings().effective_database_url)) as session:
        for t in list_tokens(session=session):
            table.add_row(
                t.name, t.scope, t.service or "-", t.prefix + "…", f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-",
            )  # fmt: skip
    console.print(table)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")]) -> None:
    """Revoke a token: requests using it get 401 from now on."""
    with session_scope(engine_for(_settings().effective_database_url)) as session:
        try:
            revoke_token(session=session, name=name)
        except TokenError as exc:
            raise _fail(str(exc)) from exc
    console.print(
        f"token {name!r} revoked; running collectors refuse it within {PRINCIPAL_TTL_SECONDS:g} seconds"
    )


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help="viewer | admin")] = "viewer",
    password: Annotated[str | None, typer.Option("--password", help="prompted for when omitted")] = None,
) -> None:
    """Create a dashboard login."""
    if role not in ROLES:
        raise _fail(f"--role must be one of {', '.join(ROLES)}")
    if password is None:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise _fail("the passwords differ")
    with session_scope(engine_for(_settings().effective_database_url)) as session:
        try:
            create_user(session=session, username=name, password=password, role=role)
        except UserError as exc:
            raise _fail(str(exc)) from exc
    console.print(f"user {name!r} created ({role})")


def main() -> None:
    app()
