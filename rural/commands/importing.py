"""The ``rural import`` and ``rural export`` command groups; area modules add their commands."""

from __future__ import annotations

import typer

import_app = typer.Typer(
    help="Import county data (导入): divisions, boundaries, ledgers, GIS files.",
    no_args_is_help=True,
)
export_app = typer.Typer(
    help="Export data (导出): GeoPackage, Excel, GeoJSON.", no_args_is_help=True
)
