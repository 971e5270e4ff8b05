"""Restore a full (unmasked) GeoPackage export into an empty, migrated database.

All or nothing: every table is inserted in one transaction, parents before children, and the
counts are checked against the export's own record before committing. A masked export, an
export of another schema revision, or a database that already holds data is refused.

A tampered or hand-edited export (a status that is no label, a date in another format, a code
that refers to nothing, a duplicate) is refused with the layer, the row and the field. The
offending values are never repeated: a full export holds names, ID and phone numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, Table, and_, func, insert, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

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
from rural.ledgers.fields import field_label, table_label
from rural.models import metadata

CHUNK = 1000
MAX_LISTED = 20  # value problems listed in one message
# A boolean field turned into text by hand (bool("False") would be True).
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False, "是": True, "否": False}
Progress = Callable[[str, int, int], None]


class RestoreError(RuralError):
    """The export cannot be restored here; nothing was written. The message says why, naming
    the layer, row and field when one row is at fault (never its values)."""

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.layer = layer
        self.row = row
        self.field = field


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
            rows, numbers = _read_rows(path, table, info)
            if len(rows) != int(info["count"]):
                layer, expected = info["layer"], info["count"]
                msg = f"{path}: 图层「{layer}」有 {len(rows)} 条,导出记录为 {expected} 条"
                raise RestoreError(msg, layer=str(layer))
            _insert(conn, table, rows, numbers, path=path, layer=str(info["layer"]))
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


def _read_rows(
    path: Path, table: Table, info: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The layer's rows as column values, parents first, and each row's number in the layer
    (1-based, as the user finds it)."""
    layer = str(info["layer"])
    spatial = info.get("geometry") == MAIN_GEOMETRY
    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=spatial, fid_as_index=False)
    columns = attribute_columns(table, masked=False)
    by_label = {field_label(table.name, c.name): c for c in columns}
    missing = [label for label in by_label if label not in frame.columns]
    if missing:
        msg = f"{path}: 图层「{layer}」缺少字段 {missing}"
        raise RestoreError(msg)
    problems: list[tuple[int, str, str]] = []
    values: dict[str, list[Any]] = {
        c.name: _convert(frame[label], c, label, problems) for label, c in by_label.items()
    }
    if problems:
        raise _value_problems(path, layer, problems)
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
    order = _parents_first(table, rows)
    return [rows[i] for i in order], [i + 1 for i in order]


def _convert(
    cells: Any, column: sa.Column[Any], label: str, problems: list[tuple[int, str, str]]
) -> list[Any]:
    """A layer's column as database values; a cell that does not convert adds (row, field,
    what was expected) to ``problems`` and becomes None."""
    kind = value_kind(column)
    out: list[Any] = []
    for number, cell in enumerate(cells, start=1):
        try:
            out.append(_restore_value(kind, cell, column))
        except (ValueError, TypeError, OverflowError):
            problems.append((number, label, _expected(kind, column)))
            out.append(None)
    return out


def _expected(kind: str, column: sa.Column[Any]) -> str:
    """What a cell of this kind should hold (said without repeating the cell)."""
    if kind == "enum":
        enum_class: Any = column.type.enum_class  # type: ignore[attr-defined]
        choices = "、".join(str(m.label) for m in enum_class)
        return f"不是有效的取值,应为 {choices} 之一 / not a valid {enum_class.__name__}"
    return {
        "int": "应为整数 / not an integer",
        "float": "应为数字 / not a number",
        "bool": "应为是/否 (1/0) / not a boolean",
        "date": "应为 YYYY-MM-DD 格式的日期 / not a YYYY-MM-DD date",
        "datetime": "应为 ISO 8601 时间 (如 2024-05-04T05:06:07+00:00) / not an ISO 8601 time",
        "json": "不是有效的 JSON / not valid JSON",
    }.get(kind, "无法读取 / unreadable")


def _value_problems(path: Path, layer: str, problems: list[tuple[int, str, str]]) -> RestoreError:
    problems.sort()
    lines = [f"{path}: 图层「{layer}」有 {len(problems)} 个值无法恢复,未写入任何数据:"]
    lines += [f"  第 {row} 行 字段「{label}」: {why}" for row, label, why in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  …… 另有 {len(problems) - MAX_LISTED} 个")
    row, label, _why = problems[0]
    return RestoreError("\n".join(lines), layer=layer, row=row, field=label)


def _extra_geometry(
    path: Path, table: Table, layer: str, values: dict[str, list[Any]], count: int
) -> list[BaseGeometry | None]:
    """A second geometry column, from its own layer keyed by the primary key."""
    keys = primary_key(table)
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=False)
    labels = [field_label(table.name, k.name) for k in keys]
    problems: list[tuple[int, str, str]] = []
    converted = [_convert(frame[lb], k, lb, problems) for lb, k in zip(labels, keys, strict=True)]
    if problems:
        raise _value_problems(path, layer, problems)
    found = {tuple(row): _geometry(g) for *row, g in zip(*converted, frame.geometry, strict=True)}
    own = list(zip(*(values[k.name] for k in keys), strict=True)) if count else []
    return [found.get(tuple(key)) for key in own]


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """The order (indices into ``rows``) that puts every parent of a self-referencing table
    (units) before its children; the file's order for other tables."""
    self_refs = [
        (fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table
    ]
    if not self_refs or not rows:
        return list(range(len(rows)))
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

    return sorted(range(len(rows)), key=lambda i: depth(rows[i]))


# --- inserting, and naming the row a constraint refuses ------------------------------------


def _insert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    numbers: list[int],
    *,
    path: Path,
    layer: str,
) -> None:
    """Insert in chunks; a row the database refuses becomes a :class:`RestoreError` naming the
    layer, row and field or constraint (the driver's error, which repeats the parameters with
    their names and phone numbers, is dropped)."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        try:
            with conn.begin_nested():
                conn.execute(insert(table), chunk)
        except StatementError as exc:
            if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError | DataError):
                msg = f"{path}: 写入图层「{layer}」时数据库出错,未写入任何数据: {_safe_text(exc)}"
                raise RestoreError(msg, layer=layer) from None
            number, field, why = _refused_row(conn, table, chunk, numbers[start : start + CHUNK])
            where = f"第 {number} 行" if number else "某一行"
            at = f" 字段「{field}」" if field else ""
            msg = f"{path}: 图层「{layer}」{where}{at}: {why};未写入任何数据"
            raise RestoreError(msg, layer=layer, row=number, field=field) from None


def _refused_row(
    conn: Connection, table: Table, chunk: list[dict[str, Any]], numbers: list[int]
) -> tuple[int | None, str | None, str]:
    """(row number, field label, why) of the first row of ``chunk`` the database refuses,
    found by inserting the rows one at a time (the whole restore is rolled back anyway)."""
    for row, number in zip(chunk, numbers, strict=True):
        try:
            with conn.begin_nested():
                conn.execute(insert(table), [row])
        except StatementError as exc:
            field, why = _why_refused(conn, table, row, exc)
            return number, field, why
    return None, None, "违反数据库约束 / violates a database constraint"


def _why_refused(
    conn: Connection, table: Table, row: dict[str, Any], exc: StatementError
) -> tuple[str | None, str]:
    """(field label, why) for a row the database refused: an empty required field, a code
    that refers to nothing, a duplicate; else the constraint as the database names it."""
    name = table.name
    for column in table.columns:
        if (
            column.name in row
            and row[column.name] is None
            and not column.nullable
            and not column.primary_key
            and column.default is None
            and column.server_default is None
        ):
            return field_label(name, column.name), "不能为空 / must not be empty (NOT NULL)"
    if isinstance(exc, IntegrityError):
        for fk in sorted(table.foreign_key_constraints, key=lambda c: [k.name for k in c.columns]):
            local = list(fk.columns)
            values = [row.get(c.name) for c in local]
            if any(v is None for v in values):
                continue
            remote = [element.column for element in fk.elements]
            if not _exists(conn, remote, values):
                target = remote[0].table.name
                link = f"{name}.{','.join(c.name for c in local)} → {target}"
                why = f"引用的「{table_label(target)}」中没有这一条 / refers to nothing ({link})"
                return _labels(name, local), why
        for columns, constraint in _unique_keys(table):
            values = [row.get(c.name) for c in columns]
            if all(v is not None for v in values) and _exists(conn, columns, values):
                why = f"与前面的行重复 / duplicate ({constraint})"
                return _labels(name, columns), why
    return None, f"数据库拒绝写入 / refused by the database ({_safe_text(exc)})"


def _labels(table: str, columns: list[sa.Column[Any]]) -> str:
    return "、".join(field_label(table, c.name) for c in columns)


def _unique_keys(table: Table) -> list[tuple[list[sa.Column[Any]], str]]:
    """The primary key, unique constraints and unique indexes: (columns, a name for them)."""
    keys: list[tuple[list[sa.Column[Any]], str]] = [
        (list(table.primary_key.columns), f"主键 primary key {table.name}")
    ]
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            columns = list(constraint.columns)
            keys.append((columns, str(constraint.name or _joined(table, columns))))
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        if index.unique:
            columns = [c for c in index.columns if isinstance(c, sa.Column)]
            keys.append((columns, str(index.name or _joined(table, columns))))
    return [(columns, label) for columns, label in keys if columns]


def _joined(table: Table, columns: list[sa.Column[Any]]) -> str:
    return f"unique {table.name}({', '.join(c.name for c in columns)})"


def _exists(conn: Connection, columns: list[sa.Column[Any]], values: list[Any]) -> bool:
    table = columns[0].table
    condition = and_(*(c == v for c, v in zip(columns, values, strict=True)))
    return conn.execute(select(1).select_from(table).where(condition).limit(1)).first() is not None


def _safe_text(exc: StatementError) -> str:
    """The database's own words without the statement's parameters: SQLite's messages never
    quote values; PostgreSQL's primary message does not (its DETAIL line does, and is left
    out). Anything else is named by its type only."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        return str(diag.message_primary)
    if type(orig).__module__ == "sqlite3":
        return str(orig)
    return type(orig).__name__


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
        if isinstance(value, bool | np.bool_) or value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
            return _BOOL_TEXT[value.strip().lower()]
        msg = "not a boolean"
        raise ValueError(msg)
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
