"""Restore a full (unmasked) GeoPackage export into an empty, migrated database.

All or nothing: every table is inserted in one transaction, parents before children, and the
counts are checked against the export's own record before committing. A masked export, an
export of another schema revision, or a database that already holds data is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from gis.export import (
    FORMAT,
    FORMAT_VERSION,
    MAIN_GEOMETRY,
    META_KEY,
    META_LAYER,
    META_VALUE,
    attribute_columns,
    exported_tables,
    primary_key,
    value_kind,
)
from rural import migrate
from rural.errors import RuralError
from rural.geometry import bbox
from rural.ledgers.fields import field_label
from rural.models import metadata

CHUNK = 1000
Progress = Callable[[str, int, int], None]


class RestoreError(RuralError):
    """The export cannot be restored here; nothing was written. The message says why."""


@dataclass
class RestoreReport:
    path: Path
    tables: dict[str, int]

    def summary(self) -> str:
        total = sum(self.tables.values())
        return f"已从 {self.path} 恢复 {len(self.tables)} 张表, 共 {total:,} 条"


def read_meta(path: Path) -> dict[str, str]:
    """The export's own record (format, masked, schema revision, tables)."""
    if not path.is_file():
        msg = f"{path}: 文件不存在"
        raise RestoreError(msg)
    try:
        layers = {str(name) for name, _kind in pyogrio.list_layers(path)}
    except pyogrio.errors.DataSourceError as exc:
        msg = f"{path}: 不是可读取的 GeoPackage ({exc})"
        raise RestoreError(msg) from exc
    if META_LAYER not in layers:
        msg = f"{path}: 没有「{META_LAYER}」图层,不是 rural 导出的 GeoPackage"
        raise RestoreError(msg)
    frame = pyogrio.read_dataframe(path, layer=META_LAYER, read_geometry=False)
    return {str(k): str(v) for k, v in zip(frame[META_KEY], frame[META_VALUE], strict=True)}


def check_meta(meta: dict[str, str], *, path: Path, revision: str | None) -> dict[str, Any]:
    """Refuse what cannot be restored; return the export's table list."""
    if meta.get("format") != FORMAT or meta.get("format_version") != str(FORMAT_VERSION):
        found = f"{meta.get('format')!r} {meta.get('format_version')!r}"
        msg = f"{path}: 不是 rural 全库导出 (format {found})"
        raise RestoreError(msg)
    if meta.get("masked") != "false":
        msg = (
            f"{path}: 该导出的个人信息已脱敏,不能用于恢复(会用打码后的姓名、证件号覆盖原数据);"
            "请用 --include-personal 重新导出"
        )
        raise RestoreError(msg)
    if meta.get("schema_revision") != (revision or ""):
        msg = (
            f"{path}: 导出时的数据库版本 {meta.get('schema_revision')!r} 与目标数据库版本 "
            f"{revision!r} 不同;请先把目标数据库迁移到相同版本"
        )
        raise RestoreError(msg)
    tables: dict[str, Any] = json.loads(meta["tables"])
    return tables


def check_empty(conn: Connection) -> None:
    busy = []
    for table in metadata.sorted_tables:
        rows = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        if rows:
            busy.append(f"{table.name} {rows} 行")
    if busy:
        msg = (
            "目标数据库不是空的,拒绝恢复("
            + "、".join(busy[:5])
            + (" ……" if len(busy) > 5 else "")
            + ")"
        )
        raise RestoreError(msg)


def restore_gpkg(engine: Engine, path: Path, *, progress: Progress | None = None) -> RestoreReport:
    """Restore the export at ``path`` into ``engine``'s empty, migrated database."""
    meta = read_meta(path)
    tables = check_meta(meta, path=path, revision=migrate.current_revision(engine))
    known = {t.name for t in exported_tables()}
    unknown = sorted(set(tables) - known)
    if unknown:
        msg = f"{path}: 导出中有本系统没有的表 {unknown}"
        raise RestoreError(msg)
    report = RestoreReport(path=path, tables={})
    ordered = [t for t in exported_tables() if t.name in tables]
    with engine.begin() as conn:
        check_empty(conn)
        for number, table in enumerate(ordered, start=1):
            info = tables[table.name]
            rows = _read_rows(path, table, info)
            if len(rows) != int(info["count"]):
                layer, expected = info["layer"], info["count"]
                msg = f"{path}: 图层「{layer}」有 {len(rows)} 条,导出记录为 {expected} 条"
                raise RestoreError(msg)
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start : start + CHUNK])
            report.tables[table.name] = len(rows)
            if progress is not None:
                progress(str(info["layer"]), number, len(ordered))
        _reset_sequences(conn, ordered)
        for table in ordered:
            found = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            if found != report.tables[table.name]:
                msg = f"表 {table.name} 恢复后有 {found} 行,应为 {report.tables[table.name]} 行"
                raise RestoreError(msg)
    return report


# --- one table ------------------------------------------------------------------------------


def _read_rows(path: Path, table: Table, info: dict[str, Any]) -> list[dict[str, Any]]:
    layer = str(info["layer"])
    spatial = info.get("geometry") == MAIN_GEOMETRY
    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=spatial, fid_as_index=False)
    columns = attribute_columns(table, masked=False)
    by_label = {field_label(table.name, c.name): c for c in columns}
    missing = [label for label in by_label if label not in frame.columns]
    if missing:
        msg = f"{path}: 图层「{layer}」缺少字段 {missing}"
        raise RestoreError(msg)
    values: dict[str, list[Any]] = {
        c.name: [_restore_value(value_kind(c), v, c) for v in frame[label]]
        for label, c in by_label.items()
    }
    count = len(frame)
    if spatial:
        values[MAIN_GEOMETRY] = [_geometry(g) for g in frame.geometry]
    for column, extra_layer in dict(info.get("extra_geometries") or {}).items():
        values[column] = _extra_geometry(path, table, str(extra_layer), values, count)
    if "minx" in table.c and MAIN_GEOMETRY in values:
        boxes = [bbox(g) for g in values[MAIN_GEOMETRY]]
        for index, name in enumerate(("minx", "miny", "maxx", "maxy")):
            values[name] = [b[index] for b in boxes]
    names = list(values)
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]
    return _parents_first(table, rows)


def _extra_geometry(
    path: Path, table: Table, layer: str, values: dict[str, list[Any]], count: int
) -> list[BaseGeometry | None]:
    """A second geometry column, from its own layer keyed by the primary key."""
    keys = primary_key(table)
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=False)
    labels = [field_label(table.name, k.name) for k in keys]
    found = {
        tuple(_restore_value(value_kind(k), row[i], k) for i, k in enumerate(keys)): _geometry(g)
        for *row, g in zip(*(frame[lb] for lb in labels), frame.geometry, strict=True)
    }
    own = list(zip(*(values[k.name] for k in keys), strict=True)) if count else []
    return [found.get(tuple(key)) for key in own]


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a self-referencing table (units) ordered so every parent comes first."""
    self_refs = [
        (fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table
    ]
    if not self_refs or not rows:
        return rows
    child_col, parent_col = self_refs[0]
    by_key = {row[parent_col]: row for row in rows}

    def depth(row: dict[str, Any]) -> int:
        levels, seen, key = 0, set(), row[child_col]
        while key is not None and key in by_key:
            if key in seen:
                msg = f"表 {table.name} 的上级关系有环 ({key})"
                raise RestoreError(msg)
            seen.add(key)
            levels += 1
            key = by_key[key][child_col]
        return levels

    return sorted(rows, key=depth)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _restore_value(kind: str, value: Any, column: sa.Column[Any]) -> Any:
    if _is_missing(value):
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    if kind == "enum":
        enum_class: Any = column.type.enum_class  # type: ignore[attr-defined]
        return enum_class.from_label(str(value))
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind == "datetime":
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if kind == "json":
        return json.loads(str(value))
    return str(value)


def _geometry(value: Any) -> BaseGeometry | None:
    if value is None or (isinstance(value, BaseGeometry) and value.is_empty):
        return None
    if isinstance(value, BaseGeometry):
        return value
    return shapely.from_wkb(value)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """On PostgreSQL, move each serial id's sequence past the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        keys = primary_key(table)
        if len(keys) != 1 or value_kind(keys[0]) != "int":
            continue
        name = keys[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{name}'),"
                f" COALESCE(MAX({name}), 1), MAX({name}) IS NOT NULL) FROM {table.name}"
            )
        )
