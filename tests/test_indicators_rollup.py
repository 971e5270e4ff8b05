"""Property: a town's, county's and city's numerators and denominators are the sums of their
villages' (rates are never averaged), whatever the villages hold."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rural.indicators import compute
from rural.indicators.table import IndicatorTable
from tests.world import COUNTY, World, fresh_sqlite

COUNTY_B = "331129000000"
CITY = "331100000000"
PERIOD = "2026Q3"
END = date(2026, 9, 30)
# indicators counted per village (the tonnage ones hang on facilities' units)
VILLAGE_INDICATORS = [
    "sanitary_toilet_rate",
    "harmless_toilet_rate",
    "chain_coverage_rate",
    "sorting_participation_rate",
    "sorting_accuracy_rate",
    "sewage_treatment_rate",
    "sewage_operation_rate",
    "effluent_compliance_rate",
    "courtyard_pass_rate",
]
TOILETS = [
    ("three_compartment", "onsite_tank"),
    ("deep_pit_frostproof", "onsite_tank"),
    ("single_pit", "unknown"),
    ("flush_other", "untreated_discharge"),
]
CONDITIONS = ["in_use", "leaking", "unused"]
DATES = [date(2024, 1, 1), date(2026, 8, 1), date(2026, 10, 15)]  # before, inside, after


@dataclass(frozen=True)
class HouseholdSpec:
    resident: bool
    registered: bool
    due: bool
    toilets: tuple[tuple[int, int, int], ...]  # (toilet kind, condition, date) indexes
    connection: int | None  # index of the village's facility
    stars: int | None
    inspection: tuple[bool, bool | None] | None


@dataclass(frozen=True)
class VillageSpec:
    part: int  # village part of the code
    urban_rural: str | None
    facilities: tuple[str, ...]  # statuses
    has_point: bool
    households: tuple[HouseholdSpec, ...]


households = st.builds(
    HouseholdSpec,
    resident=st.booleans(),
    registered=st.booleans(),
    due=st.booleans(),
    toilets=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)), max_size=2
    ).map(tuple),
    connection=st.none() | st.integers(0, 1),
    stars=st.none() | st.integers(1, 5),
    inspection=st.none() | st.tuples(st.booleans(), st.none() | st.booleans()),
)
villages = st.builds(
    VillageSpec,
    part=st.sampled_from([1, 2, 201, 202, 203, 350]),
    urban_rural=st.sampled_from([None, "111", "121", "220"]),
    facilities=st.lists(st.sampled_from(["operating", "fault", "building"]), max_size=2).map(tuple),
    has_point=st.booleans(),
    households=st.lists(households, max_size=4).map(tuple),
)
# two counties of one city, two towns each, up to three villages per town
towns = st.lists(
    st.lists(villages, min_size=1, max_size=3, unique_by=lambda v: v.part), min_size=4, max_size=4
)


def _build(world: World, spec: list[list[VillageSpec]]) -> None:
    town_codes = [
        COUNTY[:6] + "101000",
        COUNTY[:6] + "102000",
        COUNTY_B[:6] + "101000",
        COUNTY_B[:6] + "102000",
    ]
    world.hierarchy(county=COUNTY, towns=town_codes[:2])
    world.hierarchy(county=COUNTY_B, towns=town_codes[2:])
    for town, village_specs in zip(town_codes, spec, strict=True):
        station = world.station(town)
        plant = world.plant(town[:6] + "000000", "incineration", ["other"])
        world.link(station=station, plant=plant, category="other")
        for v in village_specs:
            code = world.village(town[:9] + f"{v.part:03d}", urban_rural_code=v.urban_rural)
            facilities = [world.sewage_facility(code, status=s) for s in v.facilities]
            if v.has_point:
                point = world.point(code)
                world.link(village=code, point=point)
                world.link(point=point, station=station)
            for f in facilities:
                world.sample(f, date(2026, 8, 1), cod=float(40 + 30 * (f % 2)))
            for h in v.households:
                hid = world.household(code, resident=h.resident, registered=h.registered, due=h.due)
                for kind, condition, when in h.toilets:
                    toilet_type, destination = TOILETS[kind]
                    world.toilet(
                        hid, (DATES[when], toilet_type, CONDITIONS[condition], destination)
                    )
                if h.connection is not None and h.connection < len(facilities):
                    world.connect(hid, facilities[h.connection], date(2025, 1, 1))
                if h.stars is not None:
                    world.rating(hid, date(2025, 6, 1), h.stars)
                if h.inspection is not None:
                    world.inspection(
                        hid, date(2026, 9, 1), participated=h.inspection[0], correct=h.inspection[1]
                    )


def _sums(table: IndicatorTable, parent_len: int) -> dict[str, np.ndarray]:
    """Numerators and denominators of ``table`` summed by the first ``parent_len`` digits."""
    keys = table.data.index.str.slice(0, parent_len)
    out = {}
    for key in VILLAGE_INDICATORS:
        block = table.data[key][["numerator", "denominator"]]
        out[key] = block.groupby(keys).sum().sort_index().to_numpy()
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=towns)
def test_every_level_sums_its_villages(spec: list[list[VillageSpec]]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="rollup-"))
    engine = fresh_sqlite(folder)
    try:
        _build(World(engine), spec)
        by_level = {
            level: compute(
                engine, unit_code=CITY, period=PERIOD, level=level, indicators=VILLAGE_INDICATORS
            )
            for level in ("village", "town", "county", "city")
        }
        villages_table = by_level["village"]
        for level, digits in (("town", 9), ("county", 6), ("city", 4)):
            upper = by_level[level]
            expected = _sums(villages_table, digits)
            # every unit at the level appears, even one whose villages all fall outside the rule
            present = sorted({code[:digits] for code in upper.codes})
            for key in VILLAGE_INDICATORS:
                got = upper.data[key][["numerator", "denominator"]]
                got = got.groupby(upper.data.index.str.slice(0, digits)).sum()
                got = got.reindex(present).fillna(0.0)
                want = expected[key]
                keys = sorted(set(villages_table.data.index.str.slice(0, digits)))
                assert np.allclose(got.loc[keys].to_numpy(), want), (level, key)
                # units with no rural village have nothing to count
                others = [k for k in present if k not in keys]
                assert np.allclose(got.loc[others].to_numpy(), 0.0), (level, key)
            # and a value is the ratio of the sums, never a mean of village rates
            for code in upper.codes:
                v = upper.value(code, "harmless_toilet_rate")
                if v.denominator:
                    assert v.value == v.numerator / v.denominator
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
