"""``rural template KIND`` and ``rural import ledger KIND FILE``: ledger templates and imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from rural.commands import print_error
from rural.commands.importing import import_app
from rural.errors import RuralError

if TYPE_CHECKING:
    from rural.ledgers import PointTransform

KIND_HELP = (
    "台账种类 / ledger kind: households, toilets, public_toilets, collection_points, "
    "transfer_stations, treatment_facilities, chain_links, collection_logs, tonnage, "
    "sorting_inspections, sewage_facilities, sewage_connections, sewage_inspections, "
    "repair_requests, effluent_samples, courtyard_ratings (或中文名, 如 改厕台账)"
)


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


def fail(err: Console, exc: Exception) -> typer.Exit:
    print_error(err, exc)
    return typer.Exit(code=2)


def template(
    kind: Annotated[str, typer.Argument(help=KIND_HELP + "; all: every kind into a folder")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="file (folder for all) to write; default <台账>_模板.xlsx"
        ),
    ] = None,
) -> None:
    """Write an empty Excel template for a ledger kind (台账模板), with a 说明 sheet."""
    from rural.ledgers import KINDS, get_kind, template_filename, write_template

    console, err = Console(), Console(stderr=True)
    if kind == "all":
        folder = output or Path()
        for spec in KINDS:
            path = write_template(spec, folder / template_filename(spec))
            console.print(f"已写出{spec.label}模板: {path}", markup=False)
        return
    try:
        spec = get_kind(kind)
    except RuralError as exc:
        raise fail(err, exc) from exc
    path = write_template(spec, output or Path(template_filename(spec)))
    console.print(f"已写出{spec.label}模板: {path}", markup=False)


def point_transform(crs: str) -> tuple[PointTransform | None, str]:
    """The transform from ``crs`` (EPSG:NNNN or gcj02) to CGCS2000, and the CRS's name."""
    from gis.crs import CGCS2000, crs_label, normalize_crs, same_crs, to_cgcs2000_xy

    name = normalize_crs(crs)
    if same_crs(name, CGCS2000):
        return None, crs_label(name)

    def transform(x: Any, y: Any) -> tuple[Any, Any]:
        return to_cgcs2000_xy(x, y, name)

    return transform, crs_label(name)


@import_app.command("ledger")
def import_ledger_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="the filled template (.xlsx)", exists=True)],
    crs: Annotated[
        str,
        typer.Option(
            "--crs", help="CRS of 经度/纬度: EPSG:4490 (default), gcj02 (phones, AMap), EPSG:NNNN"
        ),
    ] = "EPSG:4490",
    sheet: Annotated[str | None, typer.Option(help="sheet to read (default: the kind's)")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and count, write nothing")
    ] = False,
) -> None:
    """Import a ledger (台账导入). All or nothing: every problem is listed with sheet, row,
    column, value and reason, and nothing is written. Re-importing the same file changes nothing.
    """
    from rural.ledgers import get_kind, import_ledger
    from rural.permissions import Actor

    console, err = Console(), Console(stderr=True)
    try:
        spec = get_kind(kind)
        transform, label = point_transform(crs)
        engine = migrated_engine()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"{spec.label} {stage}", total=total or None)
                bar.update(tasks[stage], completed=done, total=total or None)

            result = import_ledger(
                engine,
                spec,
                file,
                actor=Actor.operator(current_actor()),
                transform=transform,
                crs_label=label,
                sheet=sheet,
                progress=progress,
                dry_run=dry_run,
            )
    except RuralError as exc:
        raise fail(err, exc) from exc
    for warning in result.warnings:
        print_error(err, warning, label="注意", style="yellow")
    console.print(result.summary(), markup=False, highlight=False)
    if dry_run:
        console.print("(试运行, 未写入 / dry run: nothing written)")
