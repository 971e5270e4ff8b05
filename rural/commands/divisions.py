"""``rural import divisions FILE``: the statistical division list, year by year."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from rural.commands import print_error
from rural.commands.importing import import_app
from rural.errors import RuralError


def migrated_engine() -> Engine:
    """The configured database, brought up to date."""
    from rural import migrate
    from rural.db import engine_from_settings
    from rural.settings import get_settings

    engine = engine_from_settings(get_settings())
    migrate.upgrade(engine)
    return engine


def current_actor() -> str:
    """Who runs the command (``rural --as USER``), read when the command runs."""
    from rural.cli import state

    return state.actor or "cli"


@import_app.command("divisions")
def import_divisions_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or Excel: 12-digit code, name, urban-rural code", exists=True, dir_okay=False
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option(help="year of the list (reference date 30 June of that year)", min=1980),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="reference date YYYY-MM-DD (instead of --year)")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet (default: the first)")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and report, write nothing")
    ] = False,
) -> None:
    """Import the division list 统计用区划代码: add, rename, close revoked units, link successors.

    Nothing is deleted. All or nothing: a bad row stops the import and names the row and field.
    """
    from rural.divisions import import_divisions, reference_date

    console, err = Console(), Console(stderr=True)
    if (year is None) == (as_of is None):
        print_error(err, "请给出 --year 或 --as-of 之一 / give --year or --as-of")
        raise typer.Exit(code=2)
    try:
        when = reference_date(year) if year is not None else date.fromisoformat(str(as_of))
    except ValueError as exc:
        print_error(err, f"--as-of 应为 YYYY-MM-DD, 收到 {as_of!r}")
        raise typer.Exit(code=2) from exc
    try:
        report = import_divisions(
            migrated_engine(), file, as_of=when, actor=current_actor(), sheet=sheet, dry_run=dry_run
        )
    except RuralError as exc:
        print_error(err, exc)
        raise typer.Exit(code=2) from exc
    for line in report.lines():
        console.print(line, markup=False)
    if dry_run:
        console.print("(试运行, 未写入 / dry run: nothing written)")
