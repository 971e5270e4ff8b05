"""maps.topology: neighbours simplified together keep identical borders.

The stated tolerance: after simplification *and* rounding to the 5 decimals a county page
carries, no two villages overlap by more than 1 m², and the union of the villages has no hole
(gap) larger than 1 m² that the original did not have. Checked independently of the code under
test: pairwise intersections through an STRtree and the holes of the union, in metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from maps.page import COUNTY_DECIMALS, rounded
from maps.topology import metric_crs_for, simplify_frame, simplify_mesh
from rural.errors import ValidationError

TOLERANCE_M2 = 1.0
CRS = "EPSG:4490"


def wiggly_mesh(*, seed: int = 1, cells: int = 120) -> gpd.GeoSeries:
    """A county-like coverage: Voronoi cells with borders densified every ~50 m and bent by a
    smooth displacement field (the same for both sides of a border, so they stay shared)."""
    rng = np.random.default_rng(seed)
    frame = box(119.8, 28.3, 120.0, 28.45)
    points = shapely.multipoints(rng.uniform([119.8, 28.3], [120.0, 28.45], (cells, 2)))
    parts = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame))
    parts = shapely.segmentize(shapely.intersection(parts, frame), 0.0005)

    def bend(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.c_[
            x + 0.0003 * np.sin(x * 900) * np.cos(y * 700), y + 0.0003 * np.sin(y * 800 + x * 300)
        ]

    return gpd.GeoSeries(shapely.transform(parts, bend), crs=CRS)


def overlaps_and_gaps(original: gpd.GeoSeries, simplified: gpd.GeoSeries) -> tuple[float, float]:
    """(largest pairwise overlap, total area of new holes in the union), both in m²."""
    metric = metric_crs_for(original)
    before = np.asarray(original.to_crs(metric).array, dtype=object)
    after = np.asarray(simplified.to_crs(metric).array, dtype=object)
    tree = shapely.STRtree(after)
    left, right = tree.query(after, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(after[left[pairs]], after[right[pairs]]))

    def holes(union: shapely.Geometry) -> float:
        rings = [
            shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors
        ]
        return float(sum(r.area for r in rings))

    new_holes = holes(shapely.union_all(after)) - holes(shapely.union_all(before))
    return float(overlap.max(initial=0.0)), max(new_holes, 0.0)


def as_drawn(series: gpd.GeoSeries) -> gpd.GeoSeries:
    """What a county page carries: coordinates rounded to COUNTY_DECIMALS."""
    return gpd.GeoSeries(rounded(series.array, COUNTY_DECIMALS), crs=series.crs)


def test_the_fixture_really_has_shared_wiggly_borders() -> None:
    mesh = wiggly_mesh()
    assert shapely.get_num_coordinates(mesh.array).sum() > 15_000
    overlap, gaps = overlaps_and_gaps(mesh, mesh)
    assert overlap < TOLERANCE_M2
    assert gaps == 0.0


def test_each_village_simplified_alone_opens_gaps_and_overlaps() -> None:
    """Why the mesh is simplified as one: the naive way breaks the tolerance."""
    mesh = wiggly_mesh()
    metric = metric_crs_for(mesh)
    alone = mesh.to_crs(metric).simplify(10.0).to_crs(CRS)
    overlap, gaps = overlaps_and_gaps(mesh, alone)
    assert overlap > 100 * TOLERANCE_M2 or gaps > 100 * TOLERANCE_M2


@pytest.mark.parametrize("tolerance_m", [5.0, 10.0, 30.0])
def test_simplified_neighbours_neither_overlap_nor_gap(tolerance_m: float) -> None:
    mesh = wiggly_mesh()
    simplified, report = simplify_mesh(mesh, tolerance_m=tolerance_m)
    assert report.polygons == len(mesh)
    assert report.vertices_out < 0.8 * report.vertices_in
    for candidate in (simplified, as_drawn(simplified)):
        overlap, gaps = overlaps_and_gaps(mesh, candidate)
        assert overlap <= TOLERANCE_M2
        assert gaps <= TOLERANCE_M2
    # Every village stays where it was: within a few tolerances of its original outline.
    metric = metric_crs_for(mesh)
    moved = shapely.hausdorff_distance(
        np.asarray(mesh.to_crs(metric).array), np.asarray(simplified.to_crs(metric).array)
    )
    assert moved.max() < 5 * tolerance_m


def test_a_near_coverage_is_cleaned_first() -> None:
    """Real boundary files: a village's border digitised 0.3 m off its neighbour's."""
    mesh = wiggly_mesh()
    nudged = mesh.copy()
    nudged.iloc[0] = shapely.affinity.translate(mesh.iloc[0], xoff=0.000003, yoff=0.000002)
    overlap_before, _ = overlaps_and_gaps(mesh, nudged)
    assert overlap_before > TOLERANCE_M2  # the input really is broken
    simplified, report = simplify_mesh(nudged, tolerance_m=10.0)
    assert not report.was_coverage
    overlap, gaps = overlaps_and_gaps(nudged, as_drawn(simplified))
    assert overlap <= TOLERANCE_M2
    assert gaps <= TOLERANCE_M2


def test_missing_geometries_stay_missing_and_the_index_is_kept() -> None:
    mesh = wiggly_mesh(cells=20)
    mesh.index = [f"v{i}" for i in range(len(mesh))]
    mesh.iloc[3] = None
    mesh.iloc[5] = MultiPolygon()
    simplified, report = simplify_mesh(mesh, tolerance_m=10.0)
    assert list(simplified.index) == list(mesh.index)
    assert simplified.iloc[3] is None
    assert simplified.iloc[5].is_empty
    assert report.polygons == 18


def test_frames_keep_their_columns() -> None:
    mesh = wiggly_mesh(cells=20)
    frame = gpd.GeoDataFrame({"code": range(20)}, geometry=mesh, crs=CRS)
    out = simplify_frame(frame, tolerance_m=10.0)
    assert list(out["code"]) == list(range(20))
    assert out.crs == frame.crs
    assert len(simplify_frame(frame.iloc[:0], tolerance_m=10.0)) == 0


def test_data_without_crs_or_with_a_negative_tolerance_is_refused() -> None:
    mesh = wiggly_mesh(cells=5)
    with pytest.raises(ValidationError, match="geometries has no CRS"):
        simplify_mesh(gpd.GeoSeries(list(mesh)), tolerance_m=10.0)
    with pytest.raises(ValidationError, match="tolerance_m must be >= 0"):
        simplify_mesh(mesh, tolerance_m=-1.0)
