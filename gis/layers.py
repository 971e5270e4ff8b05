"""GeoDataFrame layers read from the database, in CGCS2000 (EPSG:4490).

Small and explicit on purpose: the village harmless-toilet rate here is the one figure the first
maps need. The full indicator engine (every rate, configurable denominators, history) lives
elsewhere and will replace :func:`village_layer`'s arithmetic, not its columns.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine, FromClause, and_, case, exists, func, inspect, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from rural import codes
from rural.enums import ToiletClass, ToiletCondition, UnitLevel
from rural.geometry import CRS
from rural.models import DatasetInfo, Household, HouseholdToilet, ToiletState, Unit

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
