"""``rural export gpkg|xlsx|geojson``, ``rural import gpkg`` (restore) and ``rural backup``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlmodel import Session, select

from rural.commands.importing import export_app, import_app
from rural.commands.ledgers import current_actor, fail, migrated_engine
from rural.errors import PermissionDeniedError, RuralError

PersonalOption = Annotated[
    bool,
    typer.Option(
        "--include-personal",
        help="keep householder names, ID and phone numbers (needed for a restorable export)",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="overwrite an existing file")]


@contextmanager
def progress_bar(err: Console, title: str) -> Iterator[Callable[[str, int, int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)

        def step(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title} {label}", completed=done, total=total)

        yield step


def check_personal_access(engine: Engine, username: str) -> None:
    """A full export shows personal data of every unit: a user of this database needs
    ``view_personal`` and ``export`` over every top-level unit. The operator at the server's
    command line (a name that is no user here) is trusted."""
    from rural.models import Unit, User
    from rural.permissions import Action, Actor, Domain, default_policy

    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            return
        roots = list(session.exec(select(Unit.code).where(Unit.parent_code == None)))  # noqa: E711
        actor = Actor(
            username=user.username,
            role=user.role,
            unit_code=user.unit_code,
            line=user.line,
            active=user.active,
        )
        policy = default_policy()
        for code in roots:
            for action in (Action.EXPORT, Action.VIEW_PERSONAL):
                reason = policy.refusal(actor, action, unit_code=code, domain=Domain.HOUSEHOLDS)
                if reason is not None:
                    msg = f"{username} 无权导出含个人信息的全库数据: {reason}"
                    raise PermissionDeniedError(msg)


def _prepare(path: Path, *, force: bool, include_personal: bool) -> Engine:
    if path.exists() and not force:
        msg = f"{path} 已存在;要覆盖请加 --force"
        raise RuralError(msg)
    engine = migrated_engine()
    if include_personal:
        check_personal_access(engine, current_actor())
    return engine


def _run_export(kind: str, path: Path, *, force: bool, include_personal: bool) -> None:
    from gis import export

    writers: dict[str, Any] = {
        "gpkg": export.export_gpkg,
        "xlsx": export.export_xlsx,
        "geojson": export.export_geojson,
    }
    console, err = Console(), Console(stderr=True)
    try:
        engine = _prepare(path, force=force, include_personal=include_personal)
        with progress_bar(err, "导出") as step:
            report = writers[kind](engine, path, include_personal=include_personal, progress=step)
    except RuralError as exc:
        raise fail(err, exc) from exc
    console.print(report.summary(), markup=False, highlight=False)


@export_app.command("gpkg")
def export_gpkg_command(
    file: Annotated[Path, typer.Argument(help="GeoPackage to write (.gpkg)")],
    include_personal: PersonalOption = False,
    force: ForceOption = False,
) -> None:
    """Every table as a layer of one GeoPackage (EPSG:4490, Chinese names). Personal data is
    masked unless --include-personal; only an unmasked export can be restored."""
    _run_export("gpkg", file, force=force, include_personal=include_personal)


@export_app.command("xlsx")
def export_xlsx_command(
    file: Annotated[Path, typer.Argument(help="workbook to write (.xlsx)")],
    include_personal: PersonalOption = False,
    force: ForceOption = False,
) -> None:
    """Every table as a sheet of one workbook (Chinese headers, Beijing time)."""
    _run_export("xlsx", file, force=force, include_personal=include_personal)


@export_app.command("geojson")
def export_geojson_command(
    folder: Annotated[Path, typer.Argument(help="folder to write one .geojson per layer into")],
    include_personal: PersonalOption = False,
    force: ForceOption = False,
) -> None:
    """One GeoJSON file per geometry layer (CGCS2000 coordinates)."""
    _run_export("geojson", folder, force=force, include_personal=include_personal)


@import_app.command("gpkg")
def import_gpkg_command(
    file: Annotated[
        Path, typer.Argument(help="a full export (rural export gpkg --include-personal)")
    ],
) -> None:
    """Restore a full GeoPackage export into an EMPTY database (all or nothing)."""
    from gis.restore import restore_gpkg

    console, err = Console(), Console(stderr=True)
    try:
        engine = migrated_engine()
        with progress_bar(err, "恢复") as step:
            report = restore_gpkg(engine, file, progress=step)
    except RuralError as exc:
        raise fail(err, exc) from exc
    console.print(report.summary(), markup=False, highlight=False)


def backup_command(
    file: Annotated[Path, typer.Argument(help="where to write the copy")],
    force: ForceOption = False,
) -> None:
    """A consistent copy of the live database (SQLite online backup; on PostgreSQL the
    pg_dump command to run is printed and the exit code is 1)."""
    from rural.backup import PgDumpRequiredError, backup
    from rural.db import engine_from_settings
    from rural.settings import get_settings

    console, err = Console(), Console(stderr=True)
    try:
        report = backup(engine_from_settings(get_settings()), file, overwrite=force)
    except PgDumpRequiredError as exc:
        console.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(code=1) from exc
    except RuralError as exc:
        raise fail(err, exc) from exc
    console.print(report.summary(), markup=False, highlight=False)
