"""Benchmark: every living-environment indicator for the whole dataset, beside a hand-written
pandas groupby of the same numbers, in the same run.

- ``indicators.village_s``: ``rural.indicators.compute(level="village")`` for the province (or
  the demo county): every indicator, numerator and denominator of every rural village;
- ``indicators.province_s``: the same indicators as one row for the whole dataset (the
  facility-level tonnage and station figures included);
- baseline for both: ``pandas_measures`` below, what an analyst writes: read the tables with
  ``pd.read_sql`` (only the columns needed, dates filtered in SQL), take each toilet's and each
  facility's state on the last day with sort + drop_duplicates, merge, ``groupby``.

The two must agree: every village's numerators and denominators, and the whole dataset's
tonnage and station figures, are compared and a mismatch fails the module. Target: the engine
no slower than the groupby (ratio <= 1).

In the suite: ``python -m bench --only indicators``; alone on any database:
``python -m bench.indicators --db path/to/rural.db [--period 2026]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from bench.framework import Context, Figure
from rural.db import make_engine
from rural.indicators import compute, load_indicator_rules
from rural.periods import Period, parse_period
from rural.rules_loader import load_discharge_class_rule, load_discharge_limits, load_toilet_class

TARGET_RATIO = 1.0
BASELINE = "hand-written pandas read_sql + groupby of the same numbers (this run)"


def say(text: str) -> None:
    print(f"  [indicators] {text}", file=sys.stderr, flush=True)


def run(ctx: Context) -> list[Figure]:
    engine = ctx.engine()
    period = parse_period(f"{ctx.params.as_of.year}")
    return measure(engine, Path(str(engine.url.database)), period, repeats=ctx.repeats)


def measure(engine: Engine, path: Path, period: Period, *, repeats: int = 1) -> list[Figure]:
    root = _root_code(path)
    _warm(path)
    base_times, village_times, province_times = [], [], []
    for _ in range(max(repeats, 1)):
        seconds, baseline = _timed(lambda: pandas_measures(path, period))
        base_times.append(seconds)
        say(f"pandas groupby: {seconds:.1f} s")
        seconds, villages = _timed(
            lambda: compute(engine, unit_code=root, period=period, level="village")
        )
        village_times.append(seconds)
        say(f"engine, one row per village: {seconds:.1f} s ({len(villages.codes):,} villages)")
        seconds, whole = _timed(lambda: compute(engine, unit_code=root, period=period))
        province_times.append(seconds)
        say(f"engine, the whole dataset: {seconds:.1f} s")
    problems = compare(villages.measures, whole.measures.iloc[0], baseline)
    if problems:
        for line in problems[:20]:
            say(line)
        msg = f"the engine and the pandas groupby disagree ({len(problems)} differences)"
        raise AssertionError(msg)
    say("engine and pandas agree on every village and on the totals")
    base = min(base_times)
    note = f"period {period.text}; {len(villages.codes):,} villages; best of {len(base_times)}"
    figures = [
        Figure("indicators.village_s", min(village_times), "s", note, base, BASELINE),
        Figure("indicators.province_s", min(province_times), "s", note, base, BASELINE),
    ]
    for f in figures:
        verdict = "meets" if (f.ratio or 0) <= TARGET_RATIO else "MISSES"
        say(f"{f.name}: ratio {f.ratio:.2f} ({verdict} the target <= {TARGET_RATIO})")
    return figures


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _warm(path: Path) -> None:
    """Read the database file once so neither contender pays for a cold page cache."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def _root_code(path: Path) -> str:
    with sqlite3.connect(path) as con:
        row = con.execute(
            "SELECT code FROM unit WHERE parent_code IS NULL ORDER BY code LIMIT 1"
        ).fetchone()
    return str(row[0])


# ---- the baseline -------------------------------------------------------------------------------


def pandas_measures(path: Path, period: Period) -> dict[str, Any]:
    """The same measures the engine counts, written the plain pandas way: per rural village
    (``villages``) and the dataset's totals of the tonnage and station measures (``totals``)."""
    end, start = period.end.isoformat(), period.start.isoformat()
    rules = load_indicator_rules()
    con = sqlite3.connect(path)
    try:
        units = pd.read_sql(
            "SELECT code, urban_rural_code, rural_override, valid_from, valid_to FROM unit"
            " WHERE level = 'village'",
            con,
        )
        units = units[_valid(units, end)]
        part = units["code"].str[9:12].astype(int)
        rural = part.between(200, 399) | units["urban_rural_code"].fillna("").str.startswith("2")
        override = units["rural_override"]
        chosen = np.where(override.notna(), override == 1, rural)
        villages = pd.DataFrame(index=pd.Index(sorted(units.loc[chosen, "code"]), name="code"))
        villages["villages"] = 1.0

        hh = pd.read_sql(
            "SELECT id, village_code, resident, valid_from, valid_to FROM household", con
        )
        hh = hh[_valid(hh, end) & (hh["resident"] == 1)].set_index("id")
        hh["toilet"] = _toilet_levels(con, end).reindex(hh.index).fillna(0)
        hh["treated"] = _treated(con, end).reindex(hh.index).fillna(False)
        hh["passed"] = _courtyard(con, end).reindex(hh.index).fillna(False)
        by_village = hh.groupby("village_code")
        villages["households_resident"] = by_village.size()
        villages["toilet_sanitary_resident"] = by_village["toilet"].agg(lambda s: (s >= 1).sum())
        villages["toilet_harmless_resident"] = by_village["toilet"].agg(lambda s: (s >= 2).sum())
        villages["sewage_treated_resident"] = by_village["treated"].sum()
        villages["courtyard_pass_resident"] = by_village["passed"].sum()

        facilities = _statuses(con, "sewage_facility", end, "village_code, commissioned_on")
        facilities.loc[facilities["commissioned_on"].fillna("") > end, "status"] = None
        in_service = facilities["status"].isin(["operating", "fault", "stopped"])
        villages["sewage_facilities_in_service"] = in_service.groupby(
            facilities["village_code"]
        ).sum()
        villages["sewage_facilities_operating"] = (
            (facilities["status"] == "operating").groupby(facilities["village_code"]).sum()
        )
        for key, column in _samples(con, start, end).items():
            villages[key] = column
        for key, column in _sorting(con, start, end).items():
            villages[key] = column
        villages["villages_chain_covered"] = villages.index.isin(_covered(con, end)).astype(float)
        totals = _tonnage(con, period, rules)
    finally:
        con.close()
    villages = villages.fillna(0.0).astype(float)
    return {"villages": villages, "totals": totals}


def _valid(frame: pd.DataFrame, end: str) -> pd.Series:
    return (frame["valid_from"].isna() | (frame["valid_from"] <= end)) & (
        frame["valid_to"].isna() | (frame["valid_to"] > end)
    )


def _toilet_levels(con: sqlite3.Connection, end: str) -> pd.Series:
    """Per household: 2 harmless, 1 sanitary, 0 neither (best toilet, latest state <= end)."""
    rule = load_toilet_class()
    states = pd.read_sql(
        "SELECT id, toilet_id, effective_on, toilet_type, condition, excreta_destination"
        " FROM toilet_state WHERE effective_on <= ?",
        con,
        params=(end,),
    )
    latest = states.sort_values(["toilet_id", "effective_on", "id"]).drop_duplicates(
        "toilet_id", keep="last"
    )
    ok = (
        latest["condition"].isin([str(c) for c in rule.counting_conditions])
        & ~latest["condition"].isin([str(c) for c in rule.non_sanitary_conditions])
        & ~latest["excreta_destination"].isin([str(d) for d in rule.non_sanitary_destinations])
    )
    harmless_types = [str(t) for t in rule.harmless_types]
    sanitary_types = harmless_types + [str(t) for t in rule.sanitary_types]
    treated = pd.Series(False, index=latest.index)
    for kind in rule.harmless_types:
        treated |= (latest["toilet_type"] == str(kind)) & latest["excreta_destination"].isin(
            [str(d) for d in rule.treated_for(kind)]
        )
    harmless = ok & treated
    sanitary = ok & latest["toilet_type"].isin(sanitary_types)
    latest = latest.assign(level=np.where(harmless, 2, np.where(sanitary, 1, 0)))
    toilets = pd.read_sql("SELECT id, household_id FROM household_toilet", con)
    merged = toilets.merge(latest[["toilet_id", "level"]], left_on="id", right_on="toilet_id")
    return merged.groupby("household_id")["level"].max()


def _statuses(con: sqlite3.Connection, kind: str, end: str, columns: str) -> pd.DataFrame:
    """Objects of a kind with their status on ``end``: the last change on or before it, else
    the first change's old status, else the current status."""
    objects = pd.read_sql(f"SELECT id, status, {columns} FROM {kind}", con).set_index("id")
    changes = pd.read_sql(
        "SELECT id, object_id, from_status, to_status, effective_on FROM status_change"
        " WHERE object_type = ?",
        con,
        params=(kind,),
    ).sort_values(["object_id", "effective_on", "id"])
    first = changes.drop_duplicates("object_id", keep="first").set_index("object_id")
    before = changes[changes["effective_on"] <= end]
    last = before.drop_duplicates("object_id", keep="last").set_index("object_id")
    status = objects["status"].astype(object)
    has_first = status.index.isin(first.index)
    status[has_first] = first["from_status"].reindex(status.index[has_first]).to_numpy()
    has_last = status.index.isin(last.index)
    status[has_last] = last["to_status"].reindex(status.index[has_last]).to_numpy()
    return objects.assign(status=status).reset_index()


def _treated(con: sqlite3.Connection, end: str) -> pd.Series:
    facilities = _statuses(con, "sewage_facility", end, "commissioned_on")
    facilities.loc[facilities["commissioned_on"].fillna("") > end, "status"] = None
    treating = set(facilities.loc[facilities["status"].isin(["operating"]), "id"])
    links = pd.read_sql(
        "SELECT household_id, facility_id FROM sewage_connection WHERE connected_on <= ?"
        " AND (disconnected_on IS NULL OR disconnected_on > ?)",
        con,
        params=(end, end),
    )
    return links["facility_id"].isin(treating).groupby(links["household_id"]).any()


def _courtyard(con: sqlite3.Connection, end: str) -> pd.Series:
    ratings = pd.read_sql(
        "SELECT id, household_id, rated_on, stars FROM courtyard_rating WHERE rated_on <= ?",
        con,
        params=(end,),
    )
    latest = ratings.sort_values(["household_id", "rated_on", "id"]).drop_duplicates(
        "household_id", keep="last"
    )
    return (latest["stars"] >= 3).set_axis(latest["household_id"])


def _samples(con: sqlite3.Connection, start: str, end: str) -> dict[str, pd.Series]:
    samples = pd.read_sql(
        "SELECT f.village_code, f.discharge_class, f.water_class, f.design_capacity_m3d,"
        " s.ph, s.cod, s.ss, s.nh3n, s.tn, s.tp, s.bod5, s.fecal_coliform"
        " FROM effluent_sample s JOIN sewage_facility f ON f.id = s.facility_id"
        " WHERE s.sampled_on BETWEEN ? AND ?",
        con,
        params=(start, end),
    )
    rule = load_discharge_class_rule()
    limits = load_discharge_limits()
    by_water = {str(k): str(v) for k, v in rule.by_water_class.items()}
    klass = samples["discharge_class"].where(
        samples["discharge_class"].notna(), samples["water_class"].map(by_water)
    )
    compliant = pd.Series(False, index=samples.index)
    judged = pd.Series(False, index=samples.index)
    for value, limit in limits.classes.items():
        mine = klass == str(value)
        judged |= mine
        ok = pd.Series(True, index=samples.index)
        if limit.ph is not None:
            ok &= samples["ph"].isna() | samples["ph"].between(*limit.ph)
        for item, high in limit.limits.items():
            ok &= samples[item].isna() | (samples[item] <= high)
        compliant |= mine & ok
    village = samples["village_code"]
    return {
        "samples_judged": judged.groupby(village).sum(),
        "samples_compliant": compliant.groupby(village).sum(),
    }


def _sorting(con: sqlite3.Connection, start: str, end: str) -> dict[str, pd.Series]:
    checks = pd.read_sql(
        "SELECT h.village_code, i.participated, i.correct FROM sorting_inspection i"
        " JOIN household h ON h.id = i.household_id WHERE i.inspected_on BETWEEN ? AND ?",
        con,
        params=(start, end),
    )
    village = checks["village_code"]
    return {
        "sorting_inspections": village.value_counts(),
        "sorting_participated": (checks["participated"] == 1).groupby(village).sum(),
        "sorting_judged": checks["correct"].notna().groupby(village).sum(),
        "sorting_correct": (checks["correct"] == 1).groupby(village).sum(),
    }


def _covered(con: sqlite3.Connection, end: str) -> set[str]:
    links = pd.read_sql(
        "SELECT source_kind, village_code, collection_point_id, transfer_station_id,"
        " treatment_facility_id, valid_from, valid_to FROM chain_link",
        con,
    )
    links = links[_valid(links, end)]
    points = _statuses(con, "collection_point", end, "village_code")
    stations = _statuses(con, "transfer_station", end, "town_code")
    plants = _statuses(con, "treatment_facility", end, "unit_code")
    plant_ok = set(plants.loc[plants["status"] == "operating", "id"])
    onward = links[links["source_kind"] == "transfer_station"]
    all_ok = (
        onward["treatment_facility_id"].isin(plant_ok).groupby(onward["transfer_station_id"]).all()
    )
    working = set(stations.loc[stations["status"] == "operating", "id"]) & set(all_ok[all_ok].index)
    to_station = links[links["source_kind"] == "collection_point"]
    operating_points = set(points.loc[points["status"] == "operating", "id"])
    good = set(
        to_station.loc[
            to_station["collection_point_id"].isin(operating_points)
            & to_station["transfer_station_id"].isin(working),
            "collection_point_id",
        ]
    )
    from_village = links[links["source_kind"] == "village"]
    return set(from_village.loc[from_village["collection_point_id"].isin(good), "village_code"])


def _tonnage(con: sqlite3.Connection, period: Period, rules: Any) -> pd.Series:
    records = pd.read_sql(
        "SELECT node_kind, transfer_station_id, treatment_facility_id, period_start,"
        " period_end, tonnes, method, fate FROM tonnage_record"
        " WHERE period_start <= ? AND period_end >= ?",
        con,
        params=(period.end.isoformat(), period.start.isoformat()),
    )
    starts = pd.to_datetime(records["period_start"])
    ends = pd.to_datetime(records["period_end"])
    lo = starts.where(starts >= pd.Timestamp(period.start), pd.Timestamp(period.start))
    hi = ends.where(ends <= pd.Timestamp(period.end), pd.Timestamp(period.end))
    share = ((hi - lo).dt.days + 1) / ((ends - starts).dt.days + 1)
    tonnes = records["tonnes"] * share
    plants = pd.read_sql("SELECT id, compliant FROM treatment_facility", con).set_index("id")
    garbage = rules.garbage
    terminal = records["fate"].isin([str(f) for f in garbage.terminal_fates])
    at_plant = records["node_kind"] == "treatment_facility"
    compliant = records["treatment_facility_id"].map(plants["compliant"]).fillna(0) == 1
    outside = records["fate"].isin([str(f) for f in garbage.harmless_fates_outside_facilities])
    harmless = terminal & ((at_plant & compliant) | (~at_plant & outside))
    stations = pd.read_sql("SELECT id, capacity_tpd FROM transfer_station", con).set_index("id")
    totals = {}
    for method in ("measured", "estimated"):
        mine = records["method"] == method
        totals[f"tonnes_total_{method}"] = tonnes[mine & terminal].sum()
        recycled = records["fate"].isin([str(f) for f in garbage.recycled_fates])
        totals[f"tonnes_recycled_{method}"] = tonnes[mine & recycled].sum()
        resource = records["fate"].isin([str(f) for f in garbage.resource_use_fates])
        totals[f"tonnes_resource_use_{method}"] = tonnes[mine & resource].sum()
        totals[f"tonnes_harmless_{method}"] = tonnes[mine & harmless].sum()
        at_station = mine & (records["node_kind"] == "transfer_station")
        totals[f"station_inflow_{method}"] = tonnes[at_station].sum()
        days = _covered_days(records.loc[at_station, "transfer_station_id"], lo, hi)
        totals[f"station_capacity_{method}"] = (stations["capacity_tpd"] * days).sum()
    return pd.Series(totals, dtype=float)


def _covered_days(station: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """Days of the period each station's records cover (the union of their clipped spans)."""
    spans = pd.DataFrame({"station": station, "lo": lo[station.index], "hi": hi[station.index]})
    spans = spans.sort_values(["station", "lo"])
    reach = spans.groupby("station")["hi"].cummax().groupby(spans["station"]).shift()
    start = spans["lo"].where(reach.isna() | (spans["lo"] > reach), reach + pd.Timedelta(days=1))
    days = ((spans["hi"] - start).dt.days + 1).clip(lower=0)
    return days.groupby(spans["station"]).sum()


# ---- agreement ----------------------------------------------------------------------------------


def compare(villages: pd.DataFrame, whole: pd.Series, baseline: dict[str, Any]) -> list[str]:
    """Differences between the engine's measures and the baseline's (empty: they agree)."""
    problems: list[str] = []
    expected: pd.DataFrame = baseline["villages"]
    if list(villages.index) != list(expected.index):
        problems.append(f"villages differ: {len(villages)} vs {len(expected)}")
        return problems
    for column in expected.columns:
        if column not in villages.columns:
            problems.append(f"{column}: missing from the engine")
            continue
        got = villages[column].to_numpy(dtype=float)
        want = expected[column].to_numpy(dtype=float)
        bad = ~np.isclose(got, want)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(
                f"{column}: {int(bad.sum())} villages differ, e.g. {expected.index[first]}"
                f" engine {got[first]} vs pandas {want[first]}"
            )
    for key, want in baseline["totals"].items():
        total = float(whole.get(key, np.nan))
        if not np.isclose(total, float(want), rtol=1e-9, atol=1e-6):
            problems.append(f"{key}: engine {total} vs pandas {want}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.indicators", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="a SQLite database file")
    parser.add_argument("--period", default=f"{date.today().year}")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    engine = make_engine(f"sqlite:///{args.db}")
    try:
        figures = measure(engine, args.db, parse_period(args.period), repeats=args.repeats)
    finally:
        engine.dispose()
    for f in figures:
        print(f"{f.name}: {f.value:.2f} s vs {f.baseline:.2f} s (ratio {f.ratio:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
