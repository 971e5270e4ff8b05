"""The garbage chain 户分类、村收集、镇转运、县处理 with 12 months of flows, and planted breaks.

Per county: 1-3 collection points per village, one transfer station per town, six treatment
facilities. Links: village → point and point → station carry every category (category None);
station → facility links carry one category each.

Everything not planted is clean on ``as_of``: every village has an operating point linked to an
operating station; every station's average daily measured inflow over the 12 months (and in
each month) is below its capacity; every station → facility link's category is accepted by
its facility; every facility operates; each station-month's measured inflow and the facilities'
measured receipts from it agree within 2% (overall and per category).

Planted, per county, and listed in the manifest: villages with no working point (only point in
fault; only point stopped; no point at all), points linked only to a decommissioned spare
station, one overloaded station, two mixed-transport links (perishable to the landfill,
hazardous to the incinerator), one facility down (a small composting plant that two stations
use) and two station-months whose receipts fall 20% short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from rural import models as m
from rural.bulk import Categorical, ColumnData, Points
from rural.demo import distributions as dist
from rural.demo.core import Ctx, choice, d64, enum_column, month_index, optional, random_dates
from rural.demo.geography import CountyGeo, sample_in
from rural.demo.manifest import ChainBreak
from rural.enums import (
    ChainBreakKind,
    ChainNodeKind,
    CollectionPointKind,
    FacilityStatus,
    TonnageFate,
    TonnageMethod,
    TreatmentKind,
)

CATEGORIES = dist.CATEGORIES
UNBALANCED_FACTOR = 0.80
BALANCE_NOISE = 0.02
MEASURE_NOISE = 0.015
DOWN_SINCE_DAYS = 6  # the facility planted down broke this many days before as_of
SPARE_DECOMMISSIONED = date(2024, 6, 30)
FATE_BY_KIND = {
    TreatmentKind.INCINERATION: TonnageFate.INCINERATED_ENERGY,
    TreatmentKind.LANDFILL: TonnageFate.LANDFILLED,
    TreatmentKind.COMPOSTING: TonnageFate.COMPOSTED,
    TreatmentKind.RECYCLING: TonnageFate.RECYCLED,
    TreatmentKind.HAZARDOUS: TonnageFate.HAZARDOUS_DISPOSED,
}
# (role, kind, name suffix, capacity t/d, accepted categories)
FACILITIES = (
    ("incinerator", TreatmentKind.INCINERATION, "生活垃圾焚烧发电厂", 600.0, ("other",)),
    ("landfill", TreatmentKind.LANDFILL, "生活垃圾卫生填埋场", 300.0, ("other",)),
    ("composting", TreatmentKind.COMPOSTING, "易腐垃圾资源化处理中心", 120.0, ("perishable",)),
    ("composting_small", TreatmentKind.COMPOSTING, "易腐垃圾处理站", 25.0, ("perishable",)),
    ("recycling", TreatmentKind.RECYCLING, "再生资源分拣中心", 60.0, ("recyclable",)),
    ("hazardous", TreatmentKind.HAZARDOUS, "有害垃圾收运处置中心", 5.0, ("hazardous",)),
)
POINT_KIND_SHARES = {
    CollectionPointKind.SORTING_HOUSE: 0.4,
    CollectionPointKind.BIN_STATION: 0.35,
    CollectionPointKind.POINT: 0.25,
}


@dataclass
class _Acc:
    """Rows collected across counties."""

    # collection points
    p_village: list[int] = field(default_factory=list)
    p_station: list[int] = field(default_factory=list)  # linked station id
    p_status: list[FacilityStatus] = field(default_factory=list)
    p_since: list[date | None] = field(default_factory=list)  # not collected from this date
    p_x: list[float] = field(default_factory=list)
    p_y: list[float] = field(default_factory=list)
    # transfer stations
    s_town: list[str] = field(default_factory=list)
    s_name: list[str] = field(default_factory=list)
    s_status: list[FacilityStatus] = field(default_factory=list)
    s_spare: list[bool] = field(default_factory=list)
    s_x: list[float] = field(default_factory=list)
    s_y: list[float] = field(default_factory=list)
    # treatment facilities
    f_county: list[str] = field(default_factory=list)
    f_name: list[str] = field(default_factory=list)
    f_kind: list[TreatmentKind] = field(default_factory=list)
    f_capacity: list[float] = field(default_factory=list)
    f_accepts: list[list[str]] = field(default_factory=list)
    f_status: list[FacilityStatus] = field(default_factory=list)
    f_x: list[float] = field(default_factory=list)
    f_y: list[float] = field(default_factory=list)
    # station -> facility links: (station id, facility id, category)
    sf_links: list[tuple[int, int, str]] = field(default_factory=list)
    breaks: list[ChainBreak] = field(default_factory=list)
    overloaded: list[int] = field(default_factory=list)  # station ids
    unbalanced: list[tuple[int, int]] = field(default_factory=list)  # (station id, month)
    mixed: list[tuple[int, str]] = field(default_factory=list)  # (station id, category)


def generate(ctx: Ctx) -> list[ChainBreak]:
    acc = _Acc()
    for index, county in enumerate(ctx.geo.counties):
        _county(ctx, acc, index, county)
    link_ids = _write_objects(ctx, acc)
    _flows(ctx, acc)
    for station_id, category in acc.mixed:
        link_id = link_ids[(station_id, category)]
        acc.breaks.append(
            ChainBreak(
                kind=ChainBreakKind.MIXED_TRANSPORT,
                object_type="chain_link",
                object_id=str(link_id),
                category=category,
                note="转运站将该类垃圾送往不接收该类别的设施",
            )
        )
    return acc.breaks


def _pick_villages(ctx: Ctx, county_index: int, n: int) -> list[int]:
    """``n`` rural 村委会 villages of the county, in different towns while towns last."""
    vill = ctx.villages
    candidates = np.flatnonzero((vill.county == county_index) & vill.committee)
    order = ctx.rng.permutation(candidates)
    chosen: list[int] = []
    towns: set[int] = set()
    for v in order.tolist():
        if int(vill.town[v]) not in towns:
            chosen.append(v)
            towns.add(int(vill.town[v]))
        if len(chosen) == n:
            return chosen
    for v in order.tolist():
        if v not in chosen:
            chosen.append(v)
        if len(chosen) == n:
            break
    return chosen


def _county(ctx: Ctx, acc: _Acc, county_index: int, county: CountyGeo) -> None:
    rng, vill = ctx.rng, ctx.villages
    # Facilities of the county.
    facility_ids: dict[str, int] = {}
    fx, fy = sample_in(county.geom, len(FACILITIES), rng)
    short = county.name.replace("(示例)", "")
    for k, (role, kind, suffix, capacity, accepts) in enumerate(FACILITIES):
        acc.f_county.append(county.code)
        acc.f_name.append(short + suffix)
        acc.f_kind.append(kind)
        acc.f_capacity.append(capacity)
        acc.f_accepts.append(list(accepts))
        acc.f_status.append(FacilityStatus.OPERATING)
        acc.f_x.append(float(fx[k]))
        acc.f_y.append(float(fy[k]))
        facility_ids[role] = len(acc.f_name)
    down = facility_ids["composting_small"]
    acc.f_status[down - 1] = FacilityStatus.FAULT
    acc.breaks.append(
        ChainBreak(
            kind=ChainBreakKind.FACILITY_DOWN,
            object_type="treatment_facility",
            object_id=str(down),
            period=_since(ctx.params.as_of - timedelta(days=DOWN_SINCE_DAYS), ctx.params.as_of),
            note=f"{acc.f_name[down - 1]}故障停运",
        )
    )

    # One station per town; spare (decommissioned) stations where a point is planted orphan.
    plants = _pick_villages(ctx, county_index, 5)
    no_point_fault, no_point_none, no_point_stopped, *orphans = plants
    main_station: dict[int, int] = {}
    for town in county.towns:
        town_index = ctx.town_index[town.code]
        main_station[town_index] = _add_station(acc, town.code, town.name + "垃圾中转站", town.seat)
    spare_station: dict[int, int] = {}
    for v in orphans:
        town_index = int(vill.town[v])
        if town_index not in spare_station:
            town = ctx.geo.towns[town_index]
            x, y = sample_in(town.geom, 1, rng)
            sid = _add_station(
                acc, town.code, town.name + "旧垃圾中转站", (float(x[0]), float(y[0]))
            )
            acc.s_status[sid - 1] = FacilityStatus.DECOMMISSIONED
            acc.s_spare[sid - 1] = True
            spare_station[town_index] = sid

    # Collection points.
    county_villages = np.flatnonzero(vill.county == county_index)
    shares = dist.POINTS_PER_VILLAGE_SHARES
    k_points = np.array(list(shares))[choice(rng, list(shares.values()), len(county_villages))]
    for v, k in zip(county_villages.tolist(), k_points.tolist(), strict=True):
        if v == no_point_none:
            acc.breaks.append(_village_break(vill.codes[v], "村内没有垃圾收集点", None))
            continue
        if v in (no_point_fault, no_point_stopped):
            k = 1
        if v in orphans:
            k = max(k, 2)
        x, y = sample_in(vill.geos[v].geom, k, rng)
        station = main_station[int(vill.town[v])]
        for j in range(k):
            acc.p_village.append(v)
            acc.p_station.append(station)
            acc.p_status.append(FacilityStatus.OPERATING)
            acc.p_since.append(None)
            acc.p_x.append(float(x[j]))
            acc.p_y.append(float(y[j]))
        if v in orphans:
            acc.p_station[-1] = spare_station[int(vill.town[v])]
            acc.breaks.append(
                ChainBreak(
                    kind=ChainBreakKind.POINT_NO_STATION,
                    object_type="collection_point",
                    object_id=str(len(acc.p_village)),
                    note="收集点仍挂接已报废的旧中转站",
                )
            )
        if v in (no_point_fault, no_point_stopped):
            status = FacilityStatus.FAULT if v == no_point_fault else FacilityStatus.STOPPED
            acc.p_status[-1] = status
            since = ctx.params.as_of - timedelta(days=int(rng.integers(10, 90)))
            acc.p_since[-1] = since
            period = _since(since, ctx.params.as_of)
            note = f"唯一的收集点{status.label}"
            acc.breaks.append(_village_break(vill.codes[v], note, period))
            acc.breaks.append(
                ChainBreak(
                    kind=ChainBreakKind.FACILITY_DOWN,
                    object_type="collection_point",
                    object_id=str(len(acc.p_village)),
                    period=period,
                    note=f"收集点{status.label}",
                )
            )

    # Station -> facility links, with the planted mixed links and the down facility's users.
    stations = [main_station[ctx.town_index[t.code]] for t in county.towns]
    order = [stations[i] for i in rng.permutation(len(stations))]
    overloaded, unbalanced = order[0], [order[1 % len(order)], order[2 % len(order)]]
    mixed_perishable, mixed_hazardous = order[3 % len(order)], order[4 % len(order)]
    small_users = [s for s in order[5:] + order[:5] if s != mixed_perishable][:2]
    acc.overloaded.append(overloaded)
    months = rng.choice(12, size=2, replace=len(set(unbalanced)) == 1)
    for sid, month in zip(unbalanced, months.tolist(), strict=True):
        if (sid, month) not in acc.unbalanced:
            acc.unbalanced.append((sid, month))
    for sid in stations:
        for category in CATEGORIES:
            target = {
                "recyclable": "recycling",
                "hazardous": "hazardous",
                "perishable": "composting",
                "other": "incinerator" if rng.random() < 0.8 else "landfill",
            }[category]
            if category == "perishable" and sid in small_users:
                target = "composting_small"
            if category == "perishable" and sid == mixed_perishable:
                target = "landfill"
                acc.mixed.append((sid, category))
            if category == "hazardous" and sid == mixed_hazardous:
                target = "incinerator"
                acc.mixed.append((sid, category))
            acc.sf_links.append((sid, facility_ids[target], category))


def _village_break(code: str, note: str, period: str | None) -> ChainBreak:
    return ChainBreak(
        kind=ChainBreakKind.VILLAGE_NO_POINT,
        object_type="village",
        object_id=code,
        period=period,
        note=note,
    )


def _since(start: date, end: date) -> str:
    """The ISO interval of days a status break holds: from the change to ``as_of``."""
    return f"{start.isoformat()}/{end.isoformat()}"


def _add_station(acc: _Acc, town_code: str, name: str, at: tuple[float, float]) -> int:
    acc.s_town.append(town_code)
    acc.s_name.append(name)
    acc.s_status.append(FacilityStatus.OPERATING)
    acc.s_spare.append(False)
    acc.s_x.append(at[0])
    acc.s_y.append(at[1])
    return len(acc.s_name)


def _write_objects(ctx: Ctx, acc: _Acc) -> dict[tuple[int, str], int]:
    """Points, stations, facilities, links and their status histories; returns the link id of
    each (station, category)."""
    rng, params = ctx.rng, ctx.params
    n_p, n_s, n_f = len(acc.p_village), len(acc.s_name), len(acc.f_name)
    vill_codes = ctx.villages.codes
    p_village = np.array(acc.p_village, dtype=np.int64)
    p_ids = np.arange(1, n_p + 1)
    point_kinds = list(CollectionPointKind)
    kind_codes = np.array([point_kinds.index(k) for k in POINT_KIND_SHARES])[
        choice(rng, list(POINT_KIND_SHARES.values()), n_p)
    ]
    bins = [
        {"recyclable": int(a), "hazardous": 1, "perishable": int(b), "other": int(c)}
        for a, b, c in zip(
            rng.integers(1, 3, n_p).tolist(),
            rng.integers(1, 5, n_p).tolist(),
            rng.integers(1, 5, n_p).tolist(),
            strict=True,
        )
    ]
    statuses = list(FacilityStatus)
    point_names = [f"{ctx.villages.geos[v].name}垃圾收集点{j}" for v, j in _numbered(acc.p_village)]
    p_commissioned = random_dates(rng, d64(date(2017, 1, 1)), d64(date(2022, 12, 31)), n_p)
    ctx.add(
        "collection_point",
        m.CollectionPoint,
        {
            "id": p_ids,
            "village_code": Categorical(p_village, vill_codes),
            "name": point_names,
            "kind": enum_column(CollectionPointKind, kind_codes),
            "bins": bins,
            "frequency_per_week": np.where(rng.random(n_p) < 0.7, 7.0, 3.0),
            "cleaner": ctx.person(n_p),
            "status": enum_column(FacilityStatus, [statuses.index(s) for s in acc.p_status]),
            "geom": Points(np.array(acc.p_x), np.array(acc.p_y)),
        },
    )
    ctx.history.add("collection_point", p_ids, None, "operating", p_commissioned)
    planted = [i for i, s in enumerate(acc.p_since) if s is not None]
    planted_since = [s for s in acc.p_since if s is not None]
    ctx.history.add(
        "collection_point",
        p_ids[planted],
        "operating",
        [str(acc.p_status[i]) for i in planted],
        np.array([d64(since) for since in planted_since], dtype="datetime64[D]"),
    )

    s_ids = np.arange(1, n_s + 1)
    s_commissioned = random_dates(rng, d64(date(2014, 1, 1)), d64(date(2020, 12, 31)), n_s)
    spare = np.array(acc.s_spare, dtype=bool)
    s_commissioned[spare] = d64(date(2010, 5, 1))
    ctx.add(
        "transfer_station",
        m.TransferStation,
        {
            "id": s_ids,
            "town_code": acc.s_town,
            "name": acc.s_name,
            "capacity_tpd": np.zeros(n_s),  # set from the flows
            "has_weighbridge": ~spare,
            "operator": [f"{name[:-5]}环卫所" for name in acc.s_name],
            "status": enum_column(FacilityStatus, [statuses.index(s) for s in acc.s_status]),
            "geom": Points(np.array(acc.s_x), np.array(acc.s_y)),
        },
    )
    ctx.history.add("transfer_station", s_ids, None, "operating", s_commissioned)
    ctx.history.add(
        "transfer_station",
        s_ids[spare],
        "operating",
        "decommissioned",
        np.full(int(spare.sum()), d64(SPARE_DECOMMISSIONED)),
        note="新中转站建成后报废",
    )

    f_ids = np.arange(1, n_f + 1)
    f_commissioned = random_dates(rng, d64(date(2012, 1, 1)), d64(date(2019, 12, 31)), n_f)
    kinds = list(TreatmentKind)
    ctx.add(
        "treatment_facility",
        m.TreatmentFacility,
        {
            "id": f_ids,
            "unit_code": acc.f_county,
            "name": acc.f_name,
            "kind": enum_column(TreatmentKind, [kinds.index(k) for k in acc.f_kind]),
            "capacity_tpd": np.array(acc.f_capacity),
            "accepted_categories": acc.f_accepts,
            "compliant": np.ones(n_f, dtype=bool),
            "status": enum_column(FacilityStatus, [statuses.index(s) for s in acc.f_status]),
            "geom": Points(np.array(acc.f_x), np.array(acc.f_y)),
        },
    )
    ctx.history.add("treatment_facility", f_ids, None, "operating", f_commissioned)
    down = np.array([s != FacilityStatus.OPERATING for s in acc.f_status])
    ctx.history.add(
        "treatment_facility",
        f_ids[down],
        "operating",
        "fault",
        np.full(int(down.sum()), d64(params.as_of) - DOWN_SINCE_DAYS),
        note="设备故障",
    )
    return _write_links(ctx, acc, p_village, p_commissioned, s_commissioned)


def _numbered(villages: list[int]) -> list[tuple[int, int]]:
    seen: dict[int, int] = {}
    out = []
    for v in villages:
        seen[v] = seen.get(v, 0) + 1
        out.append((v, seen[v]))
    return out


def _write_links(
    ctx: Ctx,
    acc: _Acc,
    p_village: np.ndarray,
    p_commissioned: np.ndarray,
    s_commissioned: np.ndarray,
) -> dict[tuple[int, str], int]:
    n_p = len(p_village)
    p_ids = np.arange(1, n_p + 1)
    n_sf = len(acc.sf_links)
    sf = np.array([(s, f) for s, f, _ in acc.sf_links], dtype=np.int64).reshape(-1, 2)
    kinds = list(ChainNodeKind)
    n = 2 * n_p + n_sf
    source = np.concatenate(
        [
            np.full(n_p, kinds.index(ChainNodeKind.VILLAGE)),
            np.full(n_p, kinds.index(ChainNodeKind.COLLECTION_POINT)),
            np.full(n_sf, kinds.index(ChainNodeKind.TRANSFER_STATION)),
        ]
    )
    village = np.concatenate([p_village, np.full(n_p + n_sf, -1)])
    point = optional(
        np.concatenate([p_ids, p_ids, np.zeros(n_sf, np.int64)]), np.arange(n) < 2 * n_p
    )
    station = optional(
        np.concatenate([np.zeros(n_p, np.int64), np.array(acc.p_station), sf[:, 0]]),
        np.arange(n) >= n_p,
    )
    facility = optional(
        np.concatenate([np.zeros(2 * n_p, np.int64), sf[:, 1]]), np.arange(n) >= 2 * n_p
    )
    category = [None] * (2 * n_p) + [c for _, _, c in acc.sf_links]
    valid_from = np.concatenate([p_commissioned, p_commissioned, s_commissioned[sf[:, 0] - 1]])
    ctx.add(
        "chain_link",
        m.ChainLink,
        {
            "id": np.arange(1, n + 1),
            "source_kind": enum_column(ChainNodeKind, source),
            "village_code": Categorical(village, ctx.villages.codes),
            "collection_point_id": point,
            "transfer_station_id": station,
            "treatment_facility_id": facility,
            "category": category,
            "valid_from": valid_from,
        },
    )
    return {(s, c): 2 * n_p + i + 1 for i, (s, _, c) in enumerate(acc.sf_links)}


def _flows(ctx: Ctx, acc: _Acc) -> None:
    """Monthly village estimates, weekly collection logs, monthly measured tonnage."""
    rng, params = ctx.rng, ctx.params
    months = params.months()
    days = np.array([(end - start).days + 1 for start, end in months], dtype=float)
    n_v = len(ctx.villages)
    residents = np.bincount(ctx.hh_village, weights=ctx.hh_members * ctx.hh_resident, minlength=n_v)
    season = 1 + 0.08 * np.sin(np.arange(12) / 12 * 2 * np.pi) + rng.normal(0, 0.02, 12)
    share = np.array([dist.CATEGORY_SHARES[c] for c in CATEGORIES])
    factor = rng.lognormal(0, 0.12, n_v)
    generated = (
        (residents * factor)[:, None, None]
        * dist.KG_PER_RESIDENT_DAY
        / 1000.0
        * (days * season)[None, :, None]
        * share[None, None, :]
    )  # tonnes [village, month, category]

    # Points: a share of their village's garbage, while they are collected.
    p_village = np.array(acc.p_village, dtype=np.int64)
    n_p = len(p_village)
    weight = rng.uniform(0.5, 1.5, n_p)
    weight /= np.bincount(p_village, weights=weight, minlength=n_v)[p_village]
    p_station = np.array(acc.p_station, dtype=np.int64)
    collected = np.ones((n_p, 12))
    for i, since in enumerate(acc.p_since):
        if since is not None:
            for k, (start, end) in enumerate(months):
                collected[i, k] = np.clip(((since - start).days) / ((end - start).days + 1), 0, 1)
    spare = np.array(acc.s_spare, dtype=bool)
    collected[spare[p_station - 1]] = 0.0
    point_flow = generated[p_village] * (weight * 1.0)[:, None, None] * collected[:, :, None]

    n_s = len(acc.s_name)
    station_flow = np.zeros((n_s, 12, len(CATEGORIES)))
    np.add.at(station_flow, p_station - 1, point_flow)
    station_flow *= 1 + rng.normal(0, MEASURE_NOISE / 2, station_flow.shape).clip(
        -MEASURE_NOISE, MEASURE_NOISE
    )
    _capacities(ctx, acc, station_flow, days)
    village_rows = _village_records_and_logs(
        ctx, acc, generated, point_flow, p_village, p_station, days
    )
    _tonnage_records(ctx, acc, station_flow, village_rows)


def _capacities(ctx: Ctx, acc: _Acc, station_flow: np.ndarray, days: np.ndarray) -> None:
    rng, params = ctx.rng, ctx.params
    daily_by_month = station_flow.sum(axis=2) / days[None, :]
    capacity = (
        np.ceil(daily_by_month.max(axis=1) * rng.uniform(1.4, 2.2, len(daily_by_month)) / 5) * 5
    )
    capacity = np.maximum(capacity, 5.0)
    for sid in acc.overloaded:
        capacity[sid - 1] = np.floor(daily_by_month[sid - 1].min() * 0.85 * 2) / 2
        period = f"{params.window_start.isoformat()}/{params.as_of.isoformat()}"
        acc.breaks.append(
            ChainBreak(
                kind=ChainBreakKind.STATION_OVERLOADED,
                object_type="transfer_station",
                object_id=str(sid),
                period=period,
                note="日均进站量超过设计能力",
            )
        )
    spare = np.array(acc.s_spare, dtype=bool)
    capacity[spare] = 10.0
    ctx.tables["transfer_station"].columns["capacity_tpd"] = capacity


def _village_records_and_logs(
    ctx: Ctx,
    acc: _Acc,
    generated: np.ndarray,
    point_flow: np.ndarray,
    p_village: np.ndarray,
    p_station: np.ndarray,
    days: np.ndarray,
) -> dict[str, np.ndarray]:
    """Writes the collection logs; returns the village estimates (columns of tonnage rows)."""
    rng, params = ctx.rng, ctx.params
    months = params.months()
    n_v, n_c = generated.shape[0], len(CATEGORIES)
    # Village estimates (bins x fill x frequency x density): labelled estimated.
    v_idx, m_idx, c_idx = np.meshgrid(np.arange(n_v), np.arange(12), np.arange(n_c), indexing="ij")
    estimate = generated * rng.normal(1.0, 0.06, generated.shape).clip(0.8, 1.2)
    starts = np.array([d64(s) for s, _ in months])
    ends = np.array([d64(e) for _, e in months])
    village_rows = {
        "village": v_idx.ravel(),
        "period_start": starts[m_idx.ravel()],
        "period_end": ends[m_idx.ravel()],
        "category": c_idx.ravel(),
        "tonnes": np.round(estimate.ravel(), 3),
    }

    # Weekly collection logs of each point while it is collected.
    n_p = len(p_village)
    offset = rng.integers(0, 7, n_p)
    week = np.arange(dist.COLLECTION_WEEKS)
    on = d64(params.window_start) + (offset[:, None] + 7 * week[None, :]).astype("timedelta64[D]")
    since = np.array(
        [d64(s) if s is not None else d64(params.as_of) + 1 for s in acc.p_since],
        dtype="datetime64[D]",
    )
    spare = np.array(acc.s_spare, dtype=bool)[p_station - 1]
    keep = (on <= d64(params.as_of)) & (on < since[:, None]) & ~spare[:, None]
    point_of, week_of = np.nonzero(keep)
    dates = on[point_of, week_of]
    month = month_index(dates, params)
    weekly = point_flow.sum(axis=2)[point_of, month] / days[month] * 7
    freq = ctx.tables["collection_point"].columns["frequency_per_week"]
    assert isinstance(freq, np.ndarray)
    plates = [f"浙K·D{1000 + sid:04d}" for sid in range(1, len(acc.s_name) + 1)]
    cleaners = ctx.tables["collection_point"].columns["cleaner"]
    assert isinstance(cleaners, Categorical)
    ctx.add(
        "collection_log",
        m.CollectionLog,
        {
            "id": np.arange(1, len(point_of) + 1),
            "collection_point_id": point_of + 1,
            "transfer_station_id": p_station[point_of],
            "collected_on": dates,
            "vehicle": Categorical(p_station[point_of] - 1, plates),
            "trips": np.round(freq[point_of]).astype(np.int64),
            "estimated_tonnes": np.round(
                weekly * rng.normal(1.0, 0.05, len(weekly)).clip(0.85, 1.15), 3
            ),
            "recorded_by": Categorical(cleaners.codes[point_of], cleaners.categories),
        },
    )
    return village_rows


def _tonnage_records(
    ctx: Ctx, acc: _Acc, station_flow: np.ndarray, village_rows: dict[str, np.ndarray]
) -> None:
    """Village estimates, station weights and facility receipts per month and category."""
    rng, params = ctx.rng, ctx.params
    months = params.months()
    starts = np.array([d64(s) for s, _ in months])
    ends = np.array([d64(e) for _, e in months])
    n_c = station_flow.shape[2]
    active = station_flow.sum(axis=(1, 2)) > 0
    grids = np.meshgrid(np.flatnonzero(active), np.arange(12), np.arange(n_c), indexing="ij")
    s_idx, m_idx, c_idx = (g.ravel() for g in grids)
    inflow = np.round(station_flow[s_idx, m_idx, c_idx], 3)
    # Facility receipts from each station: within 2% of the station's weight, except planted.
    receipts = inflow * (1 + rng.uniform(-BALANCE_NOISE, BALANCE_NOISE, len(inflow)) * 0.9)
    for sid, month in acc.unbalanced:
        hit = (s_idx == sid - 1) & (m_idx == month)
        receipts[hit] = inflow[hit] * UNBALANCED_FACTOR
        start = months[month][0]
        acc.breaks.append(
            ChainBreak(
                kind=ChainBreakKind.UNBALANCED,
                object_type="transfer_station",
                object_id=str(sid),
                period=f"{start.year:04d}-{start.month:02d}",
                note="转运站称重与处理设施接收量相差20%",
            )
        )
    target = {(s, c): f for s, f, c in acc.sf_links}
    facility = np.array(
        [target[(int(s) + 1, CATEGORIES[int(c)])] for s, c in zip(s_idx, c_idx, strict=True)]
    )
    fates = list(TonnageFate)
    fate = np.array([fates.index(FATE_BY_KIND[k]) for k in acc.f_kind])[facility - 1]
    nodes = list(ChainNodeKind)
    measured = list(TonnageMethod).index(TonnageMethod.MEASURED)
    n_v, n = len(village_rows["tonnes"]), len(inflow)
    columns: dict[str, ColumnData] = {
        "node_kind": enum_column(
            ChainNodeKind,
            np.concatenate(
                [
                    np.full(n_v, nodes.index(ChainNodeKind.VILLAGE)),
                    np.full(n, nodes.index(ChainNodeKind.TRANSFER_STATION)),
                    np.full(n, nodes.index(ChainNodeKind.TREATMENT_FACILITY)),
                ]
            ),
        ),
        "village_code": Categorical(
            np.concatenate([village_rows["village"], np.full(2 * n, -1)]),
            ctx.villages.codes,
        ),
        "transfer_station_id": optional(
            np.concatenate([np.zeros(n_v, np.int64), s_idx + 1, s_idx + 1]),
            np.arange(n_v + 2 * n) >= n_v,
        ),
        "treatment_facility_id": optional(
            np.concatenate([np.zeros(n_v + n, np.int64), facility]),
            np.arange(n_v + 2 * n) >= n_v + n,
        ),
        "period_start": np.concatenate(
            [village_rows["period_start"], starts[m_idx], starts[m_idx]]
        ),
        "period_end": np.concatenate([village_rows["period_end"], ends[m_idx], ends[m_idx]]),
        "category": Categorical(
            np.concatenate([village_rows["category"], c_idx, c_idx]), list(CATEGORIES)
        ),
        "tonnes": np.concatenate([village_rows["tonnes"], inflow, np.round(receipts, 3)]),
        "method": enum_column(
            TonnageMethod,
            np.concatenate(
                [
                    np.full(n_v, list(TonnageMethod).index(TonnageMethod.ESTIMATED)),
                    np.full(2 * n, measured),
                ]
            ),
        ),
        "fate": enum_column(TonnageFate, np.concatenate([np.full(n_v + n, -1), fate])),
    }
    columns["id"] = np.arange(1, n_v + 2 * n + 1)
    ctx.add("tonnage_record", m.TonnageRecord, columns)
