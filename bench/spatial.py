"""Benchmark: locating households in villages (point in polygon), four ways.

1. geopandas ``sjoin(points, villages, predicate="within")``: what a GIS engineer writes;
2. a bare ``shapely.STRtree(villages).query(points, predicate="within")``;
3. ``gis.spatial.locate_point_indices``: banded buckets + prepared polygons + ``contains_xy``;
4. a per-point Python loop over the villages, on a sample (extrapolated).

All four must give the same assignment (a point inside several villages goes to the lowest
index; on a boundary, to none). Target: the grid at most half the time of ``sjoin``. Our
function starts from x/y arrays, so the main baseline is sjoin from the same arrays (building
the points included); sjoin given ready point geometries is reported beside it.

Data: the framework's dataset of the scale (``ctx.dataset()``: the demo county, or at
``province`` scale 5,000,000 households in 20,000 villages), its village boundaries and
household points taken straight from the generated tables. Run alone (no framework context),
a tiling generated here and cached in ``bench/.cache/`` stands in (Voronoi cells over a
Zhejiang-sized area, boundaries wiggled and densified, households clustered around seats).

In the suite: ``python -m bench --only spatial``; alone: ``python -m bench.spatial --scale ...``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box

from bench.framework import Figure

SCALES: dict[str, tuple[int, int]] = {  # villages, households
    "demo": (2_000, 500_000),
    "province": (20_000, 5_000_000),
}
LOOP_SAMPLE = 300
EXTENT = (118.0, 27.0, 122.5, 31.0)  # roughly Zhejiang, CGCS2000 degrees
CACHE = Path(__file__).parent / ".cache"
TARGET_RATIO = 0.5


# --- data -------------------------------------------------------------------------------------


def make_tiling(villages: int, households: int, *, seed: int = 20_000) -> tuple[Any, Any, Any]:
    """(polygons, xs, ys): a gap-free tiling of ``villages`` cells and clustered households."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = EXTENT
    sx, sy = rng.uniform(x0, x1, villages), rng.uniform(y0, y1, villages)
    seats = shapely.multipoints(np.column_stack([sx, sy]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seats, extend_to=box(*EXTENT)))
    cells = shapely.intersection(cells, box(*EXTENT))
    size = np.sqrt((x1 - x0) * (y1 - y0) / villages)  # typical village width, degrees
    cells = shapely.segmentize(cells, size / 12)

    def wiggle(coords: np.ndarray) -> np.ndarray:
        # A smooth displacement field: shared edges move together, so the tiling stays a tiling.
        x, y = coords[:, 0], coords[:, 1]
        a = size * 0.04
        return np.column_stack(
            [
                x + a * np.sin(y * 37 / size) + 0.5 * a * np.sin((x + y) * 91 / size),
                y + a * np.sin(x * 41 / size) + 0.5 * a * np.cos((x - y) * 83 / size),
            ]
        )

    cells = shapely.transform(cells, wiggle)
    bad = ~shapely.is_valid(cells)
    cells[bad] = shapely.make_valid(cells[bad])
    # Households: 90 % around village seats (sd ~ a quarter of a village), 10 % anywhere.
    clustered = households * 9 // 10
    pick = rng.integers(0, villages, clustered)
    xs = np.concatenate(
        [sx[pick] + rng.normal(0, size / 4, clustered), rng.uniform(x0, x1, households - clustered)]
    )
    ys = np.concatenate(
        [sy[pick] + rng.normal(0, size / 4, clustered), rng.uniform(y0, y1, households - clustered)]
    )
    return np.asarray(cells, dtype=object), xs, ys


def cached_tiling(villages: int, households: int, *, cache: Path = CACHE) -> tuple[Any, Any, Any]:
    """The generated dataset, from ``cache`` when it was made before."""
    path = cache / f"spatial-tiling-{villages}-{households}.npz"
    if path.exists():
        with np.load(path) as data:
            kinds = shapely.GeometryType(int(data["kind"]))
            offsets = tuple(data[f"offset{i}"] for i in range(int(data["noffsets"])))
            polygons = shapely.from_ragged_array(kinds, data["coords"], offsets)
            return np.asarray(polygons, dtype=object), data["xs"], data["ys"]
    polygons, xs, ys = make_tiling(villages, households)
    kind, coords, offsets = shapely.to_ragged_array(polygons)
    cache.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {f"offset{i}": o for i, o in enumerate(offsets)}
    np.savez(
        path,
        kind=int(kind),
        coords=coords,
        noffsets=len(offsets),
        xs=xs,
        ys=ys,
        **arrays,
    )
    return polygons, xs, ys


def framework_dataset(dataset: Any) -> tuple[Any, Any, Any]:
    """Village boundaries and household points of a generated demo dataset."""
    units = dataset.tables["unit"].columns
    polygons = np.asarray(
        [
            geom
            for level, geom in zip(units["level"], units["geom"], strict=True)
            if str(level) == "village" and geom is not None
        ],
        dtype=object,
    )
    points = dataset.tables["household"].columns["geom"]
    xs = np.asarray(points.x, dtype=np.float64)
    ys = np.asarray(points.y, dtype=np.float64)
    keep = np.isfinite(xs) & np.isfinite(ys)
    return polygons, xs[keep], ys[keep]


# --- the four ways ------------------------------------------------------------------------------


def by_sjoin(points: Any, villages: Any, n: int) -> np.ndarray:
    import geopandas as gpd

    joined = gpd.sjoin(points, villages, predicate="within", how="left")
    first = joined["index_right"].groupby(level=0).min()
    return first.reindex(range(n)).fillna(-1).to_numpy(dtype=np.int64)


def by_strtree(point_geoms: Any, tree: Any, n: int) -> np.ndarray:
    pairs = tree.query(point_geoms, predicate="within")
    result = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(result, pairs[0], pairs[1])
    result[result == np.iinfo(np.int64).max] = -1
    return result


def by_loop(xs: np.ndarray, ys: np.ndarray, polygons: Any) -> np.ndarray:
    from shapely.geometry import Point

    out = np.full(len(xs), -1, dtype=np.int64)
    for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        point = Point(x, y)
        for i, polygon in enumerate(polygons):
            if polygon.contains(point):
                out[k] = i
                break
    return out


CPU: dict[str, float] = {}  # best process CPU time per method, for the notes


def timed(func: Callable[[], Any], repeats: int, key: str) -> tuple[float, Any]:
    """(best wall time of ``repeats`` runs, the last result); CPU time kept in ``CPU``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = func()
        best = min(best, time.perf_counter() - start)
        CPU[key] = min(CPU.get(key, float("inf")), time.process_time() - cpu)
    return best, result


def measure(polygons: Any, xs: np.ndarray, ys: np.ndarray, *, repeats: int = 2) -> list[Figure]:
    import geopandas as gpd

    from gis.spatial import locate_point_indices

    n, m = len(xs), len(polygons)
    label = f"{n:,} households in {m:,} villages"
    fresh = lambda: shapely.from_wkb(shapely.to_wkb(polygons))  # noqa: E731 (unprepared copies)

    t_grid, grid = timed(lambda: locate_point_indices(xs, ys, fresh()), repeats, "grid")

    build_start = time.perf_counter()
    point_geoms = shapely.points(xs, ys)
    t_points = time.perf_counter() - build_start
    points = gpd.GeoDataFrame(geometry=point_geoms, crs="EPSG:4490")
    villages = gpd.GeoDataFrame({"village": np.arange(m)}, geometry=fresh(), crs="EPSG:4490")
    t_sjoin, joined = timed(lambda: by_sjoin(points, villages, n), repeats, "sjoin")

    def sjoin_from_xy() -> np.ndarray:
        frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4490")
        return by_sjoin(frame, villages, n)

    t_sjoin_xy, joined_xy = timed(sjoin_from_xy, repeats, "sjoin_xy")
    t_tree, tree_result = timed(
        lambda: by_strtree(point_geoms, shapely.STRtree(fresh()), n), repeats, "strtree"
    )

    rng = np.random.default_rng(1)
    sample = rng.choice(n, size=min(LOOP_SAMPLE, n), replace=False)
    loop_polygons = list(fresh())
    start = time.perf_counter()
    looped = by_loop(xs[sample], ys[sample], loop_polygons)
    t_loop = (time.perf_counter() - start) * n / len(sample)

    same_sjoin = bool(np.array_equal(grid, joined)) and bool(np.array_equal(grid, joined_xy))
    same_tree = bool(np.array_equal(grid, tree_result))
    same_loop = bool(np.array_equal(grid[sample], looped))
    located = int((grid >= 0).sum())
    sjoin_label = "geopandas sjoin(points, villages, 'within'), points already built"
    xy_label = "geopandas points_from_xy + sjoin(..., 'within'), from the same x/y arrays"

    def verdict(value: float, baseline: float) -> str:
        met = value / baseline <= TARGET_RATIO
        return f"target <= {TARGET_RATIO} x: {'met' if met else 'MISSED'}"

    return [
        Figure(
            "spatial.grid_s",
            t_grid,
            "s",
            f"banded buckets + prepared polygons + contains_xy from x/y, {label}; "
            f"{verdict(t_grid, t_sjoin_xy)}",
            baseline=t_sjoin_xy,
            baseline_label=xy_label,
        ),
        Figure(
            "spatial.grid_vs_prebuilt_s",
            t_grid,
            "s",
            f"the same run, against sjoin given ready point geometries (building them: "
            f"{t_points:.2f} s); {verdict(t_grid, t_sjoin)}",
            baseline=t_sjoin,
            baseline_label=sjoin_label,
        ),
        Figure(
            "spatial.grid_cpu_s",
            CPU["grid"],
            "s",
            "process CPU time of the grid (less sensitive to a busy machine); sjoin from x/y "
            f"took {CPU['sjoin_xy']:.2f} s CPU; {verdict(CPU['grid'], CPU['sjoin'])}",
            baseline=CPU["sjoin"],
            baseline_label="CPU time of sjoin with points already built",
        ),
        Figure(
            "spatial.strtree_s",
            t_tree,
            "s",
            f"bare shapely STRtree(villages).query(points, 'within') (CPU {CPU['strtree']:.2f} s);"
            f" building the {n:,} points takes another {t_points:.2f} s",
            baseline=t_sjoin,
            baseline_label=sjoin_label,
        ),
        Figure(
            "spatial.loop_extrapolated_s",
            t_loop,
            "s",
            f"per-point Python loop over the villages, {len(sample)} points timed, scaled",
            baseline=t_sjoin,
            baseline_label=sjoin_label,
        ),
        Figure(
            "spatial.identical",
            float(same_sjoin and same_tree and same_loop),
            "bool",
            f"same village for every point: sjoin {same_sjoin}, STRtree {same_tree}, "
            f"loop sample {same_loop}; {located:,} located, {n - located:,} in no village",
        ),
    ]


# --- entry points -----------------------------------------------------------------------------


def dataset_for(ctx: Any) -> tuple[Any, Any, Any, str]:
    """The framework's dataset of the scale, else (run alone) the cached tiling."""
    scale = str(getattr(ctx, "scale", "province"))
    provider = getattr(ctx, "dataset", None)
    if callable(provider):
        polygons, xs, ys = framework_dataset(provider())
        return polygons, xs, ys, f"framework {scale} dataset"
    villages, households = SCALES.get(scale, SCALES["province"])
    cache = Path(getattr(ctx, "cache_dir", CACHE))
    polygons, xs, ys = cached_tiling(villages, households, cache=cache)
    return polygons, xs, ys, f"generated tiling ({cache.name})"


def run(ctx: Any) -> list[Figure]:
    """Benchmark module entry point for ``python -m bench``."""
    polygons, xs, ys, source = dataset_for(ctx)
    figures = measure(polygons, xs, ys, repeats=int(getattr(ctx, "repeats", 2)))
    return [
        Figure(f.name, f.value, f.unit, f"{f.note} [{source}]", f.baseline, f.baseline_label)
        for f in figures
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for figure in run(args):
        ratio = "" if figure.ratio is None else f"x{figure.ratio:.3f} of baseline"
        print(f"{figure.name:28} {figure.value:12.3f} {figure.unit:5} {ratio:20} {figure.note}")


if __name__ == "__main__":
    main()
