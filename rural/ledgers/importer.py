"""Import a ledger file: read it, check every row, then write all of it or nothing.

Every problem is collected (sheet, Excel row, column header, value, reason) before anything is
written; one problem means nothing is written. Rows are matched to existing objects by the
kind's natural key: an identical row changes nothing, a changed row is updated (version + 1,
a change-log row with old and new values, and a dated toilet state or status change where the
kind keeps history), a new row is inserted. Objects missing from the file are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.sql import bindparam

from rural import clock
from rural.audit import json_value
from rural.db import write_session
from rural.enums import ChangeAction, UnitLevel
from rural.geometry import bbox
from rural.ledgers.parse import CellError, is_empty, parse_cell
from rural.ledgers.problems import LedgerError, RowProblem
from rural.ledgers.reader import RawSheet, read_sheet
from rural.ledgers.spec import EFFECTIVE_FIELD, LAT_FIELD, LON_FIELD, ColumnType, LedgerKind, Ref
from rural.lifecycle import default_lifecycles
from rural.models import ChangeLog, StatusChange, ToiletState, Unit
from rural.permissions import Action, Actor, Policy, default_policy

# lon, lat arrays in the file's CRS -> lon, lat arrays in CGCS2000
PointTransform = Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[Any, Any]]
Progress = Callable[[str, int, int], None]

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
CHUNK = 500
TOILET_STATE_FIELDS = ("toilet_type", "condition", "excreta_destination", "toilet_class")
SPATIAL_BBOX = ("minx", "miny", "maxx", "maxy")


@dataclass
class LedgerResult:
    """What an import did. ``changed`` is 0 when the file matched the database exactly."""

    kind: str
    label: str
    file: str
    sheet: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    history_rows: int = 0
    crs: str = "EPSG:4490"
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        return (
            f"{self.label} {self.file}: {self.rows} 行,新增 {self.created},更新 {self.updated},"
            f"未变 {self.unchanged}"
        )


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # parsed column values by field (only columns present in the file)
    record: dict[str, Any] = field(default_factory=dict)  # model fields after resolution
    scope_unit: str | None = None


class _Problems:
    def __init__(self, raw: RawSheet, kind: LedgerKind) -> None:
        self.raw = raw
        self.kind = kind
        self.items: list[RowProblem] = []
        self.rows: set[int] = set()

    def add(
        self,
        row: int,
        field_or_header: str,
        value: Any,
        reason: str,
        *,
        out_of_scope: bool = False,
    ) -> None:
        header = field_or_header
        for column in self.kind.all_columns:
            if column.field == field_or_header:
                header = self.raw.present.get(column.field, column.header)
                break
        self.items.append(
            RowProblem(
                self.raw.file, self.raw.sheet, row, header, _show(value), reason, out_of_scope
            )
        )
        self.rows.add(row)

    def raise_if_any(self) -> None:
        if self.items:
            raise LedgerError(self.items, file=self.raw.file)


def _show(value: Any) -> Any:
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def import_ledger(
    engine: Engine,
    kind: LedgerKind,
    path: Path,
    *,
    actor: Actor,
    transform: PointTransform | None = None,
    crs_label: str = "EPSG:4490",
    sheet: str | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> LedgerResult:
    """Import ``path`` as a ``kind`` ledger; raises :class:`LedgerError` listing every problem
    (and writes nothing) when any row is wrong.

    ``transform`` turns the file's lon/lat (e.g. GCJ-02) into CGCS2000; None means the file is
    already in CGCS2000 (EPSG:4490). ``dry_run`` checks and counts but writes nothing.
    """
    step = progress or (lambda _stage, _done, _total: None)
    raw = read_sheet(path, kind, sheet=sheet, progress=lambda n: step("读取", n, 0))
    total = len(raw.rows)
    step("读取", total, total)
    problems = _Problems(raw, kind)
    rows = _parse_rows(raw, kind, problems)
    _apply_points(rows, kind, raw, problems, transform, crs_label)
    step("检查", 0, total)
    result = LedgerResult(
        kind=kind.name,
        label=kind.label,
        file=raw.file,
        sheet=raw.sheet,
        rows=total,
        crs=crs_label,
        warnings=[f"忽略了不认识的列「{h}」" for h in raw.ignored_headers],
    )
    with write_session(engine) as session:
        conn = session.connection()
        _resolve_units(conn, rows, kind, problems)
        _resolve_refs(conn, rows, kind, problems)
        _build_records(rows, kind, raw, problems)
        _check_scope(rows, kind, actor, policy or default_policy(), problems)
        _check_duplicates(rows, kind, problems)
        problems.raise_if_any()
        existing = _load_existing(conn, rows, kind, problems)
        step("检查", total, total)
        plan = _plan(rows, kind, existing, problems)
        _check_stored_scope(conn, kind, plan, actor, policy or default_policy(), problems)
        problems.raise_if_any()
        if dry_run:
            result.created, result.updated = len(plan.inserts), len(plan.updates)
            result.unchanged = plan.unchanged
            session.rollback()
            return result
        _write(conn, kind, plan, raw, actor.username, result, step)
    return result


# --- parsing ----------------------------------------------------------------------------------


def _parse_rows(raw: RawSheet, kind: LedgerKind, problems: _Problems) -> list[_Row]:
    columns = [c for c in kind.all_columns if c.field in raw.present]
    rows: list[_Row] = []
    for number, cells in raw.rows:
        values: dict[str, Any] = {}
        for column in columns:
            cell = cells.get(column.field)
            if is_empty(cell):
                if column.required:
                    problems.add(number, column.field, None, "必填,不能为空")
                values[column.field] = column.default
                continue
            try:
                values[column.field] = parse_cell(column, cell)
            except CellError as exc:
                problems.add(number, column.field, cell, str(exc))
                values[column.field] = None
        rows.append(_Row(number, values))
    return rows


def _apply_points(
    rows: list[_Row],
    kind: LedgerKind,
    raw: RawSheet,
    problems: _Problems,
    transform: PointTransform | None,
    crs_label: str,
) -> None:
    """Coordinates → CGCS2000 points in ``values['geom']`` (only when the columns are present)."""
    if not kind.point or (LON_FIELD not in raw.present and LAT_FIELD not in raw.present):
        return
    filled: list[_Row] = []
    for row in rows:
        lon, lat = row.values.get(LON_FIELD), row.values.get(LAT_FIELD)
        row.values["geom"] = None
        if lon is None and lat is None:
            continue
        if lon is None or lat is None:
            missing = LON_FIELD if lon is None else LAT_FIELD
            problems.add(row.number, missing, None, "经度和纬度须同时填写或同时留空")
            continue
        filled.append(row)
    if not filled:
        return
    xs = np.array([r.values[LON_FIELD] for r in filled], dtype=np.float64)
    ys = np.array([r.values[LAT_FIELD] for r in filled], dtype=np.float64)
    lons, lats = (xs, ys) if transform is None else transform(xs, ys)
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    for row, x, y, lon, lat in zip(filled, xs, ys, lons, lats, strict=True):
        if _in_china(lon, lat):
            row.values["geom"] = shapely.Point(float(lon), float(lat))
            continue
        reason = f"按 {crs_label} 换算后 ({lon:.6f}, {lat:.6f}) 不在中国范围内(经度73-136,纬度3-54)"
        if _in_china(y, x):
            reason = "经度和纬度可能填反了(经度应在73-136之间,纬度应在3-54之间)"
        problems.add(row.number, LON_FIELD, float(x), reason)


def _in_china(lon: float, lat: float) -> bool:
    return bool(CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1])


# --- resolving codes and references ---------------------------------------------------------


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _resolve_units(
    conn: Connection, rows: list[_Row], kind: LedgerKind, problems: _Problems
) -> None:
    """Every unit code must exist, be of the column's level and not be revoked."""
    unit_columns = [c for c in kind.all_columns if c.value_type == ColumnType.UNIT_CODE]
    wanted = sorted(
        {r.values[c.field] for r in rows for c in unit_columns if r.values.get(c.field)}
    )
    table = _table(Unit)
    found: dict[str, tuple[UnitLevel, str, date | None]] = {}
    for chunk in _chunks(wanted):
        stmt = select(table.c.code, table.c.level, table.c.name, table.c.valid_to).where(
            table.c.code.in_(chunk)
        )
        for code, level, name, valid_to in conn.execute(stmt):
            found[code] = (UnitLevel(level), name, valid_to)
    for row in rows:
        for column in unit_columns:
            code = row.values.get(column.field)
            if not code:
                continue
            if code not in found:
                problems.add(row.number, column.field, code, "区划代码不存在(请先导入区划)")
                row.values[column.field] = None
                continue
            level, name, valid_to = found[code]
            if column.levels and level not in column.levels:
                wanted_levels = "、".join(lv.label for lv in column.levels)
                problems.add(
                    row.number,
                    column.field,
                    code,
                    f"「{name}」是{level.label}级单位,此列应填{wanted_levels}级单位的代码",
                )
            elif valid_to is not None:
                problems.add(
                    row.number,
                    column.field,
                    code,
                    f"「{name}」已于 {valid_to.isoformat()} 撤销,请改用承继单位的代码",
                )


def _resolve_refs(
    conn: Connection, rows: list[_Row], kind: LedgerKind, problems: _Problems
) -> None:
    """Each reference's columns → the target's id (and its unit, for the permission scope)."""
    for ref in kind.refs:
        keys: dict[int, tuple[Any, ...]] = {}
        for index, row in enumerate(rows):
            parts = tuple(row.values.get(c) for c in ref.columns)
            present = [p is not None for p in parts]
            if not any(present):
                row.values[ref.field] = None
                continue
            if not all(present):
                for column, ok in zip(ref.columns, present, strict=True):
                    if not ok:
                        other = "、".join(kind.column(c).header for c in ref.columns if c != column)
                        problems.add(row.number, column, None, f"须与「{other}」一起填写")
                row.values[ref.field] = None
                continue
            keys[index] = parts
        found = _lookup(conn, ref, set(keys.values()))
        for index, parts in keys.items():
            row = rows[index]
            hit = found.get(parts)
            if hit is None:
                named = ",".join(
                    f"{kind.column(c).header} {p}" for c, p in zip(ref.columns, parts, strict=True)
                )
                problems.add(
                    row.number,
                    ref.columns[-1],
                    parts[-1],
                    f"找不到该{ref.target.label}({named})",
                )
                row.values[ref.field] = None
            elif hit[0] is None:
                problems.add(
                    row.number,
                    ref.columns[-1],
                    parts[-1],
                    f"数据库中有多个同名的{ref.target.label},无法确定是哪一个",
                )
                row.values[ref.field] = None
            else:
                row.values[ref.field] = hit[0]
                row.values[f"{ref.field}__unit"] = hit[1]


def _lookup(
    conn: Connection, ref: Ref, keys: set[tuple[Any, ...]]
) -> dict[tuple[Any, ...], tuple[int | None, str]]:
    """Natural key → (id, unit code); id None when the key is ambiguous in the database."""
    target = ref.target
    table = _table(target.model)
    first = sorted({k[0] for k in keys})
    found: dict[tuple[Any, ...], tuple[int | None, str]] = {}
    cols = [table.c.id, table.c[target.unit_field], *(table.c[k] for k in target.key)]
    for chunk in _chunks(first):
        stmt = select(*cols).where(table.c[target.key[0]].in_(chunk))
        for row_id, unit, *key in conn.execute(stmt):
            key_t = tuple(key)
            if key_t not in keys:
                continue
            found[key_t] = (None, unit) if key_t in found else (row_id, unit)
    return found


# --- records, scope, duplicates -------------------------------------------------------------


def _build_records(rows: list[_Row], kind: LedgerKind, raw: RawSheet, problems: _Problems) -> None:
    model_fields = [
        c.field for c in kind.all_columns if c.is_model_field and c.field in raw.present
    ]
    ref_fields = [r.field for r in kind.refs if any(c in raw.present for c in r.columns)]
    for row in rows:
        record = {f: row.values.get(f) for f in (*model_fields, *ref_fields)}
        if "geom" in row.values:
            record["geom"] = row.values["geom"]
        row.record = record
        if kind.derive is not None and row.number not in problems.rows:
            record.update(kind.derive(record))
        if kind.row_check is not None and row.number not in problems.rows:
            for header, reason in kind.row_check(record):
                problems.add(row.number, header, _value_under(kind, header, row), reason)


def _value_under(kind: LedgerKind, header: str, row: _Row) -> Any:
    for column in kind.all_columns:
        if column.header == header:
            return row.values.get(column.field)
    return None


def _check_scope(
    rows: list[_Row], kind: LedgerKind, actor: Actor, policy: Policy, problems: _Problems
) -> None:
    for row in rows:
        unit, header = _scope_unit(row, kind)
        row.scope_unit = unit
        if unit is None:
            continue
        reason = policy.refusal(actor, Action.UPLOAD_LEDGER, unit_code=unit, domain=kind.domain)
        if reason is not None:
            problems.add(
                row.number,
                header,
                unit,
                f"无权导入该单位的{kind.label}: {reason}",
                out_of_scope=True,
            )


def _check_stored_scope(
    conn: Connection,
    kind: LedgerKind,
    plan: _Plan,
    actor: Actor,
    policy: Policy,
    problems: _Problems,
) -> None:
    """A row that updates a stored record needs the right on the record's own unit too, not
    only on the unit the file names (else a file could take over another unit's record by its
    key)."""
    stored: dict[int, str] = {}  # row number -> unit of the stored record
    by_ref: dict[str, dict[int, list[int]]] = {}  # ref field -> target id -> row numbers
    for row, current, _changed in plan.updates:
        for name in kind.scope:
            value = current.get(name)
            if value is None:
                continue
            if any(r.field == name for r in kind.refs):
                by_ref.setdefault(name, {}).setdefault(int(value), []).append(row.number)
            else:
                stored[row.number] = str(value)
            break
    for name, targets in by_ref.items():
        ref = next(r for r in kind.refs if r.field == name)
        table = _table(ref.target.model)
        for chunk in _chunks(sorted(targets)):
            stmt = select(table.c.id, table.c[ref.target.unit_field]).where(table.c.id.in_(chunk))
            for target_id, unit in conn.execute(stmt):
                for number in targets[int(target_id)]:
                    stored[number] = str(unit)
    header = kind.key_headers()[0]
    for row, _current, _changed in plan.updates:
        unit = stored.get(row.number)
        if unit is None:
            continue
        reason = policy.refusal(actor, Action.UPLOAD_LEDGER, unit_code=unit, domain=kind.domain)
        if reason is not None:
            problems.add(
                row.number,
                header,
                _value_under(kind, header, row),
                f"该{kind.label}已登记在您无权修改的单位,不能导入或修改",
                out_of_scope=True,
            )


def _scope_unit(row: _Row, kind: LedgerKind) -> tuple[str | None, str]:
    for name in kind.scope:
        ref = next((r for r in kind.refs if r.field == name), None)
        if ref is None:
            value = row.values.get(name)
            if value:
                return str(value), name
        elif row.values.get(name) is not None:
            return str(row.values[f"{name}__unit"]), ref.columns[0]
    return None, kind.scope[0]


def _key_of(kind: LedgerKind, record: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(_norm(record.get(k)) for k in kind.key)


def _check_duplicates(rows: list[_Row], kind: LedgerKind, problems: _Problems) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        if row.number in problems.rows:
            continue
        key = _key_of(kind, row.record)
        if key in seen:
            headers = kind.key_headers()
            problems.add(
                row.number,
                headers[0],
                _value_under(kind, headers[0], row),
                f"与第{seen[key]}行重复(自然键: {'、'.join(headers)})",
            )
        else:
            seen[key] = row.number


# --- comparing with the database --------------------------------------------------------------


def _load_existing(
    conn: Connection, rows: list[_Row], kind: LedgerKind, problems: _Problems
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Existing rows whose natural key appears in the file, by key."""
    table = _table(kind.model)
    fields = list(rows[0].record) if rows else []
    # the scope columns too: an update is checked against the unit the stored row belongs to
    cols = [table.c[name] for name in dict.fromkeys(["id", *kind.key, *fields, *kind.scope])]
    if "version" in table.c:
        cols.append(table.c.version)
    first = sorted({_norm(r.record.get(kind.key[0])) for r in rows}, key=repr)
    non_null = [v for v in first if v is not None]
    statements = [
        select(*cols).where(table.c[kind.key[0]].in_(chunk)) for chunk in _chunks(non_null)
    ]
    if None in first:
        statements.append(select(*cols).where(table.c[kind.key[0]].is_(None)))
    wanted = {_key_of(kind, r.record) for r in rows}
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    ambiguous: set[tuple[Any, ...]] = set()
    for stmt in statements:
        for found in conn.execute(stmt).mappings():
            key = _key_of(kind, dict(found))
            if key not in wanted:
                continue
            if key in existing:
                ambiguous.add(key)
            existing[key] = dict(found)
    for row in rows:
        if _key_of(kind, row.record) in ambiguous:
            header = kind.key_headers()[0]
            problems.add(
                row.number,
                header,
                _value_under(kind, header, row),
                "数据库中已有多条自然键相同的记录,无法确定更新哪一条",
            )
    return existing


def _norm(value: Any) -> Any:
    """A comparable form: enums by value, geometries by WKB, lists and dicts recursively."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseGeometry):
        return shapely.to_wkb(value, hex=True)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class _Plan:
    inserts: list[_Row] = field(default_factory=list)
    updates: list[tuple[_Row, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0


def _plan(
    rows: list[_Row],
    kind: LedgerKind,
    existing: dict[tuple[Any, ...], dict[str, Any]],
    problems: _Problems,
) -> _Plan:
    plan = _Plan()
    cycle = default_lifecycles()[kind.lifecycle] if kind.lifecycle else None
    for row in rows:
        current = existing.get(_key_of(kind, row.record))
        if current is None:
            plan.inserts.append(row)
            continue
        changed = {
            name: value
            for name, value in row.record.items()
            if _norm(value) != _norm(current.get(name))
        }
        if not changed:
            plan.unchanged += 1
            continue
        status = kind.status_field
        if cycle is not None and status is not None and status in changed:
            old, new = _norm(current[status]), _norm(changed[status])
            if not cycle.allowed(old, new):
                labels = {m.value: m.label for m in cycle.enum}
                allowed = "、".join(labels[s] for s in sorted(cycle.transitions.get(old, ())))
                problems.add(
                    row.number,
                    status,
                    changed[status],
                    f"状态不能从「{labels.get(old, old)}」变为「{labels.get(new, new)}」"
                    f"(允许: {allowed or '无'})",
                )
                continue
        plan.updates.append((row, current, changed))
    return plan


# --- writing --------------------------------------------------------------------------------


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _defaults(kind: LedgerKind) -> dict[str, Any]:
    """Insert values for the columns a file may leave out: the column's or the model's default."""
    values: dict[str, Any] = {}
    for name, info in kind.model.model_fields.items():
        if name == "id" or name not in _table(kind.model).c or info.is_required():
            continue
        values[name] = info.get_default(call_default_factory=True)
    for column in kind.all_columns:
        if column.is_model_field and column.default is not None:
            values[column.field] = column.default
    return values


def _with_bbox(values: dict[str, Any], table: Table) -> dict[str, Any]:
    if "geom" in values and "minx" in table.c:
        values.update(zip(SPATIAL_BBOX, bbox(values["geom"]), strict=True))
    return values


def _write(
    conn: Connection,
    kind: LedgerKind,
    plan: _Plan,
    raw: RawSheet,
    actor: str,
    result: LedgerResult,
    step: Progress,
) -> None:
    table = _table(kind.model)
    total = len(plan.inserts) + len(plan.updates)
    step("写入", 0, total)
    now = clock.now()
    today = clock.today()
    note = f"台账导入 {kind.label} {raw.file}"
    logs: list[dict[str, Any]] = []
    history: list[tuple[int, _Row, dict[str, Any], dict[str, Any] | None]] = []

    if plan.inserts:
        base = _defaults(kind)
        payload = [_with_bbox({**base, **row.record}, table) for row in plan.inserts]
        ids: list[int] = []
        for chunk in _chunks(payload):
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids += [int(i) for i in conn.execute(stmt, list(chunk)).scalars()]
            step("写入", len(ids), total)
        for row_id, row, values in zip(ids, plan.inserts, payload, strict=True):
            new = {k: json_value(v) for k, v in values.items() if k not in SPATIAL_BBOX}
            logs.append(_log(now, actor, ChangeAction.CREATE, kind, row_id, None, new, note, row))
            history.append((row_id, row, values, None))

    if plan.updates:
        fields = list(dict.fromkeys(n for n in plan.updates[0][0].record))
        has_version = "version" in table.c
        has_bbox = "geom" in fields and "minx" in table.c
        setters: dict[str, Any] = {f: bindparam(f"v_{f}") for f in fields}
        if has_version:
            setters["version"] = bindparam("v_version")
        if has_bbox:
            setters.update({b: bindparam(f"v_{b}") for b in SPATIAL_BBOX})
        change = update(table).where(table.c.id == bindparam("w_id"))
        if has_version:
            change = change.where(table.c.version == bindparam("w_version"))
        change = change.values(setters)
        params = []
        for row, current, _changed in plan.updates:
            p = {f"v_{f}": row.record[f] for f in fields}
            p["w_id"] = current["id"]
            if has_version:
                p["w_version"] = current["version"]
                p["v_version"] = current["version"] + 1
            if has_bbox:
                p.update(
                    {
                        f"v_{b}": v
                        for b, v in zip(SPATIAL_BBOX, bbox(row.record["geom"]), strict=True)
                    }
                )
            params.append(p)
        done = len(plan.inserts)
        for chunk in _chunks(params):
            outcome = conn.execute(change, list(chunk))
            if outcome.rowcount not in (-1, len(chunk)):
                stale = len(chunk) - outcome.rowcount
                msg = f"{kind.label}: 导入期间有 {stale} 条记录被他人修改,请重新导入"
                raise LedgerError(
                    [RowProblem(raw.file, raw.sheet, 0, "", None, msg)], file=raw.file
                )
            done += len(chunk)
            step("写入", done, total)
        for row, current, changed in plan.updates:
            old = {k: json_value(current.get(k)) for k in changed}
            new = {k: json_value(v) for k, v in changed.items()}
            if has_version:
                old["version"], new["version"] = current["version"], current["version"] + 1
            logs.append(
                _log(now, actor, ChangeAction.UPDATE, kind, current["id"], old, new, note, row)
            )
            history.append((int(current["id"]), row, row.record, current))

    result.history_rows = _write_history(conn, kind, history, actor, now, today)
    if logs:
        conn.execute(insert(_table(ChangeLog)), logs)
    result.created = len(plan.inserts)
    result.updated = len(plan.updates)
    result.unchanged = plan.unchanged
    step("写入", total, total)


def _log(
    now: Any,
    actor: str,
    action: ChangeAction,
    kind: LedgerKind,
    object_id: int,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    note: str,
    row: _Row,
) -> dict[str, Any]:
    return {
        "at": now,
        "actor": actor,
        "action": action,
        "object_type": kind.object_type,
        "object_id": str(object_id),
        "old": old,
        "new": new,
        "note": f"{note} 第{row.number}行",
    }


def _write_history(
    conn: Connection,
    kind: LedgerKind,
    history: list[tuple[int, _Row, dict[str, Any], dict[str, Any] | None]],
    actor: str,
    now: Any,
    today: date,
) -> int:
    rows: list[dict[str, Any]] = []
    if kind.history == "toilet_state":
        for object_id, row, values, current in history:
            if current is not None and all(
                _norm(values[f]) == _norm(current.get(f)) for f in TOILET_STATE_FIELDS
            ):
                continue
            effective = row.values.get(EFFECTIVE_FIELD) or (
                values.get("accepted_on") if current is None else None
            )
            rows.append(
                {
                    "toilet_id": object_id,
                    "effective_on": effective or today,
                    **{f: values[f] for f in TOILET_STATE_FIELDS},
                    "recorded_at": now,
                    "actor": actor,
                    "note": f"台账导入 第{row.number}行",
                }
            )
        if rows:
            conn.execute(insert(_table(ToiletState)), rows)
    elif kind.history == "status_change" and kind.status_field is not None:
        status = kind.status_field
        for object_id, row, values, current in history:
            old = None if current is None else _norm(current.get(status))
            new = _norm(values[status])
            if old == new:
                continue
            rows.append(
                {
                    "object_type": kind.object_type,
                    "object_id": object_id,
                    "from_status": old,
                    "to_status": new,
                    "effective_on": row.values.get(EFFECTIVE_FIELD) or today,
                    "recorded_at": now,
                    "actor": actor,
                    "note": f"台账导入 第{row.number}行",
                }
            )
        if rows:
            conn.execute(insert(_table(StatusChange)), rows)
    return len(rows)
