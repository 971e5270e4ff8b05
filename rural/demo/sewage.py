"""Sewage facilities (一设施一档案), household connections, monthly inspections, repairs and
quarterly effluent samples judged against the Zhejiang standard DB33/973-2021.

The limits and the class rule come from the rules files (``rules/discharge_limits.toml``, the
shipped example; ``rules/discharge_class_rule.toml``); a cold limit applies at water <= 12 °C.
The demo's sample values stay clear of the band between the two NH3-N limits, so a sample
passes or fails the same way whichever limit a reader applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from rural import models as m
from rural.bulk import Categorical, Points
from rural.demo import distributions as dist
from rural.demo import names
from rural.demo.core import Ctx, choice, d64, enum_column, optional, random_dates, to_date
from rural.demo.geography import sample_in
from rural.demo.manifest import FailingSample, FaultySewageFacility
from rural.enums import DischargeClass, FacilityStatus, SewageMode, WaterClass
from rural.rules_loader import load_discharge_class_rule, load_discharge_limits

STANDARD = "DB33/973-2021"
PIPED_STANDARD = "GB/T 31962-2015"


@dataclass(frozen=True)
class ItemLimit:
    """A limit on one item: at most ``high`` (``high_cold`` at water <= 12 °C), at least ``low``."""

    high: float | None = None
    high_cold: float | None = None
    low: float | None = None


def db33_limits() -> dict[DischargeClass, dict[str, ItemLimit]]:
    """The shipped limits (``rules/discharge_limits.toml``, DB33/973-2021) as item limits."""
    result: dict[DischargeClass, dict[str, ItemLimit]] = {}
    for klass, limits in load_discharge_limits().classes.items():
        items: dict[str, ItemLimit] = {}
        if limits.ph is not None:
            items["ph"] = ItemLimit(low=limits.ph[0], high=limits.ph[1])
        for item, high in limits.limits.items():
            items[item] = ItemLimit(high, limits.cold_limits.get(item))
        result[klass] = items
    return result


def class_by_water() -> dict[WaterClass, DischargeClass]:
    """The class each receiving water calls for (``rules/discharge_class_rule.toml``)."""
    return dict(load_discharge_class_rule().by_water_class)


ITEMS = ("ph", "cod", "bod5", "ss", "nh3n", "tn", "tp")
PROCESSES = {
    SewageMode.CENTRALIZED: ("A/O", "A2/O", "厌氧+人工湿地", "生物滤池", "MBR"),
    SewageMode.DECENTRALIZED: ("厌氧+人工湿地", "一体化设备", "生物滤池"),
}
SAMPLE_MONTHS = (1, 4, 7, 10)  # months of the window with a sample (quarterly)
LABS = ("丽水市示例环境检测有限公司", "浙江示例检测技术有限公司")


def failing_items(
    limits: dict[str, ItemLimit], values: dict[str, float | None], *, cold: bool = False
) -> list[str]:
    """The items of a sample outside their limits (unmeasured items are not judged)."""
    failing = []
    for item, limit in limits.items():
        value = values.get(item)
        if value is None:
            continue
        high = limit.high_cold if cold and limit.high_cold is not None else limit.high
        if (high is not None and value > high) or (limit.low is not None and value < limit.low):
            failing.append(item)
    return failing


def generate(
    ctx: Ctx,
) -> tuple[list[FaultySewageFacility], list[FailingSample]]:
    rng, params, vill = ctx.rng, ctx.params, ctx.villages
    n_v = len(vill)
    served = np.where(vill.committee, rng.random(n_v) < dist.SEWAGE_VILLAGE_SHARE, True)
    modes = list(SewageMode)
    mode_of_village = np.where(
        vill.committee,
        np.array([modes.index(k) for k in dist.SEWAGE_MODE_SHARES])[
            choice(rng, list(dist.SEWAGE_MODE_SHARES.values()), n_v)
        ],
        modes.index(SewageMode.PIPED),
    )
    per_village = np.where(
        mode_of_village == modes.index(SewageMode.DECENTRALIZED), rng.integers(2, 5, n_v), 1
    )
    per_village = np.where(served, per_village, 0)
    f_village = np.repeat(np.arange(n_v), per_village)
    first = np.concatenate([[0], np.cumsum(per_village)])
    n = len(f_village)
    f_ids = np.arange(1, n + 1)
    mode = mode_of_village[f_village]
    piped = mode == modes.index(SewageMode.PIPED)
    centralized = mode == modes.index(SewageMode.CENTRALIZED)
    households = np.diff(ctx.hh_first)[f_village] / per_village[f_village]

    waters = list(WaterClass)
    water = np.array([waters.index(w) for w in dist.WATER_CLASS_SHARES])[
        choice(rng, list(dist.WATER_CLASS_SHARES.values()), n)
    ]
    water[piped] = waters.index(WaterClass.NONE)
    classes = list(DischargeClass)
    by_water = class_by_water()
    class_of_water = np.array([classes.index(by_water[w]) if w in by_water else -1 for w in waters])
    discharge = class_of_water[water]
    commissioned = random_dates(rng, d64(date(2014, 1, 1)), d64(date(2022, 12, 31)), n)

    # State on as_of: planted faults among non-piped facilities, and repaired past faults.
    faulty = ~piped & (rng.random(n) < dist.SEWAGE_FAULTY_SHARE)
    stopped = faulty & (rng.random(n) < 0.3)
    since = random_dates(rng, d64(params.window_start), d64(params.as_of) - 5, n)
    past = ~faulty & ~piped & (rng.random(n) < dist.SEWAGE_PAST_FAULT_SHARE)
    past_from = random_dates(rng, d64(params.window_start), d64(params.as_of) - 60, n)
    past_to = past_from + rng.integers(3, 40, n).astype("timedelta64[D]")
    statuses = list(FacilityStatus)
    status = np.where(
        stopped,
        statuses.index(FacilityStatus.STOPPED),
        np.where(
            faulty, statuses.index(FacilityStatus.FAULT), statuses.index(FacilityStatus.OPERATING)
        ),
    )
    _facilities(ctx, f_village, mode, water, discharge, commissioned, status, households)
    _history_and_repairs(ctx, f_ids, commissioned, faulty, stopped, since, past, past_from, past_to)
    _connections(ctx, served, per_village, first, commissioned)
    _inspections(
        ctx, f_ids, commissioned, piped, faulty, since, past, past_from, past_to, centralized
    )
    failing = _samples(ctx, piped, discharge, commissioned)
    faults = [
        FaultySewageFacility(
            facility_id=int(i + 1),
            status=FacilityStatus.STOPPED if stopped[i] else FacilityStatus.FAULT,
            since=to_date(since[i]),
        )
        for i in np.flatnonzero(faulty)
    ]
    return faults, failing


def _facilities(
    ctx: Ctx,
    f_village: np.ndarray,
    mode: np.ndarray,
    water: np.ndarray,
    discharge: np.ndarray,
    commissioned: np.ndarray,
    status: np.ndarray,
    households: np.ndarray,
) -> None:
    rng, vill = ctx.rng, ctx.villages
    n = len(f_village)
    modes = list(SewageMode)
    piped = mode == modes.index(SewageMode.PIPED)
    decentral = mode == modes.index(SewageMode.DECENTRALIZED)
    xs, ys = np.empty(n), np.empty(n)
    labels: list[str] = []
    processes: list[str | None] = []
    waters_named: list[str] = []
    rivers = [r + "溪" for r in names.village_names(rng, 60, suffix="", taken=set())]
    ditches = ["村前沟渠", "村口池塘", "灌溉渠"]
    number = 0
    previous = -1
    for i, v in enumerate(f_village.tolist()):
        number = number + 1 if v == previous else 1
        previous = v
        x, y = sample_in(vill.geos[v].geom, 1, rng)
        xs[i], ys[i] = x[0], y[0]
        village = vill.geos[v].name
        kind = modes[int(mode[i])]
        if kind == SewageMode.PIPED:
            labels.append(f"{village}污水纳管")
            processes.append(None)
            waters_named.append("镇污水管网")
        else:
            suffix = "污水处理终端" if kind == SewageMode.CENTRALIZED else f"分散式处理设施{number}"
            labels.append(village + suffix)
            options = PROCESSES[kind]
            processes.append(options[int(rng.integers(len(options)))])
            pond = WaterClass(list(WaterClass)[int(water[i])]) == WaterClass.POND_DITCH
            pool = ditches if pond else rivers
            waters_named.append(pool[int(rng.integers(len(pool)))])
    capacity = np.where(
        decentral, rng.integers(5, 31, n), np.clip(np.round(households * 0.35), 10, 500)
    ).astype(float)
    contractors = [
        f"{c}环保科技有限公司(示例)" for c in names.village_names(rng, 8, suffix="", taken=set())
    ]
    cost = np.where(
        piped,
        rng.uniform(1000, 3000, n),
        np.where(decentral, rng.uniform(3000, 8000, n), rng.uniform(20000, 60000, n)),
    ).round(-2)
    ctx.add(
        "sewage_facility",
        m.SewageFacility,
        {
            "id": np.arange(1, n + 1),
            "village_code": Categorical(f_village, vill.codes),
            "name": labels,
            "mode": enum_column(SewageMode, mode),
            "process": processes,
            "design_capacity_m3d": np.where(piped, np.nan, capacity),
            "receiving_water": waters_named,
            "water_class": enum_column(WaterClass, water),
            "standard": [PIPED_STANDARD if p else STANDARD for p in piped.tolist()],
            "discharge_class": enum_column(DischargeClass, discharge),
            "om_contractor": Categorical(rng.integers(0, len(contractors), n), contractors),
            "om_cost_yuan": cost,
            "commissioned_on": commissioned,
            "status": enum_column(FacilityStatus, status),
            "geom": Points(xs, ys),
        },
    )


def _history_and_repairs(
    ctx: Ctx,
    f_ids: np.ndarray,
    commissioned: np.ndarray,
    faulty: np.ndarray,
    stopped: np.ndarray,
    since: np.ndarray,
    past: np.ndarray,
    past_from: np.ndarray,
    past_to: np.ndarray,
) -> None:
    rng = ctx.rng
    history = ctx.history
    history.add("sewage_facility", f_ids, None, "operating", commissioned)
    history.add("sewage_facility", f_ids[past], "operating", "fault", past_from[past], "故障报修")
    history.add("sewage_facility", f_ids[past], "fault", "operating", past_to[past], "维修完成")
    to = np.where(stopped, "stopped", "fault")[faulty].tolist()
    history.add("sewage_facility", f_ids[faulty], "operating", to, since[faulty])
    # Repair requests: every past fault (fixed) and every current fault (not fixed yet).
    broken = faulty & ~stopped
    ids = np.concatenate([f_ids[past], f_ids[broken]])
    reported = np.concatenate([past_from[past], since[broken]])
    fixed = np.concatenate([past_to[past], np.full(int(broken.sum()), np.datetime64("NaT", "D"))])
    n = len(ids)
    descriptions = ["提升泵故障", "出水浑浊", "格栅堵塞", "曝气设备故障", "管网渗漏"]
    ctx.add(
        "repair_request",
        m.RepairRequest,
        {
            "id": np.arange(1, n + 1),
            "facility_id": ids,
            "reported_at": reported.astype("datetime64[us]") + np.timedelta64(1, "h"),
            "reported_by": ctx.person(n),
            "description": Categorical(rng.integers(0, len(descriptions), n), descriptions),
            "fixed_at": fixed.astype("datetime64[us]") + np.timedelta64(8, "h"),
        },
    )


def _connections(
    ctx: Ctx,
    served: np.ndarray,
    per_village: np.ndarray,
    first: np.ndarray,
    commissioned: np.ndarray,
) -> None:
    rng, params = ctx.rng, ctx.params
    village = ctx.hh_village
    eligible = served[village]
    connected = np.flatnonzero(eligible & (rng.random(len(village)) < dist.SEWAGE_CONNECTION_SHARE))
    v = village[connected]
    facility = first[v] + np.floor(rng.random(len(v)) * per_village[v]).astype(np.int64)
    on = np.minimum(
        commissioned[facility] + rng.integers(0, 180, len(v)).astype("timedelta64[D]"),
        d64(params.as_of),
    )
    ctx.add(
        "sewage_connection",
        m.SewageConnection,
        {
            "id": np.arange(1, len(v) + 1),
            "household_id": connected + 1,
            "facility_id": facility + 1,
            "connected_on": on,
        },
    )


def _inspections(
    ctx: Ctx,
    f_ids: np.ndarray,
    commissioned: np.ndarray,
    piped: np.ndarray,
    faulty: np.ndarray,
    since: np.ndarray,
    past: np.ndarray,
    past_from: np.ndarray,
    past_to: np.ndarray,
    centralized: np.ndarray,
) -> None:
    rng, params = ctx.rng, ctx.params
    n = len(f_ids)
    starts = np.array([d64(s) for s, _ in params.months()])
    ends = np.array([d64(e) for _, e in params.months()])
    f_grid, m_grid = np.meshgrid(np.arange(n), np.arange(12), indexing="ij")
    f_idx, m_idx = f_grid.ravel(), m_grid.ravel()
    on = np.minimum(
        starts[m_idx] + rng.integers(2, 25, len(f_idx)).astype("timedelta64[D]"), ends[m_idx]
    )
    keep = commissioned[f_idx] <= on
    f_idx, on = f_idx[keep], on[keep]
    down = (faulty[f_idx] & (on >= since[f_idx])) | (
        past[f_idx] & (on >= past_from[f_idx]) & (on < past_to[f_idx])
    )
    flow = np.where(centralized, 40.0, 8.0)[f_idx]
    meter = (on - commissioned[f_idx]).astype(np.int64) * flow * rng.uniform(0.8, 1.0, len(f_idx))
    looks = ["清澈", "微浊", "浑浊"]
    look = np.where(down, 2, np.where(rng.random(len(f_idx)) < 0.85, 0, 1))
    ctx.add(
        "sewage_inspection",
        m.SewageInspection,
        {
            "id": np.arange(1, len(f_idx) + 1),
            "facility_id": f_idx + 1,
            "inspected_on": on,
            "inspector": ctx.person(len(f_idx)),
            "pump_ok": optional(~down, ~piped[f_idx]),
            "meter_m3": np.where(piped[f_idx], np.nan, np.round(meter, 1)),
            "effluent_look": Categorical(np.where(piped[f_idx], -1, look), looks),
        },
    )


def _sample_values(
    rng: np.random.Generator, limits: dict[str, ItemLimit], failing: list[str]
) -> dict[str, float | None]:
    """Values inside every limit (at most 85% of the stricter one), except ``failing`` items
    (at least 120% of the looser one, or pH outside 6-9)."""
    values: dict[str, float | None] = {}
    for item in ("cod", "ss", "nh3n", "tn", "tp"):
        limit = limits.get(item)
        if limit is None or limit.high is None:
            continue
        if item in failing:
            worst = limit.high_cold if limit.high_cold is not None else limit.high
            values[item] = round(worst * rng.uniform(1.2, 2.5), 2)
        else:
            values[item] = round(limit.high * rng.uniform(0.3, 0.85), 2)
    if "ph" in failing:
        values["ph"] = round(
            rng.uniform(5.0, 5.7) if rng.random() < 0.5 else rng.uniform(9.3, 10.0), 2
        )
    else:
        values["ph"] = round(rng.uniform(6.5, 8.5), 2)
    cod = values["cod"] or 50.0
    values["bod5"] = round(cod * rng.uniform(0.25, 0.4), 2)
    if "tn" not in values:  # no TN limit in this class: measured anyway
        values["tn"] = round((values["nh3n"] or 5.0) * rng.uniform(1.2, 2.0), 2)
    return values


def _samples(
    ctx: Ctx,
    piped: np.ndarray,
    discharge: np.ndarray,
    commissioned: np.ndarray,
) -> list[FailingSample]:
    rng, params = ctx.rng, ctx.params
    classes = list(DischargeClass)
    months = params.months()
    rows: dict[str, list[object]] = {k: [] for k in ("facility_id", "sampled_on", *ITEMS)}
    failing_rows: list[tuple[int, int, str, tuple[str, ...]]] = []
    item_weights = {"cod": 3, "nh3n": 3, "tp": 2, "ss": 2, "tn": 1, "ph": 1}
    limits_by_class = db33_limits()
    for i in np.flatnonzero(~piped).tolist():
        limits = limits_by_class[classes[int(discharge[i])]]
        for k in SAMPLE_MONTHS:
            on = months[k][0] + timedelta(days=int(rng.integers(5, 21)))
            if d64(on) < commissioned[i]:
                continue
            failing: list[str] = []
            if rng.random() >= dist.SAMPLE_PASS_RATE:
                candidates = [it for it in item_weights if it in limits]
                weights = np.array([item_weights[it] for it in candidates], dtype=float)
                count = 1 + int(rng.random() < 0.3)
                picks = rng.choice(
                    len(candidates), size=count, replace=False, p=weights / weights.sum()
                )
                failing = sorted(candidates[p] for p in picks.tolist())
            values = _sample_values(rng, limits, failing)
            rows["facility_id"].append(i + 1)
            rows["sampled_on"].append(on)
            for item in ITEMS:
                rows[item].append(values.get(item))
            if failing:
                failing_rows.append(
                    (
                        len(rows["facility_id"]),
                        i + 1,
                        str(classes[int(discharge[i])]),
                        tuple(failing),
                    )
                )
    n = len(rows["facility_id"])
    ctx.add(
        "effluent_sample",
        m.EffluentSample,
        {
            "id": np.arange(1, n + 1),
            "lab": Categorical(rng.integers(0, len(LABS), n), list(LABS)),
            **rows,
        },
    )
    return [
        FailingSample(sample_id=s, facility_id=f, discharge_class=c, failing_items=items)
        for s, f, c, items in failing_rows
    ]
