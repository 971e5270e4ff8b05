"""The engine's result: one row per unit, numerator, denominator and value per indicator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from rural.enums import UnitLevel
from rural.errors import NotFoundError
from rural.indicators.definitions import IndicatorDef
from rural.periods import Period

FIELDS = ("numerator", "denominator", "value")


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator of one unit in one period. ``value`` is numerator / denominator (a share,
    0..1, for percentages) or None when there is nothing to divide by or the figure is not
    meaningful at the unit's level (``note`` says which). Numerator and denominator are None
    only when their data has no source at all."""

    id: str
    name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    unit_code: str
    period: str
    note: str = ""
    unit_name: str = ""
    percent: bool = True

    @property
    def text(self) -> str:
        """The value as shown to people: ``85.3%`` or ``—``."""
        if self.value is None:
            return "—"
        if self.percent:
            return f"{self.value * 100:.1f}%"
        return f"{self.value:.3g}"


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def number_text(value: float | None) -> str:
    """Counts without decimals, tonnes with up to two."""
    if value is None or math.isnan(value):
        return ""
    if float(value).is_integer():
        return f"{int(value):d}"
    return f"{value:.2f}"


@dataclass
class IndicatorTable:
    """Indicators of the units at one level within a unit, for one period.

    ``units``: index = unit code, columns ``name``, ``level``, ``parent_code``.
    ``data``: same index; columns a MultiIndex (indicator id, numerator|denominator|value);
    value is NaN where :class:`IndicatorValue` would say None.
    ``measures``: the raw measures per unit (what the numerators and denominators sum).
    """

    unit_code: str
    level: UnitLevel
    period: Period
    definitions: dict[str, IndicatorDef]
    options: dict[str, str]
    units: pd.DataFrame
    data: pd.DataFrame
    measures: pd.DataFrame
    notes: dict[str, str]

    @property
    def codes(self) -> list[str]:
        return list(self.units.index)

    def value(self, unit_code: str, indicator: str) -> IndicatorValue:
        if unit_code not in self.units.index:
            msg = f"unit {unit_code!r} is not in this table (level {self.level.value})"
            raise NotFoundError(msg)
        if indicator not in self.definitions:
            msg = f"indicator {indicator!r} is not in this table ({', '.join(self.definitions)})"
            raise NotFoundError(msg)
        definition = self.definitions[indicator]
        position = self.data.index.get_loc(unit_code)
        numbers = self.data[indicator][list(FIELDS)].to_numpy(dtype=float)[position]
        cells = dict(zip(FIELDS, (float(x) for x in numbers), strict=True))
        value = cells["value"]
        return IndicatorValue(
            id=indicator,
            name=definition.name,
            numerator=_none_if_nan(cells["numerator"]),
            denominator=_none_if_nan(cells["denominator"]),
            value=None if math.isnan(value) else value,
            unit_code=unit_code,
            period=self.period.text,
            note=self.notes.get(indicator, ""),
            unit_name=str(self.units.loc[unit_code, "name"]),
            percent=definition.percent,
        )

    def values(self, unit_code: str | None = None) -> list[IndicatorValue]:
        """Every indicator of one unit (default: every unit), in definition order."""
        codes = [unit_code] if unit_code is not None else self.codes
        return [self.value(code, ind) for code in codes for ind in self.definitions]

    def long(self) -> pd.DataFrame:
        """One row per unit and indicator: unit_code, unit_name, indicator, name, numerator,
        denominator, value, note."""
        records = [
            {
                "unit_code": v.unit_code,
                "unit_name": v.unit_name,
                "indicator": v.id,
                "name": v.name,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "value": v.value,
                "note": v.note,
            }
            for v in self.values()
        ]
        columns = [
            "unit_code",
            "unit_name",
            "indicator",
            "name",
            "numerator",
            "denominator",
            "value",
            "note",
        ]
        return pd.DataFrame(records, columns=columns)
