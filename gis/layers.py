"""GeoDataFrame layers read from the database, in CGCS2000 (EPSG:4490).

:func:`village_layer` keeps the harmless-toilet rate worked out here; the maps take every other
village figure from the indicator engine (:func:`village_indicators`). The other layers are the
points and lines the maps draw: households (no personal data), facilities, open problems and the
garbage chain with its breaks (from the chain audit, :mod:`rural.chain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString
from sqlalchemy import (
    Connection,
    Engine,
    FromClause,
    and_,
    case,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from rural import clock, codes
from rural.chain import check_chain
from rural.enums import (
    ChainNodeKind,
    FacilityStatus,
    ProblemStatus,
    ToiletClass,
    ToiletCondition,
    TonnageMethod,
    UnitLevel,
)
from rural.geometry import CRS
from rural.indicators import compute, load_indicator_rules
from rural.models import (
    ChainLink,
    CollectionPoint,
    CourtyardRating,
    DatasetInfo,
    Household,
    HouseholdToilet,
    Problem,
    PublicToilet,
    SewageConnection,
    SewageFacility,
    SewageInspection,
    ToiletState,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
    Unit,
)

VILLAGE_COLUMNS = [
    "code",
    "name",
    "town_code",
    "town_name",
    "resident_households",
    "harmless_households",
    "harmless_rate",
]
TOWN_COLUMNS = ["code", "name", "county_code"]


def _table(model: type[SQLModel]) -> FromClause:
    """The model's table: typed core columns (``.c.name``) for the queries below."""
    return inspect(model).local_table


def _valid_on(table: FromClause, as_of: date | None) -> ColumnElement[bool]:
    """Rows in force on ``as_of`` (valid_from <= as_of < valid_to); current rows when None."""
    if as_of is None:
        return table.c.valid_to.is_(None)
    return and_(
        or_(table.c.valid_from.is_(None), table.c.valid_from <= as_of),
        or_(table.c.valid_to.is_(None), table.c.valid_to > as_of),
    )


def _harmless_in_use(household: FromClause, as_of: date | None) -> ColumnElement[bool]:
    """True for a household with a harmless sanitary toilet in use (on ``as_of``, or now).

    Now: the ``household_toilet`` ledger. On a date: each toilet's latest ``toilet_state`` with
    ``effective_on <= as_of`` (a toilet with no state by then does not count).
    """
    toilet = _table(HouseholdToilet)
    if as_of is None:
        return exists().where(
            toilet.c.household_id == household.c.id,
            toilet.c.toilet_class == ToiletClass.HARMLESS,
            toilet.c.condition == ToiletCondition.IN_USE,
        )
    state = _table(ToiletState)
    ranked = (
        select(
            state.c.toilet_id,
            state.c.toilet_class,
            state.c.condition,
            func.row_number()
            .over(
                partition_by=state.c.toilet_id,
                order_by=(state.c.effective_on.desc(), state.c.id.desc()),
            )
            .label("rank"),
        )
        .where(state.c.effective_on <= as_of)
        .subquery()
    )
    return exists().where(
        toilet.c.household_id == household.c.id,
        ranked.c.toilet_id == toilet.c.id,
        ranked.c.rank == 1,
        ranked.c.toilet_class == ToiletClass.HARMLESS,
        ranked.c.condition == ToiletCondition.IN_USE,
    )


def _household_counts(engine: Engine, *, prefix: str, as_of: date | None) -> pd.DataFrame:
    household = _table(Household)
    harmless = _harmless_in_use(household, as_of)
    stmt = (
        select(
            household.c.village_code,
            func.count().label("resident_households"),
            func.sum(case((harmless, 1), else_=0)).label("harmless_households"),
        )
        .where(
            household.c.village_code.startswith(prefix),
            household.c.resident.is_(True),
            _valid_on(household, as_of),
        )
        .group_by(household.c.village_code)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(
        [(r[0], int(r[1]), int(r[2] or 0)) for r in rows],
        columns=["code", "resident_households", "harmless_households"],
    )


def village_layer(engine: Engine, *, unit_code: str, as_of: date | None = None) -> gpd.GeoDataFrame:
    """Village-level units within ``unit_code`` with their harmless-toilet rate.

    Columns: code, name, town_code, town_name, resident_households (常住户), harmless_households
    (常住户 with a 无害化卫生厕所 in use), harmless_rate (无害化卫生厕所普及率, the ratio of the
    two; NaN when a village has no resident households), geometry (EPSG:4490; None where a
    village has no boundary). Every village-level unit counts here; which of them are rural
    villages for the indicators is the indicator engine's rule. Sorted by code.
    """
    prefix = codes.prefix_of(unit_code)
    unit = _table(Unit)
    town = unit.alias("town")
    stmt = (
        select(unit.c.code, unit.c.name, town.c.code, town.c.name, unit.c.geom)
        .outerjoin(town, town.c.code == unit.c.parent_code)
        .where(
            unit.c.level == UnitLevel.VILLAGE,
            unit.c.code.startswith(prefix),
            _valid_on(unit, as_of),
        )
        .order_by(unit.c.code)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    units = pd.DataFrame(
        [tuple(r[:4]) for r in rows],
        columns=["code", "name", "town_code", "town_name"],
        dtype=object,
    )
    counts = _household_counts(engine, prefix=prefix, as_of=as_of)
    frame = units.merge(counts, on="code", how="left")
    for column in ("resident_households", "harmless_households"):
        frame[column] = frame[column].fillna(0).astype("int64")
    households = frame["resident_households"].to_numpy(dtype=float)
    harmless = frame["harmless_households"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["harmless_rate"] = np.where(households > 0, harmless / households, np.nan)
    geometry = gpd.GeoSeries([r[4] for r in rows], crs=CRS)
    return gpd.GeoDataFrame(frame[VILLAGE_COLUMNS], geometry=geometry, crs=CRS)


def town_layer(engine: Engine, *, unit_code: str, as_of: date | None = None) -> gpd.GeoDataFrame:
    """Town-level units (乡镇/街道) within ``unit_code``: code, name, county_code, geometry."""
    prefix = codes.prefix_of(unit_code)
    unit = _table(Unit)
    stmt = (
        select(unit.c.code, unit.c.name, unit.c.parent_code, unit.c.geom)
        .where(
            unit.c.level == UnitLevel.TOWN,
            unit.c.code.startswith(prefix),
            _valid_on(unit, as_of),
        )
        .order_by(unit.c.code)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame([tuple(r[:3]) for r in rows], columns=TOWN_COLUMNS, dtype=object)
    geometry = gpd.GeoSeries([r[3] for r in rows], crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def is_demo_database(engine: Engine) -> bool:
    """True when the database holds generated demo data (dataset_info 'demo' = 'true')."""
    info = _table(DatasetInfo)
    stmt = select(info.c.value).where(info.c.key == "demo")
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar_one_or_none()
    return isinstance(value, str) and value.strip().lower() == "true"


# ---------------------------------------------------------------- indicator values per village


@dataclass(frozen=True)
class IndicatorInfo:
    """An indicator as a map shows it: id, Chinese name, shown as % or not, its data domain."""

    id: str
    name: str
    percent: bool = True
    domain: str = "sanitation"
    note: str = ""


# The facts every village popup carries (when the engine can compute them). The garbage chain
# of a village is shown by the chain map itself, with the audit's reasons.
KEY_INDICATORS = (
    "harmless_toilet_rate",
    "sanitary_toilet_rate",
    "sewage_treatment_rate",
    "courtyard_pass_rate",
)


def village_indicator_choices() -> dict[str, IndicatorInfo]:
    """Indicators meaningful for one village (``min_level`` village), in definition order."""
    rules = load_indicator_rules()
    return {
        key: IndicatorInfo(key, d.name, d.percent, d.domain, d.note)
        for key, d in rules.indicators.items()
        if d.min_level == UnitLevel.VILLAGE
    }


def village_indicators(
    engine: Engine, *, unit_code: str, indicators: Sequence[str], period: str
) -> pd.DataFrame:
    """Each rural village's value, numerator and denominator of ``indicators`` in ``period``.

    Index: village code. Columns ``<id>``, ``<id>_num``, ``<id>_den`` (NaN where the engine has
    no value). From :func:`rural.indicators.compute` (which counts only rural villages).
    """
    table = compute(
        engine, unit_code=unit_code, period=period, level="village", indicators=indicators
    )
    frame = pd.DataFrame(index=pd.Index(table.codes, name="code"))
    for key in indicators:
        cells = table.data[key]
        frame[key] = cells["value"].to_numpy(dtype=float)
        frame[f"{key}_num"] = cells["numerator"].to_numpy(dtype=float)
        frame[f"{key}_den"] = cells["denominator"].to_numpy(dtype=float)
    return frame


# ---------------------------------------------------------------- households as points


HOUSEHOLD_POINT_COLUMNS = ["village_code", "toilet", "stars"]


def household_points(
    engine: Engine, *, unit_code: str, with_stars: bool = False
) -> gpd.GeoDataFrame:
    """Current resident households with a location within ``unit_code``, as points.

    Columns: village_code; toilet (the household's best toilet now: ``harmless`` or
    ``sanitary`` in use, ``not_in_use`` (broken, unused, building), ``non_sanitary``, ``none``);
    stars (the courtyard rating in force, 0 when none or not ``with_stars``); geometry
    (EPSG:4490). No personal data:
    no name, no household code. Read from the bounding-box columns (a point's box is itself).
    """
    household = _table(Household)
    toilet = _table(HouseholdToilet)
    rank = case(
        (
            and_(
                toilet.c.toilet_class == ToiletClass.HARMLESS,
                toilet.c.condition == ToiletCondition.IN_USE,
            ),
            4,
        ),
        (
            and_(
                toilet.c.toilet_class == ToiletClass.SANITARY,
                toilet.c.condition == ToiletCondition.IN_USE,
            ),
            3,
        ),
        (toilet.c.condition != ToiletCondition.IN_USE, 2),
        (toilet.c.id.is_not(None), 1),
        else_=0,
    )
    prefix = codes.prefix_of(unit_code)
    stmt = (
        select(
            household.c.id,
            household.c.village_code,
            household.c.minx,
            household.c.miny,
            func.max(rank),
        )
        .outerjoin(toilet, toilet.c.household_id == household.c.id)
        .where(
            household.c.village_code.startswith(prefix),
            household.c.resident.is_(True),
            household.c.minx.is_not(None),
            _valid_on(household, None),
        )
        .group_by(household.c.id, household.c.village_code, household.c.minx, household.c.miny)
        .order_by(household.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        stars = _courtyard_stars(conn, prefix=prefix) if with_stars else {}
    names = {4: "harmless", 3: "sanitary", 2: "not_in_use", 1: "non_sanitary", 0: "none"}
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "village_code": [r[1] for r in rows],
            "toilet": [names[int(r[4] or 0)] for r in rows],
            "stars": pd.Series(ids).map(stars).fillna(0).astype("int64").to_numpy(),
        },
        columns=HOUSEHOLD_POINT_COLUMNS,
    )
    geometry = gpd.points_from_xy(
        np.array([r[2] for r in rows], dtype=float), np.array([r[3] for r in rows], dtype=float)
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def _courtyard_stars(conn: Connection, *, prefix: str) -> dict[int, int]:
    """household id -> stars of the latest rating up to today (CST)."""
    rating = _table(CourtyardRating)
    household = _table(Household)
    ranked = (
        select(
            rating.c.household_id,
            rating.c.stars,
            func.row_number()
            .over(
                partition_by=rating.c.household_id,
                order_by=(rating.c.rated_on.desc(), rating.c.id.desc()),
            )
            .label("rank"),
        )
        .join(household, household.c.id == rating.c.household_id)
        .where(household.c.village_code.startswith(prefix), rating.c.rated_on <= clock.today())
        .subquery()
    )
    rows = conn.execute(
        select(ranked.c.household_id, ranked.c.stars).where(ranked.c.rank == 1)
    ).all()
    return dict(rows)


# ---------------------------------------------------------------- facilities


def _points_frame(rows: Sequence[Any], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows whose last item is a geometry -> GeoDataFrame (EPSG:4490)."""
    frame = pd.DataFrame([tuple(r[:-1]) for r in rows], columns=columns, dtype=object)
    geometry = gpd.GeoSeries([r[-1] for r in rows], crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def _names(conn: Connection, codes_: set[str]) -> dict[str, str]:
    if not codes_:
        return {}
    unit = _table(Unit)
    rows = conn.execute(select(unit.c.code, unit.c.name).where(unit.c.code.in_(sorted(codes_))))
    return {str(r[0]): str(r[1]) for r in rows}


SEWAGE_COLUMNS = [
    "id",
    "name",
    "village_code",
    "village_name",
    "mode",
    "process",
    "design_capacity_m3d",
    "receiving_water",
    "water_class",
    "discharge_class",
    "om_contractor",
    "status",
    "connected_households",
    "last_inspected_on",
]


def sewage_facility_layer(engine: Engine, *, unit_code: str) -> gpd.GeoDataFrame:
    """Sewage facilities within ``unit_code`` with their state, households connected now and
    last inspection date. Enum columns hold their values (labels: ``rural.enums``)."""
    facility = _table(SewageFacility)
    connection = _table(SewageConnection)
    inspection = _table(SewageInspection)
    connected = (
        select(func.count())
        .where(
            connection.c.facility_id == facility.c.id,
            connection.c.disconnected_on.is_(None),
        )
        .scalar_subquery()
    )
    inspected = (
        select(func.max(inspection.c.inspected_on))
        .where(inspection.c.facility_id == facility.c.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            facility.c.id,
            facility.c.name,
            facility.c.village_code,
            facility.c.mode,
            facility.c.process,
            facility.c.design_capacity_m3d,
            facility.c.receiving_water,
            facility.c.water_class,
            facility.c.discharge_class,
            facility.c.om_contractor,
            facility.c.status,
            connected,
            inspected,
            facility.c.geom,
        )
        .where(facility.c.village_code.startswith(codes.prefix_of(unit_code)))
        .order_by(facility.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        names = _names(conn, {str(r[2]) for r in rows})
    shaped = [
        (r[0], r[1], r[2], names.get(str(r[2]), ""), *r[3:11], int(r[11] or 0), r[12], r[13])
        for r in rows
    ]
    return _points_frame(shaped, SEWAGE_COLUMNS)


PUBLIC_TOILET_COLUMNS = ["id", "name", "village_code", "village_name", "toilet_type", "condition"]


def public_toilet_layer(engine: Engine, *, unit_code: str) -> gpd.GeoDataFrame:
    """Village public toilets 农村公厕 within ``unit_code`` (no cleaner's name)."""
    toilet = _table(PublicToilet)
    stmt = (
        select(
            toilet.c.id,
            toilet.c.name,
            toilet.c.village_code,
            toilet.c.toilet_type,
            toilet.c.condition,
            toilet.c.geom,
        )
        .where(toilet.c.village_code.startswith(codes.prefix_of(unit_code)))
        .order_by(toilet.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        names = _names(conn, {str(r[2]) for r in rows})
    shaped = [(r[0], r[1], r[2], names.get(str(r[2]), ""), r[3], r[4], r[5]) for r in rows]
    return _points_frame(shaped, PUBLIC_TOILET_COLUMNS)


PROBLEM_COLUMNS = [
    "id",
    "village_code",
    "village_name",
    "problem_type",
    "source",
    "description",
    "status",
    "deadline",
    "escalation",
    "state",
]


def open_problem_layer(
    engine: Engine, *, unit_code: str, on: date | None = None
) -> gpd.GeoDataFrame:
    """Problems not closed (销号) within ``unit_code``; ``state`` is overdue (deadline before
    ``on``, default today), open, or no_deadline. Without a location a problem sits at its
    village's representative point; with neither it is left out. No names of people."""
    today = on or clock.today()
    problem = _table(Problem)
    unit = _table(Unit)
    stmt = (
        select(
            problem.c.id,
            problem.c.village_code,
            unit.c.name,
            problem.c.problem_type,
            problem.c.source,
            problem.c.description,
            problem.c.status,
            problem.c.deadline,
            problem.c.escalation,
            problem.c.geom,
            unit.c.geom,
        )
        .outerjoin(unit, unit.c.code == problem.c.village_code)
        .where(
            problem.c.village_code.startswith(codes.prefix_of(unit_code)),
            problem.c.status != ProblemStatus.CLOSED,
        )
        .order_by(problem.c.deadline, problem.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    shaped = []
    for r in rows:
        village = r[10]
        where = (
            r[9]
            if r[9] is not None
            else (village.representative_point() if village is not None else None)
        )
        if where is None:
            continue
        deadline = r[7]
        state = "no_deadline" if deadline is None else ("overdue" if deadline < today else "open")
        shaped.append((*r[:9], state, where))
    return _points_frame(shaped, PROBLEM_COLUMNS)


# ---------------------------------------------------------------- the garbage chain


@dataclass
class ChainLayers:
    """The garbage chain within a unit: nodes, links drawn as lines, breaks and station loads.

    ``points``: id, name, village_code, village_name, kind, status, breaks.
    ``stations``: id, name, town_code, town_name, capacity_tpd, status, inflow_t, days, load,
    load_period, breaks. ``facilities``: id, name, kind, capacity_tpd, accepted, status,
    breaks. ``links``: stage (village | collection_point | transfer_station), source and
    target names, categories, state (ok | broken), breaks; LineString geometry.
    ``villages_broken``: village code -> reasons (a village with no working collection point).
    """

    points: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    villages_broken: dict[str, list[str]]


def chain_layers(engine: Engine, *, unit_code: str, on: date | None = None) -> ChainLayers:
    """Collection points, stations, facilities and links in force ``on`` (default today) for the
    villages, points and stations of ``unit_code`` and whatever their links lead to."""
    today = on or clock.today()
    prefix = codes.prefix_of(unit_code)
    point, station, facility = (
        _table(CollectionPoint),
        _table(TransferStation),
        _table(TreatmentFacility),
    )
    link, unit = _table(ChainLink), _table(Unit)
    with engine.connect() as conn:
        links = conn.execute(
            select(
                link.c.id,
                link.c.source_kind,
                link.c.village_code,
                link.c.collection_point_id,
                link.c.transfer_station_id,
                link.c.treatment_facility_id,
                link.c.category,
            ).where(_link_in_force(link, today))
        ).all()
        village_rows = conn.execute(
            select(unit.c.code, unit.c.name, unit.c.geom).where(
                unit.c.level == UnitLevel.VILLAGE,
                unit.c.code.startswith(prefix),
                _valid_on(unit, None),
            )
        ).all()
        villages = {str(r[0]): (str(r[1]), r[2]) for r in village_rows}
        point_ids = {
            int(r[3]) for r in links if r[1] == ChainNodeKind.VILLAGE and str(r[2]) in villages
        }
        points = conn.execute(
            select(
                point.c.id,
                point.c.name,
                point.c.village_code,
                point.c.kind,
                point.c.status,
                point.c.geom,
            ).where(or_(point.c.village_code.startswith(prefix), point.c.id.in_(sorted(point_ids))))
        ).all()
        point_ids = {int(r[0]) for r in points}
        station_ids = {
            int(r[4])
            for r in links
            if r[1] == ChainNodeKind.COLLECTION_POINT and int(r[3]) in point_ids
        }
        stations = conn.execute(
            select(
                station.c.id,
                station.c.name,
                station.c.town_code,
                station.c.capacity_tpd,
                station.c.status,
                station.c.geom,
            ).where(
                or_(station.c.town_code.startswith(prefix), station.c.id.in_(sorted(station_ids)))
            )
        ).all()
        station_ids = {int(r[0]) for r in stations}
        facility_ids = {
            int(r[5])
            for r in links
            if r[1] == ChainNodeKind.TRANSFER_STATION and int(r[4]) in station_ids
        }
        facilities = conn.execute(
            select(
                facility.c.id,
                facility.c.name,
                facility.c.kind,
                facility.c.capacity_tpd,
                facility.c.accepted_categories,
                facility.c.status,
                facility.c.geom,
            ).where(
                or_(
                    facility.c.unit_code.startswith(prefix), facility.c.id.in_(sorted(facility_ids))
                )
            )
        ).all()
        loads = _station_loads(conn, {int(r[0]) for r in stations}, today)
        names = _names(
            conn, {str(r[2]) for r in points} | {str(r[2]) for r in stations} | set(villages)
        )
    breaks: dict[tuple[str, str], list[str]] = {}
    for item in check_chain(engine, unit_code=unit_code):
        breaks.setdefault((item.object_type, item.object_id), []).append(item.reason_zh)
    return _assemble_chain(
        villages=villages,
        points=points,
        stations=stations,
        facilities=facilities,
        links=links,
        loads=loads,
        names=names,
        breaks=breaks,
    )


def _link_in_force(link: FromClause, on: date) -> ColumnElement[bool]:
    return and_(
        or_(link.c.valid_from.is_(None), link.c.valid_from <= on),
        or_(link.c.valid_to.is_(None), link.c.valid_to > on),
    )


@dataclass(frozen=True)
class StationLoad:
    inflow_t: float
    days: int
    period: str
    method: str


def _station_loads(conn: Connection, station_ids: set[int], today: date) -> dict[int, StationLoad]:
    """Each station's latest period of tonnage records up to ``today``: weighed if any, else
    estimated."""
    if not station_ids:
        return {}
    record = _table(TonnageRecord)
    rows = conn.execute(
        select(
            record.c.transfer_station_id,
            record.c.period_start,
            record.c.period_end,
            record.c.method,
            func.sum(record.c.tonnes),
        )
        .where(
            record.c.node_kind == ChainNodeKind.TRANSFER_STATION,
            record.c.transfer_station_id.in_(sorted(station_ids)),
            record.c.period_end <= today,
        )
        .group_by(
            record.c.transfer_station_id,
            record.c.period_start,
            record.c.period_end,
            record.c.method,
        )
    ).all()
    latest: dict[int, StationLoad] = {}
    best: dict[int, tuple[date, int]] = {}
    for sid, start, end, method, tonnes in rows:
        weight = 1 if method == TonnageMethod.MEASURED else 0
        key = (end, weight)
        if int(sid) in best and best[int(sid)] >= key:
            continue
        best[int(sid)] = key
        label = TonnageMethod(method).label
        latest[int(sid)] = StationLoad(
            inflow_t=float(tonnes or 0.0),
            days=(end - start).days + 1,
            period=f"{start.isoformat()}至{end.isoformat()}",
            method=label,
        )
    return latest


def _assemble_chain(
    *,
    villages: dict[str, tuple[str, Any]],
    points: Sequence[Any],
    stations: Sequence[Any],
    facilities: Sequence[Any],
    links: Sequence[Any],
    loads: dict[int, StationLoad],
    names: dict[str, str],
    breaks: dict[tuple[str, str], list[str]],
) -> ChainLayers:
    def reasons(object_type: str, object_id: object) -> list[str]:
        return breaks.get((object_type, str(object_id)), [])

    point_frame = _points_frame(
        [
            (
                r[0],
                r[1],
                r[2],
                names.get(str(r[2]), ""),
                r[3],
                r[4],
                reasons("collection_point", r[0]),
                r[5],
            )
            for r in points
        ],
        ["id", "name", "village_code", "village_name", "kind", "status", "breaks"],
    )
    station_rows = []
    for r in stations:
        load = loads.get(int(r[0]))
        capacity = float(r[3] or 0.0)
        ratio = (
            load.inflow_t / (capacity * load.days) if load is not None and capacity > 0 else None
        )
        station_rows.append(
            (
                r[0],
                r[1],
                r[2],
                names.get(str(r[2]), ""),
                capacity,
                r[4],
                load.inflow_t if load else None,
                load.days if load else None,
                ratio,
                f"{load.period}({load.method})" if load else "无称重或估算记录",
                reasons("transfer_station", r[0]),
                r[5],
            )
        )
    station_frame = _points_frame(
        station_rows,
        [
            "id",
            "name",
            "town_code",
            "town_name",
            "capacity_tpd",
            "status",
            "inflow_t",
            "days",
            "load",
            "load_period",
            "breaks",
        ],
    )
    facility_frame = _points_frame(
        [
            (
                r[0],
                r[1],
                r[2],
                float(r[3] or 0.0),
                list(r[4] or []),
                r[5],
                reasons("treatment_facility", r[0]),
                r[6],
            )
            for r in facilities
        ],
        ["id", "name", "kind", "capacity_tpd", "accepted", "status", "breaks"],
    )
    link_frame = _link_lines(villages, points, stations, facilities, links, breaks)
    villages_broken = {
        code: reasons("village", code) for code in villages if reasons("village", code)
    }
    return ChainLayers(
        points=point_frame,
        stations=station_frame,
        facilities=facility_frame,
        links=link_frame,
        villages_broken=villages_broken,
    )


LINK_COLUMNS = ["stage", "source_name", "target_name", "categories", "state", "breaks"]


def _link_lines(
    villages: dict[str, tuple[str, Any]],
    points: Sequence[Any],
    stations: Sequence[Any],
    facilities: Sequence[Any],
    links: Sequence[Any],
    breaks: dict[tuple[str, str], list[str]],
) -> gpd.GeoDataFrame:
    """One line per (source, target) pair; broken when either end or the link has a break or
    is not operating."""
    nodes: dict[tuple[str, int | str], tuple[str, Any, bool, list[str]]] = {}
    for code, (name, geom) in villages.items():
        where = geom.representative_point() if geom is not None else None
        reasons = breaks.get(("village", code), [])
        nodes[("village", code)] = (name, where, bool(reasons), reasons)
    for kind, rows, status_at, geom_at in (
        ("collection_point", points, 4, 5),
        ("transfer_station", stations, 4, 5),
        ("treatment_facility", facilities, 5, 6),
    ):
        for r in rows:
            down = FacilityStatus(r[status_at]) != FacilityStatus.OPERATING
            reasons = breaks.get((kind, str(r[0])), [])
            nodes[(kind, int(r[0]))] = (str(r[1]), r[geom_at], down or bool(reasons), reasons)
    pairs: dict[tuple[Any, Any], dict[str, Any]] = {}
    for link_id, kind, village, point_id, station_id, facility_id, category in links:
        ends: tuple[tuple[str, int | str], tuple[str, int | str]]
        if kind == ChainNodeKind.VILLAGE:
            ends = (("village", str(village)), ("collection_point", int(point_id)))
        elif kind == ChainNodeKind.COLLECTION_POINT:
            ends = (("collection_point", int(point_id)), ("transfer_station", int(station_id)))
        else:
            ends = (("transfer_station", int(station_id)), ("treatment_facility", int(facility_id)))
        if ends[0] not in nodes or ends[1] not in nodes:
            continue
        entry = pairs.setdefault(
            ends, {"stage": str(kind), "categories": [], "reasons": [], "broken": False}
        )
        if category:
            entry["categories"].append(str(category))
        own = breaks.get(("chain_link", str(link_id)), [])
        entry["reasons"].extend(own)
        entry["broken"] = entry["broken"] or bool(own)
    rows = []
    for (source, target), entry in pairs.items():
        s_name, s_geom, s_bad, s_reasons = nodes[source]
        t_name, t_geom, t_bad, t_reasons = nodes[target]
        if s_geom is None or t_geom is None:
            continue
        # A village's own break is shown on the village; the link breaks when a node it joins
        # is down, or the link itself is refused (mixed transport).
        source_bad = s_bad if source[0] != "village" else False
        broken = entry["broken"] or source_bad or t_bad
        reasons = [*entry["reasons"], *(s_reasons if source_bad else []), *t_reasons]
        rows.append(
            (
                entry["stage"],
                s_name,
                t_name,
                sorted(set(entry["categories"])),
                "broken" if broken else "ok",
                list(dict.fromkeys(reasons)),
                LineString([s_geom.coords[0], t_geom.coords[0]]),
            )
        )
    return _points_frame(rows, LINK_COLUMNS)
