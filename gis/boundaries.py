"""Importing town or village boundaries from a GIS file onto the units already in the database.

Steps: read the file (``gis.io``: encoding rule, file CRS); settle the CRS (a declared
``--crs`` states what the coordinates really are and wins over the file; no CRS at all is
refused); refuse coordinates outside China or with swapped axes; convert to CGCS2000 (undoing
GCJ-02 when declared); repair invalid polygons; match each feature to a unit by code, else by
name within its parent; write MultiPolygons to ``Unit.geom`` in one transaction with a change-log
row per unit whose boundary changed (re-importing the same file writes nothing).

All or nothing: a feature without a usable polygon, or one that matches no unit, refuses the
whole file with every problem listed (nothing is written), unless the caller asks to skip such
features (``skip_unmatched``, for files that also hold neighbouring units); skipped features are
reported, never guessed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from gis.crs import (
    GCJ02,
    check_geometries_in_china,
    crs_label,
    gauss_kruger_crs_for,
    geometries_from_cgcs2000,
    geometries_to_cgcs2000,
    normalize_crs,
    same_crs,
)
from gis.io import GisFile, read_gis_file
from gis.spatial import locate_points
from rural import audit, codes
from rural.db import write_session
from rural.enums import ChangeAction, UnitLevel
from rural.errors import CrsError, GisFileError
from rural.models import Unit

LEVELS = {"town": UnitLevel.TOWN, "village": UnitLevel.VILLAGE}
# Two boundaries closer than this (degrees, about 0.01 mm) are the same boundary: far below the
# precision of any boundary file, far above the rounding left by a CRS conversion (1e-14).
SAME_BOUNDARY_TOLERANCE = 1e-10
PARENT_LEVEL = {UnitLevel.TOWN: UnitLevel.COUNTY, UnitLevel.VILLAGE: UnitLevel.TOWN}

# Attribute names seen in county GIS files (compared case-insensitively), by role and level.
CODE_FIELDS = {
    UnitLevel.TOWN: ("code", "区划代码", "统计用区划代码", "行政区划代码", "xzqdm", "qhdm",
                     "town_code", "乡镇代码", "dm", "代码"),
    UnitLevel.VILLAGE: ("code", "区划代码", "统计用区划代码", "行政区划代码", "xzqdm", "qhdm",
                        "village_code", "村代码", "cjqydm", "dm", "代码"),
}  # fmt: skip
NAME_FIELDS = {
    UnitLevel.TOWN: ("name", "名称", "xzqmc", "qhmc", "mc", "town", "town_name", "乡镇",
                     "乡镇名称", "乡镇名"),
    UnitLevel.VILLAGE: ("name", "名称", "xzqmc", "qhmc", "mc", "village", "village_name", "村名",
                        "村名称", "行政村", "cjqymc"),
}  # fmt: skip
PARENT_FIELDS = {
    UnitLevel.TOWN: ("county", "county_code", "county_name", "县", "所属县", "parent",
                     "parent_code"),
    UnitLevel.VILLAGE: ("town", "town_code", "town_name", "乡镇", "乡镇代码", "乡镇名称",
                        "所属乡镇", "parent", "parent_code"),
}  # fmt: skip

_SPACES = re.compile(r"[\s\u3000]+")
# Official names end in 村委会/居委会; GIS layers often drop the committee part.
_SUFFIXES = (("村民委员会", "村"), ("居民委员会", ""), ("村委会", "村"), ("居委会", ""))


def name_key(name: str) -> str:
    """A unit name for matching: no spaces, committee suffixes reduced (王家村委会 → 王家村)."""
    text = _SPACES.sub("", name)
    for suffix, replacement in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)] + replacement
    return text


@dataclass(frozen=True)
class FeatureRef:
    """A feature of the file, as the user can find it: its number (1-based), code and name."""

    number: int
    code: str | None
    name: str | None

    def __str__(self) -> str:
        parts = [f"第 {self.number} 个要素"]
        if self.code:
            parts.append(f"代码 {self.code}")
        if self.name:
            parts.append(f"名称 {self.name}")
        return " ".join(parts)


class BoundaryFeaturesError(GisFileError):
    """Features that cannot be imported (no usable polygon, or no unit to match); nothing was
    written. ``problems`` holds (feature, field, reason) for every one."""

    def __init__(self, message: str, *, problems: list[tuple[FeatureRef, str, str]]) -> None:
        super().__init__(message, field="features", value=[ref.number for ref, _, _ in problems])
        self.problems = problems


@dataclass
class BoundaryReport:
    """What an import matched, repaired, skipped and wrote."""

    file: str
    level: UnitLevel
    features: int
    file_crs: str
    crs_used: str
    crs_note: str | None
    encoding: str
    encoding_source: str
    fields: dict[str, str | None]
    matched_by_code: list[tuple[FeatureRef, str]] = field(default_factory=list)
    matched_by_name: list[tuple[FeatureRef, str]] = field(default_factory=list)
    unmatched: list[tuple[FeatureRef, str]] = field(default_factory=list)
    unmatched_fields: dict[int, str] = field(default_factory=dict)  # feature number -> field
    repaired: list[tuple[FeatureRef, str]] = field(default_factory=list)
    merged: list[tuple[str, int]] = field(default_factory=list)  # unit code, parts joined
    units_without_boundary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: int = 0
    unchanged: list[str] = field(default_factory=list)  # unit codes whose boundary is the same
    dry_run: bool = False
    skip_unmatched: bool = False

    def skip(self, ref: FeatureRef, field_name: str, reason: str) -> None:
        """Record a feature that cannot be imported, with the field at fault."""
        self.unmatched.append((ref, reason))
        self.unmatched_fields[ref.number] = field_name

    def problems(self) -> list[tuple[FeatureRef, str, str]]:
        """(feature, field, reason) of every feature that cannot be imported, in file order."""
        ordered = sorted(self.unmatched, key=lambda item: item[0].number)
        return [(ref, self.unmatched_fields.get(ref.number, "-"), why) for ref, why in ordered]

    def lines(self) -> list[str]:
        level = self.level.label
        out = [
            f"边界导入 / boundaries: {self.file} ({level}, {self.features} 个要素)",
            f"  文件坐标系 file CRS: {self.file_crs}",
            f"  采用坐标系 CRS used: {self.crs_used}",
        ]
        if self.crs_note:
            out.append(f"  注意 note: {self.crs_note}")
        out += [
            f"  文字编码 encoding: {self.encoding} ({self.encoding_source})",
            "  字段 fields: "
            + ", ".join(f"{role}={name or '-'}" for role, name in self.fields.items()),
            f"  按代码匹配 matched by code: {len(self.matched_by_code)}",
            f"  按名称匹配 matched by name: {len(self.matched_by_name)}",
            f"  未匹配 unmatched: {len(self.unmatched)}"
            + (" (已跳过 skipped, --skip-unmatched)" if self.unmatched else ""),
            f"  已修复几何 repaired: {len(self.repaired)}",
            f"  多要素合并 merged: {len(self.merged)}",
            f"  写入 written: {self.written}" + (" (试运行 dry run)" if self.dry_run else ""),
            f"  边界未变 unchanged: {len(self.unchanged)}",
            f"  库中无边界的{level} units still without boundary: "
            f"{len(self.units_without_boundary)}",
        ]
        out += [f"    未匹配 {ref}: {reason}" for ref, reason in self.unmatched[:100]]
        out += [f"    已修复 {ref}: {reason}" for ref, reason in self.repaired[:100]]
        out += [f"    注 {note}" for note in self.notes]
        return out


# --- pure steps ---------------------------------------------------------------------------------


def resolve_crs(declared: str | None, gis_file: GisFile) -> tuple[str | CRS, str | None]:
    """(the CRS to use, a note when the declaration differs from the file or fills a gap)."""
    file_crs = gis_file.file_crs
    if declared is None:
        if file_crs is None:
            msg = (
                f"{gis_file.path.name}: 文件没有坐标系, 请用 --crs 声明 (如 --crs EPSG:4490, "
                "--crs EPSG:4549 或 --crs gcj02) / the file has no CRS: declare one with --crs"
            )
            raise CrsError(msg, field="crs", value=None)
        return file_crs, None
    used = normalize_crs(declared)
    if file_crs is None:
        return used, f"文件无坐标系, 按声明的 {crs_label(used)} 处理 / no file CRS; declared used"
    if same_crs(used, file_crs):
        return used, None
    note = (
        f"文件自称 {crs_label(file_crs)}, 按声明的 {crs_label(used)} 处理 / "
        "the declared CRS differs from the file's and wins"
    )
    return used, note


def repair(geom: BaseGeometry) -> tuple[MultiPolygon | None, str | None]:
    """(a valid MultiPolygon or None when nothing polygonal is left, the defect found or None)."""
    reason = None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = [
        p
        for p in shapely.get_parts(geom)
        if isinstance(p, Polygon | MultiPolygon) and not p.is_empty
    ]
    polygons: list[Polygon] = []
    for part in parts:
        polygons.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    if not polygons:
        return None, reason
    return MultiPolygon(polygons), reason


def normalize_code(value: object, level: UnitLevel) -> str | None:
    """A 12-digit code from a cell (numbers, 9-digit town codes), or None when it is not one."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = codes.normalize(str(value))  # full-width digits folded to ASCII
    if level == UnitLevel.TOWN and len(text) == 9 and text.isascii() and text.isdigit():
        text += "000"
    if len(text) != 12 or not (text.isascii() and text.isdigit()):
        return None
    return text


def _code_text(value: object) -> str | None:
    """A code cell as text (a float 331128101201.0 read from a numeric field → digits)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _text(value)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _pick_field(frame: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], role: str,
                file: str) -> str | None:  # fmt: skip
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if wanted is not None:
        if wanted not in columns:
            names = ", ".join(map(str, columns))
            msg = f"{file}: 没有字段 {wanted!r} (有: {names}) / no such field"
            raise GisFileError(msg, field=role, value=wanted)
        return wanted
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in candidates:
        if candidate in lowered:
            return str(lowered[candidate])
    return None


# --- matching -----------------------------------------------------------------------------------


@dataclass
class _Units:
    """Current units of the level and of the parent level, for matching."""

    by_code: dict[str, Unit]
    closed: dict[str, Unit]
    by_parent_name: dict[tuple[str, str], list[str]]  # (parent code, name key) -> codes
    by_name: dict[str, list[str]]  # name key -> codes
    parents_by_code: dict[str, Unit]
    parents_by_name: dict[str, list[str]]
    parent_polygons: tuple[list[BaseGeometry], list[str]]


def _load_units(session: Session, level: UnitLevel) -> _Units:
    parent_level = PARENT_LEVEL[level]
    rows = session.exec(select(Unit).where(col(Unit.level).in_([level, parent_level]))).all()
    by_code: dict[str, Unit] = {}
    closed: dict[str, Unit] = {}
    by_parent_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    parents_by_code: dict[str, Unit] = {}
    parents_by_name: dict[str, list[str]] = defaultdict(list)
    polygons: list[BaseGeometry] = []
    polygon_codes: list[str] = []
    for unit in rows:
        current = unit.valid_to is None
        if unit.level == level:
            if not current:
                closed[unit.code] = unit
                continue
            by_code[unit.code] = unit
            key = name_key(unit.name)
            by_name[key].append(unit.code)
            if unit.parent_code:
                by_parent_name[(unit.parent_code, key)].append(unit.code)
        elif current:
            parents_by_code[unit.code] = unit
            parents_by_name[name_key(unit.name)].append(unit.code)
            if unit.geom is not None:
                polygons.append(unit.geom)
                polygon_codes.append(unit.code)
    return _Units(
        by_code, closed, by_parent_name, by_name, parents_by_code, parents_by_name,
        (polygons, polygon_codes),
    )  # fmt: skip


def _parent_from_field(
    value: str | None, units: _Units, level: UnitLevel
) -> tuple[str | None, str | None]:
    """(the parent's code, or None and why the field's value names no single parent)."""
    if value is None:
        return None, None
    code = normalize_code(value, PARENT_LEVEL[level])
    if (
        code is None
        and level == UnitLevel.VILLAGE
        and len(value) == 9
        and value.isascii()
        and value.isdigit()
    ):
        code = value + "000"
    if code is not None:
        if code in units.parents_by_code:
            return code, None
        return None, f"上级代码 {value} 不在库中 / parent code unknown"
    found = units.parents_by_name.get(name_key(value), [])
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, f"没有名为 {value} 的上级单位 / no parent of that name"
    return None, f"有 {len(found)} 个名为 {value} 的上级单位 / ambiguous parent"


def _match(
    ref: FeatureRef,
    parent_value: str | None,
    spatial_parent: str,
    units: _Units,
    level: UnitLevel,
) -> tuple[str | None, str, str]:
    """(unit code, how: 'code' | 'name', '') or (None, why not, the field at fault: 'code' |
    'name' | 'parent')."""
    code = normalize_code(ref.code, level)
    if code is not None:
        if code in units.by_code:
            return code, "code", ""
        if code in units.closed:
            until = units.closed[code].valid_to
            when = until.isoformat() if until else "?"
            return None, f"代码 {code} 的单位已撤销 ({when}) / the unit is closed", "code"
    if ref.name is None:
        why = "代码不在库中且无名称 / code unknown and no name" if ref.code else "无代码无名称"
        return None, why, "code"
    key = name_key(ref.name)
    parent, problem = _parent_from_field(parent_value, units, level)
    if problem is not None:
        return None, problem, "parent"
    parent = parent or spatial_parent or None
    if parent is not None:
        found = units.by_parent_name.get((parent, key), [])
        where = f"上级 {parent} 下"
    else:
        found = units.by_name.get(key, [])
        where = "全库"
    if len(found) == 1:
        return found[0], "name", ""
    if not found:
        return None, f"{where}没有名为 {ref.name} 的{level.label} / no unit of that name", "name"
    why = f"{where}有 {len(found)} 个名为 {ref.name} 的{level.label}, 无法确定 / ambiguous"
    return None, why, "name"


# --- the import -----------------------------------------------------------------------------------


def import_boundaries(
    engine: Engine,
    path: str | Path,
    *,
    level: UnitLevel | str,
    actor: str,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    dry_run: bool = False,
    skip_unmatched: bool = False,
) -> BoundaryReport:
    """Read, check, convert, repair and match a boundary file; write in one transaction.

    Raises :class:`BoundaryFeaturesError` (nothing written) when a feature has no usable
    polygon or matches no unit, unless ``skip_unmatched``: then those are skipped and reported.
    A dry run checks the same and writes nothing."""
    unit_level = LEVELS[level] if isinstance(level, str) else level
    if unit_level not in PARENT_LEVEL:
        msg = f"边界只能导入到乡镇或村 / level must be town or village, got {level!r}"
        raise GisFileError(msg, field="level", value=str(level))
    gis_file = read_gis_file(path, encoding=encoding, layer=layer)
    frame = gis_file.frame
    shown = gis_file.path.name
    used, crs_note = resolve_crs(crs, gis_file)
    fields = {
        "code": _pick_field(frame, code_field, CODE_FIELDS[unit_level], "code_field", shown),
        "name": _pick_field(frame, name_field, NAME_FIELDS[unit_level], "name_field", shown),
        "parent": _pick_field(
            frame, parent_field, PARENT_FIELDS[unit_level], "parent_field", shown
        ),
    }
    if fields["code"] is None and fields["name"] is None:
        columns = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
        msg = (
            f"{shown}: 找不到代码或名称字段 (有: {columns}); 用 --code-field / --name-field 指定 / "
            "no code or name field found"
        )
        raise GisFileError(msg, field="code_field", value=columns)
    refs = [
        FeatureRef(
            number=i + 1,
            code=_code_text(frame[fields["code"]].iloc[i]) if fields["code"] else None,
            name=_text(frame[fields["name"]].iloc[i]) if fields["name"] else None,
        )
        for i in range(len(frame))
    ]
    raw = np.asarray(frame.geometry.values, dtype=object)
    report = BoundaryReport(
        file=shown,
        level=unit_level,
        features=len(frame),
        file_crs=crs_label(gis_file.file_crs),
        crs_used=crs_label(used),
        crs_note=crs_note,
        encoding=gis_file.encoding,
        encoding_source=gis_file.encoding_source,
        fields=fields,
        notes=list(gis_file.notes),
        dry_run=dry_run,
        skip_unmatched=skip_unmatched,
    )
    present = np.array([g is not None and not g.is_empty for g in raw], dtype=bool)
    check_geometries_in_china(
        raw[present],
        used,
        describe=lambda i: str(refs[int(np.flatnonzero(present)[i])]),
        source=shown,
    )
    converted = np.full(raw.shape[0], None, dtype=object)
    converted[present] = geometries_to_cgcs2000(raw[present], used)
    if isinstance(used, str) and used == GCJ02:
        report.notes.append("已由 GCJ-02 换算为 CGCS2000 / converted from GCJ-02 to CGCS2000")

    shapes: dict[int, MultiPolygon] = {}
    geometry_field = str(frame.geometry.name)
    for i, geom in enumerate(converted):
        ref = refs[i]
        if geom is None:
            report.skip(ref, geometry_field, "无几何 / no geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            report.skip(ref, geometry_field, f"不是面要素 ({geom.geom_type}) / not a polygon")
            continue
        fixed, defect = repair(geom)
        if defect is not None:
            report.repaired.append((ref, defect))
        if fixed is None:
            why = f"修复后没有面 ({defect}) / nothing left after repair"
            report.skip(ref, geometry_field, why)
            continue
        shapes[i] = fixed
    if not shapes and len(frame):
        kinds = sorted({g.geom_type for g in raw[present]})
        msg = f"{shown}: 没有可用的面要素 (几何类型: {', '.join(kinds) or '无'}) / no polygons"
        raise GisFileError(msg, field="geometry", value=kinds)

    with write_session(engine) as session:
        units = _load_units(session, unit_level)
        spatial_parents = _spatial_parents(shapes, units)
        parent_values = (
            [_text(v) for v in frame[fields["parent"]]] if fields["parent"] else [None] * len(frame)
        )
        assigned: dict[str, list[int]] = defaultdict(list)
        how: dict[str, str] = {}
        for i in sorted(shapes):
            ref = refs[i]
            code, matched, at_fault = _match(
                ref, parent_values[i], spatial_parents.get(i, ""), units, unit_level
            )
            if code is None:
                report.skip(ref, fields.get(at_fault) or at_fault, matched)
                continue
            (report.matched_by_code if matched == "code" else report.matched_by_name).append(
                (ref, code)
            )
            assigned[code].append(i)
            how.setdefault(code, matched)
        report.unmatched.sort(key=lambda item: item[0].number)
        if report.unmatched and not skip_unmatched:
            raise _refusal(report)
        _write(session, assigned, shapes, units, how, report=report, actor=actor)
        touched_parents = {units.by_code[c].parent_code for c in assigned}
        report.units_without_boundary = sorted(
            code
            for code, unit in units.by_code.items()
            if unit.parent_code in touched_parents and code not in assigned and unit.geom is None
        )
        if dry_run:
            session.rollback()
    return report


def _refusal(report: BoundaryReport) -> BoundaryFeaturesError:
    """The error that refuses the whole file, listing every feature that cannot be imported."""
    problems = report.problems()
    lines = [
        f"{report.file}: {report.features} 个要素中有 {len(problems)} 个不能导入, 整个文件未导入, "
        f"没有写入任何边界 / {len(problems)} of {report.features} features cannot be imported; "
        "nothing was written:"
    ]
    lines += [f"  {ref}, 字段 {field_name}: {why}" for ref, field_name, why in problems]
    lines.append(
        "改正这些要素后重新导入; 如果文件里本来就有不属于本库的要素 (如邻县、邻乡的单位), "
        "加 --skip-unmatched 只写入能匹配的要素 / fix them, or add --skip-unmatched to write "
        "the matched features and skip these"
    )
    return BoundaryFeaturesError("\n".join(lines), problems=problems)


def _spatial_parents(shapes: dict[int, MultiPolygon], units: _Units) -> dict[int, str]:
    """Each feature's parent unit by where a point inside it lies, if parents have boundaries."""
    polygons, polygon_codes = units.parent_polygons
    if not polygons or not shapes:
        return {}
    order = sorted(shapes)
    points = shapely.point_on_surface(np.asarray([shapes[i] for i in order], dtype=object))
    located = locate_points(
        shapely.get_x(points), shapely.get_y(points), np.asarray(polygons, dtype=object),
        polygon_codes,
    )  # fmt: skip
    return {i: str(code) for i, code in zip(order, located, strict=True) if code}


def _write(
    session: Session,
    assigned: dict[str, list[int]],
    shapes: dict[int, MultiPolygon],
    units: _Units,
    how: dict[str, str],
    *,
    report: BoundaryReport,
    actor: str,
) -> None:
    if not assigned:
        return
    merged: dict[str, MultiPolygon] = {}
    for code, indices in assigned.items():
        if len(indices) == 1:
            merged[code] = shapes[indices[0]]
            continue
        union = shapely.union_all([shapes[i] for i in indices])
        fixed, _ = repair(union)
        if fixed is not None:
            merged[code] = fixed
            report.merged.append((code, len(indices)))
    changed: dict[str, MultiPolygon] = {}
    for code in sorted(merged):
        if same_boundary(units.by_code[code].geom, merged[code]):
            report.unchanged.append(code)
        else:
            changed[code] = merged[code]
    if not changed:
        return
    areas = _areas_km2(changed)
    for code in sorted(changed):
        unit = units.by_code[code]
        had = unit.geom is not None
        unit.geom = changed[code]
        unit.version += 1
        session.add(unit)
        minx, miny, maxx, maxy = changed[code].bounds
        audit.record(
            session,
            actor=actor,
            action=ChangeAction.UPDATE,
            object_type="unit",
            object_id=code,
            old={"geom": "replaced" if had else None},
            new={
                "geom_source": report.file,
                "matched_by": how[code],
                "area_km2": round(areas[code], 4),
                "bbox": [round(v, 6) for v in (minx, miny, maxx, maxy)],
            },
            note=f"边界导入 / boundary import ({report.crs_used})",
        )
        report.written += 1
    session.flush()


def same_boundary(stored: BaseGeometry | None, new: BaseGeometry) -> bool:
    """Whether ``new`` is the boundary already stored: the same polygons, vertex for vertex
    within :data:`SAME_BOUNDARY_TOLERANCE`, whatever the ring start, direction or part order."""
    if stored is None or stored.is_empty:
        return False
    return bool(
        shapely.equals_exact(
            shapely.normalize(stored), shapely.normalize(new), tolerance=SAME_BOUNDARY_TOLERANCE
        )
    )


def _areas_km2(shapes: dict[str, MultiPolygon]) -> dict[str, float]:
    """Areas in a Gauss-Kruger CRS chosen from the data."""
    codes_ = sorted(shapes)
    geoms = np.asarray([shapes[c] for c in codes_], dtype=object)
    bounds = shapely.total_bounds(geoms)
    metric = gauss_kruger_crs_for(float(bounds[0]), float(bounds[2]))
    projected = geometries_from_cgcs2000(geoms, metric)
    return {c: float(a) / 1e6 for c, a in zip(codes_, shapely.area(projected), strict=True)}
