"""The parameters of a demo dataset and the dates it covers."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from rural.errors import ValidationError

VILLAGES_PER_COUNTY = 220
MAX_SINGLE_COUNTY = 250
COUNTIES_PER_CITY = 9
VILLAGES_PER_TOWN = 17
MIN_HOUSEHOLDS_PER_VILLAGE = 5
MAX_HOUSEHOLDS_PER_VILLAGE = 9_999  # the 4-digit household sequence


@dataclass(frozen=True)
class DemoParams:
    """What to generate. The same parameters always give the same data."""

    villages: int = 200
    households: int = 60_000
    towns: int | None = None
    seed: int = 7
    as_of: date = date(2026, 10, 31)

    def check(self) -> None:
        """Raise ValidationError naming the parameter when the combination cannot be built."""
        if self.villages < 10:
            msg = f"村数 villages 至少为 10，收到 {self.villages}"
            raise ValidationError(msg, field="villages", value=self.villages)
        towns = self.town_count
        if not 2 * self.counties <= towns <= self.villages // 3:
            msg = (
                f"乡镇数 towns 应在 {2 * self.counties} 到 {self.villages // 3}（村数的三分之一）"
                f"之间，收到 {towns}"
            )
            raise ValidationError(msg, field="towns", value=towns)
        low = MIN_HOUSEHOLDS_PER_VILLAGE * self.villages
        high = MAX_HOUSEHOLDS_PER_VILLAGE * self.villages // 4
        if not low <= self.households <= high:
            msg = (
                f"户数 households 在 {self.villages} 个村时应在 {low} 到 {high} 之间，"
                f"收到 {self.households}"
            )
            raise ValidationError(msg, field="households", value=self.households)
        if self.seed < 0:
            msg = f"随机种子 seed 不能为负数，收到 {self.seed}"
            raise ValidationError(msg, field="seed", value=self.seed)

    @property
    def counties(self) -> int:
        if self.villages <= MAX_SINGLE_COUNTY:
            return 1
        return math.ceil(self.villages / VILLAGES_PER_COUNTY)

    @property
    def cities(self) -> int:
        return math.ceil(self.counties / COUNTIES_PER_CITY)

    @property
    def town_count(self) -> int:
        if self.towns is not None:
            return self.towns
        return max(2 * self.counties, round(self.villages / VILLAGES_PER_TOWN))

    @property
    def window_start(self) -> date:
        """First day of the 12 months of flows that end with ``as_of``'s month."""
        month = self.as_of.year * 12 + self.as_of.month - 1 - 11
        return date(month // 12, month % 12 + 1, 1)

    @property
    def window_days(self) -> int:
        return (self.as_of - self.window_start).days + 1

    def months(self) -> list[tuple[date, date]]:
        """(first day, last day) of each of the 12 months, the last one ending at ``as_of``."""
        result = []
        start = self.window_start
        for _ in range(12):
            nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            result.append((start, min(nxt - timedelta(days=1), self.as_of)))
            start = nxt
        return result

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DemoParams:
        data = json.loads(text)
        data["as_of"] = date.fromisoformat(data["as_of"])
        return cls(**data)
