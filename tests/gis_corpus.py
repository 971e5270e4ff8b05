"""Builders of the GIS test corpus: real files written by the suite into tmp_path.

A small county near Lishui with two towns (赤石乡, 石门乡) and their villages; the shapes are
squares in CGCS2000 degrees so expected areas and coordinates can be worked out by hand.
Shapefiles are written with pyogrio (GDAL) and then altered the way files in the wild are:
no .cpg, only the DBF language byte, no hint at all, no .prj. GeoJSON is written by hand.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry

COUNTY = "331128000000"
COUNTY_NAME = "青溪县"
DBF_LANGUAGE_BYTE_OFFSET = 29
CP936_LANGUAGE_BYTE = 0x4D

# Lower-left corners of 0.02° x 0.02° village squares; towns are the union of their villages.
CELL = 0.02
ORIGIN = (119.80, 28.40)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    parent: str
    geom: Polygon


def _square(col: int, row: int) -> Polygon:
    x0, y0 = ORIGIN[0] + col * CELL, ORIGIN[1] + row * CELL
    return box(x0, y0, x0 + CELL, y0 + CELL)


TOWNS = [
    ("331128101000", "赤石乡"),
    ("331128102000", "石门乡"),
]
# Each town gets a 2 x 2 block of villages; both towns have a 王家村 (same name, other parent).
VILLAGE_NAMES = {
    "331128101000": ["王家村", "李家村", "赤石村", "下坑村"],
    "331128102000": ["王家村", "石门村", "上洋村", "黄泥垄村"],
}


def villages() -> list[Place]:
    places = []
    for t, (town_code, _) in enumerate(TOWNS):
        for k, name in enumerate(VILLAGE_NAMES[town_code]):
            code = town_code[:9] + f"{201 + k:03d}"
            places.append(Place(code, name, town_code, _square(2 * t + k % 2, k // 2)))
    return places


def towns() -> list[Place]:
    result = []
    for town_code, name in TOWNS:
        parts = [v.geom for v in villages() if v.parent == town_code]
        result.append(Place(town_code, name, COUNTY, shapely.union_all(parts).envelope))
    return result


def frame(
    places: Sequence[Place],
    *,
    columns: Sequence[str] = ("code", "name"),
    crs: str | None = "EPSG:4490",
    geoms: Sequence[BaseGeometry] | None = None,
) -> gpd.GeoDataFrame:
    data: dict[str, list[Any]] = {}
    for column in columns:
        if column == "code":
            data[column] = [p.code for p in places]
        elif column == "name":
            data[column] = [p.name for p in places]
        elif column == "town":
            names = dict(TOWNS)
            data[column] = [names.get(p.parent, "") for p in places]
        else:
            raise ValueError(column)
    shapes = list(geoms) if geoms is not None else [p.geom for p in places]
    return gpd.GeoDataFrame(data, geometry=shapes, crs=crs)


# --- Shapefiles -------------------------------------------------------------------------------


def write_shapefile(
    path: Path,
    data: gpd.GeoDataFrame,
    *,
    encoding: str = "GBK",
    keep_cpg: bool = True,
    language_byte: int | None = None,
    keep_prj: bool = True,
) -> Path:
    """Write with GDAL, then remove the .cpg / .prj or set the DBF language byte as asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "crs was not provided"
        pyogrio.write_dataframe(data, path, driver="ESRI Shapefile", encoding=encoding)
    cpg, prj, dbf = path.with_suffix(".cpg"), path.with_suffix(".prj"), path.with_suffix(".dbf")
    if not keep_cpg and cpg.exists():
        cpg.unlink()
    if not keep_prj and prj.exists():
        prj.unlink()
    if language_byte is not None:
        raw = bytearray(dbf.read_bytes())
        raw[DBF_LANGUAGE_BYTE_OFFSET] = language_byte
        dbf.write_bytes(bytes(raw))
    return path


def gbk_with_cpg(folder: Path) -> Path:
    return write_shapefile(folder / "gbk_cpg" / "村界.shp", frame(villages()))


def gbk_language_byte_only(folder: Path) -> Path:
    return write_shapefile(
        folder / "gbk_ldid" / "村界.shp",
        frame(villages()),
        keep_cpg=False,
        language_byte=CP936_LANGUAGE_BYTE,
    )


def gbk_no_hint(folder: Path) -> Path:
    return write_shapefile(
        folder / "gbk_none" / "村界.shp", frame(villages()), keep_cpg=False, language_byte=0
    )


def utf8_no_cpg(folder: Path) -> Path:
    return write_shapefile(
        folder / "utf8_none" / "村界.shp",
        frame(villages()),
        encoding="UTF-8",
        keep_cpg=False,
        language_byte=0,
    )


def no_crs(folder: Path) -> Path:
    return write_shapefile(folder / "no_crs" / "村界.shp", frame(villages()), keep_prj=False)


def zipped(shp: Path, archive: Path) -> Path:
    """A zip of every part of ``shp`` inside a folder, as people send them."""
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            bundle.write(part, f"村界数据/{part.name}")
    return archive


def gauss_kruger_shapefile(folder: Path, crs: str = "EPSG:4549") -> Path:
    data = frame(villages()).to_crs(crs)
    return write_shapefile(folder / "gk" / "村界.shp", data)


# --- GeoJSON ----------------------------------------------------------------------------------


def write_geojson(
    path: Path,
    places: Sequence[Place],
    *,
    crs_name: str | None = "urn:ogc:def:crs:EPSG::4490",
    geoms: Sequence[BaseGeometry] | None = None,
    encoding: str = "utf-8",
    properties: Callable[[Place], dict[str, Any]] | None = None,
) -> Path:
    """A FeatureCollection written by hand (with or without the legacy ``crs`` member)."""
    shapes = list(geoms) if geoms is not None else [p.geom for p in places]
    document: dict[str, Any] = {"type": "FeatureCollection"}
    if crs_name is not None:
        document["crs"] = {"type": "name", "properties": {"name": crs_name}}
    document["features"] = [
        {
            "type": "Feature",
            "properties": properties(p) if properties else {"code": p.code, "name": p.name},
            "geometry": mapping(shape),
        }
        for p, shape in zip(places, shapes, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode(encoding))
    return path


def swap_xy(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: c[:, ::-1])


def shift(geom: BaseGeometry, func: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]) -> Any:
    def xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, xy)


def bowtie(place: Place) -> Polygon:
    """A self-intersecting 'bow tie' over the place's square: corners visited crosswise."""
    x0, y0, x1, y1 = place.geom.bounds
    return Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
