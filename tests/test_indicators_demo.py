"""The engine and the audit on the demo county: the audit finds exactly the manifest's planted
breaks, and the figures match the generator's stated distributions.

Expected shares are worked out here from ``rural.demo.distributions`` (the generator's stated
figures); the tolerance for a share is four binomial standard errors, sqrt(p (1 - p) / n). Where
the share differs by village progress group (toilets, titles), the figure is a sum of binomials
given the groups (listed in the manifest): the expected value is the mixture weighted by each
group's count in the denominator, the tolerance four standard deviations of that sum.
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
from rural.indicators import IndicatorTable, compute
from rural.periods import parse_period
from tests.test_demo import HARMLESS, SANITARY, in_use_share
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


def _within_mixture(
    table: IndicatorTable, code: str, indicator: str, terms: dict[str, tuple[float, float]]
) -> None:
    """The figure is a sum of binomials given the progress groups: ``terms`` holds each
    group's (denominator, stated share). Expected sum(n p) / sum(n), within 4 standard
    deviations sqrt(sum(n p (1 - p))) / sum(n)."""
    value = table.value(code, indicator)
    assert value.value is not None
    total = sum(n for n, _ in terms.values())
    assert value.denominator == total
    expected = sum(n * p for n, p in terms.values()) / total
    tolerance = 4 * math.sqrt(sum(n * p * (1 - p) for n, p in terms.values())) / total
    assert abs(value.value - expected) <= tolerance, (indicator, value.value, expected, tolerance)


DENOMINATOR_COLUMN = {
    "resident": "resident",
    "registered": "registered",
    "due": "due_for_renovation",
}


def _households_per_group(demo: Engine, manifest: Manifest, column: str) -> dict[str, float]:
    """The households counted by a denominator, per progress group (rural villages only)."""
    with demo.connect() as conn:
        per_village = dict(
            conn.execute(
                text(f"SELECT village_code, sum({column}) FROM household GROUP BY 1")
            ).all()
        )
    return {
        group: float(sum(per_village.get(code, 0) for code in codes))
        for group, codes in manifest.progress_groups.items()
    }


def test_toilet_rates_match_the_stated_shares(
    demo: Engine, county: str, manifest: Manifest
) -> None:
    """Each group's households have a harmless (sanitary-or-better) toilet in use with the
    group's stated share (see tests.test_demo.in_use_share); the county rate is the mixture
    weighted by each group's households in the denominator."""
    assert in_use_share("lagging", HARMLESS) == pytest.approx(0.3074, abs=5e-5)  # by hand there
    for denominator, column in DENOMINATOR_COLUMN.items():  # drawn independently of the toilet
        table = compute(
            demo,
            unit_code=county,
            period=COUNTY_PERIOD,
            indicators=["harmless_toilet_rate", "sanitary_toilet_rate"],
            toilet_denominator=denominator,
        )
        households = _households_per_group(demo, manifest, column)
        for indicator, types in (
            ("harmless_toilet_rate", HARMLESS),
            ("sanitary_toilet_rate", HARMLESS | SANITARY),
        ):
            terms = {g: (n, in_use_share(g, types)) for g, n in households.items()}
            _within_mixture(table, county, indicator, terms)


def test_the_civilized_title_rate_matches_the_stated_shares(
    demo: Engine, county: str, manifest: Manifest
) -> None:
    """At the end of 2026 (after the re-check of March 2026) a village holds a title with its
    group's stated share; at the end of 2025 the titles revoked in March 2026 still held."""
    villages = {g: float(len(codes)) for g, codes in manifest.progress_groups.items()}
    for period, shares in (
        ("2026", dist.TITLE_HELD_SHARES),
        (
            "2025",
            {g: dist.TITLE_HELD_SHARES[g] + dist.TITLE_REVOKED_SHARES[g] for g in villages},
        ),
    ):
        table = compute(demo, unit_code=county, period=period, indicators=["civilized_title_rate"])
        terms = {g: (n, shares[g]) for g, n in villages.items()}
        _within_mixture(table, county, "civilized_title_rate", terms)


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


def test_the_superiors_sheet_for_the_demo(
    demo: Engine, county: str, figures: IndicatorTable, tmp_path: Path
) -> None:
    """The 合计 row of the sheet: every numerator and denominator is the sum of the village
    rows above it (read back from the file), its rate their quotient; and for the figures
    counted per village it equals the county's own figure, computed at county level."""
    from rural.reports.xlsx import Footer, write_village_report

    table = compute(demo, unit_code=county, period=COUNTY_PERIOD, level="village")
    path = write_village_report(
        table, tmp_path / "demo.xlsx", title="示例县", footer=Footer(unit="示例县")
    )
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    # title, subtitle, two header rows (1-4), one row per rural village, the totals row
    villages = len(table.codes)
    first, totals = 5, 5 + villages
    assert sheet.cell(totals, 1).value == "合计"
    codes = [sheet.cell(r, 4).value for r in range(first, totals)]
    assert codes == list(table.codes)
    # indicator blocks from column 5 on: the name (merged over three columns) in row 3, then
    # 分子 / 分母 / 比率 in row 4
    blocks: dict[str, int] = {}
    col = 5
    while sheet.cell(3, col).value:
        assert [sheet.cell(4, col + j).value for j in range(3)] == ["分子", "分母", "比率"]
        blocks[str(sheet.cell(3, col).value)] = col
        col += 3
    assert len(blocks) == len(table.definitions)

    def column_sum(col: int) -> float:
        cells = [sheet.cell(r, col).value for r in range(first, totals)]
        return float(sum(v for v in cells if isinstance(v, int | float)))

    checked = 0
    for name, col in blocks.items():
        numerator, denominator = column_sum(col), column_sum(col + 1)
        total_num, total_den = sheet.cell(totals, col).value, sheet.cell(totals, col + 1).value
        assert total_num == pytest.approx(numerator), name
        assert total_den == pytest.approx(denominator), name
        rate = sheet.cell(totals, col + 2).value
        if denominator > 0 and isinstance(rate, int | float):
            assert rate == pytest.approx(numerator / denominator), name
            checked += 1
    assert checked >= 5
    # figures counted per village (households, villages): the totals row is the county's figure
    for key, label in (
        ("harmless_toilet_rate", "无害化卫生厕所普及率"),
        ("sanitary_toilet_rate", "卫生厕所普及率"),
        ("courtyard_pass_rate", "美丽庭院达标率"),
        ("sewage_treatment_rate", "生活污水治理率"),
        ("civilized_title_rate", "县级及以上文明村占比"),
    ):
        (col,) = [c for name, c in blocks.items() if name.split("(")[0] == label]
        county_value = figures.value(county, key)
        assert county_value.denominator is not None
        assert county_value.denominator > 0
        assert (sheet.cell(totals, col).value, sheet.cell(totals, col + 1).value) == (
            county_value.numerator,
            county_value.denominator,
        ), key
