"""``rural map KIND [--unit CODE] -o FILE``: a map saved as one standalone HTML file.

The file carries Leaflet and everything else it needs inline: it opens from disk on a machine
with no network at all. Its links (a village's page) point to ``RURAL_BASE_URL``. The command
line is run by the server's operator, so it sees every unit (no login).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rural.commands import print_error
from rural.errors import RuralError

console = Console()
err_console = Console(stderr=True)


def map_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="overview | sanitation | chain | sewage | courtyard | problems | village"
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="the HTML file to write")],
    unit: Annotated[
        str | None, typer.Option(help="12-digit unit code (default: the county in the database)")
    ] = None,
    indicator: Annotated[
        str | None, typer.Option(help="overview: the village indicator (default harmless rate)")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="indicator period, e.g. 2026, 2026Q3 (default: this year)")
    ] = None,
) -> None:
    """Save a map as one HTML file that opens offline (示例数据 badge on demo data)."""
    import time

    from maps.assets import Assets
    from maps.basemaps import basemap_for
    from maps.kinds import MapRequest, build_map, default_unit, demo_flag, kind_of, summary
    from maps.page import MapSetup, save
    from maps.popups import Links
    from rural.commands.divisions import migrated_engine
    from rural.settings import get_settings

    settings = get_settings()
    try:
        map_kind = kind_of(kind)
        engine = migrated_engine()
        code = unit or default_unit(engine)
        setup = MapSetup(
            assets=Assets.inline(),
            basemap=basemap_for(settings.tile_source, tianditu_key=settings.tianditu_key),
            links=Links.for_file(settings.base_url),
            demo=demo_flag(engine),
        )
        started = time.perf_counter()
        m = build_map(
            engine, map_kind, MapRequest(unit_code=code, indicator=indicator, period=period), setup
        )
        path = save(m, output)
        seconds = time.perf_counter() - started
    except (RuralError, ValueError) as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc
    layers = ", ".join(f"{name} {count:,}" for name, count in summary(m).items())
    size = path.stat().st_size
    console.print(f"已保存 {path} ({size / 1024:,.0f} KB, {seconds:.1f} s): {layers}")
