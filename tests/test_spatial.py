"""Spatial checks: point-in-polygon assignment identical to geopandas sjoin 'within', village
mismatches, coverage by distance (metric, Gauss-Kruger) and by service area; the check commands."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, box
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from gis.spatial import (
    Mismatch,
    _bucket_order,
    coverage_within_areas,
    coverage_within_distance,
    locate_point_indices,
    locate_points,
    metric_crs_for,
    village_mismatches,
)
from rural.enums import (
    CollectionPointKind,
    FacilityStatus,
    SewageMode,
    UnitLevel,
)
from rural.models import CollectionPoint, Household, SewageFacility, Unit

GEOD = Geod(ellps="GRS80")


def voronoi_tiling(n: int, seed: int, extent: tuple[float, float, float, float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    seeds = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box(*extent)))
    return np.asarray(shapely.intersection(cells, box(*extent)), dtype=object)


def sjoin_first_index(xs: np.ndarray, ys: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """What a GIS engineer writes: sjoin 'within', then the lowest polygon index per point."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4490")
    areas = gpd.GeoDataFrame(geometry=list(polygons), crs="EPSG:4490")
    joined = gpd.sjoin(points, areas, predicate="within", how="left")
    first = joined["index_right"].groupby(level=0).min()
    return first.reindex(range(len(xs))).fillna(-1).to_numpy(dtype=np.int64)


def test_locate_is_identical_to_sjoin_within() -> None:
    extent = (119.6, 28.2, 120.1, 28.6)
    polygons = voronoi_tiling(400, seed=5, extent=extent)
    # A first polygon overlapping the tiling: points inside it and a tile go to the box (index 0).
    overlap = box(119.8, 28.3, 119.9, 28.4)
    polygons = np.concatenate([np.asarray([overlap], dtype=object), polygons])
    rng = np.random.default_rng(9)
    xs = rng.uniform(119.55, 120.15, 60_000)  # some outside the tiling
    ys = rng.uniform(28.15, 28.65, 60_000)
    # Points exactly on boundaries (polygon vertices) and missing coordinates.
    vertices = shapely.get_coordinates(polygons[:50])
    xs = np.concatenate([xs, vertices[:, 0], [np.nan, 119.9]])
    ys = np.concatenate([ys, vertices[:, 1], [28.4, np.nan]])
    expected = sjoin_first_index(xs, ys, polygons)
    in_box = shapely.contains_xy(overlap, xs, ys)
    assert in_box.sum() > 1000
    assert (expected[in_box] == 0).all()  # the overlap rule is exercised
    assert (expected == -1).sum() > len(vertices)  # outside + on boundaries + NaN
    got = locate_point_indices(xs, ys, polygons.copy())
    np.testing.assert_array_equal(got, expected)
    codes = [f"3311281{i:05d}" for i in range(len(polygons))]
    located = locate_points(xs, ys, polygons, codes)
    assert list(located[:100]) == [codes[i] if i >= 0 else "" for i in expected[:100]]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    polygons=st.integers(min_value=1, max_value=12),
    points=st.integers(min_value=0, max_value=300),
)
def test_locate_equals_a_per_point_loop(seed: int, polygons: int, points: int) -> None:
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(polygons):
        cx, cy, r = rng.uniform(0, 10), rng.uniform(0, 10), rng.uniform(0.1, 4)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        ring = np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)])
        shapes.append(shapely.Polygon(ring))
    xs = np.round(rng.uniform(-1, 11, points), 1)  # coarse: some land on edges
    ys = np.round(rng.uniform(-1, 11, points), 1)
    expected = []
    for x, y in zip(xs, ys, strict=True):
        hit = -1
        for i, shape in enumerate(shapes):
            if shape.contains(Point(x, y)):
                hit = i
                break
        expected.append(hit)
    got = locate_point_indices(xs, ys, np.asarray(shapes, dtype=object))
    assert got.tolist() == expected


def test_points_on_a_shared_edge_lie_in_no_village() -> None:
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    got = locate_points(
        [0.5, 1.0, 1.5, 1.0, 3.0], [0.5, 0.5, 0.5, 1.0, 0.5], [left, right], ["A", "B"]
    )
    assert got.tolist() == ["A", "", "B", "", ""]


def test_tiny_polygons_far_apart() -> None:
    """Tiny polygons spread wide: the band count is capped, results stay exact."""
    rng = np.random.default_rng(2)
    corners = rng.uniform(100, 105, (60, 2))
    shapes = np.asarray([box(x, y, x + 0.001, y + 0.001) for x, y in corners], dtype=object)
    inside = corners + 0.0005
    xs = np.concatenate([inside[:, 0], rng.uniform(100, 105, 5000)])
    ys = np.concatenate([inside[:, 1], rng.uniform(100, 105, 5000)])
    expected = np.full(len(xs), -1)
    for i, shape in reversed(list(enumerate(shapes))):  # brute force, the first index wins
        expected[shapely.contains_xy(shape, xs, ys)] = i
    assert locate_point_indices(xs, ys, shapes).tolist() == expected.tolist()
    assert expected[:60].tolist() == list(range(60))


@pytest.mark.parametrize("nkeys", [10, 1 << 16, (1 << 16) + 1, 1 << 20])
def test_bucket_order_is_a_stable_argsort(nkeys: int) -> None:
    keys = np.random.default_rng(nkeys).integers(0, nkeys, 200_000)
    np.testing.assert_array_equal(_bucket_order(keys, nkeys), np.argsort(keys, kind="stable"))


def test_empty_and_bad_inputs() -> None:
    assert locate_points([], [], [box(0, 0, 1, 1)], ["A"]).tolist() == []
    assert locate_points([0.5], [0.5], [], []).tolist() == [""]
    assert locate_points([0.5], [0.5], [None, box(0, 0, 1, 1)], ["A", "B"]).tolist() == ["B"]
    with pytest.raises(ValueError, match=r"one length"):
        locate_points([0.5, 1], [0.5], [box(0, 0, 1, 1)], ["A"])
    with pytest.raises(ValueError, match="differ in length"):
        locate_points([0.5], [0.5], [box(0, 0, 1, 1)], ["A", "B"])


def test_village_mismatches() -> None:
    squares = [box(119.80, 28.40, 119.82, 28.42), box(119.82, 28.40, 119.84, 28.42)]
    codes = ["331128101201", "331128101202"]
    ids = ["h1", "h2", "h3", "h4"]
    xs = [119.81, 119.83, 119.81, 119.90]  # h4 lies in no village
    ys = [28.41, 28.41, 28.41, 28.41]
    declared = [codes[0], codes[0], codes[0], codes[1]]  # h2 is declared in the wrong village
    assert village_mismatches(ids, xs, ys, declared, squares, codes) == [
        Mismatch("h2", codes[0], codes[1]),
        Mismatch("h4", codes[1], ""),
    ]


def test_coverage_within_distance_is_metric() -> None:
    fx, fy = 119.9, 28.45
    distances = [100.0, 490.0, 510.0, 2000.0, 495.0, 505.0]
    azimuths = [0.0, 45.0, 90.0, 180.0, 270.0, 300.0]
    hx, hy, _ = GEOD.fwd([fx] * 6, [fy] * 6, azimuths, distances)
    got = coverage_within_distance(hx, hy, [fx, 121.0], [fy, 30.0], 500)
    assert got.tolist() == [d <= 500 for d in distances]
    # Degrees would be wrong: 500 m is ~0.0051° of longitude here but ~0.0045° of latitude.
    assert coverage_within_distance(hx, hy, [], [], 500).tolist() == [False] * 6
    assert coverage_within_distance([], [], [fx], [fy], 500).tolist() == []
    with pytest.raises(ValueError, match=">= 0"):
        coverage_within_distance(hx, hy, [fx], [fy], -1)


def test_coverage_within_areas() -> None:
    areas = [box(0, 0, 1, 1), box(0.5, 0.5, 2, 2)]
    got = coverage_within_areas([0.2, 1.5, 3.0, 0.0], [0.2, 1.5, 3.0, 0.5], areas)
    assert got.tolist() == [True, True, False, False]  # the last is on an edge


def test_metric_crs_for() -> None:
    assert metric_crs_for([119.7, 119.9], [120.05]) == "EPSG:4549"
    assert metric_crs_for([np.nan, 117.1]) == "EPSG:4548"
    with pytest.raises(ValueError, match="no finite"):
        metric_crs_for([np.nan])


# --- the check commands on a database ----------------------------------------------------------

TOWN = "331128101000"
V1, V2 = "331128101201", "331128101202"
SQUARES = {V1: box(119.80, 28.40, 119.82, 28.42), V2: box(119.82, 28.40, 119.84, 28.42)}


def seed_county(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Unit(code="331128000000", name="青溪县", level=UnitLevel.COUNTY))
        session.flush()
        session.add(
            Unit(code=TOWN, name="赤石乡", level=UnitLevel.TOWN, parent_code="331128000000")
        )
        session.flush()
        for code, name in ((V1, "王家村"), (V2, "李家村")):
            session.add(
                Unit(
                    code=code,
                    name=name,
                    level=UnitLevel.VILLAGE,
                    parent_code=TOWN,
                    geom=shapely.MultiPolygon([SQUARES[code]]),
                )
            )
        session.flush()
        homes = [
            ("3311281012010001", V1, 119.805, 28.405),  # in V1, near the working point
            ("3311281012010002", V1, 119.835, 28.415),  # declared V1, lies in V2
            ("3311281012020001", V2, 119.835, 28.415),  # in V2, far from the working point
            ("3311281012020002", V2, 119.95, 28.50),  # in no village
        ]
        for code, village, x, y in homes:
            session.add(Household(code=code, village_code=village, geom=Point(x, y)))
        session.add(Household(code="3311281012010003", village_code=V1))  # no coordinates
        session.add(
            CollectionPoint(
                village_code=V1,
                name="王家村收集点",
                kind=CollectionPointKind.POINT,
                status=FacilityStatus.OPERATING,
                geom=Point(119.806, 28.406),
            )
        )
        session.add(
            CollectionPoint(
                village_code=V2,
                name="李家村收集点",
                kind=CollectionPointKind.POINT,
                status=FacilityStatus.STOPPED,  # stopped: does not cover
                geom=Point(119.835, 28.4151),
            )
        )
        session.add(
            SewageFacility(
                village_code=V2,
                name="李家村污水站",
                mode=SewageMode.CENTRALIZED,
                status=FacilityStatus.OPERATING,
                service_area=box(119.83, 28.41, 119.84, 28.42),
                geom=Point(119.838, 28.418),
            )
        )
        session.commit()


def test_locate_and_coverage_checks(any_engine: Engine) -> None:
    from rural.commands.checks import coverage_check, locate_check

    seed_county(any_engine)
    results, villages = locate_check(any_engine, ["household", "collection_point"])
    assert sorted(villages.codes) == [V1, V2]
    homes, points = results
    assert homes.points == 4
    assert homes.in_declared == 2
    assert homes.elsewhere == [("3311281012010002", V1, V2)]
    assert homes.outside == [("3311281012020002", V2)]
    assert points.points == 2
    assert points.in_declared == 2

    coverage = {c.code: c for c in coverage_check(any_engine, distance_m=500)}
    # V1: home 1 is ~140 m from the working point; home 2 (at 119.835) is ~2.9 km away.
    assert (coverage[V1].households, coverage[V1].near_collection) == (2, 1)
    # V2: the only nearby point is stopped; home 3 is in the sewage service area, home 4 not.
    assert (coverage[V2].households, coverage[V2].near_collection) == (2, 0)
    assert coverage[V2].in_sewage_area == 1
    assert coverage[V1].in_sewage_area == 1  # home 2 lies in the service area too


def test_check_cli(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rural.cli import app
    from rural.db import make_engine
    from rural.migrate import upgrade

    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        seed_county(engine)
    finally:
        engine.dispose()
    out = tmp_path / "mismatches.csv"
    result = CliRunner().invoke(app, ["check", "locate", "--kind", "household", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "王家村" in result.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["declared_name"], r["located_name"]) for r in rows] == [
        ("3311281012010002", "王家村", "李家村"),
        ("3311281012020002", "李家村", ""),
    ]
    result = CliRunner().invoke(app, ["check", "coverage", "--distance", "500"])
    assert result.exit_code == 0, result.output
    assert "households with coordinates: 4" in result.output
    assert "1 (25.0%)" in result.output
