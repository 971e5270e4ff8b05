"""Living-environment indicators 人居环境指标, computed the same way for any unit and period.

Public API (used by the CLI, the web API and the maps)::

    from rural.indicators import compute
    table = compute(engine, unit_code="331128000000", period="2026Q3", level="town")
    table.value("331128101000", "harmless_toilet_rate")   # -> IndicatorValue
    table.data       # DataFrame: one row per unit, (indicator, numerator|denominator|value)
    table.long()     # one row per unit and indicator

Definitions live in ``rural/rules/indicators.toml``; the measures they combine in
:mod:`rural.indicators.measures`.
"""

from rural.indicators.definitions import (
    IndicatorDef,
    IndicatorRules,
    load_indicator_rules,
    parse_indicator_rules,
)
from rural.indicators.engine import compute, roll_up
from rural.indicators.measures import MEASURES
from rural.indicators.table import IndicatorTable, IndicatorValue

__all__ = [
    "MEASURES",
    "IndicatorDef",
    "IndicatorRules",
    "IndicatorTable",
    "IndicatorValue",
    "compute",
    "load_indicator_rules",
    "parse_indicator_rules",
    "roll_up",
]
