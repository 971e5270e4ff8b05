"""``rural check locate`` and ``rural check coverage``: spatial checks on the database.

``locate``: which village each household and facility lies in by its coordinates, and the ones
whose declared village differs. ``coverage``: households within a distance of a working
collection point, and households inside a working sewage facility's service area.
The GIS work is ``gis.spatial``; this module reads the database and prints.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from rural.commands import print_error
from rural.commands.divisions import migrated_engine
from rural.enums import FacilityStatus, UnitLevel
from rural.models import CollectionPoint, Household, PublicToilet, SewageFacility, Unit

check_app = typer.Typer(
    help="Spatial checks (空间核查): points in the wrong village, service coverage.",
    no_args_is_help=True,
)

POINT_KINDS: dict[str, tuple[Any, str, str]] = {
    # kind: (model, id column, label)
    "household": (Household, "code", "农户"),
    "collection_point": (CollectionPoint, "id", "垃圾收集点"),
    "public_toilet": (PublicToilet, "id", "农村公厕"),
    "sewage_facility": (SewageFacility, "id", "污水处理设施"),
}
DEFAULT_DISTANCE_M = 500.0


@dataclass(frozen=True)
class Villages:
    codes: list[str]
    names: dict[str, str]
    polygons: np.ndarray


@dataclass(frozen=True)
class PointSet:
    ids: list[str]
    declared: list[str]
    x: np.ndarray
    y: np.ndarray


def load_villages(session: Session) -> Villages:
    """Current village-level units that have a boundary (names of all, for messages)."""
    rows = session.exec(
        select(Unit).where(
            Unit.level == UnitLevel.VILLAGE,
            col(Unit.valid_to).is_(None),
            col(Unit.geom).is_not(None),
        )
    ).all()
    names = dict(
        session.exec(select(Unit.code, Unit.name).where(Unit.level == UnitLevel.VILLAGE)).all()
    )
    return Villages(
        codes=[u.code for u in rows],
        names=names,
        polygons=np.asarray([u.geom for u in rows], dtype=object),
    )


def load_points(session: Session, kind: str, *, where: Any = None) -> PointSet:
    """Points of a kind that have coordinates (read from the bbox columns: a point's bbox is
    the point itself, so no geometry is decoded)."""
    model, id_column, _ = POINT_KINDS[kind]
    statement = select(getattr(model, id_column), model.village_code, model.minx, model.miny).where(
        col(model.minx).is_not(None)
    )
    if kind == "household":
        statement = statement.where(col(Household.valid_to).is_(None))
    if where is not None:
        statement = statement.where(where)
    rows = session.exec(statement).all()
    return PointSet(
        ids=[str(r[0]) for r in rows],
        declared=[str(r[1]) for r in rows],
        x=np.asarray([r[2] for r in rows], dtype=np.float64),
        y=np.asarray([r[3] for r in rows], dtype=np.float64),
    )


@dataclass
class LocateResult:
    kind: str
    label: str
    points: int
    in_declared: int
    elsewhere: list[tuple[str, str, str]] = field(default_factory=list)  # id, declared, located
    outside: list[tuple[str, str]] = field(default_factory=list)  # id, declared


def locate_check(engine: Engine, kinds: list[str]) -> tuple[list[LocateResult], Villages]:
    from gis.spatial import village_mismatches

    with Session(engine) as session:
        villages = load_villages(session)
        results = []
        for kind in kinds:
            points = load_points(session, kind)
            found = village_mismatches(
                points.ids, points.x, points.y, points.declared, villages.polygons, villages.codes
            )
            result = LocateResult(
                kind=kind,
                label=POINT_KINDS[kind][2],
                points=len(points.ids),
                in_declared=len(points.ids) - len(found),
            )
            for m in found:
                if m.located:
                    result.elsewhere.append((m.point_id, m.declared, m.located))
                else:
                    result.outside.append((m.point_id, m.declared))
            results.append(result)
    return results, villages


@dataclass
class VillageCoverage:
    code: str
    name: str
    households: int
    near_collection: int
    in_sewage_area: int


def coverage_check(engine: Engine, *, distance_m: float) -> list[VillageCoverage]:
    """Per declared village: households with coordinates, within ``distance_m`` of an operating
    collection point, inside an operating sewage facility's service area."""
    from gis.spatial import coverage_within_areas, coverage_within_distance

    with Session(engine) as session:
        homes = load_points(session, "household")
        points = load_points(
            session, "collection_point", where=CollectionPoint.status == FacilityStatus.OPERATING
        )
        facilities = session.exec(
            select(SewageFacility).where(
                SewageFacility.status == FacilityStatus.OPERATING,
                col(SewageFacility.service_area).is_not(None),
            )
        ).all()
        areas = [f.service_area for f in facilities if f.service_area is not None]
        names = dict(
            session.exec(select(Unit.code, Unit.name).where(Unit.level == UnitLevel.VILLAGE)).all()
        )
    near = coverage_within_distance(homes.x, homes.y, points.x, points.y, distance_m)
    inside = coverage_within_areas(homes.x, homes.y, np.asarray(areas, dtype=object))
    by_village: dict[str, VillageCoverage] = {}
    for code, is_near, is_inside in zip(homes.declared, near, inside, strict=True):
        entry = by_village.setdefault(code, VillageCoverage(code, names.get(code, ""), 0, 0, 0))
        entry.households += 1
        entry.near_collection += int(is_near)
        entry.in_sewage_area += int(is_inside)
    return [by_village[c] for c in sorted(by_village)]


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


@check_app.command("locate")
def locate_command(
    kind: Annotated[
        list[str] | None,
        typer.Option(help=f"kinds to check (default all): {', '.join(POINT_KINDS)}"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--csv", help="write every mismatch to this CSV")
    ] = None,
    show: Annotated[int, typer.Option(help="mismatches to print per kind")] = 20,
) -> None:
    """Points whose declared village differs from the village their coordinates lie in."""
    console, err = Console(), Console(stderr=True)
    kinds = kind or list(POINT_KINDS)
    unknown = [k for k in kinds if k not in POINT_KINDS]
    if unknown:
        print_error(err, f"未知类型 {unknown}; 可选 {', '.join(POINT_KINDS)}")
        raise typer.Exit(code=2)
    results, villages = locate_check(migrated_engine(), kinds)
    if not villages.codes:
        err.print("村界为空: 请先 rural import boundaries --level village / no village boundaries")
        raise typer.Exit(code=1)
    table = Table(title=f"坐标落点核查 (村界 {len(villages.codes)} 个)")
    for header in ("类型 kind", "有坐标 points", "在申报村内", "落在他村", "不在任何村界内"):
        table.add_column(header, justify="right")
    rows: list[list[str]] = []
    for r in results:
        table.add_row(r.label, str(r.points), str(r.in_declared), str(len(r.elsewhere)),
                      str(len(r.outside)))  # fmt: skip
        rows += [[r.kind, i, d, villages.names.get(d, ""), loc, villages.names.get(loc, "")]
                 for i, d, loc in r.elsewhere]  # fmt: skip
        rows += [[r.kind, i, d, villages.names.get(d, ""), "", ""] for i, d in r.outside]
    console.print(table)
    for r in results:
        for i, d, loc in r.elsewhere[:show]:
            console.print(
                f"  {r.label} {i}: 申报 {d} {villages.names.get(d, '')} → 实际 {loc} "
                f"{villages.names.get(loc, '')}",
                markup=False,
            )
    if out is not None:
        with out.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["kind", "id", "declared_code", "declared_name", "located_code",
                             "located_name"])  # fmt: skip
            writer.writerows(rows)
        console.print(f"已写出 {len(rows)} 行: {out}", markup=False)


@check_app.command("coverage")
def coverage_command(
    distance: Annotated[
        float, typer.Option(help="metres to the nearest operating collection point", min=0)
    ] = DEFAULT_DISTANCE_M,
    out: Annotated[Path | None, typer.Option("--csv", help="write per-village rows here")] = None,
    show: Annotated[int, typer.Option(help="villages to print, least covered first")] = 20,
) -> None:
    """Households near a working collection point / inside a working sewage service area."""
    console = Console()
    rows = coverage_check(migrated_engine(), distance_m=distance)
    homes = sum(r.households for r in rows)
    near = sum(r.near_collection for r in rows)
    inside = sum(r.in_sewage_area for r in rows)
    console.print(
        f"有坐标的农户 households with coordinates: {homes}\n"
        f"  {distance:g} 米内有正常运行的收集点: {near} ({_share(near, homes)})\n"
        f"  在正常运行的污水设施服务范围内: {inside} ({_share(inside, homes)})",
        markup=False,
    )
    table = Table(title=f"覆盖最低的村 (收集点 {distance:g} 米)")
    for header in ("村 code", "名称", "农户", "近收集点", "污水服务范围内"):
        table.add_column(header)
    for r in sorted(rows, key=lambda r: r.near_collection / max(r.households, 1))[:show]:
        table.add_row(r.code, r.name, str(r.households), _share(r.near_collection, r.households),
                      _share(r.in_sewage_area, r.households))  # fmt: skip
    console.print(table)
    if out is not None:
        with out.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["village_code", "village_name", "households",
                             "near_collection_point", "in_sewage_service_area"])  # fmt: skip
            for r in rows:
                writer.writerow([r.code, r.name, r.households, r.near_collection,
                                 r.in_sewage_area])  # fmt: skip
