"""The garbage chain audit: where 户分类、村收集、镇转运、县处理 actually breaks.

States are taken on the period's last day (statuses from their history, links in force that
day); flows (tonnage) are summed within the period. Every break is reported where it is
observed, with its reason; one fault can show at several places (a stopped transfer station is
``facility_down`` itself and ``point_no_station`` for every point that has no other station).

Breaks, by kind (``ChainBreakKind``):

- ``village_no_point`` — a rural village (``rural.villages``) with no link in force to a
  collection point that is operating (none linked, or every linked point down).
- ``point_no_station`` — a collection point in service (operating, fault or stopped) with no
  link in force to an operating transfer station.
- ``station_overloaded`` — a transfer station whose inflow over the period (weighed if it has
  weighed records, else estimated) exceeds ``overload_ratio`` x capacity (t/d) x days.
- ``mixed_transport`` — a station→facility link whose category the facility does not accept;
  a link with no category (mixed) breaks unless the facility accepts every category of the
  active scheme. Categories of any scheme compare by their four-class key.
- ``facility_down`` — a collection point, transfer station or treatment facility in fault or
  stopped.
- ``unbalanced`` — a transfer station whose weighed inflow and what treatment facilities
  weighed in from it (records with its ``transfer_station_id``) differ by more than
  ``balance_tolerance`` (relative to the larger); only where both weights exist.

Scope: with a unit, the villages, points, stations and facilities within it, plus the points,
stations and facilities the scope's own links lead to (a town's chain includes the county
plant it sends to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from rural import clock, codes
from rural.enums import ChainBreakKind, FacilityStatus
from rural.indicators.definitions import IndicatorRules, load_indicator_rules
from rural.indicators.history import (
    OPERATING,
    ChainGraph,
    chain_graph,
    station_days_in,
    tonnage_in,
)
from rural.periods import Period, month_of, parse_period
from rural.rules_loader import GarbageCategories, load_garbage_categories
from rural.villages import rural_villages

KIND_ORDER = list(ChainBreakKind)
IN_SERVICE = {str(FacilityStatus.OPERATING), str(FacilityStatus.FAULT), str(FacilityStatus.STOPPED)}
DOWN = {str(FacilityStatus.FAULT), str(FacilityStatus.STOPPED)}
STATUS_LABEL = {str(s): s.label for s in FacilityStatus}
NODE_LABEL = {
    "collection_point": "收集点",
    "transfer_station": "转运站",
    "treatment_facility": "处理设施",
}


@dataclass(frozen=True)
class ChainBreak:
    """One break: what kind, which object (type and id as text), the category where it
    matters, the period audited and the reason in Chinese."""

    kind: ChainBreakKind
    object_type: str
    object_id: str
    category: str | None
    period: str
    reason_zh: str

    def key(self) -> tuple[str, str, str]:
        return (str(self.kind), self.object_type, self.object_id)


def check_chain(
    engine: Engine | Connection,
    *,
    unit_code: str | None = None,
    period: str | Period | None = None,
    rules: IndicatorRules | None = None,
    categories: GarbageCategories | None = None,
    today: date | None = None,
) -> list[ChainBreak]:
    """Every break of the chain within ``unit_code`` (default: everything) in ``period``
    (default: the current month), sorted by kind then object."""
    audited = parse_period(period) if period is not None else month_of(today or clock.today())
    if unit_code is not None:
        codes.validate(unit_code)
    if isinstance(engine, Connection):
        return _Audit(engine, unit_code, audited, rules, categories).run()
    with engine.connect() as conn:
        return _Audit(conn, unit_code, audited, rules, categories).run()


class _Audit:
    def __init__(
        self,
        conn: Connection,
        unit_code: str | None,
        period: Period,
        rules: IndicatorRules | None,
        categories: GarbageCategories | None,
    ) -> None:
        self.conn = conn
        self.unit_code = unit_code
        self.prefix = codes.prefix_of(unit_code) if unit_code else ""
        self.period = period
        self.rules = rules or load_indicator_rules()
        self.categories = categories or load_garbage_categories()
        self.graph: ChainGraph = chain_graph(conn, period.end)
        self.breaks: list[ChainBreak] = []

    # -- helpers --------------------------------------------------------------------------------

    def within(self, code: Any) -> bool:
        return isinstance(code, str) and code.startswith(self.prefix)

    def add(
        self,
        kind: ChainBreakKind,
        object_type: str,
        object_id: Any,
        reason: str,
        category: str | None = None,
    ) -> None:
        self.breaks.append(
            ChainBreak(kind, object_type, str(object_id), category, self.period.text, reason)
        )

    # -- scope ----------------------------------------------------------------------------------

    def scope(self) -> tuple[pd.DataFrame, set[int], set[int], set[int]]:
        """Rural villages in scope, and the ids of points, stations and facilities in scope."""
        g = self.graph
        villages = rural_villages(
            self.conn, on=self.period.end, within=self.unit_code, rule=self.rules.villages
        )
        vl = g.village_links()
        points = set(g.points.loc[g.points["village_code"].map(self.within), "id"].astype(int))
        points |= set(vl.loc[vl["village_code"].isin(villages["code"]), "collection_point_id"])
        pl = g.point_links()
        stations = set(g.stations.loc[g.stations["town_code"].map(self.within), "id"].astype(int))
        stations |= set(pl.loc[pl["collection_point_id"].isin(points), "transfer_station_id"])
        sl = g.station_links()
        facilities = set(
            g.facilities.loc[g.facilities["unit_code"].map(self.within), "id"].astype(int)
        )
        facilities |= set(sl.loc[sl["transfer_station_id"].isin(stations), "treatment_facility_id"])
        return (
            villages,
            {int(p) for p in points},
            {int(s) for s in stations},
            {int(f) for f in facilities},
        )

    # -- the checks -----------------------------------------------------------------------------

    def run(self) -> list[ChainBreak]:
        villages, points, stations, facilities = self.scope()
        self.villages_without_point(villages)
        self.points_without_station(points)
        self.overloaded_and_unbalanced(stations)
        self.mixed_transport(stations)
        self.down(points, stations, facilities)
        order = {kind: i for i, kind in enumerate(KIND_ORDER)}
        return sorted(
            self.breaks,
            key=lambda b: (order[b.kind], b.object_type, _id_key(b.object_id), b.category or ""),
        )

    def villages_without_point(self, villages: pd.DataFrame) -> None:
        g = self.graph
        status = dict(zip(g.points["id"], g.points["status"], strict=True))
        names = dict(zip(g.points["id"], g.points["name"], strict=True))
        linked: dict[str, list[int]] = {}
        for code, point in zip(
            g.village_links()["village_code"], g.village_links()["collection_point_id"], strict=True
        ):
            linked.setdefault(str(code), []).append(int(point))
        for code, name in zip(villages["code"], villages["name"], strict=True):
            mine = linked.get(code, [])
            if any(status.get(p) == OPERATING for p in mine):
                continue
            if mine:
                detail = "、".join(f"{names.get(p, p)}({_status(status.get(p))})" for p in mine)
                reason = f"{name}: 无正常运行的收集点 ({detail})"
            else:
                reason = f"{name}: 未接入任何收集点"
            self.add(ChainBreakKind.VILLAGE_NO_POINT, "village", code, reason)

    def points_without_station(self, points: set[int]) -> None:
        g = self.graph
        station_status = dict(zip(g.stations["id"], g.stations["status"], strict=True))
        station_name = dict(zip(g.stations["id"], g.stations["name"], strict=True))
        linked: dict[int, list[int]] = {}
        pl = g.point_links()
        for point, station in zip(
            pl["collection_point_id"], pl["transfer_station_id"], strict=True
        ):
            linked.setdefault(int(point), []).append(int(station))
        frame = g.points[g.points["id"].isin(points) & g.points["status"].isin(IN_SERVICE)]
        for pid, name in zip(frame["id"], frame["name"], strict=True):
            mine = linked.get(int(pid), [])
            if any(station_status.get(s) == OPERATING for s in mine):
                continue
            if mine:
                detail = "、".join(
                    f"{station_name.get(s, s)}({_status(station_status.get(s))})" for s in mine
                )
                reason = f"收集点{name}: 所接转运站均未正常运行 ({detail})"
            else:
                reason = f"收集点{name}: 未接入转运站"
            self.add(ChainBreakKind.POINT_NO_STATION, "collection_point", int(pid), reason)

    def overloaded_and_unbalanced(self, stations: set[int]) -> None:
        records = tonnage_in(self.conn, self.period)
        if records.empty:
            return
        node = records["node_kind"].map(str)
        method = records["method"].map(str)
        at_station = records[node == "transfer_station"]
        at_facility = records[node == "treatment_facility"]
        info: dict[Any, dict[Any, Any]] = self.graph.stations.set_index("id").to_dict("index")
        covered = station_days_in(self.conn, self.period)
        tolerance = self.rules.chain.balance_tolerance
        for sid in sorted(stations):
            if sid not in info:
                continue
            name = info[sid]["name"]
            capacity_tpd = float(info[sid]["capacity_tpd"])
            mine = at_station[at_station["transfer_station_id"] == sid]
            measured = float(mine.loc[method[mine.index] == "measured", "tonnes"].sum())
            estimated = float(mine.loc[method[mine.index] == "estimated", "tonnes"].sum())
            has_measured = bool((method[mine.index] == "measured").any())
            inflow, how = (measured, "称重") if has_measured else (estimated, "估算")
            # the days its records cover, not the whole period (which may still be running)
            days = covered.get((sid, "measured" if has_measured else "estimated"), 0)
            capacity = capacity_tpd * days
            if len(mine) and capacity > 0 and inflow > self.rules.chain.overload_ratio * capacity:
                reason = (
                    f"转运站{name}: {self.period.label}进站{inflow:.1f}吨({how}),"
                    f"超过设计能力{capacity_tpd:g}吨/日×{days}日"
                    f"={capacity:.1f}吨 (负荷率{inflow / capacity:.0%})"
                )
                self.add(ChainBreakKind.STATION_OVERLOADED, "transfer_station", sid, reason)
            downstream = at_facility[
                (at_facility["transfer_station_id"] == sid)
                & (method[at_facility.index] == "measured")
            ]
            if not has_measured or downstream.empty:
                continue
            out = float(downstream["tonnes"].sum())
            larger = max(measured, out)
            if larger > 0 and abs(measured - out) / larger > tolerance:
                reason = (
                    f"转运站{name}: 进站称重{measured:.1f}吨,处理设施称重接收{out:.1f}吨,"
                    f"相差{abs(measured - out) / larger:.0%},超过允许偏差{tolerance:.0%}"
                )
                self.add(ChainBreakKind.UNBALANCED, "transfer_station", sid, reason)

    def mixed_transport(self, stations: set[int]) -> None:
        g = self.graph
        facilities: dict[Any, dict[Any, Any]] = g.facilities.set_index("id").to_dict("index")
        station_name = dict(zip(g.stations["id"], g.stations["name"], strict=True))
        scheme = self.categories.scheme
        every = {c.maps_to for c in scheme.categories.values()}
        sl = g.station_links()
        sl = sl[sl["transfer_station_id"].isin(stations)]
        for link_id, sid, fid, category in zip(
            sl["id"],
            sl["transfer_station_id"],
            sl["treatment_facility_id"],
            sl["category"],
            strict=True,
        ):
            if int(fid) not in facilities:
                continue
            accepted_raw = facilities[int(fid)]["accepted_categories"] or []
            accepted = {self.categories.four_class(str(c)) or str(c) for c in accepted_raw}
            fname = facilities[int(fid)]["name"]
            sname = station_name.get(sid, sid)
            if category is None or pd.isna(category):
                missing = every - accepted
                if not missing:
                    continue
                labels = "、".join(
                    self.categories.schemes["four_class"].label(c) for c in sorted(missing)
                )
                reason = f"{sname}→{fname}: 混合运输,但该设施不接收{labels}"
                self.add(ChainBreakKind.MIXED_TRANSPORT, "chain_link", int(link_id), reason)
                continue
            key = self.categories.four_class(str(category)) or str(category)
            if key in accepted:
                continue
            label = scheme.label(str(category))
            reason = f"{sname}→{fname}: {label}运往不接收该类别的设施(混装混运)"
            self.add(
                ChainBreakKind.MIXED_TRANSPORT, "chain_link", int(link_id), reason, str(category)
            )

    def down(self, points: set[int], stations: set[int], facilities: set[int]) -> None:
        g = self.graph
        for object_type, frame, ids in (
            ("collection_point", g.points, points),
            ("transfer_station", g.stations, stations),
            ("treatment_facility", g.facilities, facilities),
        ):
            chosen = frame[frame["id"].isin(ids) & frame["status"].isin(DOWN)]
            for oid, name, status in zip(
                chosen["id"], chosen["name"], chosen["status"], strict=True
            ):
                reason = f"{NODE_LABEL[object_type]}{name}: {_status(status)}"
                self.add(ChainBreakKind.FACILITY_DOWN, object_type, int(oid), reason)


def _status(status: Any) -> str:
    if status is None or (isinstance(status, float) and pd.isna(status)):
        return "未建/不存在"
    return STATUS_LABEL.get(str(status), str(status))


def _id_key(object_id: str) -> tuple[int, str]:
    return (int(object_id), "") if object_id.isdigit() else (0, object_id)
