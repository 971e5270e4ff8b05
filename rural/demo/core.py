"""Shared state and vectorised helpers of the demo generator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlmodel import SQLModel

from rural.bulk import Categorical, ColumnData
from rural.demo.geography import Geography, VillageGeo
from rural.demo.params import DemoParams
from rural.enums import LabeledEnum

ACTOR = "示例数据"  # who recorded the generated history rows


@dataclass
class TableData:
    """One table's rows as columns (see rural.bulk for the column kinds)."""

    model: type[SQLModel]
    columns: dict[str, ColumnData]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass
class Villages:
    """Per-village arrays, in the order of ``Geography.villages`` (index = village number)."""

    geos: list[VillageGeo]
    codes: list[str]
    town: np.ndarray  # index into Geography.towns
    county: np.ndarray  # index into Geography.counties
    committee: np.ndarray  # 村委会
    rural: np.ndarray  # counted as a village by the default rule (or by hand)

    def __len__(self) -> int:
        return len(self.codes)


@dataclass
class Ctx:
    """What every part of the generator reads and appends to."""

    params: DemoParams
    rng: np.random.Generator
    geo: Geography
    villages: Villages
    people: list[str]
    town_index: dict[str, int] = field(default_factory=dict)  # town code -> index
    tables: dict[str, TableData] = field(default_factory=dict)
    history: History = field(default_factory=lambda: History())
    # each village's renovation progress group (index into distributions.PROGRESS_GROUPS)
    progress: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # household arrays, filled by the household part
    hh_village: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hh_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hh_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hh_members: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hh_resident: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    hh_first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add(self, name: str, model: type[SQLModel], columns: Mapping[str, ColumnData]) -> None:
        self.tables[name] = TableData(model=model, columns=dict(columns))

    def person(self, n: int) -> Categorical:
        """``n`` random names from the people pool."""
        codes = self.rng.integers(len(self.people), size=n, dtype=np.int32)
        return Categorical(codes, self.people)

    def village_households(self, v: int) -> slice:
        return slice(int(self.hh_first[v]), int(self.hh_first[v + 1]))


def d64(value: date) -> np.datetime64:
    return np.datetime64(value.isoformat(), "D")


def to_date(value: np.datetime64) -> date:
    return date.fromisoformat(str(value.astype("datetime64[D]")))


def random_dates(
    rng: np.random.Generator, start: Any, end: Any, size: int | None = None
) -> np.ndarray:
    """Uniform dates in [start, end] (dates or datetime64 arrays, inclusive)."""
    lo = np.asarray(start, dtype="datetime64[D]")
    hi = np.asarray(end, dtype="datetime64[D]")
    span = (hi - lo).astype(np.int64) + 1
    shape = size if size is not None else np.broadcast(lo, hi).shape
    offset = np.floor(rng.random(shape) * np.maximum(span, 1)).astype(np.int64)
    return lo + offset.astype("timedelta64[D]")


def enum_column(enum_cls: type[LabeledEnum], codes: np.ndarray | Sequence[int]) -> Categorical:
    """A categorical column of enum values; ``codes`` index the enum's members (-1: None)."""
    return Categorical(np.asarray(codes, dtype=np.int8), [str(m) for m in enum_cls])


def enum_index(enum_cls: type[LabeledEnum], member: LabeledEnum) -> int:
    return list(enum_cls).index(member)


def optional(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``values`` with None (a masked entry) where ``present`` is false."""
    return np.ma.masked_array(np.asarray(values), mask=~np.asarray(present, dtype=bool))


def recorded_at(dates: np.ndarray, hour_utc: int = 2) -> np.ndarray:
    """The moment a dated row was recorded: ``hour_utc`` on its date, as UTC datetime64."""
    return dates.astype("datetime64[us]") + np.timedelta64(hour_utc, "h")


def choice(rng: np.random.Generator, shares: Sequence[float], size: int) -> np.ndarray:
    """Indices drawn with the given shares (which must sum to 1)."""
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def month_index(dates: np.ndarray, params: DemoParams) -> np.ndarray:
    """0..11: which month of the window each date falls in."""
    months = dates.astype("datetime64[M]") - np.datetime64(params.window_start, "M")
    return months.astype(np.int64)


def add_days(value: date, days: int) -> date:
    return value + timedelta(days=days)


class History:
    """StatusChange rows collected from every part, written as one table at the end."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        object_type: str,
        object_ids: np.ndarray,
        from_status: Sequence[str | None] | str | None,
        to_status: Sequence[str] | str,
        effective_on: np.ndarray,
        note: str | None = None,
    ) -> None:
        n = len(object_ids)
        if n == 0:
            return

        def spread(value: Any) -> np.ndarray:
            if isinstance(value, str) or value is None:
                arr = np.empty(n, dtype=object)
                arr[:] = value
                return arr
            return np.asarray(value, dtype=object)

        self._parts.append(
            {
                "object_type": spread(object_type),
                "object_id": np.asarray(object_ids, dtype=np.int64),
                "from_status": spread(from_status),
                "to_status": spread(to_status),
                "effective_on": np.asarray(effective_on, dtype="datetime64[D]"),
                "note": spread(note),
            }
        )

    def columns(self) -> dict[str, ColumnData]:
        if not self._parts:
            return {}
        merged = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        kinds = merged["object_type"].astype(str)
        # Sort by object, then date; a stable sort keeps the order of same-day changes.
        order = np.lexsort((merged["effective_on"], merged["object_id"], kinds))
        columns: dict[str, ColumnData] = {k: v[order] for k, v in merged.items()}
        n = len(order)
        columns["id"] = np.arange(1, n + 1)
        columns["recorded_at"] = recorded_at(merged["effective_on"][order])
        actor = np.empty(n, dtype=object)
        actor[:] = ACTOR
        columns["actor"] = actor
        return columns
