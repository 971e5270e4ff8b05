"""Export the whole database: a GeoPackage (every table a layer, CGCS2000, Chinese field names),
an Excel workbook (one sheet per table) and GeoJSON (one file per geometry layer).

Personal data (householder names, ID numbers, phone numbers, also inside the change log's
snapshots) is masked unless ``include_personal=True``; a masked export leaves out password
hashes too. Only an unmasked GeoPackage can be restored (:mod:`gis.restore`).

All tables are read in one transaction (a consistent snapshot). Enumerations are written with
their Chinese labels, dates as ``YYYY-MM-DD`` and timestamps as ISO 8601 text in UTC (GeoPackage
DATETIME keeps only milliseconds; the text keeps every digit). JSON columns are JSON text.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.types import TypeDecorator

from rural import migrate
from rural.clock import CHINA
from rural.geometry import CRS, GeometryType
from rural.ledgers.fields import (
    DERIVED_COLUMNS,
    FULL_EXPORT_ONLY_TABLES,
    PERSONAL_JSON_COLUMNS,
    SECRET_COLUMNS,
    TRANSIENT_TABLES,
    field_label,
    table_label,
)
from rural.masking import MASKED_FIELDS, mask_json, mask_value
from rural.models import metadata

FORMAT = "rural-export"
FORMAT_VERSION = 1
META_LAYER = "导出说明"
META_KEY, META_VALUE = "键", "值"
MAIN_GEOMETRY = "geom"
XLSX_MAX_ROWS = 1_048_575  # Excel's row limit, less the header
XLSX_MAX_CELL = 32_767

Progress = Callable[[str, int, int], None]

_GEOMETRY_TYPES = {
    "POINT": "Point",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
    "LINESTRING": "LineString",
    "GEOMETRY": "Unknown",
}


def value_kind(column: sa.Column[Any]) -> str:
    """How a column's values are written: int, float, bool, enum, date, datetime, json,
    geometry or text."""
    col_type: Any = column.type
    if isinstance(col_type, GeometryType):
        return "geometry"
    if isinstance(col_type, TypeDecorator):
        col_type = col_type.impl_instance
    if isinstance(col_type, sa.Enum) and col_type.enum_class is not None:
        return "enum"
    if isinstance(col_type, sa.Boolean):
        return "bool"
    if isinstance(col_type, sa.Integer):
        return "int"
    if isinstance(col_type, sa.Float | sa.Numeric):
        return "float"
    if isinstance(col_type, sa.DateTime):
        return "datetime"
    if isinstance(col_type, sa.Date):
        return "date"
    if isinstance(col_type, sa.JSON):
        return "json"
    return "text"


def exported_tables(*, masked: bool = False) -> list[Table]:
    """The tables an export carries, parents before children (the order a restore inserts
    them in): all but live sessions and rate counters; a masked export also leaves out the
    security log and token hashes."""
    skip = TRANSIENT_TABLES | (FULL_EXPORT_ONLY_TABLES if masked else frozenset())
    return [t for t in metadata.sorted_tables if t.name not in skip]


def attribute_columns(table: Table, *, masked: bool) -> list[sa.Column[Any]]:
    """The non-geometry columns written for ``table`` (bounding boxes and, when masked,
    secrets left out)."""
    secret = SECRET_COLUMNS.get(table.name, frozenset()) if masked else frozenset()
    return [
        c
        for c in table.columns
        if c.name not in DERIVED_COLUMNS and c.name not in secret and value_kind(c) != "geometry"
    ]


def geometry_columns(table: Table) -> list[sa.Column[Any]]:
    return [c for c in table.columns if value_kind(c) == "geometry"]


def geometry_type_name(column: sa.Column[Any]) -> str:
    col_type = column.type
    assert isinstance(col_type, GeometryType)
    return _GEOMETRY_TYPES[col_type.geometry_type]


def extra_layer_name(table: Table, column: sa.Column[Any]) -> str:
    """The layer of a second geometry column (e.g. a sewage facility's service area)."""
    return f"{table_label(table.name)}_{field_label(table.name, column.name)}"


def primary_key(table: Table) -> list[sa.Column[Any]]:
    return list(table.primary_key.columns)


# --- reading the database ---------------------------------------------------------------------


@dataclass
class TableData:
    """One table as exported: Chinese-named attributes, and geometries by column."""

    table: Table
    frame: pd.DataFrame
    geometries: dict[str, list[BaseGeometry | None]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return table_label(self.table.name)

    @property
    def count(self) -> int:
        return len(self.frame)


def _export_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "enum":
        return getattr(value, "label", None) or (value.value if isinstance(value, Enum) else value)
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if kind == "json":
        return json.dumps(value, ensure_ascii=False)
    return value


_DTYPES = {"int": "Int64", "float": "float64", "bool": "boolean"}
_AS_IS = frozenset({"int", "float", "bool", "text"})


def _raw_geometry(column: sa.Column[Any], dialect: str) -> Any:
    """The geometry as WKB bytes, decoded later in one vectorised call."""
    if dialect == "postgresql":
        return sa.func.ST_AsBinary(column)
    return sa.type_coerce(column, sa.LargeBinary)


def _geometries(raw: tuple[Any, ...]) -> list[BaseGeometry | None]:
    wkb = np.asarray([bytes(v) if v is not None else None for v in raw], dtype=object)
    return list(shapely.from_wkb(wkb))


def read_table(conn: Connection, table: Table, *, include_personal: bool) -> TableData:
    """Every row of ``table`` in primary-key order, masked unless ``include_personal``."""
    masked = not include_personal
    columns = attribute_columns(table, masked=masked)
    geoms = geometry_columns(table)
    dialect = conn.dialect.name
    stmt = select(*columns, *(_raw_geometry(g, dialect) for g in geoms)).order_by(
        *primary_key(table)
    )
    rows = conn.execute(stmt).all()
    by_column = list(zip(*rows, strict=True)) if rows else [()] * (len(columns) + len(geoms))
    personal = MASKED_FIELDS if masked else frozenset()
    personal_json = PERSONAL_JSON_COLUMNS.get(table.name, frozenset()) if masked else frozenset()
    data: dict[str, pd.Series[Any]] = {}
    for index, column in enumerate(columns):
        kind = value_kind(column)
        raw = by_column[index]
        values = list(raw) if kind in _AS_IS else [_export_value(kind, v) for v in raw]
        if column.name in personal:
            values = [mask_value(column.name, v) for v in values]
        if column.name in personal_json:
            values = [mask_json(v) for v in values]
        dtype = _DTYPES.get(kind, "object")
        data[field_label(table.name, column.name)] = pd.Series(values, dtype=dtype)
    frame = pd.DataFrame(data)
    geometries = {g.name: _geometries(by_column[len(columns) + i]) for i, g in enumerate(geoms)}
    return TableData(table=table, frame=frame, geometries=geometries)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one consistent state of the database."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def read_all(
    engine: Engine, *, include_personal: bool, progress: Progress | None = None
) -> tuple[list[TableData], str | None]:
    """Every table (in one snapshot) and the database's schema revision."""
    tables = exported_tables(masked=not include_personal)
    result: list[TableData] = []
    with snapshot(engine) as conn:
        for number, table in enumerate(tables, start=1):
            result.append(read_table(conn, table, include_personal=include_personal))
            if progress is not None:
                progress(table_label(table.name), number, len(tables))
    return result, migrate.current_revision(engine)


# --- GeoPackage -----------------------------------------------------------------------------


@dataclass
class ExportReport:
    path: Path
    layers: dict[str, int]  # layer (or sheet, or file) name -> features
    masked: bool
    size_bytes: int = 0
    rows: int = 0  # rows of the tables exported (extra geometry layers not counted again)

    def summary(self) -> str:
        mask = "个人信息已脱敏" if self.masked else "含个人信息(未脱敏)"
        return (
            f"已导出 {self.path}: {len(self.layers)} 个图层/表, {self.rows:,} 行, "
            f"{self.size_bytes / 1024:,.0f} KB, {mask}"
        )


@contextmanager
def _fast_sqlite_writes() -> Iterator[None]:
    """GDAL's SQLite-based writers without a sync per layer (28 layers: ~4 s → ~1 s); the
    file is written to a temporary name, synced once and then renamed, so nothing half-written
    is ever left at the real name. The option is process-wide while the export runs."""
    option = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(option)
    pyogrio.set_gdal_config_options({option: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({option: before})


def _sync(path: Path) -> None:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with file.open("rb") as handle:
            os.fsync(handle.fileno())


@contextmanager
def _atomic_path(path: Path, *, directory: bool = False) -> Iterator[Path]:
    """A temporary path next to ``path``, synced and moved onto it only when the block
    succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    target = tmp / path.name
    try:
        if directory:
            target.mkdir()
        with _fast_sqlite_writes():
            yield target
        _sync(target)
        if path.is_dir():
            shutil.rmtree(path)
        target.replace(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _meta_frame(data: list[TableData], *, masked: bool, revision: str | None) -> pd.DataFrame:
    tables: dict[str, Any] = {}
    for item in data:
        extras = {
            g: extra_layer_name(item.table, item.table.c[g])
            for g in item.geometries
            if g != MAIN_GEOMETRY
        }
        tables[item.table.name] = {
            "layer": item.label,
            "count": item.count,
            "geometry": MAIN_GEOMETRY if MAIN_GEOMETRY in item.geometries else None,
            "extra_geometries": extras,
        }
    rows = [
        ("format", FORMAT),
        ("format_version", str(FORMAT_VERSION)),
        ("schema_revision", revision or ""),
        ("exported_at", datetime.now(UTC).isoformat()),
        ("masked", "true" if masked else "false"),
        ("crs", CRS),
        ("tables", json.dumps(tables, ensure_ascii=False)),
        ("说明", "rural 全库导出; 坐标为 CGCS2000 (EPSG:4490); 时间为 UTC"),
    ]
    return pd.DataFrame(rows, columns=[META_KEY, META_VALUE], dtype=object)


def _geo_frame(frame: pd.DataFrame, geoms: list[BaseGeometry | None]) -> gpd.GeoDataFrame:
    series = gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=series, crs=CRS)


def export_gpkg(
    engine: Engine,
    path: Path,
    *,
    include_personal: bool = False,
    progress: Progress | None = None,
) -> ExportReport:
    """Every table as a layer of one GeoPackage in EPSG:4490, with Chinese layer and field names.

    Tables with a geometry are spatial layers; the others are attribute tables. A second
    geometry column becomes a layer of its own (keyed by the row's 编号).
    """
    data, revision = read_all(engine, include_personal=include_personal, progress=progress)
    masked = not include_personal
    layers: dict[str, int] = {}
    with _atomic_path(path) as target:
        pyogrio.write_dataframe(
            _meta_frame(data, masked=masked, revision=revision),
            target,
            layer=META_LAYER,
            driver="GPKG",
        )
        for item in data:
            meta = {"rural_table": item.table.name}
            if MAIN_GEOMETRY in item.geometries:
                frame: pd.DataFrame = _geo_frame(item.frame, item.geometries[MAIN_GEOMETRY])
                kind = geometry_type_name(item.table.c[MAIN_GEOMETRY])
                pyogrio.write_dataframe(
                    frame, target, layer=item.label, geometry_type=kind, layer_metadata=meta
                )
            else:
                pyogrio.write_dataframe(item.frame, target, layer=item.label, layer_metadata=meta)
            layers[item.label] = item.count
            for name, geoms in item.geometries.items():
                if name == MAIN_GEOMETRY:
                    continue
                layer = extra_layer_name(item.table, item.table.c[name])
                keys = _key_frame(item)
                pyogrio.write_dataframe(
                    _geo_frame(keys, geoms),
                    target,
                    layer=layer,
                    geometry_type=geometry_type_name(item.table.c[name]),
                    layer_metadata={"rural_table": item.table.name, "rural_column": name},
                )
                layers[layer] = sum(g is not None for g in geoms)
    return ExportReport(
        path=path,
        layers=layers,
        masked=masked,
        size_bytes=path.stat().st_size,
        rows=sum(item.count for item in data),
    )


def _key_frame(item: TableData) -> pd.DataFrame:
    labels = [field_label(item.table.name, c.name) for c in primary_key(item.table)]
    return item.frame[labels].copy()


# --- GeoJSON --------------------------------------------------------------------------------


def export_geojson(
    engine: Engine,
    directory: Path,
    *,
    include_personal: bool = False,
    progress: Progress | None = None,
) -> ExportReport:
    """One ``<图层>.geojson`` per geometry layer (CGCS2000 coordinates, Chinese property names).

    Tables without a geometry are left out: they are in the GeoPackage and the workbook.
    """
    data, _revision = read_all(engine, include_personal=include_personal, progress=progress)
    layers: dict[str, int] = {}
    rows = 0
    with _atomic_path(directory, directory=True) as target:
        for item in data:
            for name, geoms in item.geometries.items():
                if name == MAIN_GEOMETRY:
                    layer, frame = item.label, item.frame
                else:
                    layer, frame = (
                        extra_layer_name(item.table, item.table.c[name]),
                        _key_frame(item),
                    )
                keep = [g is not None for g in geoms]
                geo = _geo_frame(frame.loc[keep].reset_index(drop=True), [g for g in geoms if g])
                pyogrio.write_dataframe(
                    geo,
                    target / f"{layer}.geojson",
                    driver="GeoJSON",
                    geometry_type=geometry_type_name(item.table.c[name]),
                )
                layers[layer] = len(geo)
                rows += len(geo) if name == MAIN_GEOMETRY else 0
    size = sum(p.stat().st_size for p in directory.glob("*.geojson"))
    return ExportReport(
        path=directory, layers=layers, masked=not include_personal, size_bytes=size, rows=rows
    )


# --- Excel ----------------------------------------------------------------------------------


def export_xlsx(
    engine: Engine,
    path: Path,
    *,
    include_personal: bool = False,
    progress: Progress | None = None,
) -> ExportReport:
    """One sheet per table with Chinese headers; points as 经度/纬度, other shapes as WKT.

    Timestamps are shown in Beijing time; dates as dates. Sheets beyond Excel's row limit
    continue on ``<表>(2)`` and so on.
    """
    import xlsxwriter

    data, revision = read_all(engine, include_personal=include_personal, progress=progress)
    masked = not include_personal
    layers: dict[str, int] = {}
    with _atomic_path(path) as target:
        workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True})
        try:
            header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
            day = workbook.add_format({"num_format": "yyyy-mm-dd"})
            moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            _xlsx_notes(workbook, data, masked=masked, revision=revision, header=header)
            for item in data:
                _xlsx_table(workbook, item, header=header, day=day, moment=moment)
                layers[item.label] = item.count
        finally:
            workbook.close()
    return ExportReport(
        path=path,
        layers=layers,
        masked=masked,
        size_bytes=path.stat().st_size,
        rows=sum(item.count for item in data),
    )


def _xlsx_notes(
    workbook: Any, data: list[TableData], *, masked: bool, revision: str | None, header: Any
) -> None:
    sheet = workbook.add_worksheet("说明")
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 2, 12)
    lines = [
        "rural 全库导出(Excel)",
        f"导出时间: {datetime.now(CHINA).strftime('%Y-%m-%d %H:%M')}(北京时间)",
        "个人信息已脱敏" if masked else "含个人信息(未脱敏),请妥善保管",
        "坐标: CGCS2000 (EPSG:4490);点为经度/纬度,面为 WKT 文本(过长的见 GeoPackage)",
        "时间列为北京时间;日期列为日期",
        f"数据库版本: {revision or ''}",
    ]
    for row, line in enumerate(lines):
        sheet.write_string(row, 0, line)
    start = len(lines) + 1
    for col, title in enumerate(("工作表", "表名", "行数")):
        sheet.write_string(start, col, title, header)
    for offset, item in enumerate(data, start=start + 1):
        sheet.write_string(offset, 0, item.label)
        sheet.write_string(offset, 1, item.table.name)
        sheet.write_number(offset, 2, item.count)


def _xlsx_table(workbook: Any, item: TableData, *, header: Any, day: Any, moment: Any) -> None:
    table = item.table
    columns = attribute_columns(table, masked=False)
    kinds = {field_label(table.name, c.name): value_kind(c) for c in columns}
    headers = list(item.frame.columns)
    geometry_headers: list[tuple[str, str]] = []  # (header, geometry column)
    for name in item.geometries:
        label = field_label(table.name, name)
        if geometry_type_name(table.c[name]) == "Point":
            geometry_headers += [(f"{label}经度", name), (f"{label}纬度", name)]
        else:
            geometry_headers.append((f"{label}(WKT)", name))
    if item.geometries.keys() == {MAIN_GEOMETRY} and geometry_headers[0][0] == "几何经度":
        geometry_headers = [("经度", MAIN_GEOMETRY), ("纬度", MAIN_GEOMETRY)]
    all_headers = headers + [h for h, _ in geometry_headers]
    records = item.frame.astype(object).where(item.frame.notna(), None).to_numpy().tolist()
    chunks = max(1, -(-len(records) // XLSX_MAX_ROWS))
    for part in range(chunks):
        name = item.label if part == 0 else f"{item.label}({part + 1})"
        sheet = workbook.add_worksheet(name[:31])
        sheet.freeze_panes(1, 0)
        for col, text in enumerate(all_headers):
            sheet.write_string(0, col, text, header)
            sheet.set_column(col, col, max(10, min(30, len(text) * 2 + 2)))
        start = part * XLSX_MAX_ROWS
        for offset, values in enumerate(records[start : start + XLSX_MAX_ROWS]):
            row = offset + 1
            for col, value in enumerate(values):
                _xlsx_cell(sheet, row, col, kinds.get(headers[col], "text"), value, day, moment)
            col = len(headers)
            for text, geom_name in geometry_headers:
                geom = item.geometries[geom_name][start + offset]
                if geom is not None:
                    if text.endswith("经度"):
                        sheet.write_number(row, col, float(shapely.get_x(geom)))
                    elif text.endswith("纬度"):
                        sheet.write_number(row, col, float(shapely.get_y(geom)))
                    else:
                        wkt = geom.wkt
                        sheet.write_string(
                            row,
                            col,
                            wkt if len(wkt) <= XLSX_MAX_CELL else "(几何过长,见 GeoPackage)",
                        )
                col += 1


def _xlsx_cell(
    sheet: Any, row: int, col: int, kind: str, value: Any, day: Any, moment: Any
) -> None:
    if value is None:
        return
    if kind == "date":
        sheet.write_datetime(
            row, col, datetime.combine(date.fromisoformat(value), datetime.min.time()), day
        )
    elif kind == "datetime":
        local = datetime.fromisoformat(value).astimezone(CHINA).replace(tzinfo=None)
        sheet.write_datetime(row, col, local, moment)
    elif kind == "bool":
        sheet.write_string(row, col, "是" if value else "否")
    elif kind in ("int", "float"):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(value))
