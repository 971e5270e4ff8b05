"""The official's dashboard for a unit: map, indicator table, garbage chain audit, overdue
problems and facilities that are down, drilling county → town → village."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from api.deps import EngineDep
from api.pages_auth import render
from api.routes.chain import chain_breaks
from api.routes.indicators import indicator_rows, visible_indicators
from api.routes.registries import KINDS_BY_TYPE
from api.routes.units import UnitScope
from api.scopes import PagePrincipal, PolicyDep, sees_personal
from rural import clock, codes
from rural.enums import FacilityStatus, ProblemStatus, ToiletCondition, UnitLevel
from rural.errors import NotFoundError, RuralError
from rural.masking import mask_text
from rural.models import Problem, Unit
from rural.permissions import Action, Actor, Domain, Policy

router = APIRouter(include_in_schema=False)
UnitQuery = Annotated[str | None, Query(pattern=r"^[0-9]{12}$")]
CHILD_LEVEL = {
    UnitLevel.PROVINCE: UnitLevel.CITY,
    UnitLevel.CITY: UnitLevel.COUNTY,
    UnitLevel.COUNTY: UnitLevel.TOWN,
    UnitLevel.TOWN: UnitLevel.VILLAGE,
}
DOWN = {
    "status": (FacilityStatus.FAULT, FacilityStatus.STOPPED),
    "condition": (ToiletCondition.LEAKING, ToiletCondition.BLOCKED, ToiletCondition.FROZEN),
}
NODE_LABELS = {
    "village": "村",
    "collection_point": "收集点",
    "transfer_station": "转运站",
    "treatment_facility": "处理设施",
}
FACILITY_KINDS = (
    "collection_point",
    "transfer_station",
    "treatment_facility",
    "sewage_facility",
    "public_toilet",
)


def _unit(session: Session, code: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None:
        msg = f"单位 {code} 不存在"
        raise NotFoundError(msg)
    return unit


def indicator_table(
    engine: Any, unit: Unit, period: str, actor: Actor, policy: Policy
) -> tuple[dict[str, Any] | None, str]:
    """Rows of the unit's children (or the unit itself) by indicator; an explanation if none."""
    level = CHILD_LEVEL.get(unit.level)
    try:
        rows = indicator_rows(
            engine,
            unit_code=unit.code,
            period=period,
            level=level,
            indicators=visible_indicators(actor, policy, unit.code),
        )
    except RuralError as exc:
        return None, f"暂无法计算指标: {exc}"
    headers: list[str] = []
    by_unit: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.name not in headers:
            headers.append(row.name)
        entry = by_unit.setdefault(row.unit_code, {"name": row.unit_name, "cells": {}})
        entry["cells"][row.name] = row.text
    table_rows = [
        {"name": v["name"], "cells": [v["cells"].get(h, "") for h in headers]}
        for v in by_unit.values()
    ]
    return {"headers": headers, "rows": table_rows}, ""


def chain_audit(
    engine: Any, unit: Unit, actor: Actor, policy: Policy
) -> tuple[list[dict[str, str]] | None, str]:
    """The garbage chain's breaks within the unit this month (for those who see garbage)."""
    if not policy.allows(actor, Action.VIEW, unit_code=unit.code, domain=Domain.GARBAGE):
        return None, "无权查看垃圾收运数据"
    try:
        breaks = chain_breaks(engine, unit_code=unit.code, period=None)
    except RuralError as exc:
        return None, f"暂无法审计收运链: {exc}"
    rows = [
        {
            "kind": b.kind_label,
            "where": f"{NODE_LABELS.get(b.object_type, b.object_type)} {b.object_id}",
            "detail": b.reason,
        }
        for b in breaks
    ]
    return rows, ""


def map_links(unit: Unit, actor: Actor, policy: Policy) -> list[dict[str, str]]:
    """The map kinds (api.maps_routes) this caller may open for this unit."""
    from maps.kinds import KINDS

    links = []
    for kind in KINDS.values():
        if unit.level not in kind.levels:
            continue
        allowed = all(
            policy.allows(actor, Action.VIEW, unit_code=unit.code, domain=domain)
            for domain in kind.domains
        )
        if allowed:
            links.append({"href": f"/maps/{kind.key}?unit={unit.code}", "label": kind.label})
    return links


def overdue_problems(
    session: Session, prefix: str, actor: Actor, policy: Policy, unit_code: str
) -> tuple[list[dict[str, str]] | None, str]:
    """Open problems past their deadline within the unit (for those who see problems; numbers
    in the descriptions masked for those who may not see personal data)."""
    if not policy.allows(actor, Action.VIEW, unit_code=unit_code, domain=Domain.PROBLEMS):
        return None, "无权查看问题"
    today = clock.today()
    problems = session.exec(
        select(Problem, Unit.name)
        .join(Unit, col(Unit.code) == col(Problem.village_code))
        .where(
            col(Problem.village_code).startswith(prefix),
            col(Problem.deadline) < today,
            Problem.status != ProblemStatus.CLOSED,
        )
        .order_by(col(Problem.deadline))
        .limit(200)
    ).all()
    personal = sees_personal(policy, actor, unit_code)
    rows = [
        {
            "village": name,
            "type": p.problem_type.label,
            "description": (p.description if personal else mask_text(p.description))[:120],
            "deadline": p.deadline.isoformat() if p.deadline else "",
            "status": p.status.label,
            "escalation": p.escalation.label,
        }
        for p, name in problems
    ]
    return rows, ""


def facilities_down(
    session: Session, prefix: str, actor: Actor, policy: Policy, unit_code: str
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for object_type in FACILITY_KINDS:
        kind = KINDS_BY_TYPE[object_type]
        if not policy.allows(actor, Action.VIEW, unit_code=unit_code, domain=kind.domain):
            continue
        status_field = kind.status_field or "status"
        column = col(getattr(kind.model, status_field))
        found = session.exec(
            select(kind.model)
            .where(
                col(getattr(kind.model, kind.unit_field)).startswith(prefix),
                column.in_(DOWN[status_field]),
            )
            .limit(200)
        ).all()
        for obj in found:
            status = getattr(obj, status_field)
            rows.append(
                {
                    "kind": kind.label,
                    "name": str(getattr(obj, "name", "")),
                    "unit": str(getattr(obj, kind.unit_field)),
                    "status": status.label,
                }
            )
    return rows


@router.get("/official", response_class=HTMLResponse)
def official(
    request: Request,
    principal: PagePrincipal,
    policy: PolicyDep,
    engine: EngineDep,
    unit: UnitQuery = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:

    actor = principal.actor
    code = unit or actor.unit_code
    UnitScope(actor, policy).check(code)
    prefix = codes.prefix_of(code)
    period_text = period or str(clock.today().year)
    with Session(engine) as session:
        current = _unit(session, code)
        children = session.exec(
            select(Unit)
            .where(Unit.parent_code == code, col(Unit.valid_to).is_(None))
            .order_by(col(Unit.code))
        ).all()
        parent = session.get(Unit, current.parent_code) if current.parent_code else None
        overdue, overdue_error = overdue_problems(session, prefix, actor, policy, code)
        down = facilities_down(session, prefix, actor, policy, code)
    table, indicator_error = indicator_table(engine, current, period_text, actor, policy)
    breaks, chain_error = chain_audit(engine, current, actor, policy)
    visible_parent = parent is not None and UnitScope(actor, policy).allows(parent.code)
    parent_link = parent if visible_parent else None
    return render(
        request,
        "site/official.html",
        principal,
        {
            "unit": current,
            "children": children,
            "parent_link": parent_link,
            "period": period_text,
            "indicator_table": table,
            "indicator_error": indicator_error,
            "chain_breaks": breaks,
            "chain_error": chain_error,
            "overdue": overdue,
            "overdue_error": overdue_error,
            "down": down,
            "map_url": f"/maps/overview?unit={current.code}",
            "map_links": map_links(current, actor, policy),
        },
    )
