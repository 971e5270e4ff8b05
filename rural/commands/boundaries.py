"""``rural import boundaries FILE --level town|village``: unit boundaries from a GIS file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rural.commands import print_error
from rural.commands.divisions import current_actor, migrated_engine
from rural.commands.importing import import_app
from rural.errors import RuralError


class BoundaryLevel(StrEnum):
    TOWN = "town"
    VILLAGE = "village"


@import_app.command("boundaries")
def import_boundaries_command(
    file: Annotated[
        Path, typer.Argument(help="GeoPackage, GeoJSON, Shapefile or a zipped Shapefile")
    ],
    level: Annotated[BoundaryLevel, typer.Option(help="which units the polygons are")],
    crs: Annotated[
        str | None,
        typer.Option(
            help="what the coordinates really are: EPSG:NNNN or gcj02 (wins over the file's CRS)"
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="text encoding, e.g. GBK (default: detected)")
    ] = None,
    layer: Annotated[str | None, typer.Option(help="layer of a GeoPackage or zip")] = None,
    code_field: Annotated[str | None, typer.Option(help="attribute with the 12-digit code")] = None,
    name_field: Annotated[str | None, typer.Option(help="attribute with the unit name")] = None,
    parent_field: Annotated[
        str | None, typer.Option(help="attribute with the parent's code or name")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and report, write nothing")
    ] = False,
    skip_unmatched: Annotated[
        bool,
        typer.Option(
            "--skip-unmatched",
            help="write the features that match a unit and skip (and list) those that match "
            "none or have no usable polygon, e.g. neighbouring units in the same file",
        ),
    ] = False,
) -> None:
    """Import town or village boundaries 边界 onto existing units (stored in CGCS2000).

    Features match units by code, else by name within the parent. All or nothing: if any
    feature matches no unit or has no usable polygon, nothing is written and every such
    feature is listed (exit code 2), unless --skip-unmatched. A boundary equal to the stored
    one is counted as unchanged and not written again. A file with no CRS is refused unless
    --crs declares one; GCJ-02 is converted.
    """
    from gis.boundaries import import_boundaries

    console, err = Console(), Console(stderr=True)
    try:
        report = import_boundaries(
            migrated_engine(),
            file,
            level=level.value,
            actor=current_actor(),
            crs=crs,
            encoding=encoding,
            layer=layer,
            code_field=code_field,
            name_field=name_field,
            parent_field=parent_field,
            dry_run=dry_run,
            skip_unmatched=skip_unmatched,
        )
    except RuralError as exc:
        print_error(err, exc)
        raise typer.Exit(code=2) from exc
    for line in report.lines():
        console.print(line, markup=False, highlight=False)
