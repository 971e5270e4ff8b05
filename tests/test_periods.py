"""Reporting periods: parsing, boundaries, labels; bad input names the value."""

from __future__ import annotations

from datetime import date

import pytest

from rural.errors import ValidationError
from rural.periods import PeriodKind, month_of, parse_period, previous


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "canonical"),
    [
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31), "2026"),
        ("2026Q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30), "2026Q3"),
        ("2026q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31), "2026Q1"),
        ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31), "2026Q4"),
        ("2026-07", PeriodKind.MONTH, date(2026, 7, 1), date(2026, 7, 31), "2026-07"),
        ("2026-2", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29), "2028-02"),  # leap
        (" 2026-11 ", PeriodKind.MONTH, date(2026, 11, 1), date(2026, 11, 30), "2026-11"),
    ],
)
def test_periods_parse_to_closed_date_ranges(
    text: str, kind: PeriodKind, start: date, end: date, canonical: str
) -> None:
    period = parse_period(text)
    assert (period.kind, period.start, period.end, period.text) == (kind, start, end, canonical)


def test_days_labels_and_overlap() -> None:
    q3 = parse_period("2026Q3")
    assert q3.days == 31 + 31 + 30  # July + August + September = 92
    assert q3.label == "2026年第3季度"
    assert parse_period("2026").label == "2026年"
    assert parse_period("2026-07").label == "2026年7月"
    assert q3.contains(date(2026, 9, 30))
    assert not q3.contains(date(2026, 10, 1))
    # 16 Sep .. 15 Oct: 15 days in September fall within Q3
    assert q3.overlap_days(date(2026, 9, 16), date(2026, 10, 15)) == 15
    assert q3.overlap_days(date(2026, 10, 1), date(2026, 10, 31)) == 0


def test_month_of_and_previous() -> None:
    assert month_of(date(2026, 10, 31)).text == "2026-10"
    assert previous(parse_period("2026-01")).text == "2025-12"
    assert previous(parse_period("2026Q1")).text == "2025Q4"
    assert previous(parse_period("2026")).text == "2025"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2026Q5", "'2026Q5'"),
        ("2026-13", "month 13"),
        ("2026-00", "month 0"),
        ("26", "'26'"),
        ("1800", "year 1800"),
        ("2026/07", "'2026/07'"),
        ("", "''"),
    ],
)
def test_bad_periods_name_the_value(text: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match) as info:
        parse_period(text)
    assert info.value.field == "period"
    assert info.value.value == text
