"""Living-environment indicators of a unit (and of its towns or villages), from the indicator
engine in :mod:`rural.indicators`."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import EngineDep
from api.routes.units import UnitScope, unit_scope
from rural import clock
from rural.enums import UnitLevel
from rural.permissions import Action, Actor, Domain, Policy

router = APIRouter(tags=["指标"])
ScopeDep = Annotated[UnitScope, Depends(unit_scope)]


class IndicatorOut(BaseModel):
    unit_code: str
    unit_name: str
    indicator: str
    name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    text: str
    period: str
    note: str


def _finite(value: float | None) -> float | None:
    """JSON has no NaN: a missing or undefined figure is null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def visible_indicators(actor: Actor, policy: Policy, unit_code: str) -> list[str]:
    """The indicators whose domain the caller may view on ``unit_code`` (a line of work sees
    its own rates only, as on the maps)."""
    from rural.indicators import load_indicator_rules

    return [
        key
        for key, definition in load_indicator_rules().indicators.items()
        if policy.allows(actor, Action.VIEW, unit_code=unit_code, domain=Domain(definition.domain))
    ]


def indicator_rows(
    engine: Any,
    *,
    unit_code: str,
    period: str,
    level: UnitLevel | None,
    indicators: list[str] | None = None,
) -> list[IndicatorOut]:
    """``indicators`` (default: all) of the units at ``level`` within ``unit_code`` (used by
    pages too)."""
    from rural.indicators import compute

    if indicators is not None and not indicators:
        return []
    table = compute(engine, unit_code=unit_code, period=period, level=level, indicators=indicators)
    return [
        IndicatorOut(
            unit_code=v.unit_code,
            unit_name=v.unit_name,
            indicator=v.id,
            name=v.name,
            numerator=_finite(v.numerator),
            denominator=_finite(v.denominator),
            value=_finite(v.value),
            text=v.text,
            period=v.period,
            note=v.note,
        )
        for v in table.values()
    ]


@router.get("/indicators", response_model=list[IndicatorOut], summary="人居环境指标")
def indicators(
    scope: ScopeDep,
    engine: EngineDep,
    unit: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="单位代码 (默认本人单位)")
    ] = None,
    period: Annotated[
        str | None,
        Query(max_length=10, description="年 2026、季度 2026Q3 或月 2026-07 (默认今年)"),
    ] = None,
    level: Annotated[
        UnitLevel | None, Query(description="按哪一级列出 (默认该单位本身; village 为每村一行)")
    ] = None,
) -> list[IndicatorOut]:
    code = unit or scope.actor.unit_code
    scope.check(code)
    return indicator_rows(
        engine,
        unit_code=code,
        period=period or str(clock.today().year),
        level=level,
        indicators=visible_indicators(scope.actor, scope.policy, code),
    )
