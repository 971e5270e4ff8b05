"""Units and villages: the unit tree in the caller's scope, as JSON and as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from shapely.geometry import mapping
from sqlmodel import Session, col, func, select

from api.deps import EngineDep
from api.scopes import PolicyDep, PrincipalDep
from rural import codes
from rural.enums import UnitLevel
from rural.errors import NotFoundError, PermissionDeniedError
from rural.models import Unit
from rural.permissions import Action, Actor, Domain, Policy

router = APIRouter(tags=["单位与村"])
GEOJSON = "application/geo+json"
CodePath = Annotated[str, Path(pattern=r"^[0-9]{12}([0-9]{3})?$", description="12 位区划代码")]


class UnitScope:
    """Units are seen by whoever may see anything in them (any data domain of their line)."""

    def __init__(self, actor: Actor, policy: Policy) -> None:
        self.actor = actor
        self.policy = policy

    def allows(self, unit_code: str) -> bool:
        return any(
            self.policy.allows(self.actor, Action.VIEW, unit_code=unit_code, domain=domain)
            for domain in Domain
        )

    def check(self, unit_code: str) -> None:
        codes.validate(unit_code)
        if not self.allows(unit_code):
            reason = self.policy.refusal(
                self.actor, Action.VIEW, unit_code=unit_code, domain=Domain.UNITS
            )
            msg = f"无权查看单位 {unit_code} ({reason or 'outside scope'})"
            raise PermissionDeniedError(msg)


async def unit_scope(principal: PrincipalDep, policy: PolicyDep) -> UnitScope:
    scope = UnitScope(principal.actor, policy)
    scope.check(principal.user.unit_code)
    return scope


ScopeDep = Annotated[UnitScope, Depends(unit_scope)]


class UnitOut(BaseModel):
    code: str
    name: str
    level: UnitLevel
    parent_code: str | None
    urban_rural_code: str | None
    valid_from: str | None
    valid_to: str | None
    bbox: list[float] | None


class UnitPage(BaseModel):
    items: list[UnitOut]
    total: int
    limit: int
    offset: int


def unit_out(unit: Unit) -> UnitOut:
    box = None if unit.minx is None else [unit.minx, unit.miny, unit.maxx, unit.maxy]
    return UnitOut(
        code=unit.code,
        name=unit.name,
        level=unit.level,
        parent_code=unit.parent_code,
        urban_rural_code=unit.urban_rural_code,
        valid_from=unit.valid_from.isoformat() if unit.valid_from else None,
        valid_to=unit.valid_to.isoformat() if unit.valid_to else None,
        bbox=box,
    )


def feature(unit: Unit) -> dict[str, Any]:
    props = unit_out(unit).model_dump(mode="json", exclude={"bbox"})
    geometry = mapping(unit.geom) if unit.geom is not None and not unit.geom.is_empty else None
    return {"type": "Feature", "id": unit.code, "geometry": geometry, "properties": props}


@router.get("/units", response_model=UnitPage, summary="单位列表 (本人辖区)")
def list_units(
    scope: ScopeDep,
    engine: EngineDep,
    parent: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="上级单位代码")] = None,
    level: Annotated[UnitLevel | None, Query(description="层级")] = None,
    current: Annotated[bool, Query(description="只列现行单位(未撤销)")] = True,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> UnitPage:
    prefix = codes.prefix_of(scope.actor.unit_code)
    where: list[Any] = [col(Unit.code).startswith(prefix)]
    if parent is not None:
        scope.check(parent)
        where.append(Unit.parent_code == parent)
    if level is not None:
        where.append(Unit.level == level)
    if current:
        where.append(col(Unit.valid_to).is_(None))
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Unit).where(*where)).one()
        rows = session.exec(
            select(Unit).where(*where).order_by(col(Unit.code)).limit(limit).offset(offset)
        ).all()
        items = [unit_out(u) for u in rows]
    return UnitPage(items=items, total=int(total), limit=limit, offset=offset)


def _get_unit(session: Session, code: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None:
        msg = f"单位 {code} 不存在 (unit {code} not found)"
        raise NotFoundError(msg)
    return unit


@router.get(
    "/units/{code}",
    summary="单位 (GeoJSON Feature)",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}, 403: {"description": "不在辖区内"}},
)
def get_unit(code: CodePath, scope: ScopeDep, engine: EngineDep) -> JSONResponse:
    scope.check(code)
    with Session(engine) as session:
        unit = _get_unit(session, code)
        return JSONResponse(feature(unit), media_type=GEOJSON)


@router.get(
    "/units/{code}/villages",
    summary="单位下的村 (GeoJSON FeatureCollection)",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}, 403: {"description": "不在辖区内"}},
)
def unit_villages(
    code: CodePath,
    scope: ScopeDep,
    engine: EngineDep,
    current: Annotated[bool, Query(description="只列现行单位(未撤销)")] = True,
) -> JSONResponse:
    scope.check(code)
    with Session(engine) as session:
        _get_unit(session, code)
        statement = select(Unit).where(
            col(Unit.code).startswith(codes.prefix_of(code)), Unit.level == UnitLevel.VILLAGE
        )
        if current:
            statement = statement.where(col(Unit.valid_to).is_(None))
        villages = session.exec(statement.order_by(col(Unit.code))).all()
        features = [feature(v) for v in villages]
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type=GEOJSON)
