"""CRS rules: CGCS2000 storage, GCJ-02 on declaration only, Gauss-Kruger zones for metric work.

Everything is stored in CGCS2000 (EPSG:4490), always with ``always_xy=True`` (lon, lat). WGS84
and CGCS2000 differ by centimetres, so no datum shift is applied between them. GCJ-02 (the
offset used by Gaode/AMap and Tencent) is not in PROJ: it is the published formula below, with
an iterative inverse.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from rural.errors import CoordinateError, CrsError

CGCS2000 = "EPSG:4490"
WGS84 = "EPSG:4326"
GCJ02 = "gcj02"

# Roughly the land and sea China administers: 73-136°E, 3-54°N.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)

# Krasovsky 1940 ellipsoid, as the published GCJ-02 formula uses it.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323

# CGCS2000 3-degree Gauss-Kruger: zone n has central meridian 3n°E, zones 25 (75°E) to 45 (135°E).
GK_FIRST_ZONE = 25
GK_LAST_ZONE = 45
GK_ZONE_NUMBERED_BASE = 4513  # EPSG:4513 = zone 25, false easting 25 500 000 m
GK_CM_ONLY_BASE = 4534  # EPSG:4534 = CM 75°E, false easting 500 000 m

FloatArray = NDArray[np.float64]


# --- naming -------------------------------------------------------------------------------


_EPSG_RE = re.compile(r"^\s*epsg\s*:\s*(\d{4,6})\s*$", re.IGNORECASE)
_GCJ_RE = re.compile(r"^\s*gcj[-_ ]?0?2\s*$", re.IGNORECASE)


def normalize_crs(text: str) -> str:
    """``EPSG:NNNN`` (checked against PROJ) or ``gcj02``; anything else is refused."""
    if _GCJ_RE.match(text):
        return GCJ02
    match = _EPSG_RE.match(text)
    if not match:
        msg = (
            f"坐标系写作 EPSG:NNNN 或 gcj02 / CRS must be spelled EPSG:NNNN or gcj02, got {text!r}"
        )
        raise CrsError(msg, field="crs", value=text)
    code = int(match.group(1))
    try:
        CRS.from_epsg(code)
    except PyprojCRSError as exc:
        msg = f"未知的坐标系 / unknown CRS EPSG:{code}"
        raise CrsError(msg, field="crs", value=text) from exc
    return f"EPSG:{code}"


def crs_label(crs: str | CRS | None) -> str:
    """A short readable name: ``EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E)``."""
    if crs is None:
        return "无 / none"
    if isinstance(crs, str) and crs == GCJ02:
        return "gcj02 (GCJ-02, 高德/腾讯偏移坐标)"
    pcrs = CRS.from_user_input(crs)
    epsg = pcrs.to_epsg(min_confidence=70)
    if epsg is not None:
        return f"EPSG:{epsg} ({pcrs.name})"
    return pcrs.name


def same_crs(a: str | CRS, b: str | CRS) -> bool:
    """True when two CRSs describe the same coordinates (axis order ignored; GCJ-02 only
    equals itself; WGS84 and CGCS2000 count as the same, as we apply no shift between them)."""
    if (isinstance(a, str) and a == GCJ02) or (isinstance(b, str) and b == GCJ02):
        return a == b
    ca, cb = CRS.from_user_input(a), CRS.from_user_input(b)
    if ca.equals(cb, ignore_axis_order=True):
        return True
    return _is_lonlat_2000(ca) and _is_lonlat_2000(cb)


def _is_lonlat_2000(crs: CRS) -> bool:
    """CGCS2000 or WGS84 geographic: treated as one (centimetres apart)."""
    return crs.to_epsg(min_confidence=70) in (4490, 4326)


# --- GCJ-02 ------------------------------------------------------------------------------


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84/CGCS2000 lon, lat → GCJ-02 (the published forward formula). Used only to draw
    on a GCJ-02 basemap; never store the result."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def wgs84_from_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tolerance: float = 1e-10, max_iterations: int = 30
) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon, lat → WGS84 (= CGCS2000 here), by fixed-point iteration on the forward
    formula until it reproduces the input to ``tolerance`` degrees (1e-10° ≈ 0.01 mm)."""
    gx = np.asarray(lon, dtype=np.float64)
    gy = np.asarray(lat, dtype=np.float64)
    x, y = gx.copy(), gy.copy()
    for _ in range(max_iterations):
        fx, fy = gcj02_from_wgs84(x, y)
        ex, ey = fx - gx, fy - gy
        x -= ex
        y -= ey
        if ex.size == 0 or max(float(np.max(np.abs(ex))), float(np.max(np.abs(ey)))) < tolerance:
            break
    return x, y


# --- Gauss-Kruger zones --------------------------------------------------------------------


def gauss_kruger_zone(lon: float) -> int:
    """The CGCS2000 3-degree zone whose central meridian (3n°E) is nearest ``lon``."""
    if not CHINA_LON[0] - 1.5 <= lon <= CHINA_LON[1] + 1.5:
        msg = f"经度 {lon} 不在中国范围 / longitude {lon} is outside China (73-136°E)"
        raise CoordinateError(msg, field="lon", value=lon)
    zone = math.floor(lon / 3.0 + 0.5)
    return min(max(zone, GK_FIRST_ZONE), GK_LAST_ZONE)


def gauss_kruger_crs_for(lon_min: float, lon_max: float, *, zone_numbered: bool = False) -> str:
    """The CGCS2000 3-degree Gauss-Kruger CRS for data spanning ``lon_min``..``lon_max``:
    the zone of the middle longitude. ``zone_numbered`` picks EPSG:4513-4533 (false easting
    carries the zone number), else EPSG:4534-4554 (central meridian only)."""
    if lon_min > lon_max:
        msg = f"lon_min {lon_min} > lon_max {lon_max}"
        raise CoordinateError(msg, field="lon_min", value=lon_min)
    zone = gauss_kruger_zone((lon_min + lon_max) / 2.0)
    base = GK_ZONE_NUMBERED_BASE if zone_numbered else GK_CM_ONLY_BASE
    return f"EPSG:{base + zone - GK_FIRST_ZONE}"


# --- transforms ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def _crs_key(crs: str | CRS) -> str:
    if isinstance(crs, str):
        return crs if crs == GCJ02 else CRS.from_user_input(crs).to_wkt()
    return crs.to_wkt()


def to_cgcs2000_xy(x: ArrayLike, y: ArrayLike, crs: str | CRS) -> tuple[FloatArray, FloatArray]:
    """Coordinates in ``crs`` (or ``gcj02``) → CGCS2000 lon, lat."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if isinstance(crs, str) and crs == GCJ02:
        return wgs84_from_gcj02(xa, ya)
    if _is_lonlat_2000(CRS.from_user_input(crs)):
        return xa.copy(), ya.copy()
    lon, lat = _transformer(_crs_key(crs), CGCS2000).transform(xa, ya)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def from_cgcs2000_xy(
    lon: ArrayLike, lat: ArrayLike, crs: str | CRS
) -> tuple[FloatArray, FloatArray]:
    """CGCS2000 lon, lat → coordinates in ``crs`` (``gcj02`` for drawing on GCJ-02 tiles)."""
    xa = np.asarray(lon, dtype=np.float64)
    ya = np.asarray(lat, dtype=np.float64)
    if isinstance(crs, str) and crs == GCJ02:
        return gcj02_from_wgs84(xa, ya)
    if _is_lonlat_2000(CRS.from_user_input(crs)):
        return xa.copy(), ya.copy()
    x, y = _transformer(CGCS2000, _crs_key(crs)).transform(xa, ya)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _apply(geoms: NDArray[np.object_], func: object) -> NDArray[np.object_]:
    def xy(coords: FloatArray) -> FloatArray:
        x, y = func(coords[:, 0], coords[:, 1])  # type: ignore[operator]
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, xy), dtype=object)


def geometries_to_cgcs2000(geoms: ArrayLike, crs: str | CRS) -> NDArray[np.object_]:
    """Shapely geometries in ``crs`` → the same geometries in CGCS2000 lon, lat."""
    arr = np.asarray(geoms, dtype=object)
    return _apply(arr, lambda x, y: to_cgcs2000_xy(x, y, crs))


def geometries_from_cgcs2000(geoms: ArrayLike, crs: str | CRS) -> NDArray[np.object_]:
    """Shapely geometries in CGCS2000 lon, lat → the same geometries in ``crs``."""
    arr = np.asarray(geoms, dtype=object)
    return _apply(arr, lambda x, y: from_cgcs2000_xy(x, y, crs))


# --- plausibility: inside China, axes the right way round ------------------------------------


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) lies in the rough box around China (73-136°E, 3-54°N)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    return (x >= CHINA_LON[0]) & (x <= CHINA_LON[1]) & (y >= CHINA_LAT[0]) & (y <= CHINA_LAT[1])


@dataclass(frozen=True)
class CoordinateProblem:
    """The first coordinate that failed the check, for the error message."""

    index: int  # position in the input arrays
    x: float
    y: float
    lon: float
    lat: float
    swapped: bool


def find_coordinate_problem(x: ArrayLike, y: ArrayLike, crs: str | CRS) -> CoordinateProblem | None:
    """None when every (x, y) in ``crs`` lands in China; else the first that does not, and
    whether the coordinates look swapped (every failing point lands in China once x and y are
    exchanged)."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    lon, lat = to_cgcs2000_xy(xa, ya, crs)
    ok = in_china(lon, lat)
    if bool(ok.all()):
        return None
    first = int(np.argmin(ok))
    bad = ~ok
    with np.errstate(all="ignore"):
        slon, slat = to_cgcs2000_xy(ya[bad], xa[bad], crs)
    swapped = bool(in_china(slon, slat).all())
    return CoordinateProblem(
        index=first,
        x=float(xa[first]),
        y=float(ya[first]),
        lon=float(lon[first]),
        lat=float(lat[first]),
        swapped=swapped,
    )


def zone_numbered_crs(easting: float) -> str | None:
    """The CGCS2000 Gauss-Kruger CRS whose eastings carry this zone number in front (e.g.
    40421309 -> zone 40 of the 3-degree zones, EPSG:4528), or None when it carries none."""
    if not 1e7 <= easting < 1e8:
        return None
    zone = int(easting // 1_000_000)
    if 25 <= zone <= 45:  # 3-degree zones 25-45: EPSG:4513-4533
        return f"EPSG:{4513 + zone - 25}"
    if 13 <= zone <= 23:  # 6-degree zones 13-23: EPSG:4491-4501
        return f"EPSG:{4491 + zone - 13}"
    return None


def describe_coordinate_problem(problem: CoordinateProblem, *, crs: str | CRS, where: str) -> str:
    """A message for people: where, the value, and what looks wrong."""
    value = f"({problem.x:.6f}, {problem.y:.6f})"
    if problem.swapped:
        return (
            f"{where} 的坐标 {value} 看起来 x/y 轴颠倒了 (x 像纬度, y 像经度): "
            "请交换坐标轴后再导入 / "
            f"axes look swapped: x looks like latitude and y like longitude (CRS {crs_label(crs)})"
        )
    hint = ""
    geographic = (
        not (isinstance(crs, str) and crs == GCJ02) and CRS.from_user_input(crs).is_geographic
    )
    if (geographic or crs == GCJ02) and max(abs(problem.x), abs(problem.y)) > 1000:
        hint = (
            "; 数值像投影坐标 (米), 请用 --crs 声明实际坐标系, 如 EPSG:4549 / "
            "values look like projected metres: declare the real CRS, e.g. --crs EPSG:4549"
        )
    elif not geographic and (zoned := zone_numbered_crs(problem.x)) is not None:
        hint = (
            f"; 东坐标 {problem.x:.0f} 带有带号 {int(problem.x // 1_000_000)}, "
            f"应声明带带号的坐标系 --crs {zoned} / the easting carries its zone number: "
            f"declare --crs {zoned}"
        )
    return (
        f"{where} 的坐标 {value} 按 {crs_label(crs)} 换算为经纬度 "
        f"({problem.lon:.6f}, {problem.lat:.6f}), 不在中国范围内 (73-136°E, 3-54°N) / "
        f"coordinates outside China{hint}"
    )


def check_geometries_in_china(
    geoms: ArrayLike, crs: str | CRS, *, describe: object = None, source: str = ""
) -> None:
    """Raise ``CoordinateError`` unless every vertex of ``geoms`` (in ``crs``) lands in China.

    ``describe(i)`` names geometry ``i`` for the message (default ``"第 i+1 个要素"``)."""
    arr = np.asarray(geoms, dtype=object)
    coords, index = shapely.get_coordinates(arr, return_index=True)
    if coords.size == 0:
        return
    problem = find_coordinate_problem(coords[:, 0], coords[:, 1], crs)
    if problem is None:
        return
    feature = int(index[problem.index])
    name = (
        describe(feature)
        if callable(describe)
        else f"第 {feature + 1} 个要素 / feature {feature + 1}"
    )
    where = f"{source}: {name}" if source else str(name)
    msg = describe_coordinate_problem(problem, crs=crs, where=where)
    raise CoordinateError(msg, field="geometry", value=(problem.x, problem.y))
