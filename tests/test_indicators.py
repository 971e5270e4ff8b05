"""Every indicator formula on small hand-built villages, expected numbers worked out by hand.

Period 2026Q3 runs 1 July .. 30 September 2026 (92 days); states are read on 30 September.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from rural.chain import check_chain
from rural.enums import ChainBreakKind, TitleLevel
from rural.errors import NotFoundError, ValidationError
from rural.indicators import IndicatorTable, compute, load_indicator_rules
from rural.indicators.definitions import parse_indicator_rules
from rural.models import CivilizedTitle, UnitSuccessor
from rural.rules_loader import load_toilet_class, read_rules
from tests.world import COUNTY, OLD, TOWN, TOWN_B, World, fresh_sqlite

V1 = "331128101201"
V2 = "331128101202"
TC, DEEP, LOFT, FLUSH, PIT = (
    "three_compartment",
    "deep_pit_frostproof",
    "loft",
    "flush_other",
    "single_pit",
)
TANK, DITCH, UNKNOWN = "onsite_tank", "untreated_discharge", "unknown"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = fresh_sqlite(tmp_path)
    yield engine
    engine.dispose()


def pair(table: IndicatorTable, code: str, indicator: str) -> tuple[float, float]:
    value = table.value(code, indicator)
    return value.numerator, value.denominator


# ---- toilets ------------------------------------------------------------------------------------


def _toilet_village(world: World) -> None:
    """Ten households of V1 (R resident, G registered, D due for renovation):

    h1  R G D  三格式 in use, tank                    -> harmless
    h2  R . .  深坑防冻式 in use                        -> sanitary
    h3  R . D  三格式, leaking from 1 Mar, repaired 5 Oct -> on 30 Sep: leaking, none
    h4  . G D  other flush piped to a ditch            -> non-sanitary
    h5  R G D  no toilet
    h6  R G D  a single pit AND a loft toilet, both in use -> sanitary (the better one)
    h7  R G .  三格式, destination unknown              -> sanitary only
    h8  R G D  三格式 in use; household left 1 Jul     -> not counted after 30 Jun
    h9  R G D  三格式 first recorded 1 Nov             -> no toilet yet on 30 Sep
    h10 R G .  三格式 in use, unused from 1 Aug         -> not in use on 30 Sep
    """
    world.hierarchy()
    world.village(V1)
    h = {}
    flags = {
        1: (True, True, True),
        2: (True, False, False),
        3: (True, False, True),
        4: (False, True, True),
        5: (True, True, True),
        6: (True, True, True),
        7: (True, True, False),
        8: (True, True, True),
        9: (True, True, True),
        10: (True, True, False),
    }
    for i, (resident, registered, due) in flags.items():
        valid_to = date(2026, 7, 1) if i == 8 else None
        h[i] = world.household(
            V1, resident=resident, registered=registered, due=due, valid_to=valid_to
        )
    world.toilet(h[1], (date(2020, 5, 1), TC, "in_use", TANK))
    world.toilet(h[2], (date(2019, 1, 1), DEEP, "in_use", TANK))
    world.toilet(
        h[3],
        (date(2018, 1, 1), TC, "in_use", TANK),
        (date(2026, 3, 1), TC, "leaking", TANK),
        (date(2026, 10, 5), TC, "in_use", TANK),
    )
    world.toilet(h[4], (date(2021, 1, 1), FLUSH, "in_use", DITCH))
    world.toilet(h[6], (OLD, PIT, "in_use", UNKNOWN))
    world.toilet(h[6], (date(2022, 1, 1), LOFT, "in_use", TANK))
    world.toilet(h[7], (date(2020, 1, 1), TC, "in_use", UNKNOWN))
    world.toilet(h[8], (date(2020, 1, 1), TC, "in_use", TANK))
    world.toilet(h[9], (date(2026, 11, 1), TC, "in_use", TANK))
    world.toilet(
        h[10], (date(2020, 1, 1), TC, "in_use", TANK), (date(2026, 8, 1), TC, "unused", TANK)
    )


def test_toilet_rates_for_each_denominator(any_engine: Engine) -> None:
    _toilet_village(World(any_engine))
    sanitary, harmless = "sanitary_toilet_rate", "harmless_toilet_rate"
    # resident and in force on 30 Sep: h1 h2 h3 h5 h6 h7 h9 h10 = 8 (h4 not resident, h8 left)
    #   sanitary or better: h1 h2 h6 h7 = 4; harmless: h1 = 1
    table = compute(any_engine, unit_code=V1, period="2026Q3")
    assert pair(table, V1, sanitary) == (4, 8)
    assert pair(table, V1, harmless) == (1, 8)
    assert table.value(V1, sanitary).value == pytest.approx(0.5)
    assert table.value(V1, harmless).text == "12.5%"
    assert "常住户" in table.value(V1, harmless).note
    # registered: h1 h4 h5 h6 h7 h9 h10 = 7; sanitary h1 h6 h7 = 3; harmless h1 = 1
    registered = compute(any_engine, unit_code=V1, period="2026Q3", toilet_denominator="registered")
    assert pair(registered, V1, sanitary) == (3, 7)
    assert pair(registered, V1, harmless) == (1, 7)
    assert "户籍户" in registered.value(V1, harmless).note
    # due for renovation: h1 h3 h4 h5 h6 h9 = 6; sanitary h1 h6 = 2; harmless h1 = 1
    due = compute(any_engine, unit_code=V1, period="2026Q3", toilet_denominator="due")
    assert pair(due, V1, sanitary) == (2, 6)
    assert pair(due, V1, harmless) == (1, 6)


def test_a_merged_villages_figures_roll_into_its_successor(any_engine: Engine) -> None:
    """V1 (two harmless households) is merged into V2 (one household, no toilet) on 1 Jul 2026;
    V3 into V1 back in 2024 (a chain: V3 -> V1 -> V2); V4 split into V2 and V5 (no single
    successor: its one harmless household counts nowhere after it is revoked)."""
    world = World(any_engine)
    world.hierarchy()
    merged = date(2026, 7, 1)
    v3, v4, v5 = "331128101203", "331128101204", "331128101205"
    world.village(V1, valid_to=merged)
    world.village(V2)
    world.village(v3, valid_to=date(2024, 7, 1))
    world.village(v4, valid_to=date(2025, 7, 1))
    world.village(v5)
    for code, successor, on in (
        (V1, V2, merged),
        (v3, V1, date(2024, 7, 1)),
        (v4, V2, date(2025, 7, 1)),
        (v4, v5, date(2025, 7, 1)),
    ):
        world._insert(UnitSuccessor, code=code, successor_code=successor, effective_on=on)
    for village in (V1, V1, v3, v4):
        world.toilet(world.household(village), (date(2020, 5, 1), TC, "in_use", TANK))
    world.household(V2)
    world.household(v5)
    rate = "harmless_toilet_rate"
    # June: V1 still stands and holds V3's household: 3 of 3; V2 0 of 1; V5 0 of 1
    june = compute(any_engine, unit_code=COUNTY, period="2026-06", level="village")
    assert pair(june, V1, rate) == (3, 3)
    assert pair(june, V2, rate) == (0, 1)
    assert pair(compute(any_engine, unit_code=COUNTY, period="2026-06"), COUNTY, rate) == (3, 5)
    # the year: V1's three households (its own two and V3's) count under V2; V4's is lost
    year = compute(any_engine, unit_code=COUNTY, period="2026", level="village")
    assert pair(year, V2, rate) == (3, 4)
    assert pair(year, v5, rate) == (0, 1)
    assert {v.unit_code for v in year.values() if v.id == rate} == {V2, v5}
    assert pair(compute(any_engine, unit_code=COUNTY, period="2026"), COUNTY, rate) == (3, 5)


def test_a_flush_toilet_is_harmless_only_on_a_treated_sewer(any_engine: Engine) -> None:
    """Two 完整上下水道水冲式 toilets: one on a treated sewer (harmless), one into a tank
    (sanitary only, by the rule's type_destinations); a 三格式 into the same tank is harmless."""
    world = World(any_engine)
    world.hierarchy()
    world.village(V1)
    on = date(2020, 1, 1)
    world.toilet(world.household(V1), (on, "flush_sewer", "in_use", "sewer_treated"))
    world.toilet(world.household(V1), (on, "flush_sewer", "in_use", TANK))
    world.toilet(world.household(V1), (on, TC, "in_use", TANK))
    table = compute(any_engine, unit_code=V1, period="2026")
    assert pair(table, V1, "harmless_toilet_rate") == (2, 3)
    assert pair(table, V1, "sanitary_toilet_rate") == (3, 3)


def test_toilet_states_are_taken_at_the_period_end(db: Engine) -> None:
    _toilet_village(World(db))
    rates = ["sanitary_toilet_rate", "harmless_toilet_rate"]
    # June (30 Jun): h8 still lives here and its toilet counts; h10 still in use; h3 leaking;
    # h9 not built. Resident: h1 h2 h3 h5 h6 h7 h8 h9 h10 = 9.
    #   sanitary: h1 h2 h6 h7 h8 h10 = 6; harmless: h1 h8 h10 = 3
    june = compute(db, unit_code=V1, period="2026-06", indicators=rates)
    assert pair(june, V1, rates[0]) == (6, 9)
    assert pair(june, V1, rates[1]) == (3, 9)
    # Q3 (30 Sep): h3 was repaired on 5 Oct, after the period: it does not count
    q3 = compute(db, unit_code=V1, period="2026Q3", indicators=rates)
    assert pair(q3, V1, rates[1]) == (1, 8)
    # Q4 (31 Dec): h3 repaired -> harmless; h9 built 1 Nov -> harmless. Resident still 8.
    #   sanitary: h1 h2 h3 h6 h7 h9 = 6; harmless: h1 h3 h9 = 3
    q4 = compute(db, unit_code=V1, period="2026Q4", indicators=rates)
    assert pair(q4, V1, rates[0]) == (6, 8)
    assert pair(q4, V1, rates[1]) == (3, 8)
    # the whole year is read on 31 Dec too
    assert pair(compute(db, unit_code=V1, period="2026", indicators=rates), V1, rates[1]) == (
        3,
        8,
    )


def test_the_class_comes_from_the_rule_not_the_stored_label(db: Engine) -> None:
    """World.toilet stores every state as 'harmless'; trusting it changes the answer."""
    _toilet_village(World(db))
    stored = dataclasses.replace(load_toilet_class(), class_source="stored")
    table = compute(
        db,
        unit_code=V1,
        period="2026Q3",
        indicators=["harmless_toilet_rate"],
        toilet_rule=stored,
    )
    # in use on 30 Sep among the 8 resident households: h1 h2 h6 h7 = 4 (all stored harmless)
    assert pair(table, V1, "harmless_toilet_rate") == (4, 8)


# ---- which units count, and the roll-up ---------------------------------------------------------


def test_only_rural_villages_count_and_towns_sum_their_villages(any_engine: Engine) -> None:
    world = World(any_engine)
    world.hierarchy()

    def harmless(village: str, n: int, with_toilet: int) -> None:
        for i in range(n):
            hid = world.household(village)
            if i < with_toilet:
                world.toilet(hid, (date(2020, 1, 1), TC, "in_use", TANK))

    harmless(world.village("331128101201"), 2, 1)  # 村委会: counts
    harmless(world.village("331128101001", urban_rural_code="111"), 3, 3)  # 居委会: out
    harmless(world.village("331128101002", urban_rural_code="220"), 1, 1)  # 2xx code: in
    harmless(world.village("331128101202", rural_override=False), 4, 4)  # out by hand
    harmless(world.village("331128101003", urban_rural_code="121", rural_override=True), 2, 0)
    harmless(world.village("331128101203", valid_to=date(2026, 1, 1)), 5, 5)  # revoked
    rate = ["harmless_toilet_rate"]
    villages = compute(
        any_engine, unit_code=TOWN, period="2026Q3", level="village", indicators=rate
    )
    assert villages.codes == ["331128101002", "331128101003", "331128101201"]
    assert [pair(villages, c, rate[0]) for c in villages.codes] == [(1, 1), (0, 2), (1, 2)]
    # the town: (1 + 0 + 1) / (1 + 2 + 2) = 2 / 5, not the mean of 100%, 0% and 50%
    town = compute(any_engine, unit_code=TOWN, period="2026Q3", indicators=rate)
    assert town.codes == [TOWN]
    assert pair(town, TOWN, rate[0]) == (2, 5)
    assert town.value(TOWN, rate[0]).value == pytest.approx(0.4)
    county = compute(any_engine, unit_code=COUNTY, period="2026Q3", level="town", indicators=rate)
    assert county.codes == [TOWN]
    assert county.units.loc[TOWN, "name"] == "乡101"


# ---- sewage -------------------------------------------------------------------------------------


def _sewage_village(world: World) -> dict[str, int]:
    """Seven resident households s1..s7 and six facilities of V1:

    F1 centralized, water III (class 1): fault 10 Aug, operating again 20 Sep
    F2 decentralized, water IV (class 2): stopped 15 Sep
    F3 piped to the town network (no class): operating
    F4 still being built; F5 commissioned 1 Nov; F6 decommissioned 1 May
    F7 water II but class 2 on its file: operating
    Connections: s1->F1; s2->F2; s3->F3; s4->F1 from 10 Oct; s5->F2 until 1 Sep; s6->F2 and F3;
    s7->F5 from 2 Nov.
    """
    world.hierarchy()
    world.village(V1)
    s = {i: world.household(V1) for i in range(1, 8)}
    f = {
        1: world.sewage_facility(
            V1,
            changes=[
                (date(2026, 8, 10), "operating", "fault"),
                (date(2026, 9, 20), "fault", "operating"),
            ],
        ),
        2: world.sewage_facility(
            V1,
            mode="decentralized",
            water_class="IV",
            changes=[(date(2026, 9, 15), "operating", "stopped")],
        ),
        3: world.sewage_facility(V1, mode="piped", water_class="none"),
        4: world.sewage_facility(V1, status="building"),
        5: world.sewage_facility(V1, commissioned_on=date(2026, 11, 1)),
        6: world.sewage_facility(V1, changes=[(date(2026, 5, 1), "operating", "decommissioned")]),
        7: world.sewage_facility(V1, water_class="II", discharge_class="2"),
    }
    long_ago = date(2022, 1, 1)
    world.connect(s[1], f[1], long_ago)
    world.connect(s[2], f[2], long_ago)
    world.connect(s[3], f[3], long_ago)
    world.connect(s[4], f[1], date(2026, 10, 10))
    world.connect(s[5], f[2], long_ago, date(2026, 9, 1))
    world.connect(s[6], f[2], long_ago)
    world.connect(s[6], f[3], long_ago)
    world.connect(s[7], f[5], date(2026, 11, 2))
    return {f"F{k}": v for k, v in f.items()}


def test_sewage_treatment_and_operation_rates(any_engine: Engine) -> None:
    _sewage_village(World(any_engine))
    wanted = ["sewage_treatment_rate", "sewage_operation_rate"]
    # 30 Sep: F1 operating (again), F2 stopped, F3 operating, F7 operating.
    #   treated: s1 (F1), s3 (F3), s6 (F3) = 3 of 7; s4 connects later, s5 disconnected 1 Sep
    #   in service: F1 F2 F3 F7 = 4 (F4 building, F5 not yet, F6 decommissioned); operating 3
    q3 = compute(any_engine, unit_code=V1, period="2026Q3", indicators=wanted)
    assert pair(q3, V1, wanted[0]) == (3, 7)
    assert pair(q3, V1, wanted[1]) == (3, 4)
    # 31 Aug: F1 in fault, F2 operating.
    #   treated: s2 (F2), s3 (F3), s5 (F2, still connected), s6 = 4 of 7
    #   in service 4; operating F2 F3 F7 = 3
    august = compute(any_engine, unit_code=V1, period="2026-08", indicators=wanted)
    assert pair(august, V1, wanted[0]) == (4, 7)
    assert pair(august, V1, wanted[1]) == (3, 4)


def test_effluent_compliance_judges_each_sample_by_its_class(db: Engine) -> None:
    world = World(db)
    f = _sewage_village(world)
    # class 1 (F1): COD 60, NH3-N 8, TP 1, pH 6-9
    world.sample(f["F1"], date(2026, 7, 15), ph=7.2, cod=45.0, nh3n=5.0, tp=0.5)  # ok
    world.sample(f["F1"], date(2026, 8, 20), cod=75.0)  # COD > 60: fails
    world.sample(f["F1"], date(2026, 9, 5), ph=9.3)  # pH > 9: fails
    # class 2 (F2): COD 100, NH3-N 15, TP 2
    world.sample(f["F2"], date(2026, 7, 20), cod=75.0, nh3n=12.0)  # ok under class 2
    world.sample(f["F2"], date(2026, 9, 10), tp=2.5)  # TP > 2: fails
    world.sample(f["F3"], date(2026, 8, 1), cod=300.0)  # piped, no class: not judged
    world.sample(f["F7"], date(2026, 8, 1), cod=80.0)  # class 2 on file: ok
    world.sample(f["F1"], date(2026, 8, 2))  # nothing measured: not judged
    world.sample(f["F1"], date(2026, 6, 30), cod=200.0)  # before Q3
    world.sample(f["F1"], date(2026, 10, 1), cod=200.0)  # after Q3
    table = compute(db, unit_code=V1, period="2026Q3", indicators=["effluent_compliance_rate"])
    # judged: 6 (not the piped one, not the empty one); compliant: 7-15, 7-20 and F7 = 3
    assert pair(table, V1, "effluent_compliance_rate") == (3, 6)
    assert "2个水样无法判定" in table.value(V1, "effluent_compliance_rate").note


# ---- courtyards ---------------------------------------------------------------------------------


def test_courtyard_pass_rate_uses_the_rating_in_force(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    world.village(V1)
    c = {i: world.household(V1) for i in range(1, 6)}
    c[6] = world.household(V1, resident=False)
    world.rating(c[1], date(2025, 5, 1), 4, published=False)  # pass
    world.rating(c[2], date(2025, 5, 1), 2)
    world.rating(c[2], date(2026, 8, 1), 3)  # re-rated up: pass
    world.rating(c[3], date(2025, 5, 1), 5)
    world.rating(c[3], date(2026, 9, 15), 2)  # re-rated down: fail
    world.rating(c[4], date(2026, 10, 10), 5)  # after the period: not yet rated
    world.rating(c[6], date(2025, 5, 1), 5)  # not resident
    rate = ["courtyard_pass_rate"]
    # resident c1..c5 = 5; pass (>= 3 stars on 30 Sep): c1, c2 = 2
    table = compute(db, unit_code=V1, period="2026Q3", indicators=rate)
    assert pair(table, V1, rate[0]) == (2, 5)
    # every household: 6; pass c1 c2 c6 = 3
    everyone = compute(db, unit_code=V1, period="2026Q3", indicators=rate, population="all")
    assert pair(everyone, V1, rate[0]) == (3, 6)
    # published ratings only: c1's 4 stars was never published -> c2 alone = 1 of 5
    rules = dataclasses.replace(load_indicator_rules(), require_published=True)
    published = compute(db, unit_code=V1, period="2026Q3", indicators=rate, rules=rules)
    assert pair(published, V1, rate[0]) == (1, 5)


# ---- garbage ------------------------------------------------------------------------------------


def _garbage_county(world: World) -> None:
    """One station S1 (town 101, 2 t/d) and four county plants; Q3 tonnage by hand:

    station S1 weighed in: Jul 60 + Aug 70 + Sep 50 = 180 t (fate: transferred)
    plants, weighed:  P1 incinerator  other        incinerated_energy 40 + 40 + 40 = 120 t
                      P1 incinerator  16 Sep-15 Oct (30 days) 30 t: 15 days in Q3 -> 15 t
                      P2 composting   perishable   composted  30 t   (P2 not compliant)
                      P3 recycling    recyclable   recycled   15 t
                      P4 landfill     other        landfilled 10 t
    village V1, estimated: perishable composted in the village 9 t, recyclables sold 3 t
    """
    world.hierarchy()
    world.village(V1)
    s1 = world.station(TOWN, capacity=2.0)
    p1 = world.plant(COUNTY, "incineration", ["other"])
    p2 = world.plant(COUNTY, "composting", ["perishable"], compliant=False)
    p3 = world.plant(COUNTY, "recycling", ["recyclable"])
    p4 = world.plant(COUNTY, "landfill", ["other"])
    months = [
        (date(2026, 7, 1), date(2026, 7, 31)),
        (date(2026, 8, 1), date(2026, 8, 31)),
        (date(2026, 9, 1), date(2026, 9, 30)),
    ]
    for (start, end), tonnes in zip(months, (60.0, 70.0, 50.0), strict=True):
        world.tonnage(start, end, tonnes, station=s1, fate="transferred")
        world.tonnage(start, end, 40.0, plant=p1, station=s1, fate="incinerated_energy")
    world.tonnage(date(2026, 9, 16), date(2026, 10, 15), 30.0, plant=p1, fate="incinerated_energy")
    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    world.tonnage(*q3, 30.0, plant=p2, category="perishable", fate="composted")
    world.tonnage(*q3, 15.0, plant=p3, category="recyclable", fate="recycled")
    world.tonnage(*q3, 10.0, plant=p4, fate="landfilled")
    world.tonnage(*q3, 9.0, village=V1, category="perishable", method="estimated", fate="composted")
    world.tonnage(*q3, 3.0, village=V1, category="recyclable", method="estimated", fate="recycled")


def test_station_load_counts_the_days_its_inflow_was_recorded(any_engine: Engine) -> None:
    """Records for November (200 t) and December (170 t) only, at 5 t/d: the fourth quarter's
    load is 370 / (5 x 61) = 121%, an overload (not 370 / (5 x 92) = 80%); two overlapping
    records are not counted twice (15-31 Dec inside December)."""
    world = World(any_engine)
    world.hierarchy()
    world.village(V1)
    station = world.station(TOWN, capacity=5.0)
    world.tonnage(date(2026, 11, 1), date(2026, 11, 30), 200.0, station=station, fate="transferred")
    world.tonnage(date(2026, 12, 1), date(2026, 12, 31), 120.0, station=station, fate="transferred")
    world.tonnage(date(2026, 12, 15), date(2026, 12, 31), 50.0, station=station, fate="transferred")
    table = compute(any_engine, unit_code=COUNTY, period="2026Q4")
    assert pair(table, COUNTY, "station_load") == pytest.approx((370, 305))
    breaks = check_chain(any_engine, unit_code=COUNTY, period="2026Q4")
    overloaded = [b for b in breaks if b.kind == ChainBreakKind.STATION_OVERLOADED]
    assert [b.object_id for b in overloaded] == [str(station)]
    assert "5吨/日×61日=305.0吨" in overloaded[0].reason_zh


def test_garbage_rates_keep_weighed_and_estimated_tonnage_apart(any_engine: Engine) -> None:
    _garbage_county(World(any_engine))
    table = compute(any_engine, unit_code=COUNTY, period="2026Q3")
    # weighed, terminal: 120 + 15 + 30 + 15 + 10 = 190 t
    assert pair(table, COUNTY, "recycling_rate") == pytest.approx((15, 190))
    # resource use: recycled 15 + composted 30 + incinerated with energy 135 = 180
    assert pair(table, COUNTY, "resource_use_rate") == pytest.approx((180, 190))
    # harmless: compliant plants only: P1 135 + P3 15 + P4 10 = 160 (P2's 30 t are not)
    assert pair(table, COUNTY, "harmless_treatment_rate") == pytest.approx((160, 190))
    assert table.value(COUNTY, "harmless_treatment_rate").note == "称重"
    # estimated (the village's own): total 9 + 3 = 12; recycled 3; resource use 12;
    # harmless: none of it was treated at a facility -> 0 (the shipped default)
    assert pair(table, COUNTY, "recycling_rate_estimated") == pytest.approx((3, 12))
    assert pair(table, COUNTY, "resource_use_rate_estimated") == pytest.approx((12, 12))
    assert pair(table, COUNTY, "harmless_treatment_rate_estimated") == pytest.approx((0, 12))
    # a province counting in-village composting and recyclables sold as harmless: 9 + 3 = 12
    data, source = read_rules("indicators.toml")
    data["garbage"]["harmless_fates_outside_facilities"] = ["recycled", "composted"]
    wider = compute(
        any_engine,
        unit_code=COUNTY,
        period="2026Q3",
        rules=parse_indicator_rules(data, source=source),
    )
    assert pair(wider, COUNTY, "harmless_treatment_rate_estimated") == pytest.approx((12, 12))
    assert pair(wider, COUNTY, "harmless_treatment_rate") == pytest.approx((160, 190))
    assert table.value(COUNTY, "recycling_rate_estimated").note == "估算"
    # station load: 180 t over 2 t/d x 92 days = 184 t
    assert pair(table, COUNTY, "station_load") == pytest.approx((180, 184))
    assert pair(table, COUNTY, "station_load_estimated") == (0, 0)
    assert table.value(COUNTY, "station_load_estimated").value is None


def test_tonnage_figures_do_not_depend_on_the_order_they_were_added_in(any_engine: Engine) -> None:
    """0.1 t + 0.2 t is 0.30000000000000004 in floating point, and PostgreSQL may add records in
    any order: figures are kept to the gram, so they read 0.3 on every database."""
    world = World(any_engine)
    world.hierarchy()
    world.village(V1)
    october = (date(2026, 10, 1), date(2026, 10, 31))
    for tonnes in (0.1, 0.2):
        world.tonnage(
            *october, tonnes, village=V1, category="recyclable", method="estimated", fate="recycled"
        )
    assert 0.1 + 0.2 != 0.3  # the float sum the figures must not show
    table = compute(any_engine, unit_code=COUNTY, period="2026-10")
    value = table.value(COUNTY, "recycling_rate_estimated")
    assert (value.numerator, value.denominator, value.value) == (0.3, 0.3, 1.0)


def test_tonnage_figures_are_not_shown_below_their_level(db: Engine) -> None:
    _garbage_county(World(db))
    town = compute(db, unit_code=TOWN, period="2026Q3")
    assert pair(town, TOWN, "station_load") == pytest.approx((180, 184))
    # a town holds only its villages' estimates: the county plants are above it
    recycling = town.value(TOWN, "recycling_rate_estimated")
    assert (recycling.numerator, recycling.denominator, recycling.value) == (3, 12, None)
    assert "仅在县及以上计算" in recycling.note
    village = compute(db, unit_code=V1, period="2026Q3", indicators=["station_load"])
    assert village.value(V1, "station_load").value is None


def test_a_straddling_record_counts_by_its_days(db: Engine) -> None:
    _garbage_county(World(db))
    # October: the 16 Sep-15 Oct record has 15 of its 30 days in October -> 15 t, the only
    # weighed terminal tonnage of the month, all incinerated with energy recovery
    october = compute(db, unit_code=COUNTY, period="2026-10", indicators=["resource_use_rate"])
    assert pair(october, COUNTY, "resource_use_rate") == pytest.approx((15, 15))


# ---- spot checks, chain coverage, titles --------------------------------------------------------


def test_sorting_spot_checks_within_the_period(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    world.village(V1)
    h = [world.household(V1) for _ in range(5)]
    world.inspection(h[0], date(2026, 7, 3), participated=True, correct=True)
    world.inspection(h[1], date(2026, 8, 3), participated=True, correct=False)
    world.inspection(h[2], date(2026, 9, 3), participated=True, correct=None)  # not judged
    world.inspection(h[3], date(2026, 9, 30), participated=False, correct=None)
    world.inspection(h[4], date(2026, 10, 1), participated=True, correct=True)  # Q4
    table = compute(
        db,
        unit_code=V1,
        period="2026Q3",
        indicators=["sorting_participation_rate", "sorting_accuracy_rate"],
    )
    # 4 checks in Q3, 3 sorted; accuracy judged on 2 (h0, h1), 1 correct
    assert pair(table, V1, "sorting_participation_rate") == (3, 4)
    assert pair(table, V1, "sorting_accuracy_rate") == (1, 2)


def test_chain_coverage_counts_villages_with_a_whole_working_chain(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    a, b, _c, d = (world.village(f"331128101{n}") for n in ("201", "202", "203", "204"))
    s_ok = world.station(TOWN)
    s_down = world.station(TOWN, changes=[(date(2026, 9, 1), "operating", "stopped")])
    plant = world.plant(COUNTY, "incineration", ["other"])
    world.link(station=s_ok, plant=plant, category="other")
    world.link(station=s_down, plant=plant, category="other")
    pa, pb, pd_ = world.point(a), world.point(b, status="fault"), world.point(d)
    for village, point in ((a, pa), (b, pb), (d, pd_)):
        world.link(village=village, point=point)
    world.link(point=pa, station=s_ok)
    world.link(point=pb, station=s_ok)
    world.link(point=pd_, station=s_down)
    # c has no point. On 30 Sep: a covered; b's point in fault; d's station stopped -> 1 of 4
    q3 = compute(db, unit_code=TOWN, period="2026Q3", indicators=["chain_coverage_rate"])
    assert pair(q3, TOWN, "chain_coverage_rate") == (1, 4)
    # on 31 Aug d's station still ran: a and d -> 2 of 4 (b's fault has no date: always)
    august = compute(db, unit_code=TOWN, period="2026-08", indicators=["chain_coverage_rate"])
    assert pair(august, TOWN, "chain_coverage_rate") == (2, 4)


def test_civilized_title_share(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    for n in ("201", "202", "203", "204"):
        world.village(f"331128101{n}")
    titles = pd.DataFrame(
        {
            "village_code": ["331128101201", "331128101202", "331128101203", "331128101204"],
            "level": ["county", "province", "town", "county"],
            "awarded_on": [date(2024, 12, 1), date(2023, 1, 1), date(2025, 1, 1), date(2024, 1, 1)],
            "revoked_on": [None, None, None, date(2026, 3, 1)],
        }
    )
    table = compute(
        db, unit_code=TOWN, period="2026Q3", indicators=["civilized_title_rate"], titles=titles
    )
    # county or higher and in force on 30 Sep: 201 (county), 202 (province) = 2 of 4
    assert pair(table, TOWN, "civilized_title_rate") == (2, 4)
    # Nothing in the registry yet: no village holds a title (0 of 4), not "no value".
    empty = compute(db, unit_code=TOWN, period="2026Q3", indicators=["civilized_title_rate"])
    assert pair(empty, TOWN, "civilized_title_rate") == (0, 4)


def test_civilized_title_share_from_the_registry(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    for n in ("201", "202", "203", "204"):
        world.village(f"331128101{n}")
    rows = [
        ("331128101201", TitleLevel.COUNTY, date(2024, 12, 1), None),
        ("331128101202", TitleLevel.PROVINCE, date(2023, 1, 1), None),
        ("331128101203", TitleLevel.COUNTY, date(2026, 10, 5), None),  # named after Q3 ends
        ("331128101204", TitleLevel.COUNTY, date(2024, 1, 1), date(2026, 3, 1)),  # revoked
    ]
    with Session(db) as session:
        for code, level, awarded, revoked in rows:
            session.add(
                CivilizedTitle(
                    unit_code=code,
                    level=level,
                    title="文明村",
                    awarded_on=awarded,
                    revoked_on=revoked,
                )
            )
        session.commit()
    q3 = compute(db, unit_code=TOWN, period="2026Q3", indicators=["civilized_title_rate"])
    # in force on 30 Sep: 201 and 202 = 2 of 4
    assert pair(q3, TOWN, "civilized_title_rate") == (2, 4)
    # on 31 Dec 203 holds its title too: 3 of 4
    year = compute(db, unit_code=TOWN, period="2026", indicators=["civilized_title_rate"])
    assert pair(year, TOWN, "civilized_title_rate") == (3, 4)
    # in 2025 the revoked title of 204 was still in force: 201, 202, 204 = 3 of 4
    before = compute(db, unit_code=TOWN, period="2025", indicators=["civilized_title_rate"])
    assert pair(before, TOWN, "civilized_title_rate") == (3, 4)


# ---- the API ------------------------------------------------------------------------------------


def test_values_and_long_form(db: Engine) -> None:
    _toilet_village(World(db))
    table = compute(db, unit_code=COUNTY, period="2026Q3", level="village")
    values = table.values(V1)
    assert [v.id for v in values] == list(load_indicator_rules().indicators)
    first = values[0]
    assert (first.unit_code, first.unit_name, first.period) == (V1, "村201", "2026Q3")
    long = table.long()
    assert len(long) == len(values)
    row = long[long["indicator"] == "harmless_toilet_rate"].iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"unit_code": "3311281012"}, ValidationError, "12 digits"),
        ({"unit_code": "331128101201001"}, ValidationError, "villages and above"),
        ({"level": "province"}, ValidationError, "level 'province' is not a level within"),
        ({"level": "street"}, ValidationError, "level 'street'"),
        ({"period": "2026Q9"}, ValidationError, "'2026Q9'"),
        ({"indicators": ["happiness"]}, NotFoundError, "'happiness' is not defined"),
    ],
)
def test_bad_requests_name_the_argument(
    db: Engine, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    arguments: dict[str, object] = {"unit_code": TOWN_B, "period": "2026Q3", **kwargs}
    with pytest.raises(error, match=match):
        compute(db, **arguments)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="not in this table"):
        compute(db, unit_code=COUNTY, period="2026").value(V2, "harmless_toilet_rate")
