"""Dates and times as the users live them: China Standard Time for dates, UTC for timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in China (a status changed at 07:00 Beijing time belongs to that day)."""
    return datetime.now(CHINA).date()
