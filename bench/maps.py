"""Benchmark: every map kind for the demo county, beside a naive folium map of the same data.

For each kind of :data:`maps.kinds.KINDS` (the village map for the village with most
households), on the scale's database:

- ``maps.<kind>.gzip_kB`` / ``raw_kB``: the page as served (gzip level 6, what
  ``api.maps_routes`` sends) and uncompressed, static JS/CSS files apart;
- ``maps.<kind>.build_s``: reading the layers, building and rendering the page.

Baseline for each, measured in the same run: what one writes with folium straight away — the
same layers read by the same ``gis.layers`` functions, polygons and lines as full-precision
GeoJSON (no simplification) with a GeoJsonTooltip, and one ``folium.Marker`` with a tooltip
per point (household, facility, problem); folium's default CDN assets. The ratio is ours /
naive (smaller is better).

In the suite: ``python -m bench --only maps``; alone: ``python -m bench.maps --db FILE`` (any
database; ``--screenshot docs/overview.png`` also saves the county overview as a picture taken
by headless Chromium).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from sqlalchemy import Engine, text

from bench.framework import Context, Figure
from gis.layers import (
    chain_layers,
    household_points,
    open_problem_layer,
    public_toilet_layer,
    sewage_facility_layer,
    town_layer,
)
from maps.assets import Assets, render_page
from maps.kinds import KINDS, MapRequest, build_map, default_unit, key_facts, village_frame
from maps.overview import HARMLESS
from maps.page import MapSetup, save
from rural.db import make_engine

GZIP_LEVEL = 6  # as api.maps_routes serves pages


@dataclass(frozen=True)
class Measured:
    raw_bytes: int
    gzip_bytes: int
    seconds: float


def _measure(make_html: Callable[[], str]) -> Measured:
    started = time.perf_counter()
    html = make_html()
    seconds = time.perf_counter() - started
    body = html.encode("utf-8")
    return Measured(len(body), len(gzip.compress(body, compresslevel=GZIP_LEVEL)), seconds)


def busiest_village(engine: Engine, county: str) -> str:
    """The village with most households (the village map's worst case)."""
    with engine.connect() as conn:
        code = conn.execute(
            text(
                "SELECT village_code FROM household WHERE village_code LIKE :p"
                " GROUP BY village_code ORDER BY count(*) DESC, village_code LIMIT 1"
            ),
            {"p": county[:6] + "%"},
        ).scalar_one()
    return str(code)


# ---------------------------------------------------------------- the naive map


def _naive_layers(engine: Engine, kind: str, unit: str) -> tuple[list[Any], list[Any]]:
    """(polygon/line frames, point frames) a kind shows, read by the same gis functions."""
    if kind == "village":
        town = unit[:9] + "000"
        villages = village_frame(engine, unit_code=town, indicators=[HARMLESS], period="2026")
        areas = [villages]
        town_points: list[Any] = [
            household_points(engine, unit_code=unit),
            chain_layers(engine, unit_code=unit).points,
            sewage_facility_layer(engine, unit_code=unit),
            public_toilet_layer(engine, unit_code=unit),
            open_problem_layer(engine, unit_code=unit),
        ]
        return areas, town_points
    villages = village_frame(
        engine, unit_code=unit, indicators=[HARMLESS, *key_facts()], period="2026"
    )
    areas = [villages, town_layer(engine, unit_code=unit)]
    points: list[Any] = []
    if kind in ("overview", "sanitation", "courtyard"):
        points.append(household_points(engine, unit_code=unit, with_stars=kind == "courtyard"))
    if kind == "sanitation":
        points.append(public_toilet_layer(engine, unit_code=unit))
    if kind == "chain":
        chain = chain_layers(engine, unit_code=unit)
        areas.append(chain.links)
        points += [chain.points, chain.stations, chain.facilities]
    if kind == "sewage":
        points.append(sewage_facility_layer(engine, unit_code=unit))
    if kind == "problems":
        points.append(open_problem_layer(engine, unit_code=unit))
    return areas, points


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only JSON-friendly columns (what folium can serialise as properties)."""
    keep = [c for c in frame.columns if c == "geometry" or frame[c].dtype.kind in "iufbO"]
    out = frame[keep].copy()
    for column in out.columns:
        if column != "geometry" and out[column].dtype.kind == "O":
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def naive_html(engine: Engine, kind: str, unit: str) -> str:
    """The same data as folium users first write it (see the module doc)."""
    areas, points = _naive_layers(engine, kind, unit)
    frames = [f for f in areas if len(f)]
    bounds = frames[0].total_bounds if frames else (119.0, 28.0, 121.0, 30.0)
    m = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2])
    for frame in areas:
        if not len(frame):
            continue
        plain = _plain(frame)
        fields = [c for c in plain.columns if c != "geometry"][:4]
        folium.GeoJson(plain, tooltip=folium.GeoJsonTooltip(fields=fields)).add_to(m)
    for frame in points:
        label = next((c for c in ("name", "toilet", "status") if c in frame.columns), None)
        for geometry, value in zip(
            frame.geometry, frame[label] if label else [None] * len(frame), strict=True
        ):
            if geometry is None:
                continue
            folium.Marker([geometry.y, geometry.x], tooltip=str(value)).add_to(m)
    html: str = m.get_root().render()
    return html


# ---------------------------------------------------------------- the run


def measure_kind(engine: Engine, kind: str, unit: str) -> tuple[Measured, Measured]:
    def ours() -> str:
        m = build_map(engine, KINDS[kind], MapRequest(unit_code=unit), MapSetup(demo=True))
        return render_page(m, assets=Assets.served())

    return _measure(ours), _measure(lambda: naive_html(engine, kind, unit))


def figures_for(kind: str, ours: Measured, naive: Measured) -> list[Figure]:
    label = "naive folium: full-precision GeoJSON, one Marker per point"
    return [
        Figure(
            f"maps.{kind}.gzip_kB",
            ours.gzip_bytes / 1000,
            "kB",
            note="as served (gzip 6), JS/CSS files apart",
            baseline=naive.gzip_bytes / 1000,
            baseline_label=label,
        ),
        Figure(
            f"maps.{kind}.raw_kB",
            ours.raw_bytes / 1000,
            "kB",
            baseline=naive.raw_bytes / 1000,
            baseline_label=label,
        ),
        Figure(
            f"maps.{kind}.build_s",
            ours.seconds,
            "s",
            note="read layers + build + render",
            baseline=naive.seconds,
            baseline_label=label,
        ),
    ]


def run_on(engine: Engine) -> list[Figure]:
    county = default_unit(engine)
    village = busiest_village(engine, county)
    figures: list[Figure] = []
    for kind in KINDS:
        unit = village if kind == "village" else county
        print(f"   maps.{kind} ({unit})", file=sys.stderr, flush=True)
        ours, naive = measure_kind(engine, kind, unit)
        figures += figures_for(kind, ours, naive)
    return figures


def run(ctx: Context) -> list[Figure]:
    return run_on(ctx.engine())


def screenshot(engine: Engine, path: Path, *, width: int = 1400, height: int = 900) -> Path:
    """The county overview saved standalone and photographed by headless Chromium."""
    from playwright.sync_api import sync_playwright

    county = default_unit(engine)
    m = build_map(
        engine,
        KINDS["overview"],
        MapRequest(unit_code=county),
        MapSetup(assets=Assets.inline(), demo=True),
    )
    page_file = save(m, path.with_suffix(".html"))
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_file.resolve().as_uri())
        villages = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
        villages.first.wait_for(state="attached")
        # Hover one village (a third of the way down the list) so its tooltip shows.
        box = villages.nth(villages.count() // 3).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.locator(".leaflet-tooltip").wait_for(state="visible")
        page.screenshot(path=str(path))
        browser.close()
    page_file.unlink()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.maps", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="a SQLite database (the demo)")
    parser.add_argument("--screenshot", type=Path, help="save the overview as a PNG here")
    parser.add_argument("--no-bench", action="store_true", help="only the screenshot")
    args = parser.parse_args(argv)
    engine = make_engine(f"sqlite:///{args.db}")
    try:
        if args.screenshot:
            print(f"screenshot: {screenshot(engine, args.screenshot)}")
        if not args.no_bench:
            from bench.__main__ import render
            from bench.framework import figure_dict

            print(render([figure_dict(f) for f in run_on(engine)]))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
