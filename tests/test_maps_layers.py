"""gis.layers: village and town layers read from a small hand-built SQLite database."""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import Engine

from gis.layers import VILLAGE_COLUMNS, is_demo_database, town_layer, village_layer
from rural.db import write_session
from rural.enums import ToiletClass, ToiletCondition
from tests.factories import (
    COUNTY,
    add_household,
    add_toilet,
    add_toilet_state,
    add_unit,
    add_unit_chain,
    mark_demo,
    square,
)

TOWN_A = "330102100000"
TOWN_B = "330102101000"
V1, V2, V3 = "330102100201", "330102100202", "330102100203"
V4 = "330102101201"
REVOKED = "330102101202"
OTHER_COUNTY = "330103000000"
OTHER_TOWN = "330103100000"
OTHER_VILLAGE = "330103100201"


def _build(engine: Engine) -> None:
    harmless, sanitary = ToiletClass.HARMLESS, ToiletClass.SANITARY
    with write_session(engine) as s:
        add_unit_chain(session=s)
        add_unit(session=s, code=TOWN_A, name="甲镇", geom=square(120.0, 30.0, 0.03))
        add_unit(session=s, code=TOWN_B, name="乙乡", geom=square(120.1, 30.0, 0.03))
        add_unit(session=s, code=V1, name="东山村", geom=square(120.0, 30.0))
        add_unit(session=s, code=V2, name="<img src=x onerror=alert(1)>", geom=square(120.01, 30.0))
        add_unit(session=s, code=V3, name="空村", geom=None)
        add_unit(session=s, code=V4, name="王`家村", geom=square(120.1, 30.0))
        add_unit(session=s, code=REVOKED, name="已撤销村", valid_to=date(2020, 6, 30))
        add_unit(session=s, code=OTHER_COUNTY, name="邻县")
        add_unit(session=s, code=OTHER_TOWN, name="邻镇")
        add_unit(session=s, code=OTHER_VILLAGE, name="邻村")

        # V1: four resident households, two of them count -> 2/4.
        for seq, toilet_class, condition in [
            (1, harmless, ToiletCondition.IN_USE),
            (2, harmless, ToiletCondition.IN_USE),
            (3, harmless, ToiletCondition.LEAKING),
            (4, sanitary, ToiletCondition.IN_USE),
        ]:
            h = add_household(session=s, village_code=V1, seq=seq)
            add_toilet(session=s, household=h, toilet_class=toilet_class, condition=condition)
        # ... plus a non-resident household with a harmless toilet: not in the denominator.
        h = add_household(session=s, village_code=V1, seq=5, resident=False)
        add_toilet(session=s, household=h, toilet_class=harmless)

        # V2: three resident households, all count -> 3/3; one has a second, worse toilet.
        for seq in (1, 2, 3):
            h = add_household(session=s, village_code=V2, seq=seq)
            add_toilet(session=s, household=h, toilet_class=harmless)
        add_toilet(session=s, household=h, toilet_class=ToiletClass.NON_SANITARY)

        # V3: no households -> rate undefined.
        # V4: an unused harmless toilet and a household without toilet -> 0/2; a household that
        # moved away (valid_to set) is no longer counted.
        h = add_household(session=s, village_code=V4, seq=1)
        add_toilet(session=s, household=h, toilet_class=harmless, condition=ToiletCondition.UNUSED)
        add_household(session=s, village_code=V4, seq=2)
        h = add_household(session=s, village_code=V4, seq=3, valid_to=date(2024, 1, 1))
        add_toilet(session=s, household=h, toilet_class=harmless)

        # The neighbouring county: must not leak into ours.
        h = add_household(session=s, village_code=OTHER_VILLAGE, seq=1)
        add_toilet(session=s, household=h, toilet_class=harmless)


def test_village_layer_counts_and_rates(any_engine: Engine) -> None:
    _build(any_engine)
    layer = village_layer(any_engine, unit_code=COUNTY)

    assert list(layer.columns) == [*VILLAGE_COLUMNS, "geometry"]
    assert layer.crs is not None
    assert layer.crs.to_epsg() == 4490
    assert list(layer["code"]) == [V1, V2, V3, V4]
    assert list(layer["name"]) == ["东山村", "<img src=x onerror=alert(1)>", "空村", "王`家村"]
    assert list(layer["town_name"]) == ["甲镇", "甲镇", "甲镇", "乙乡"]
    assert list(layer["town_code"]) == [TOWN_A, TOWN_A, TOWN_A, TOWN_B]
    assert list(layer["resident_households"]) == [4, 3, 0, 2]
    assert list(layer["harmless_households"]) == [2, 3, 0, 0]
    rates = list(layer["harmless_rate"])
    assert rates[0] == pytest.approx(2 / 4)
    assert rates[1] == pytest.approx(3 / 3)
    assert math.isnan(rates[2])
    assert rates[3] == pytest.approx(0 / 2)
    assert layer.geometry.iloc[0].bounds == pytest.approx((120.0, 30.0, 120.01, 30.01))
    assert layer.geometry.iloc[2] is None


def test_village_layer_of_a_town_keeps_only_its_villages(engine: Engine) -> None:
    _build(engine)
    layer = village_layer(engine, unit_code=TOWN_B)
    assert list(layer["code"]) == [V4]


def test_town_layer(engine: Engine) -> None:
    _build(engine)
    towns = town_layer(engine, unit_code=COUNTY)
    assert list(towns["code"]) == [TOWN_A, TOWN_B]
    assert list(towns["name"]) == ["甲镇", "乙乡"]
    assert list(towns["county_code"]) == [COUNTY, COUNTY]
    assert towns.crs is not None
    assert towns.crs.to_epsg() == 4490
    assert towns.geometry.iloc[1].bounds == pytest.approx((120.1, 30.0, 120.13, 30.03))


def test_empty_database_gives_empty_layers(engine: Engine) -> None:
    layer = village_layer(engine, unit_code=COUNTY)
    assert len(layer) == 0
    assert list(layer.columns) == [*VILLAGE_COLUMNS, "geometry"]
    assert len(town_layer(engine, unit_code=COUNTY)) == 0


def test_village_layer_as_of_uses_the_toilet_history(any_engine: Engine) -> None:
    engine = any_engine
    harmless = ToiletClass.HARMLESS
    with write_session(engine) as s:
        add_unit_chain(session=s)
        add_unit(session=s, code=TOWN_A, name="甲镇")
        add_unit(session=s, code=V1, name="东山村")
        # Toilet 1: non-sanitary in 2022, renovated to harmless on 2023-06-01.
        h1 = add_household(session=s, village_code=V1, seq=1)
        t1 = add_toilet(session=s, household=h1, toilet_class=harmless)
        add_toilet_state(
            session=s,
            toilet=t1,
            effective_on=date(2022, 1, 1),
            toilet_class=ToiletClass.NON_SANITARY,
        )
        add_toilet_state(session=s, toilet=t1, effective_on=date(2023, 6, 1), toilet_class=harmless)
        # Toilet 2: harmless from 2022, leaking from 2024-03-01; two states on one day, the
        # later-recorded one wins.
        h2 = add_household(session=s, village_code=V1, seq=2)
        t2 = add_toilet(session=s, household=h2, toilet_class=harmless)
        add_toilet_state(session=s, toilet=t2, effective_on=date(2022, 1, 1), toilet_class=harmless)
        add_toilet_state(session=s, toilet=t2, effective_on=date(2024, 3, 1), toilet_class=harmless)
        add_toilet_state(
            session=s,
            toilet=t2,
            effective_on=date(2024, 3, 1),
            toilet_class=harmless,
            condition=ToiletCondition.LEAKING,
        )
        # Household 3 only arrived in 2024 (no toilet history: never counts as harmless).
        add_household(session=s, village_code=V1, seq=3, valid_from=date(2024, 1, 1))

    def figures(as_of: date) -> tuple[int, int]:
        row = village_layer(engine, unit_code=COUNTY, as_of=as_of).iloc[0]
        return int(row["resident_households"]), int(row["harmless_households"])

    assert figures(date(2022, 6, 1)) == (2, 1)  # only toilet 2
    assert figures(date(2023, 6, 1)) == (2, 2)  # the renovation counts from its day
    assert figures(date(2024, 3, 1)) == (3, 1)  # toilet 2 leaks; household 3 arrived
    assert figures(date(2021, 1, 1)) == (2, 0)  # before any recorded state


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), (None, False)])
def test_is_demo_database(engine: Engine, value: str | None, expected: bool) -> None:
    if value is not None:
        with write_session(engine) as s:
            mark_demo(session=s, value=value)
    assert is_demo_database(engine) is expected
