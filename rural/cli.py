"""The ``rural`` command line: the composition root that wires domain, GIS, maps and the app.

Modules outside ``rural/`` (``api``, ``maps``, ``gis``) are imported inside the commands that
need them, so the domain package never depends on them at import time.
"""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from rural import migrate
from rural.commands import boundaries as _boundaries  # noqa: F401 (registers commands)
from rural.commands import divisions as _divisions  # noqa: F401 (registers commands)
from rural.commands import export as _export  # registers `export gpkg|xlsx|geojson`, `import gpkg`
from rural.commands import ledgers as _ledgers  # registers `import ledger`
from rural.commands import print_error
from rural.commands.chain import chain_app
from rural.commands.checks import check_app
from rural.commands.facility import facility_app
from rural.commands.importing import export_app, import_app
from rural.commands.indicators import indicators_command
from rural.commands.maps import map_command
from rural.commands.users import security_app, user_app
from rural.db import engine_from_settings
from rural.errors import RuralError, SettingsError
from rural.settings import PLACEHOLDER_SECRET, Settings, get_settings

app = typer.Typer(
    help="rural: 农村人居环境与文明村镇评选系统 (rural living environment and civilized villages).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database schema: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(check_app, name="check")
app.add_typer(user_app, name="user")
app.add_typer(security_app, name="security")
app.command("template")(_ledgers.template)
app.command("backup")(_export.backup_command)
app.command("indicators")(indicators_command)
app.add_typer(chain_app, name="chain")
app.add_typer(facility_app, name="facility")
app.command("map")(map_command)

console = Console()
err_console = Console(stderr=True)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class State:
    actor: str = ""


state = State()


@app.callback()
def _root(
    actor: Annotated[
        str | None,
        typer.Option("--as", help="who is acting (recorded in the change log); default: OS user"),
    ] = None,
) -> None:
    state.actor = actor or os.environ.get("RURAL_ACTOR") or getpass.getuser()


def _settings() -> Settings:
    return get_settings()


def _engine() -> Engine:
    return engine_from_settings(_settings())


def _migrated_engine() -> Engine:
    engine = _engine()
    migrate.upgrade(engine)
    return engine


@app.command()
def demo(
    villages: Annotated[int, typer.Option(help="number of villages", min=1)] = 200,
    households: Annotated[int, typer.Option(help="number of households", min=1)] = 60_000,
    towns: Annotated[
        int | None, typer.Option(help="number of towns (default ~villages/17)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same data")] = 7,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing", help="only print the saved logins if this demo is already loaded"
        ),
    ] = False,
) -> None:
    """Generate the demo county (示例数据) into the configured database.

    Refuses a database that holds real (non-demo) data. Prints the demo users' logins (one
    random password for all, saved beside the database with mode 0600); with --if-missing and
    the demo already loaded, prints the saved ones again.
    """
    from rural.demo import DemoParams, load_demo

    params = DemoParams(villages=villages, households=households, towns=towns, seed=seed)
    engine = _migrated_engine()
    try:
        report = load_demo(
            engine, params, actor=state.actor, if_missing=if_missing, console=console
        )
    except RuralError as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc
    console.print(report, markup=False, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="reverse proxies whose X-Forwarded-For is believed (comma-separated addresses;"
            " default: uvicorn's, 127.0.0.1 or $FORWARDED_ALLOW_IPS)"
        ),
    ] = None,
) -> None:
    """Serve the web app (maps, pages, API).

    Behind the intranet's reverse proxy, name the proxy in --forwarded-allow-ips so login limits
    and the security log see the clients' addresses, not the proxy's."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    if host not in LOOPBACK and settings.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
        print_error(
            err_console,
            f"在 {host} 上对外服务前须设置 RURAL_SECRET_KEY (至少 32 个随机字符)"
            " 和 RURAL_ENVIRONMENT=production; 开发用的默认密钥只允许 127.0.0.1"
            " (refusing to serve beyond loopback with the development secret)",
        )
        raise typer.Exit(code=2)
    migrate.upgrade(engine_from_settings(settings))
    application = create_app(settings)
    console.print(f"rural 已启动: 打开 [bold]http://{host}:{port}/[/bold]  (Ctrl+C 停止)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@app.command()
def stats() -> None:
    """Counts per kind in the configured database."""
    from rural.stats import count_kinds

    engine = _migrated_engine()
    counts = count_kinds(engine)
    table = Table(title=f"rural stats: {engine.url.render_as_string(hide_password=True)}")
    table.add_column("kind")
    table.add_column("中文")
    table.add_column("count", justify="right")
    for kind, label, count in counts:
        table.add_row(kind, label, f"{count:,}")
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    engine = _engine()
    migrate.upgrade(engine, revision)
    console.print(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("heads")
def db_heads(
    check: Annotated[bool, typer.Option("--check", help="exit 1 unless exactly one head")] = False,
) -> None:
    """List migration heads."""
    heads = migrate.heads()
    console.print("heads: " + ", ".join(heads))
    if check and len(heads) != 1:
        err_console.print(f"expected exactly one Alembic head, found {len(heads)}")
        raise typer.Exit(code=1)


@db_app.command("check")
def db_check() -> None:
    """Exit 1 when the models and the migrations disagree (checked on a scratch SQLite file)."""
    import tempfile
    from pathlib import Path

    from rural.db import make_engine

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'check.db'}")
        migrate.upgrade(engine)
        changes = migrate.pending_model_changes(engine)
        engine.dispose()
    if changes:
        for change in changes:
            err_console.print(f"model differs from migrations: {change}")
        raise typer.Exit(code=1)
    console.print("models and migrations agree")


@db_app.command("current")
def db_current() -> None:
    """Show the database's current revision."""
    console.print(str(migrate.current_revision(_engine())))


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # raised wherever a command first reads the settings
        print_error(err_console, f"设置有误 (settings): {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
