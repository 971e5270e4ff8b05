"""The engine and the audit on the demo county: the audit finds exactly the manifest's planted
breaks, and the figures match the generator's stated distributions.

Expected shares are worked out here from ``rural.demo.distributions`` (the generator's stated
figures); the tolerance for a share is four binomial standard errors, sqrt(p (1 - p) / n).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from rural.chain import check_chain
from rural.demo import DemoParams, Manifest, load_demo
from rural.demo import distributions as dist
from rural.enums import ExcretaDestination, ToiletCondition, ToiletType
from rural.indicators import IndicatorTable, compute
from rural.periods import parse_period
from tests.world import fresh_sqlite

PARAMS = DemoParams(villages=60, households=15_000, seed=11)
COUNTY_PERIOD = "2026"  # ends after as_of (31 Oct 2026): states = as_of; flows Jan..Oct


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_sqlite(tmp_path_factory.mktemp("demo"))
    load_demo(engine, PARAMS, actor="测试")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def manifest(demo: Engine) -> Manifest:
    with demo.connect() as conn:
        value = conn.execute(
            text("SELECT value FROM dataset_info WHERE key = 'demo_manifest'")
        ).scalar_one()
    return Manifest.from_json(value)


@pytest.fixture(scope="module")
def county(demo: Engine) -> str:
    with demo.connect() as conn:
        return str(conn.execute(text("SELECT code FROM unit WHERE level = 'county'")).scalar_one())


@pytest.fixture(scope="module")
def figures(demo: Engine, county: str) -> IndicatorTable:
    return compute(demo, unit_code=county, period=COUNTY_PERIOD)


# ---- the chain audit against the manifest -------------------------------------------------------


def test_the_audit_finds_exactly_the_planted_breaks(demo: Engine, manifest: Manifest) -> None:
    """Every month of the demo's 12-month window audited: together they find every planted break
    (status breaks on the days they hold, overloads in every month, imbalances in their month,
    mixed links always) and nothing the manifest does not list."""
    listed = {(str(b.kind), b.object_type, b.object_id) for b in manifest.chain_breaks}
    found: set[tuple[str, str, str]] = set()
    for start, _end in PARAMS.months():
        found |= {b.key() for b in check_chain(demo, period=f"{start:%Y-%m}")}
    assert found == listed
    assert len(listed) == len(manifest.chain_breaks) == 13


def test_one_month_finds_the_breaks_that_hold_in_it(demo: Engine, manifest: Manifest) -> None:
    """The as_of month alone: everything but the imbalances planted in other months."""
    month = parse_period(f"{PARAMS.as_of:%Y-%m}")
    expected = set()
    for b in manifest.chain_breaks:
        if b.period is None:
            holds = True
        elif "/" in b.period:  # an interval of days: holds when it covers the month's end
            first, last = (date.fromisoformat(d) for d in b.period.split("/"))
            holds = first <= month.end <= last
        else:  # a month
            holds = b.period == month.text
        if holds:
            expected.add((str(b.kind), b.object_type, b.object_id))
    found = {b.key() for b in check_chain(demo, period=month.text)}
    assert found == expected
    assert len(found) < len(manifest.chain_breaks)  # some imbalance lies in another month


# ---- the figures against the stated distributions -----------------------------------------------


def _within(table: IndicatorTable, code: str, indicator: str, expected: float) -> None:
    value = table.value(code, indicator)
    assert value.denominator is not None
    assert value.value is not None
    n = value.denominator
    tolerance = 4 * math.sqrt(expected * (1 - expected) / n)
    assert abs(value.value - expected) <= tolerance, (indicator, value.value, expected, tolerance)


def _toilet_shares() -> tuple[float, float]:
    """P(a household has a harmless / a sanitary-or-better toilet in use on as_of).

    A household has a toilet with probability 1 - NO_TOILET_SHARE; its type follows
    TOILET_TYPE_SHARES; a share UNTREATED_SHARE of some types discharges untreated
    (non-sanitary); renovated toilets (every type but the old pits) are in use with
    probability RENOVATED_CONDITION_SHARES[in use]. Harmless types go to treated destinations.
    """
    harmless_types = {
        ToiletType.THREE_COMPARTMENT,
        ToiletType.DOUBLE_URN,
        ToiletType.BIOGAS,
        ToiletType.URINE_DIVERTING,
        ToiletType.DOUBLE_PIT,
        ToiletType.FLUSH_SEWER,
        ToiletType.CENTRAL_EMPTYING,
    }
    sanitary_types = {ToiletType.DEEP_PIT_FROSTPROOF, ToiletType.LOFT, ToiletType.FLUSH_OTHER}
    for kind in harmless_types:
        assert dist.DESTINATION_BY_TYPE[kind] != ExcretaDestination.UNKNOWN
    has = 1 - dist.NO_TOILET_SHARE
    in_use = dist.RENOVATED_CONDITION_SHARES[ToiletCondition.IN_USE]

    def treated(kind: ToiletType) -> float:
        return dist.TOILET_TYPE_SHARES[kind] * (1 - dist.UNTREATED_SHARE.get(kind, 0.0))

    harmless = has * sum(treated(k) for k in harmless_types) * in_use
    sanitary = has * sum(treated(k) for k in harmless_types | sanitary_types) * in_use
    return harmless, sanitary


def test_toilet_rates_match_the_stated_shares(demo: Engine, county: str) -> None:
    harmless, sanitary = _toilet_shares()
    # by hand: 0.98 x (0.52 x 0.98 + 0.03 + 0.04 + 0.01 + 0.02 + 0.13 + 0.02) x 0.88 = 0.6551
    assert harmless == pytest.approx(0.98 * 0.7596 * 0.88)
    # + (0.02 + 0.01 + 0.08 x 0.65) = 0.8416 in all -> 0.98 x 0.8416 x 0.88 = 0.7258
    assert sanitary == pytest.approx(0.98 * 0.8416 * 0.88)
    for denominator in ("resident", "registered", "due"):  # drawn independently of the toilet
        table = compute(
            demo,
            unit_code=county,
            period=COUNTY_PERIOD,
            indicators=["harmless_toilet_rate", "sanitary_toilet_rate"],
            toilet_denominator=denominator,
        )
        _within(table, county, "harmless_toilet_rate", harmless)
        _within(table, county, "sanitary_toilet_rate", sanitary)


def test_household_figures_match_the_stated_shares(figures: IndicatorTable, county: str) -> None:
    # courtyards: rated 0.70 x (3 stars 0.38 + 4 stars 0.28 + 5 stars 0.12) = 0.546
    passing = sum(s for stars, s in dist.COURTYARD_STAR_SHARES.items() if stars >= 3)
    _within(figures, county, "courtyard_pass_rate", dist.COURTYARD_RATED_SHARE * passing)
    # spot checks: 90% sorted; 82% of those sorted correctly
    _within(figures, county, "sorting_participation_rate", dist.SORTING_PARTICIPATION)
    _within(figures, county, "sorting_accuracy_rate", dist.SORTING_ACCURACY)


def test_sewage_figures_match_the_manifest(
    demo: Engine, figures: IndicatorTable, county: str, manifest: Manifest
) -> None:
    # every facility in fault or stopped on as_of is in the manifest; the rest operate
    operation = figures.value(county, "sewage_operation_rate")
    assert operation.denominator is not None
    assert operation.numerator is not None
    assert operation.denominator - operation.numerator == len(manifest.faulty_sewage_facilities)
    # samples of 2026 (Jan..Oct): those the manifest lists as failing are exactly the others
    with demo.connect() as conn:
        in_period = {
            int(r[0])
            for r in conn.execute(
                text("SELECT id FROM effluent_sample WHERE sampled_on BETWEEN :a AND :b"),
                {"a": "2026-01-01", "b": "2026-12-31"},
            )
        }
    failing = {s.sample_id for s in manifest.failing_samples} & in_period
    compliance = figures.value(county, "effluent_compliance_rate")
    assert (compliance.numerator, compliance.denominator) == (
        len(in_period) - len(failing),
        len(in_period),
    )
    _within(figures, county, "effluent_compliance_rate", dist.SAMPLE_PASS_RATE)


def test_weighed_tonnage_keeps_the_category_shares(figures: IndicatorTable, county: str) -> None:
    """Facilities weigh what stations weighed (noise at most 1.5% per station-month-category)
    within 1.8%; every category's generated tonnage is its stated share. So the recyclable share
    of what facilities weighed stays within
    0.13 x 1.0333 / (0.13 x 1.0333 + 0.87 x 0.9673) = 0.1376 and
    0.13 x 0.9673 / (0.13 x 0.9673 + 0.87 x 1.0333) = 0.1227."""
    share = dist.CATEGORY_SHARES["recyclable"]
    up, down = 1.015 * 1.018, 0.985 * 0.982
    high = share * up / (share * up + (1 - share) * down)
    low = share * down / (share * down + (1 - share) * up)
    assert (round(low, 4), round(high, 4)) == (0.1227, 0.1376)
    recycling = figures.value(county, "recycling_rate")
    assert recycling.value is not None
    assert low <= recycling.value <= high
    # every demo facility is compliant: all weighed tonnage is treated harmlessly
    assert figures.value(county, "harmless_treatment_rate").value == 1.0
    # village estimates carry no fate (not an end of the chain): no estimated rate
    assert figures.value(county, "recycling_rate_estimated").value is None


def test_towns_sum_to_the_county(demo: Engine, county: str, figures: IndicatorTable) -> None:
    towns = compute(demo, unit_code=county, period=COUNTY_PERIOD, level="town")
    for key in ("harmless_toilet_rate", "courtyard_pass_rate", "sewage_treatment_rate"):
        block = towns.data[key]
        county_value = figures.value(county, key)
        assert block["numerator"].sum() == county_value.numerator
        assert block["denominator"].sum() == county_value.denominator


def test_the_superiors_sheet_for_the_demo(demo: Engine, county: str, tmp_path: Path) -> None:
    from rural.reports.xlsx import Footer, write_village_report

    table = compute(demo, unit_code=county, period=COUNTY_PERIOD, level="village")
    path = write_village_report(
        table, tmp_path / "demo.xlsx", title="示例县", footer=Footer(unit="示例县")
    )
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    # title, subtitle, two header rows, one row per rural village, the totals row
    assert sheet.cell(4 + len(table.codes) + 1, 1).value == "合计"
