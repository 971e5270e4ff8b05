"""The garbage chain audit 收运链审计 of a unit: where 户分类、村收集、镇转运、县处理 breaks (from
:func:`rural.chain.check_chain`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import EngineDep
from api.scopes import Guard, require
from rural.enums import ChainBreakKind
from rural.permissions import Action, Domain

router = APIRouter(tags=["收运链"])
ViewGarbage = Annotated[Guard, Depends(require(Action.VIEW, Domain.GARBAGE))]


class ChainBreakOut(BaseModel):
    kind: ChainBreakKind
    kind_label: str
    object_type: str
    object_id: str
    category: str | None
    period: str
    reason: str


def chain_breaks(engine: Any, *, unit_code: str, period: str | None) -> list[ChainBreakOut]:
    """Every break within ``unit_code`` (used by the dashboard too)."""
    from rural.chain import check_chain

    return [
        ChainBreakOut(
            kind=b.kind,
            kind_label=b.kind.label,
            object_type=b.object_type,
            object_id=b.object_id,
            category=b.category,
            period=b.period,
            reason=b.reason_zh,
        )
        for b in check_chain(engine, unit_code=unit_code, period=period)
    ]


@router.get("/chain", response_model=list[ChainBreakOut], summary="垃圾收运链断点")
def chain(
    guard: ViewGarbage,
    engine: EngineDep,
    unit: Annotated[
        str | None, Query(pattern=r"^[0-9]{12}$", description="单位代码 (默认本人单位)")
    ] = None,
    period: Annotated[
        str | None, Query(max_length=10, description="年、季度或月 (默认本月)")
    ] = None,
) -> list[ChainBreakOut]:
    code = unit or guard.actor.unit_code
    guard.check(code)
    return chain_breaks(engine, unit_code=code, period=period)
