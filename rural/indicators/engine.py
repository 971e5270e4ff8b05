"""The indicator engine: per-village measures from the history tables, rolled up by summing.

Each measure is counted per *contributor*: a rural village for everything about households,
villages, sewage facilities, samples and spot checks; the town of a transfer station; the unit
of a treatment facility (usually the county). A unit's numerator and denominator are the sums
over every contributor beneath it, so a county's figure is exactly the sum of its villages'
(plus its own facilities' for tonnage) — rates are never averaged.

The heavy part (households x toilets x connections x ratings) is one grouped SQL query: the
database returns a few rows per village, not millions of households.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from rural import codes
from rural.enums import UnitLevel
from rural.errors import NotFoundError, ValidationError
from rural.indicators.definitions import (
    LEVEL_ORDER,
    IndicatorDef,
    IndicatorRules,
    load_indicator_rules,
)
from rural.indicators.history import (
    OPERATING,
    chain_graph,
    read_frame,
    station_days_in,
    status_on_select,
    statuses_on,
    t,
    tonnage_in,
)
from rural.indicators.measures import METHODS, POPULATIONS
from rural.indicators.table import FIELDS, IndicatorTable
from rural.models import (
    CivilizedTitle,
    CourtyardRating,
    EffluentSample,
    Household,
    HouseholdToilet,
    SewageConnection,
    SewageFacility,
    SortingInspection,
    ToiletState,
    Unit,
)
from rural.periods import Period, parse_period
from rural.rules_loader import (
    DischargeClassRule,
    DischargeLimits,
    ToiletClassRule,
    load_toilet_class,
)
from rural.sewage import judge_frame
from rural.villages import rural_villages, successors_on, valid_on

TITLE_RANK = {"county": 1, "city": 2, "province": 3, "nation": 4}
# Numerators and denominators are rounded to this many decimals (tonnes: to the gram).
FIGURE_DECIMALS = 6
# where a code's own part sits, by level: (start, end) of the digits that must be non-zero
_PART = {
    UnitLevel.PROVINCE: (0, 2),
    UnitLevel.CITY: (2, 4),
    UnitLevel.COUNTY: (4, 6),
    UnitLevel.TOWN: (6, 9),
    UnitLevel.VILLAGE: (9, 12),
}


@dataclass(frozen=True)
class Scope:
    unit_code: str
    unit_level: UnitLevel
    prefix: str
    period: Period

    @property
    def end(self) -> date:
        return self.period.end

    def within(self, column: Any) -> ColumnElement[bool]:
        if len(self.prefix) >= 12:
            return column == self.unit_code
        return column.startswith(self.prefix, autoescape=True)


def compute(
    engine: Engine | Connection,
    *,
    unit_code: str,
    period: str | Period,
    indicators: Iterable[str] | None = None,
    level: UnitLevel | str | None = None,
    toilet_denominator: str | None = None,
    population: str | None = None,
    rules: IndicatorRules | None = None,
    toilet_rule: ToiletClassRule | None = None,
    limits: DischargeLimits | None = None,
    class_rule: DischargeClassRule | None = None,
    titles: pd.DataFrame | None = None,
) -> IndicatorTable:
    """Indicators of every unit at ``level`` within ``unit_code`` for ``period``.

    ``level`` defaults to the unit's own level (one row: the unit itself); ``'village'`` gives
    one row per rural village. ``indicators`` picks ids of ``rules/indicators.toml`` (default:
    all). ``toilet_denominator`` (resident | registered | due) and ``population`` override the
    file's options. ``titles`` (columns village_code, level, awarded_on, revoked_on) feeds the
    civilized-title share; by default it is read from the civilized_title registry.
    """
    scope = _scope(unit_code, period)
    target = _target_level(scope, level)
    rules = (rules or load_indicator_rules()).with_options(
        toilet_denominator=toilet_denominator, population=population
    )
    definitions = _pick(rules, indicators)
    needed: set[str] = set()
    for definition in definitions.values():
        num, den = definition.resolve(rules.options)
        needed.update(num)
        needed.update(den)
    if "samples_judged" in needed:
        needed.add("samples_unjudged")  # for the note on samples that cannot be judged
    context = _Context(
        scope=scope,
        rules=rules,
        toilet_rule=toilet_rule or load_toilet_class(),
        limits=limits,
        class_rule=class_rule,
        titles=titles,
    )
    if isinstance(engine, Connection):
        contributions, units = _gather(engine, context, needed, target)
    else:
        with engine.connect() as conn:
            contributions, units = _gather(conn, context, needed, target)
    measures = roll_up(contributions, target).reindex(units.index)
    measures = measures.reindex(columns=sorted(needed)).fillna(
        {m: 0.0 for m in needed if m not in context.missing}
    )
    data, notes = _ratios(measures, definitions, rules, target, context)
    return IndicatorTable(
        unit_code=unit_code,
        level=target,
        period=scope.period,
        definitions=definitions,
        options=dict(rules.options),
        units=units,
        data=data,
        measures=measures,
        notes=notes,
    )


def _scope(unit_code: str, period: str | Period) -> Scope:
    own = codes.level_of(unit_code)
    if own not in LEVEL_ORDER:
        msg = f"unit_code {unit_code!r}: indicators are computed for villages and above"
        raise ValidationError(msg, field="unit_code", value=unit_code)
    return Scope(unit_code, own, codes.prefix_of(unit_code), parse_period(period))


def _target_level(scope: Scope, level: UnitLevel | str | None) -> UnitLevel:
    if level is None:
        return scope.unit_level
    try:
        target = UnitLevel(level)
    except ValueError:
        target = UnitLevel.NATURAL_VILLAGE
    if target not in LEVEL_ORDER or LEVEL_ORDER.index(target) > LEVEL_ORDER.index(scope.unit_level):
        choices = [str(lv) for lv in LEVEL_ORDER[: LEVEL_ORDER.index(scope.unit_level) + 1]]
        msg = f"level {level!r} is not a level within {scope.unit_code} ({', '.join(choices)})"
        raise ValidationError(msg, field="level", value=level)
    return target


def _pick(rules: IndicatorRules, wanted: Iterable[str] | None) -> dict[str, IndicatorDef]:
    if wanted is None:
        return dict(rules.indicators)
    picked: dict[str, IndicatorDef] = {}
    for key in wanted:
        if key not in rules.indicators:
            msg = f"indicator {key!r} is not defined (one of {', '.join(rules.indicators)})"
            raise NotFoundError(msg)
        picked[key] = rules.indicators[key]
    return picked


@dataclass
class _Context:
    scope: Scope
    rules: IndicatorRules
    toilet_rule: ToiletClassRule
    limits: DischargeLimits | None
    class_rule: DischargeClassRule | None
    titles: pd.DataFrame | None
    missing: frozenset[str] = frozenset()


def _gather(
    conn: Connection, ctx: _Context, needed: set[str], target: UnitLevel
) -> tuple[pd.DataFrame, pd.DataFrame]:
    scope = ctx.scope
    villages = rural_villages(conn, on=scope.end, within=scope.unit_code, rule=ctx.rules.villages)
    village_index = pd.Index(villages["code"], name="code")
    parts: list[pd.DataFrame] = []
    household = {m for m in needed if m.rsplit("_", 1)[-1] in POPULATIONS and _is_household(m)}
    if household:
        parts.append(_household_measures(conn, ctx, household))
    if "villages" in needed:
        parts.append(pd.DataFrame({"villages": 1.0}, index=village_index))
    if "villages_chain_covered" in needed:
        covered = chain_graph(conn, scope.end).covered_villages()
        flags = village_index.isin(list(covered)).astype(float)
        parts.append(pd.DataFrame({"villages_chain_covered": flags}, index=village_index))
    if "villages_titled" in needed:
        if ctx.titles is None:
            ctx.titles = _titles_from_registry(conn, ctx.scope.prefix)
        parts.append(_titled(ctx, village_index))
    if needed & {"sewage_facilities_in_service", "sewage_facilities_operating"}:
        parts.append(_sewage_facilities(conn, ctx))
    if needed & {"samples_judged", "samples_compliant", "samples_unjudged"}:
        parts.append(_samples(conn, ctx))
    if any(m.startswith("sorting_") for m in needed):
        parts.append(_sorting(conn, ctx))
    if any(m.startswith(("tonnes_", "station_")) for m in needed):
        parts.append(_tonnage(conn, ctx))
    contributions = _successors(_combine(parts), successors_on(conn, on=scope.end))
    # village-level contributions count only for rural villages; node units are kept
    is_village = contributions.index.str.slice(9, 12) != "000"
    keep = ~is_village | contributions.index.isin(village_index)
    contributions = contributions[keep]
    contributions = contributions[contributions.index.str.startswith(scope.prefix)]
    units = _units(conn, scope, target, villages, contributions)
    return contributions, units


def _is_household(measure: str) -> bool:
    return measure.startswith(
        (
            "households_",
            "toilet_sanitary_",
            "toilet_harmless_",
            "sewage_treated_",
            "courtyard_pass_",
        )
    )


def _successors(contributions: pd.DataFrame, successors: dict[str, str]) -> pd.DataFrame:
    """Figures recorded under merged or revoked units, counted under their successors
    (DOMAIN.md: "record successors of merged units so history rolls up")."""
    if not successors or contributions.empty or not contributions.index.isin(successors).any():
        return contributions
    moved = contributions.rename(index=successors)
    moved.index.name = "code"
    return moved.groupby(level=0).sum(min_count=1).astype(float)


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [p for p in parts if not p.empty]
    if not frames:
        return pd.DataFrame(index=pd.Index([], name="code", dtype=object))
    combined = pd.concat(frames, axis=0)
    combined.index.name = "code"
    return combined.groupby(level=0).sum(min_count=1).astype(float)


# ---- households -------------------------------------------------------------------------------
#
# One pass over the households in scope. For each household three correlated look-ups, each a
# few seeks on existing indexes: its best toilet on the period's last day (0 none, 1 sanitary,
# 2 harmless: harmless implies sanitary), whether its sewage is treated then, and whether the
# courtyard rating then in force passes. The per-household facts are packed into one small
# integer and the database returns one row per (village, key) with its count: a few dozen
# rows per village instead of every household.

KEY_BITS = {"resident": 1, "registered": 2, "due": 4, "toilet": 8, "treated": 32, "passed": 64}


def _toilet_level(ctx: _Context, household: Any) -> ColumnElement[Any]:
    """0 / 1 / 2: the best class among the household's toilets counting on the last day (each
    toilet's latest state on or before that day; a toilet with no state by then: none)."""
    rule = ctx.toilet_rule
    end = ctx.scope.end
    toilet = t(HouseholdToilet).alias("ht")
    state = t(ToiletState).alias("s")
    latest = t(ToiletState).alias("s2")
    latest_id = (
        select(latest.c.id)
        .where(latest.c.toilet_id == toilet.c.id, latest.c.effective_on <= end)
        .order_by(latest.c.effective_on.desc(), latest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    counts = state.c.condition.in_(_values(rule.counting_conditions))
    if rule.class_source == "stored":
        sanitary = and_(counts, state.c.toilet_class.in_(["sanitary", "harmless"]))
        harmless = and_(counts, state.c.toilet_class == "harmless")
    else:
        ok = and_(
            counts,
            state.c.condition.not_in(_values(rule.non_sanitary_conditions)),
            state.c.excreta_destination.not_in(_values(rule.non_sanitary_destinations)),
        )
        sanitary = and_(
            ok, state.c.toilet_type.in_(_values(rule.harmless_types | rule.sanitary_types))
        )
        # harmless types grouped by the destinations that make them harmless
        by_destinations: dict[frozenset[Any], list[Any]] = {}
        for kind in sorted(rule.harmless_types):
            by_destinations.setdefault(rule.treated_for(kind), []).append(kind)
        harmless = and_(
            ok,
            or_(
                *(
                    and_(
                        state.c.toilet_type.in_(_values(kinds)),
                        state.c.excreta_destination.in_(_values(destinations)),
                    )
                    for destinations, kinds in by_destinations.items()
                )
            ),
        )
    level = (
        select(func.max(case((harmless, 2), (sanitary, 1), else_=0)))
        .select_from(toilet.join(state, state.c.id == latest_id))
        .where(toilet.c.household_id == household.c.id)
        .scalar_subquery()
    )
    return func.coalesce(level, 0)


def _sewage_treated(ctx: _Context, household: Any) -> ColumnElement[Any]:
    """1 when a connection in force on the last day leads to a facility then treating."""
    end = ctx.scope.end
    facility = (
        status_on_select("sewage_facility", end).cte("facility_status").prefix_with("MATERIALIZED")
    )
    connection = t(SewageConnection).alias("c")
    treating = facility.c.status.in_(_values(ctx.rules.treating_statuses))
    treated = (
        select(func.max(case((treating, 1), else_=0)))
        .select_from(connection.join(facility, facility.c.id == connection.c.facility_id))
        .where(
            connection.c.household_id == household.c.id,
            connection.c.connected_on <= end,
            or_(connection.c.disconnected_on.is_(None), connection.c.disconnected_on > end),
        )
        .scalar_subquery()
    )
    return func.coalesce(treated, 0)


def _courtyard_passed(ctx: _Context, household: Any) -> ColumnElement[Any]:
    """1 when the rating in force on the last day (the latest on or before it) passes."""
    rating = t(CourtyardRating).alias("r")
    conditions = [rating.c.household_id == household.c.id, rating.c.rated_on <= ctx.scope.end]
    if ctx.rules.require_published:
        conditions.append(rating.c.published.is_(True))
    passed = (
        select(case((rating.c.stars >= ctx.rules.pass_stars, 1), else_=0))
        .where(*conditions)
        .order_by(rating.c.rated_on.desc(), rating.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(passed, 0)


OUTCOMES = {
    "households": None,
    "toilet_sanitary": ("toilet", 1),
    "toilet_harmless": ("toilet", 2),
    "sewage_treated": ("treated", 1),
    "courtyard_pass": ("passed", 1),
}


def _household_measures(conn: Connection, ctx: _Context, needed: set[str]) -> pd.DataFrame:
    """Households per village and population, and those among them with each outcome."""
    household = t(Household)
    bits = KEY_BITS
    key: ColumnElement[Any] = (
        case((household.c.resident.is_(True), bits["resident"]), else_=0)
        + case((household.c.registered.is_(True), bits["registered"]), else_=0)
        + case((household.c.due_for_renovation.is_(True), bits["due"]), else_=0)
    )
    if any(m.startswith("toilet_") for m in needed):
        key = key + bits["toilet"] * _toilet_level(ctx, household)
    if any(m.startswith("sewage_") for m in needed):
        key = key + bits["treated"] * _sewage_treated(ctx, household)
    if any(m.startswith("courtyard_") for m in needed):
        key = key + bits["passed"] * _courtyard_passed(ctx, household)
    key = key.label("k")
    stmt = (
        select(household.c.village_code, key, func.count().label("n"))
        .where(ctx.scope.within(household.c.village_code), valid_on(household.c, ctx.scope.end))
        .group_by(household.c.village_code, key)
    )
    frame = read_frame(conn, stmt, ["code", "k", "n"])
    k = frame["k"].to_numpy(dtype=np.int64)
    n = frame["n"].to_numpy(dtype=float)
    population = {
        "resident": (k & bits["resident"]) > 0,
        "registered": (k & bits["registered"]) > 0,
        "due": (k & bits["due"]) > 0,
        "all": np.ones(len(k), dtype=bool),
    }
    facts = {
        "toilet": (k // bits["toilet"]) % 4,
        "treated": (k // bits["treated"]) % 2,
        "passed": (k // bits["passed"]) % 2,
    }
    columns: dict[str, np.ndarray] = {}
    for pop in POPULATIONS:
        for prefix, outcome in OUTCOMES.items():
            name = f"{prefix}_{pop}"
            if name not in needed:
                continue
            mask = population[pop]
            if outcome is not None:
                fact, at_least = outcome
                mask = mask & (facts[fact] >= at_least)
            columns[name] = np.where(mask, n, 0.0)
    result = pd.DataFrame(columns, index=frame["code"].to_numpy())
    return result.groupby(level=0).sum()


# ---- villages, facilities, samples, spot checks -----------------------------------------------


def _titles_from_registry(conn: Connection, prefix: str) -> pd.DataFrame:
    """The civilized-title registry (table civilized_title) beneath a unit."""
    table = CivilizedTitle.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        select(table.c.unit_code, table.c.level, table.c.awarded_on, table.c.revoked_on).where(
            table.c.unit_code.startswith(prefix)
        )
    ).all()
    return pd.DataFrame(
        [tuple(row) for row in rows],
        columns=["village_code", "level", "awarded_on", "revoked_on"],
    )


def _titled(ctx: _Context, villages: pd.Index) -> pd.DataFrame:
    titles = ctx.titles
    assert titles is not None
    end = ctx.scope.end
    rank = titles["level"].map(TITLE_RANK).fillna(0)
    awarded = pd.to_datetime(titles["awarded_on"]).dt.date
    revoked = titles["revoked_on"].map(lambda d: None if pd.isna(d) else pd.Timestamp(d).date())
    in_force = (
        (rank >= TITLE_RANK[ctx.rules.min_title_level])
        & (awarded <= end)
        & revoked.map(lambda d: d is None or d > end)
    )
    holders = set(titles.loc[in_force, "village_code"])
    return pd.DataFrame(
        {"villages_titled": villages.isin(list(holders)).astype(float)}, index=villages
    )


def _sewage_facilities(conn: Connection, ctx: _Context) -> pd.DataFrame:
    facilities = statuses_on(conn, "sewage_facility", ctx.scope.end, "village_code")
    facilities = facilities[facilities["village_code"].str.startswith(ctx.scope.prefix)]
    status = facilities["status"]
    frame = pd.DataFrame(
        {
            "sewage_facilities_in_service": status.isin(_values(ctx.rules.in_service_statuses)),
            "sewage_facilities_operating": status.eq(OPERATING),
        }
    ).astype(float)
    frame.index = facilities["village_code"].to_numpy()
    return frame.groupby(level=0).sum()


def _samples(conn: Connection, ctx: _Context) -> pd.DataFrame:
    sample = t(EffluentSample)
    facility = t(SewageFacility)
    items = ["ph", "cod", "bod5", "ss", "nh3n", "tn", "tp", "fecal_coliform"]
    stmt = (
        select(
            facility.c.village_code,
            facility.c.discharge_class,
            facility.c.water_class,
            facility.c.design_capacity_m3d,
            *(sample.c[i] for i in items),
        )
        .select_from(sample.join(facility, facility.c.id == sample.c.facility_id))
        .where(
            sample.c.sampled_on >= ctx.scope.period.start,
            sample.c.sampled_on <= ctx.scope.end,
            ctx.scope.within(facility.c.village_code),
        )
    )
    frame = read_frame(
        conn,
        stmt,
        ["village_code", "discharge_class", "water_class", "design_capacity_m3d", *items],
    )
    for column in ("discharge_class", "water_class"):
        frame[column] = frame[column].map(_text)
    verdict = judge_frame(frame, limits=ctx.limits, rule=ctx.class_rule)
    judged = verdict.notna()
    result = pd.DataFrame(
        {
            "samples_judged": judged.astype(float).to_numpy(),
            "samples_compliant": verdict.fillna(False).astype(float).to_numpy(),
            "samples_unjudged": (~judged).astype(float).to_numpy(),
        },
        index=frame["village_code"].to_numpy(),
    )
    return result.groupby(level=0).sum()


def _sorting(conn: Connection, ctx: _Context) -> pd.DataFrame:
    inspection = t(SortingInspection)
    household = t(Household)
    stmt = (
        select(
            household.c.village_code,
            func.count(),
            func.sum(case((inspection.c.participated.is_(True), 1), else_=0)),
            func.sum(case((inspection.c.correct.is_not(None), 1), else_=0)),
            func.sum(case((inspection.c.correct.is_(True), 1), else_=0)),
        )
        .select_from(inspection.join(household, household.c.id == inspection.c.household_id))
        .where(
            inspection.c.inspected_on >= ctx.scope.period.start,
            inspection.c.inspected_on <= ctx.scope.end,
            ctx.scope.within(household.c.village_code),
        )
        .group_by(household.c.village_code)
    )
    columns = ["sorting_inspections", "sorting_participated", "sorting_judged", "sorting_correct"]
    frame = read_frame(conn, stmt, ["code", *columns])
    return frame.set_index("code").astype(float)


# ---- tonnage ----------------------------------------------------------------------------------


def _tonnage(conn: Connection, ctx: _Context) -> pd.DataFrame:
    """Terminal tonnage (by fate) per node unit, and station inflow and capacity per town."""
    period = ctx.scope.period
    records = tonnage_in(conn, period)
    empty = pd.DataFrame(index=pd.Index([], dtype=object))
    if records.empty:
        return empty
    points = statuses_on(conn, "collection_point", period.end, "village_code")
    stations = statuses_on(conn, "transfer_station", period.end, "town_code", "capacity_tpd")
    facilities = statuses_on(conn, "treatment_facility", period.end, "unit_code", "compliant")
    point_unit = dict(zip(points["id"], points["village_code"], strict=True))
    station_unit = dict(zip(stations["id"], stations["town_code"], strict=True))
    facility_unit = dict(zip(facilities["id"], facilities["unit_code"], strict=True))
    compliant = dict(zip(facilities["id"], facilities["compliant"].astype(bool), strict=True))
    kind = records["node_kind"].map(str)
    unit = pd.Series(None, index=records.index, dtype=object)
    unit[kind == "village"] = records.loc[kind == "village", "village_code"]
    at_point = kind == "collection_point"
    unit[at_point] = records.loc[at_point, "collection_point_id"].map(point_unit)
    unit[at_point & unit.isna()] = records.loc[at_point & unit.isna(), "village_code"]
    at_station = kind == "transfer_station"
    unit[at_station] = records.loc[at_station, "transfer_station_id"].map(station_unit)
    at_facility = kind == "treatment_facility"
    unit[at_facility] = records.loc[at_facility, "treatment_facility_id"].map(facility_unit)
    records = records.assign(unit=unit, kind=kind)
    records = records[records["unit"].notna()]
    fate = records["fate"].map(_text)
    method = records["method"].map(str)
    garbage = ctx.rules.garbage
    terminal = fate.isin(_values(garbage.terminal_fates))
    facility_ok = records["treatment_facility_id"].isin([k for k, ok in compliant.items() if ok])
    harmless = terminal & (
        ((records["kind"] == "treatment_facility") & facility_ok)
        | (
            (records["kind"] != "treatment_facility")
            & fate.isin(_values(garbage.harmless_fates_outside_facilities))
        )
    )
    tonnes = records["tonnes"]
    columns: dict[str, pd.Series] = {}
    for m in METHODS:
        is_m = method == m
        columns[f"tonnes_total_{m}"] = tonnes.where(is_m & terminal, 0.0)
        columns[f"tonnes_recycled_{m}"] = tonnes.where(
            is_m & fate.isin(_values(garbage.recycled_fates)), 0.0
        )
        columns[f"tonnes_resource_use_{m}"] = tonnes.where(
            is_m & fate.isin(_values(garbage.resource_use_fates)), 0.0
        )
        columns[f"tonnes_harmless_{m}"] = tonnes.where(is_m & harmless, 0.0)
        columns[f"station_inflow_{m}"] = tonnes.where(
            is_m & (records["kind"] == "transfer_station"), 0.0
        )
    frame = pd.DataFrame(columns)
    frame.index = records["unit"].to_numpy()
    result = frame.groupby(level=0).sum()
    # capacity x the days each station's records of each method cover
    capacity = dict(zip(stations["id"], stations["capacity_tpd"].astype(float), strict=True))
    covered = station_days_in(conn, period)
    cap_rows = [
        (station_unit[sid], m, capacity[sid] * days)
        for (sid, m), days in covered.items()
        if sid in capacity and sid in station_unit and m in METHODS
    ]
    cap = pd.DataFrame(cap_rows, columns=["unit", "method", "capacity"])
    for m in METHODS:
        part = cap[cap["method"] == m].groupby("unit")["capacity"].sum()
        result[f"station_capacity_{m}"] = part.reindex(result.index).fillna(0.0)
    return result


# ---- roll-up, units, ratios -------------------------------------------------------------------


def roll_up(contributions: pd.DataFrame, level: UnitLevel) -> pd.DataFrame:
    """Sum contributions into units of ``level``: each contributor's code cut to the level's
    prefix. Contributors above the level (a county's facility, rolling to towns) drop out."""
    if contributions.empty:
        return contributions
    keep = codes.PREFIX_LENGTH[level]
    index = contributions.index.to_series()
    key = index.str.slice(0, keep) + "0" * (12 - keep)
    start, end = _PART[level]
    valid = key.str.slice(start, end) != "0" * (end - start)
    grouped = contributions[valid.to_numpy()].groupby(key[valid].to_numpy()).sum(min_count=1)
    grouped.index.name = "code"
    return grouped


def _units(
    conn: Connection,
    scope: Scope,
    level: UnitLevel,
    villages: pd.DataFrame,
    contributions: pd.DataFrame,
) -> pd.DataFrame:
    """The rows of the table: rural villages, or the units at ``level`` in force (plus any unit
    a contribution rolls up to)."""
    columns = ["name", "level", "parent_code"]
    if level == UnitLevel.VILLAGE:
        units = pd.DataFrame(
            {
                "name": villages["name"].to_numpy(),
                "level": level.value,
                "parent_code": villages["town_code"].to_numpy(),
            },
            index=pd.Index(villages["code"], name="code"),
        )
        return units[columns]
    unit = t(Unit)
    stmt = select(unit.c.code, unit.c.name, unit.c.parent_code).where(
        unit.c.level == level.value,
        scope.within(unit.c.code),
        valid_on(unit.c, scope.end),
    )
    frame = read_frame(conn, stmt, ["code", "name", "parent_code"]).set_index("code")
    extra = roll_up(contributions, level).index.difference(frame.index)
    if len(extra):
        names = _names(conn, list(extra))
        more = pd.DataFrame(
            {"name": [names.get(c, c) for c in extra], "parent_code": None}, index=extra
        )
        frame = pd.concat([frame, more])
    frame["level"] = level.value
    frame.index.name = "code"
    return frame.sort_index()[columns]


def _names(conn: Connection, unit_codes: list[str]) -> dict[str, str]:
    unit = t(Unit)
    rows = conn.execute(select(unit.c.code, unit.c.name).where(unit.c.code.in_(unit_codes))).all()
    return {str(r[0]): str(r[1]) for r in rows}


def _ratios(
    measures: pd.DataFrame,
    definitions: dict[str, IndicatorDef],
    rules: IndicatorRules,
    level: UnitLevel,
    ctx: _Context,
) -> tuple[pd.DataFrame, dict[str, str]]:
    blocks: dict[tuple[str, str], np.ndarray] = {}
    notes: dict[str, str] = {}
    n = len(measures)
    for key, definition in definitions.items():
        num_names, den_names = definition.resolve(rules.options)
        # Kept to 1e-6 (a gram of tonnage): sums of floats differ in their last bits with the
        # order they were added in (PostgreSQL aggregates in any order), figures must not.
        num = measures[list(num_names)].sum(axis=1, min_count=1).to_numpy(dtype=float)
        den = measures[list(den_names)].sum(axis=1, min_count=1).to_numpy(dtype=float)
        num, den = np.round(num, FIGURE_DECIMALS), np.round(den, FIGURE_DECIMALS)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        note = [definition.note] if definition.note else []
        if not definition.shown_at(level):
            value = np.full(n, np.nan)
            note.append(f"仅在{definition.min_level.label}及以上计算")
        if set(num_names + den_names) & ctx.missing:
            note.append("无数据来源(文明村称号)")
        if key in ("sanitary_toilet_rate", "harmless_toilet_rate"):
            note.append(f"分母: {_POP_LABEL[rules.options['toilet_denominator']]}")
        if key == "effluent_compliance_rate" and "samples_unjudged" in measures:
            # the rural villages' samples in these rows (not the whole scope's)
            unjudged = int(measures["samples_unjudged"].sum())
            if unjudged:
                note.append(f"{unjudged}个水样无法判定(无执行标准等级或未测限值项目),未计入")
        blocks[(key, "numerator")] = num
        blocks[(key, "denominator")] = den
        blocks[(key, "value")] = value
        notes[key] = ";".join(note)
    columns = pd.MultiIndex.from_tuples(list(blocks), names=["indicator", "field"])
    data = pd.DataFrame(
        np.column_stack(list(blocks.values())) if blocks else np.empty((n, 0)),
        index=measures.index,
        columns=columns,
    )
    assert all(f in FIELDS for f in columns.get_level_values(1))
    return data, notes


_POP_LABEL = {"resident": "常住户", "registered": "户籍户", "due": "应改户", "all": "全部户"}


def _values(members: Iterable[Any]) -> list[str]:
    return sorted(str(m) for m in members)


def _text(value: Any) -> str | None:
    """An enum member or string as its stored value (None stays None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)
