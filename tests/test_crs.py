"""CRS rules: GCJ-02 both ways, Gauss-Kruger zone choice, China bounds and swapped axes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from gis.crs import (
    CGCS2000,
    GCJ02,
    check_geometries_in_china,
    crs_label,
    describe_coordinate_problem,
    find_coordinate_problem,
    from_cgcs2000_xy,
    gauss_kruger_crs_for,
    gauss_kruger_zone,
    gcj02_from_wgs84,
    normalize_crs,
    same_crs,
    to_cgcs2000_xy,
    wgs84_from_gcj02,
)
from rural.errors import CoordinateError, CrsError

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def test_gcj02_matches_the_published_vector() -> None:
    """The test vector published with wandergis/coordtransform (Krasovsky a=6378245)."""
    lon, lat = gcj02_from_wgs84([116.404], [39.915])
    assert lon[0] == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat[0] == pytest.approx(39.91640428150164, abs=1e-12)


def test_gcj02_near_lishui_moves_a_few_hundred_metres_east_and_south() -> None:
    lon0, lat0 = 119.9, 28.45
    lon, lat = gcj02_from_wgs84([lon0], [lat0])
    _, _, east = GEOD.inv(lon0, lat0, lon[0], lat0)
    _, _, north_south = GEOD.inv(lon0, lat0, lon0, lat[0])
    assert lon[0] > lon0
    assert lat[0] < lat0  # south
    # STACK-NOTES quotes ~455 m east, ~380 m south for the Lishui area; the east offset
    # swings by ±25 m within 0.3° of longitude (the sin(6πx) term), so test the band.
    assert 420 < east < 480
    assert 370 < north_south < 390


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(min_value=73.5, max_value=135.0),
    lat=st.floats(min_value=18.0, max_value=53.5),
)
def test_gcj02_inverse_recovers_the_point(lon: float, lat: float) -> None:
    glon, glat = gcj02_from_wgs84([lon], [lat])
    back_lon, back_lat = wgs84_from_gcj02(glon, glat)
    assert abs(back_lon[0] - lon) < 1e-7
    assert abs(back_lat[0] - lat) < 1e-7


def test_gcj02_inverse_is_vectorised_and_exact() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(97, 125, 10_000)
    lat = rng.uniform(20, 45, 10_000)
    back = wgs84_from_gcj02(*gcj02_from_wgs84(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-7
    assert np.max(np.abs(back[1] - lat)) < 1e-7
    # GCJ-02 through the generic transform helpers: declared gcj02 is undone.
    glon, glat = from_cgcs2000_xy(lon, lat, GCJ02)
    lon2, lat2 = to_cgcs2000_xy(glon, glat, GCJ02)
    assert np.max(np.abs(lon2 - lon)) < 1e-7
    assert np.max(np.abs(lat2 - lat)) < 1e-7


@pytest.mark.parametrize(
    ("lon_min", "lon_max", "cm", "cm_only", "numbered"),
    [
        (119.0, 120.5, 120, 4549, 4528),  # Lishui: zone 40, CM 120°E
        (74.0, 76.0, 75, 4534, 4513),  # Kashgar: first zone
        (134.0, 135.0, 135, 4554, 4533),  # Fuyuan: last zone
        (116.2, 116.6, 117, 4548, 4527),  # Beijing: zone 39
        (103.0, 104.4, 105, 4544, 4523),  # 103.7 is nearer 105 than 102
        (101.0, 102.0, 102, 4543, 4522),
    ],
)
def test_gauss_kruger_zone_choice(
    lon_min: float, lon_max: float, cm: int, cm_only: int, numbered: int
) -> None:
    assert gauss_kruger_zone((lon_min + lon_max) / 2) == cm // 3
    chosen = gauss_kruger_crs_for(lon_min, lon_max)
    assert chosen == f"EPSG:{cm_only}"
    assert gauss_kruger_crs_for(lon_min, lon_max, zone_numbered=True) == f"EPSG:{numbered}"
    # Independently: PROJ says the chosen CRS is CGCS2000 Gauss-Kruger with that meridian.
    for code in (cm_only, numbered):
        crs = CRS.from_epsg(code)
        assert "CGCS2000" in crs.name
        assert "Gauss-Kruger" in crs.name
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        assert params["Longitude of natural origin"] == cm
    assert params["False easting"] == (cm // 3) * 1_000_000 + 500_000


def test_gauss_kruger_refuses_longitudes_outside_china() -> None:
    with pytest.raises(CoordinateError, match="outside China"):
        gauss_kruger_crs_for(10.0, 12.0)
    with pytest.raises(CoordinateError):
        gauss_kruger_crs_for(121.0, 119.0)


def test_gauss_kruger_round_trip_is_exact() -> None:
    lon = np.array([119.61, 119.95, 120.2])
    lat = np.array([28.1, 28.45, 28.9])
    crs = gauss_kruger_crs_for(float(lon.min()), float(lon.max()))
    x, y = from_cgcs2000_xy(lon, lat, crs)
    # Metres, not degrees: eastings near the 500 km false easting, northings ~3,100 km.
    assert np.all(np.abs(x - 500_000) < 60_000)
    assert np.all((y > 3_000_000) & (y < 3_300_000))
    # A metre in the plane is a metre on the ground (to a few parts in 10^4 near the CM).
    _, _, ground = GEOD.inv(lon[0], lat[0], lon[1], lat[1])
    assert np.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(ground, rel=2e-4)
    back_lon, back_lat = to_cgcs2000_xy(x, y, crs)
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9
    # Same as PROJ directly.
    px, py = Transformer.from_crs(CGCS2000, crs, always_xy=True).transform(lon, lat)
    assert np.allclose(px, x)
    assert np.allclose(py, y)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:4490", "EPSG:4490"),
        ("epsg:4549", "EPSG:4549"),
        (" EPSG : 4326 ", "EPSG:4326"),
        ("gcj02", GCJ02),
        ("GCJ-02", GCJ02),
    ],
)
def test_normalize_crs_accepts(text: str, expected: str) -> None:
    assert normalize_crs(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [("WGS84", "EPSG:NNNN or gcj02"), ("bd09", "EPSG:NNNN"), ("EPSG:999999", "unknown CRS")],
)
def test_normalize_crs_refuses(text: str, match: str) -> None:
    with pytest.raises(CrsError, match=match):
        normalize_crs(text)


def test_same_crs() -> None:
    esri_cgcs2000 = (
        'GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",'
        'SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]]'
    )
    assert same_crs(CRS.from_wkt(esri_cgcs2000), "EPSG:4490")
    assert same_crs("EPSG:4326", "EPSG:4490")  # no datum shift between them
    assert not same_crs("EPSG:4549", "EPSG:4490")
    assert not same_crs(GCJ02, "EPSG:4490")
    assert same_crs(GCJ02, GCJ02)
    assert "Gauss-Kruger" in crs_label("EPSG:4549")


def test_swapped_axes_are_recognised() -> None:
    # x values look like latitudes, y like longitudes.
    problem = find_coordinate_problem([28.45, 28.5], [119.9, 120.1], CGCS2000)
    assert problem is not None
    assert problem.swapped
    # Swapped eastings and northings of a Gauss-Kruger file too.
    x, y = from_cgcs2000_xy([119.9, 120.1], [28.45, 28.5], "EPSG:4549")
    gk_problem = find_coordinate_problem(y, x, "EPSG:4549")
    assert gk_problem is not None
    assert gk_problem.swapped
    assert find_coordinate_problem(x, y, "EPSG:4549") is None


def test_outside_china_is_not_called_swapped() -> None:
    problem = find_coordinate_problem([119.9, 2.35], [28.45, 48.85], CGCS2000)  # Paris
    assert problem is not None
    assert not problem.swapped
    assert problem.index == 1


def test_check_geometries_messages() -> None:
    from shapely.geometry import Point, Polygon

    inside = Polygon([(119.9, 28.4), (120.0, 28.4), (120.0, 28.5)])
    check_geometries_in_china([inside], CGCS2000)  # no error
    swapped = Polygon([(28.4, 119.9), (28.4, 120.0), (28.5, 120.0)])
    with pytest.raises(CoordinateError, match="axes look swapped") as caught:
        check_geometries_in_china([inside, swapped], CGCS2000, source="村界.shp")
    assert "第 2 个要素" in str(caught.value)
    assert "村界.shp" in str(caught.value)
    metres = Point(500_000, 3_150_000)
    with pytest.raises(CoordinateError, match="projected metres"):
        check_geometries_in_china([metres], CGCS2000)


def test_an_easting_with_its_zone_number_names_the_crs_to_declare() -> None:
    """40421309 declared as EPSG:4549 (zone 40 without the number): refused, and the message
    names EPSG:4528 (3-degree zone 40 with the number), which puts the point in Lishui."""
    x, y = [40421309.0], [3145000.0]
    problem = find_coordinate_problem(x, y, "EPSG:4549")
    assert problem is not None
    message = describe_coordinate_problem(problem, crs="EPSG:4549", where="第 1 个要素")
    assert "--crs EPSG:4528" in message
    assert find_coordinate_problem(x, y, "EPSG:4528") is None
    lon, lat = to_cgcs2000_xy(x, y, "EPSG:4528")
    assert 119.1 < lon[0] < 119.3
    assert 28.3 < lat[0] < 28.5
