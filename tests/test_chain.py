"""The garbage chain audit on a hand-built county: every break found, with its reason, and
nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rural.chain import check_chain
from rural.enums import ChainBreakKind
from tests.world import COUNTY, TOWN, TOWN_B, World, fresh_sqlite

K = ChainBreakKind


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = fresh_sqlite(tmp_path)
    yield engine
    engine.dispose()


def _county(world: World) -> dict[str, int]:
    """Villages A..G in town 101, H in town 102 (every one a rural 村委会):

    A  point pA (operating) -> S1 (operating, 5 t/d)                       whole chain works
    B  point pB, in fault since 10 Sep -> S1                               B has no working point
    C  no point at all
    D  point pD -> S2 (stopped since 1 Sep)                                pD has no station
    E  points pE1 (stopped) and pE2 (operating) -> S1                      E still served
    F  its only link ended 1 Sep (pF itself operating -> S1)
    G  point pG, linked to no station
    H  point pH -> S3 (town 102, operating, 1 t/d)
    S1 -> P_other (other), S1 -> P_perish (perishable), S1 -> P_other (perishable!)
    S2 -> P_other (other); S3 -> P_other (no category: mixed)
    P_haz (hazardous plant) in fault, linked to nothing
    Q3 weights: S1 in 150 t, P_other from S1 140 t (6.7% apart); S3 in 100 t > 1 t/d x 92 d,
    P_other from S3 70 t (30% apart).
    """
    world.hierarchy(towns=(TOWN, TOWN_B))
    v = {
        name: world.village(f"331128101{n}", name=f"{name}村")
        for name, n in zip(
            "ABCDEFG", ("201", "202", "203", "204", "205", "206", "207"), strict=True
        )
    }
    v["H"] = world.village("331128102201", name="H村")
    s1 = world.station(TOWN, capacity=5.0, name="S1")
    s2 = world.station(TOWN, name="S2", changes=[(date(2026, 9, 1), "operating", "stopped")])
    s3 = world.station(TOWN_B, capacity=1.0, name="S3")
    p_other = world.plant(COUNTY, "incineration", ["other"], name="P_other")
    p_perish = world.plant(COUNTY, "composting", ["perishable"], name="P_perish")
    p_haz = world.plant(COUNTY, "hazardous", ["hazardous"], name="P_haz", status="fault")
    ids = {"S1": s1, "S2": s2, "S3": s3, "P_haz": p_haz}
    ids["pA"] = world.point(v["A"])
    ids["pB"] = world.point(v["B"], changes=[(date(2026, 9, 10), "operating", "fault")])
    ids["pD"] = world.point(v["D"])
    ids["pE1"] = world.point(v["E"], status="stopped")
    ids["pE2"] = world.point(v["E"])
    ids["pF"] = world.point(v["F"])
    ids["pG"] = world.point(v["G"])
    ids["pH"] = world.point(v["H"])
    pairs = (("A", "pA"), ("B", "pB"), ("D", "pD"), ("E", "pE1"), ("E", "pE2"), ("G", "pG"))
    for village, point in pairs:
        world.link(village=v[village], point=ids[point])
    world.link(village=v["H"], point=ids["pH"])
    world.link(village=v["F"], point=ids["pF"], valid_to=date(2026, 9, 1))
    for point in ("pA", "pB", "pE1", "pE2", "pF"):
        world.link(point=ids[point], station=s1)
    world.link(point=ids["pD"], station=s2)
    world.link(point=ids["pH"], station=s3)
    world.link(station=s1, plant=p_other, category="other")
    world.link(station=s1, plant=p_perish, category="perishable")
    ids["bad"] = world.link(station=s1, plant=p_other, category="perishable")
    world.link(station=s2, plant=p_other, category="other")
    ids["mixed"] = world.link(station=s3, plant=p_other)
    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    world.tonnage(*q3, 150.0, station=s1, fate="transferred")
    world.tonnage(*q3, 140.0, plant=p_other, station=s1, fate="incinerated_energy")
    world.tonnage(*q3, 100.0, station=s3, fate="transferred")
    world.tonnage(*q3, 70.0, plant=p_other, station=s3, fate="incinerated_energy")
    ids.update({f"v{k}": int(code) for k, code in v.items()})
    return ids


def _keys(breaks: list) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {b.key() for b in breaks}


def test_every_break_and_nothing_else(db: Engine) -> None:
    ids = _county(World(db))
    breaks = check_chain(db, unit_code=COUNTY, period="2026Q3")
    expected = {
        (K.VILLAGE_NO_POINT, "village", "331128101202"),  # B: its only point in fault
        (K.VILLAGE_NO_POINT, "village", "331128101203"),  # C: no point
        (K.VILLAGE_NO_POINT, "village", "331128101206"),  # F: link ended 1 Sep
        (K.POINT_NO_STATION, "collection_point", str(ids["pD"])),  # S2 stopped
        (K.POINT_NO_STATION, "collection_point", str(ids["pG"])),  # no station link
        (K.STATION_OVERLOADED, "transfer_station", str(ids["S3"])),  # 100 t > 92 t
        (K.MIXED_TRANSPORT, "chain_link", str(ids["bad"])),  # perishable to the incinerator
        (K.MIXED_TRANSPORT, "chain_link", str(ids["mixed"])),  # mixed to an 'other' plant
        (K.FACILITY_DOWN, "collection_point", str(ids["pB"])),
        (K.FACILITY_DOWN, "collection_point", str(ids["pE1"])),
        (K.FACILITY_DOWN, "transfer_station", str(ids["S2"])),
        (K.FACILITY_DOWN, "treatment_facility", str(ids["P_haz"])),
        (K.UNBALANCED, "transfer_station", str(ids["S3"])),  # 100 vs 70: 30% > 10%
    }
    assert _keys(breaks) == {(str(k), t, i) for k, t, i in expected}
    assert len(breaks) == len(expected)  # no duplicates
    assert [b.kind for b in breaks] == sorted(
        (b.kind for b in breaks), key=list(ChainBreakKind).index
    )
    assert {b.period for b in breaks} == {"2026Q3"}
    by_key = {b.key(): b for b in breaks}
    bad = by_key[("mixed_transport", "chain_link", str(ids["bad"]))]
    assert bad.category == "perishable"
    assert bad.reason_zh == "S1→P_other: 易腐垃圾运往不接收该类别的设施(混装混运)"
    mixed = by_key[("mixed_transport", "chain_link", str(ids["mixed"]))]
    assert mixed.category is None
    assert "混合运输" in mixed.reason_zh
    assert "可回收物" in mixed.reason_zh  # P_other does not take recyclables
    village_b = by_key[("village_no_point", "village", "331128101202")]
    assert village_b.reason_zh == "B村: 无正常运行的收集点 (收集点202(故障))"
    overloaded = by_key[("station_overloaded", "transfer_station", str(ids["S3"]))]
    # 100 t over 1 t/d x 92 days = 92 t: 109%
    assert "100.0吨" in overloaded.reason_zh
    assert "92.0吨" in overloaded.reason_zh
    assert "109%" in overloaded.reason_zh
    unbalanced = by_key[("unbalanced", "transfer_station", str(ids["S3"]))]
    assert "30%" in unbalanced.reason_zh


def test_states_are_read_at_the_period_end(db: Engine) -> None:
    ids = _county(World(db))
    # 31 Aug: pB and S2 still ran and F's link held, so B, F and pD are fine. The Q3 weights
    # count pro rata: S3 31/92 x 100 = 33.7 t against 1 t/d x 31 d = 31 t, still overloaded,
    # and still 30% apart from what P_other weighed from it
    august = _keys(check_chain(db, unit_code=COUNTY, period="2026-08"))
    assert august == {
        ("station_overloaded", "transfer_station", str(ids["S3"])),
        ("unbalanced", "transfer_station", str(ids["S3"])),
        ("village_no_point", "village", "331128101203"),
        ("point_no_station", "collection_point", str(ids["pG"])),
        ("mixed_transport", "chain_link", str(ids["bad"])),
        ("mixed_transport", "chain_link", str(ids["mixed"])),
        ("facility_down", "collection_point", str(ids["pE1"])),
        ("facility_down", "treatment_facility", str(ids["P_haz"])),
    }


def test_a_town_sees_its_own_chain_and_where_it_leads(db: Engine) -> None:
    ids = _county(World(db))
    # town 102: village H, point pH, station S3 and the plant S3 sends to (P_other, working);
    # the county's broken hazardous plant is not on its chain
    breaks = check_chain(db, unit_code=TOWN_B, period="2026Q3")
    assert _keys(breaks) == {
        ("station_overloaded", "transfer_station", str(ids["S3"])),
        ("unbalanced", "transfer_station", str(ids["S3"])),
        ("mixed_transport", "chain_link", str(ids["mixed"])),
    }


def test_balance_within_tolerance_and_the_tolerance_is_data(db: Engine) -> None:
    import dataclasses

    from rural.indicators import load_indicator_rules

    ids = _county(World(db))
    rules = load_indicator_rules()
    # S1: 150 in, 140 out -> 10 / 150 = 6.7%: within the shipped 10%, outside a 5% tolerance
    strict = dataclasses.replace(
        rules, chain=dataclasses.replace(rules.chain, balance_tolerance=0.05)
    )
    keys = _keys(check_chain(db, unit_code=TOWN, period="2026Q3", rules=strict))
    assert ("unbalanced", "transfer_station", str(ids["S1"])) in keys
    keys = _keys(check_chain(db, unit_code=TOWN, period="2026Q3", rules=rules))
    assert ("unbalanced", "transfer_station", str(ids["S1"])) not in keys


def test_default_period_is_the_current_month(db: Engine) -> None:
    _county(World(db))
    breaks = check_chain(db, today=date(2026, 8, 15))
    assert {b.period for b in breaks} == {"2026-08"}
