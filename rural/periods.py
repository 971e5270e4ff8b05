"""Reporting periods: a year (``2026``), a quarter (``2026Q3``) or a month (``2026-07``).

States (toilets, facility statuses, connections, ratings) are taken as of the period's last day;
flows (tonnage, samples, inspections) are summed over its days, both ends included.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rural.errors import ValidationError

MIN_YEAR = 1949
MAX_YEAR = 2100

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodKind(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """A closed date range ``start``..``end`` with its canonical text (``2026Q3``)."""

    text: str
    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The Chinese label: 2026年 / 2026年第3季度 / 2026年7月."""
        year = self.start.year
        if self.kind == PeriodKind.YEAR:
            return f"{year}年"
        if self.kind == PeriodKind.QUARTER:
            return f"{year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{year}年{self.start.month}月"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap_days(self, start: date, end: date) -> int:
        """Days of ``start``..``end`` (both included) that fall within the period."""
        lo, hi = max(start, self.start), min(end, self.end)
        return max((hi - lo).days + 1, 0)

    def __str__(self) -> str:
        return self.text


def _fail(text: object, problem: str) -> ValidationError:
    msg = f"period {text!r}: {problem} (expected 2026, 2026Q3 or 2026-07)"
    return ValidationError(msg, field="period", value=text)


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _fail(text, f"year {year} outside {MIN_YEAR}..{MAX_YEAR}")


def parse_period(text: str | Period) -> Period:
    """Parse ``2026`` / ``2026Q3`` (also ``2026-Q3``, ``2026q3``) / ``2026-07`` (also ``2026-7``).

    Raises ``ValidationError`` (field ``period``) naming the value for anything else.
    """
    if isinstance(text, Period):
        return text
    if not isinstance(text, str):
        raise _fail(text, "not a string")
    raw = text.strip()
    if match := _YEAR.match(raw):
        year = int(match.group(1))
        _check_year(text, year)
        return Period(f"{year}", PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))
    if match := _QUARTER.match(raw):
        year, quarter = int(match.group(1)), int(match.group(2))
        _check_year(text, year)
        first = 3 * (quarter - 1) + 1
        last_day = calendar.monthrange(year, first + 2)[1]
        return Period(
            f"{year}Q{quarter}",
            PeriodKind.QUARTER,
            date(year, first, 1),
            date(year, first + 2, last_day),
        )
    if match := _MONTH.match(raw):
        year, month = int(match.group(1)), int(match.group(2))
        _check_year(text, year)
        if not 1 <= month <= 12:
            raise _fail(text, f"month {month} outside 1..12")
        last_day = calendar.monthrange(year, month)[1]
        return Period(
            f"{year}-{month:02d}",
            PeriodKind.MONTH,
            date(year, month, 1),
            date(year, month, last_day),
        )
    raise _fail(text, "not a year, quarter or month")


def month_of(day: date) -> Period:
    """The calendar month containing ``day``."""
    return parse_period(f"{day.year}-{day.month:02d}")


def previous(period: Period) -> Period:
    """The period of the same kind just before ``period``."""
    day = period.start - timedelta(days=1)
    if period.kind == PeriodKind.YEAR:
        return parse_period(f"{day.year}")
    if period.kind == PeriodKind.QUARTER:
        return parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    return month_of(day)
