"""States as of a day and flows within a period, read from the history tables.

- A facility's status on a day: the ``to_status`` of its last ``status_change`` on or before the
  day; if every change is later, the ``from_status`` of its first change (None: it did not exist
  yet); with no change at all, its current status. A sewage facility commissioned after the day
  did not exist. One SQL expression (:func:`status_on_select`) serves every kind.
- Chain links, households and units in force on a day: ``valid_from <= day < valid_to``.
- Tonnage within a period: records inside it count whole; a record that straddles a boundary
  counts pro rata by days (a monthly figure split across a quarter boundary, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    FromClause,
    Select,
    and_,
    case,
    exists,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from rural.enums import FacilityStatus
from rural.models import (
    ChainLink,
    CollectionPoint,
    SewageFacility,
    StatusChange,
    TonnageRecord,
    TransferStation,
    TreatmentFacility,
)
from rural.periods import Period
from rural.villages import valid_on

FACILITY_TABLES: dict[str, Any] = {
    "collection_point": CollectionPoint,
    "transfer_station": TransferStation,
    "treatment_facility": TreatmentFacility,
    "sewage_facility": SewageFacility,
}
OPERATING = str(FacilityStatus.OPERATING)
DOWN = (str(FacilityStatus.FAULT), str(FacilityStatus.STOPPED))


def t(model: Any) -> FromClause:
    """A model's core table (typed ``.c`` columns)."""
    table: FromClause = model.__table__
    return table


def status_on_select(object_type: str, on: date, *columns: str) -> Select[Any]:
    """``SELECT id, <columns>, status`` of every object of a kind, status as of ``on``.

    Correlated look-ups on the (object_type, object_id, effective_on) index: a few index seeks
    per object, whatever the size of the history.
    """
    model = FACILITY_TABLES[object_type]
    obj = t(model)
    sc = t(StatusChange)
    mine = and_(sc.c.object_type == object_type, sc.c.object_id == obj.c.id)
    last_to = (
        select(sc.c.to_status)
        .where(mine, sc.c.effective_on <= on)
        .order_by(sc.c.effective_on.desc(), sc.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    first_from = (
        select(sc.c.from_status)
        .where(mine)
        .order_by(sc.c.effective_on, sc.c.id)
        .limit(1)
        .scalar_subquery()
    )
    status: ColumnElement[Any] = case(
        (exists().where(mine, sc.c.effective_on <= on), last_to),
        (exists().where(mine), first_from),
        else_=obj.c.status,
    )
    if object_type == "sewage_facility":
        status = case(
            (and_(obj.c.commissioned_on.is_not(None), obj.c.commissioned_on > on), null()),
            else_=status,
        )
    return select(obj.c.id, *(obj.c[name] for name in columns), status.label("status"))


def read_frame(conn: Connection, stmt: Any, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(stmt).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def statuses_on(conn: Connection, object_type: str, on: date, *columns: str) -> pd.DataFrame:
    """Every object of a kind with ``columns`` and its status on ``on`` (None: not yet)."""
    stmt = status_on_select(object_type, on, *columns)
    return read_frame(conn, stmt, ["id", *columns, "status"])


@dataclass(frozen=True)
class ChainGraph:
    """The garbage chain on one day: nodes with their status, and the links in force."""

    on: date
    points: pd.DataFrame  # id, village_code, name, status
    stations: pd.DataFrame  # id, town_code, name, capacity_tpd, has_weighbridge, status
    facilities: pd.DataFrame  # id, unit_code, name, kind, accepted_categories, compliant, status
    links: pd.DataFrame  # id, source_kind, village_code, collection_point_id,
    # transfer_station_id, treatment_facility_id, category

    def village_links(self) -> pd.DataFrame:
        return self.links[self.links["source_kind"] == "village"]

    def point_links(self) -> pd.DataFrame:
        return self.links[self.links["source_kind"] == "collection_point"]

    def station_links(self) -> pd.DataFrame:
        return self.links[self.links["source_kind"] == "transfer_station"]

    def working_stations(self) -> set[int]:
        """Stations operating whose every onward facility is operating (and that have one)."""
        stations = self.stations
        operating = set(stations.loc[stations["status"] == OPERATING, "id"].astype(int))
        facility_status = self.facilities[["id", "status"]].rename(
            columns={"id": "treatment_facility_id", "status": "status_facility"}
        )
        links = self.station_links().merge(facility_status, on="treatment_facility_id", how="left")
        if links.empty:
            return set()
        ok = links["status_facility"].eq(OPERATING)
        all_ok = ok.groupby(links["transfer_station_id"]).all()
        return operating & set(all_ok[all_ok].index.astype(int))

    def covered_villages(self) -> set[str]:
        """Villages linked to an operating point, linked to a working station (see above)."""
        points = self.points
        operating_points = set(points.loc[points["status"] == OPERATING, "id"].astype(int))
        good_stations = self.working_stations()
        pl = self.point_links()
        good_points = set(
            pl.loc[
                pl["collection_point_id"].isin(operating_points)
                & pl["transfer_station_id"].isin(good_stations),
                "collection_point_id",
            ].astype(int)
        )
        vl = self.village_links()
        return set(vl.loc[vl["collection_point_id"].isin(good_points), "village_code"])


LINK_COLUMNS = [
    "id",
    "source_kind",
    "village_code",
    "collection_point_id",
    "transfer_station_id",
    "treatment_facility_id",
    "category",
]


def chain_graph(conn: Connection, on: date) -> ChainGraph:
    """The whole chain on ``on`` (every node and link: the chain crosses unit boundaries)."""
    link = t(ChainLink)
    links = read_frame(
        conn,
        select(*(link.c[name] for name in LINK_COLUMNS)).where(valid_on(link.c, on)),
        LINK_COLUMNS,
    )
    for column in ("collection_point_id", "transfer_station_id", "treatment_facility_id"):
        links[column] = links[column].astype("Int64")
    facilities = statuses_on(
        conn,
        "treatment_facility",
        on,
        "unit_code",
        "name",
        "kind",
        "accepted_categories",
        "compliant",
    )
    return ChainGraph(
        on=on,
        points=statuses_on(conn, "collection_point", on, "village_code", "name"),
        stations=statuses_on(
            conn, "transfer_station", on, "town_code", "name", "capacity_tpd", "has_weighbridge"
        ),
        facilities=facilities,
        links=links,
    )


TONNAGE_COLUMNS = [
    "node_kind",
    "village_code",
    "collection_point_id",
    "transfer_station_id",
    "treatment_facility_id",
    "category",
    "method",
    "fate",
    "tonnes",
]


def tonnage_in(conn: Connection, period: Period) -> pd.DataFrame:
    """Tonnage within ``period`` grouped by node, category, method and fate.

    Records inside the period are summed in the database; records straddling a boundary are
    read one by one and counted by the share of their days inside the period.
    """
    rec = t(TonnageRecord)
    keys = [rec.c[name] for name in TONNAGE_COLUMNS[:-1]]
    inside = and_(rec.c.period_start >= period.start, rec.c.period_end <= period.end)
    whole = read_frame(
        conn,
        select(*keys, func.sum(rec.c.tonnes)).where(inside).group_by(*keys),
        TONNAGE_COLUMNS,
    )
    straddle = and_(
        rec.c.period_start <= period.end,
        rec.c.period_end >= period.start,
        or_(rec.c.period_start < period.start, rec.c.period_end > period.end),
    )
    partial = read_frame(
        conn,
        select(*keys, rec.c.tonnes, rec.c.period_start, rec.c.period_end).where(straddle),
        [*TONNAGE_COLUMNS, "period_start", "period_end"],
    )
    if not partial.empty:
        share = [
            period.overlap_days(s, e) / ((e - s).days + 1)
            for s, e in zip(partial["period_start"], partial["period_end"], strict=True)
        ]
        partial["tonnes"] = partial["tonnes"].astype(float) * pd.Series(share, index=partial.index)
        partial = partial[TONNAGE_COLUMNS]
        whole = pd.concat([whole, partial], ignore_index=True) if not whole.empty else partial
    whole["tonnes"] = whole["tonnes"].astype(float)
    for column in ("collection_point_id", "transfer_station_id", "treatment_facility_id"):
        whole[column] = whole[column].astype("Int64")
    return whole


def station_days_in(conn: Connection, period: Period) -> dict[tuple[int, str], int]:
    """(station id, method) -> the days of ``period`` its inflow records cover.

    A station's load is its inflow over its capacity for the days the inflow was recorded: a
    period still running, or a ledger that starts in its middle, does not dilute the load with
    days nobody weighed.
    """
    rec = t(TonnageRecord)
    stmt = select(
        rec.c.transfer_station_id, rec.c.method, rec.c.period_start, rec.c.period_end
    ).where(
        rec.c.node_kind == "transfer_station",
        rec.c.transfer_station_id.is_not(None),
        rec.c.period_start <= period.end,
        rec.c.period_end >= period.start,
    )
    spans: dict[tuple[int, str], list[tuple[date, date]]] = {}
    for station, method, start, end in conn.execute(stmt):
        lo, hi = max(start, period.start), min(end, period.end)
        spans.setdefault((int(station), str(method)), []).append((lo, hi))
    days: dict[tuple[int, str], int] = {}
    for key, found in spans.items():
        total, reach = 0, None  # union of the spans: count each day once
        for lo, hi in sorted(found):
            if reach is not None and lo <= reach:
                lo = reach + timedelta(days=1)
            if lo <= hi:
                total += (hi - lo).days + 1
            reach = hi if reach is None else max(reach, hi)
        days[key] = total
    return days
