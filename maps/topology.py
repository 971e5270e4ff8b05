"""Shared-border simplification of a polygon mesh (the villages of a county, its towns).

Simplifying each village on its own moves the two copies of a shared border differently and
opens slivers (gaps and overlaps) between neighbours. Here the mesh is simplified as one
*coverage*: every shared border is simplified once, so neighbours keep identical borders.

Steps, all in a metric CGCS2000 Gauss-Kruger CRS chosen from the data's longitude:

1. :func:`shapely.coverage_clean` turns the near-coverage that real boundary files are (vertices
   of one village lying on a neighbour's edge, slivers from digitising) into an exact coverage:
   nearby vertices snapped together, overlaps given to one neighbour, gaps narrower than
   ``gap_width_m`` merged into the neighbour with the longest shared border;
2. :func:`shapely.coverage_simplify` simplifies the shared edges once (Visvalingam-Whyatt; the
   tolerance is roughly the side of the smallest triangle kept, in metres).

Rounding the result to a fixed number of decimals later keeps shared vertices identical: the
same input coordinate always rounds to the same output.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gis.crs import gauss_kruger_crs_for
from rural.errors import ValidationError

# Below a pixel at county zoom (~40 m per pixel at zoom 11 in southern China).
COUNTY_TOLERANCE_M = 10.0
# A village drawn on its own, close up.
VILLAGE_TOLERANCE_M = 1.0
# Slivers narrower than this between neighbours are closed (digitising noise, not land).
DEFAULT_GAP_WIDTH_M = 2.0
# Vertices this close are taken to be the same point.
DEFAULT_SNAP_M = 0.5


@dataclass(frozen=True)
class MeshReport:
    """What simplification did: vertices before and after, and whether cleaning was needed."""

    polygons: int
    vertices_in: int
    vertices_out: int
    was_coverage: bool


def metric_crs_for(frame: gpd.GeoSeries | gpd.GeoDataFrame) -> str:
    """The CGCS2000 Gauss-Kruger CRS (3-degree zone) for the data's longitudes."""
    lon = frame.to_crs("EPSG:4490").total_bounds
    return gauss_kruger_crs_for(float(lon[0]), float(lon[2]))


def simplify_mesh(
    geometries: gpd.GeoSeries,
    *,
    tolerance_m: float,
    gap_width_m: float = DEFAULT_GAP_WIDTH_M,
    snap_m: float = DEFAULT_SNAP_M,
) -> tuple[gpd.GeoSeries, MeshReport]:
    """``geometries`` simplified together so that neighbours share identical borders.

    Returns the simplified series (same index and CRS; missing or empty geometries stay as they
    are) and a :class:`MeshReport`. ``tolerance_m`` 0 cleans without simplifying.
    """
    if geometries.crs is None:
        msg = "geometries has no CRS: expected EPSG:4490 (CGCS2000)"
        raise ValidationError(msg, field="geometries", value=None)
    if tolerance_m < 0:
        msg = f"tolerance_m must be >= 0, got {tolerance_m!r}"
        raise ValidationError(msg, field="tolerance_m", value=tolerance_m)
    values = np.asarray(geometries.array, dtype=object)
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    out = values.copy()
    if not present.any():
        return geometries.copy(), MeshReport(0, 0, 0, True)
    crs = geometries.crs
    subset = gpd.GeoSeries(values[present], crs=crs)
    metric = subset.to_crs(metric_crs_for(subset))
    mesh = np.asarray(metric.array, dtype=object)
    mesh = np.where(shapely.is_valid(mesh), mesh, shapely.make_valid(mesh))
    was_coverage = bool(shapely.coverage_is_valid(mesh))
    cleaned = shapely.coverage_clean(  # type: ignore[attr-defined]  # shapely >= 2.2
        mesh, gap_width=gap_width_m, snapping_distance=snap_m
    )
    simplified = (
        shapely.coverage_simplify(cleaned, tolerance_m, simplify_boundary=True)
        if tolerance_m > 0
        else cleaned
    )
    back = gpd.GeoSeries(simplified, crs=metric.crs).to_crs(crs)
    out[present] = np.asarray(back.array, dtype=object)
    report = MeshReport(
        polygons=int(present.sum()),
        vertices_in=int(shapely.get_num_coordinates(values[present]).sum()),
        vertices_out=int(shapely.get_num_coordinates(out[present]).sum()),
        was_coverage=was_coverage,
    )
    return gpd.GeoSeries(out, index=geometries.index, crs=crs), report


def simplify_frame(
    frame: gpd.GeoDataFrame, *, tolerance_m: float, gap_width_m: float = DEFAULT_GAP_WIDTH_M
) -> gpd.GeoDataFrame:
    """A copy of ``frame`` whose polygons are simplified as one mesh (see :func:`simplify_mesh`)."""
    if len(frame) == 0:
        return frame.copy()
    simplified, _ = simplify_mesh(frame.geometry, tolerance_m=tolerance_m, gap_width_m=gap_width_m)
    out = frame.copy()
    out[frame.geometry.name] = simplified
    return out
