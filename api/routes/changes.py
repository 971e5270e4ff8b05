"""The change log of one object, or of one user's actions (personal values masked by role)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.deps import EngineDep
from api.routes.registries import KINDS_BY_TYPE, get_object
from api.routes.units import UnitScope
from api.scopes import PolicyDep, PrincipalDep, sees_personal
from rural import users
from rural.enums import ChangeAction
from rural.errors import NotFoundError, PermissionDeniedError
from rural.masking import mask_record, mask_value
from rural.models import ChangeLog, Unit, User
from rural.permissions import Action, Actor, Domain, Policy

router = APIRouter(tags=["变更记录"])
OBJECT_TYPES = (*KINDS_BY_TYPE, "user", "unit")


class ChangeOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: ChangeAction
    object_type: str
    object_id: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    note: str | None


def change_out(entry: ChangeLog, *, visible: bool) -> ChangeOut:
    return ChangeOut(
        id=entry.id or 0,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        old=None if entry.old is None else mask_record(entry.old, visible=visible),
        new=None if entry.new is None else mask_record(entry.new, visible=visible),
        note=entry.note if visible else mask_value("note", entry.note),
    )


def _user_in_view(session: Session, actor: Actor, policy: Policy, username: str) -> User:
    """The user ``username``, whose changes the caller may read: their own, or a user they may
    manage (404 when there is none, 403 otherwise)."""
    user = users.user_by_name(session, username)
    if user is None:
        msg = f"用户 {username} 不存在"
        raise NotFoundError(msg)
    may_manage = policy.allows(
        actor, Action.MANAGE_USERS, unit_code=user.unit_code, domain=Domain.USERS
    )
    if user.username != actor.username and not may_manage:
        msg = f"无权查看用户 {username} 的变更记录"
        raise PermissionDeniedError(msg)
    return user


@router.get(
    "/changes/{object_type}/{object_id}",
    response_model=list[ChangeOut],
    summary="对象的变更记录",
)
def object_changes(
    object_type: Annotated[str, Path(max_length=40, description=" | ".join(OBJECT_TYPES))],
    object_id: Annotated[str, Path(max_length=40)],
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ChangeOut]:
    actor = principal.actor
    with Session(engine) as session:
        if object_type in KINDS_BY_TYPE:
            kind = KINDS_BY_TYPE[object_type]
            if not object_id.isdigit() or not 0 < int(object_id) < 2**31:
                msg = f"{kind.label} {object_id} 不存在"
                raise NotFoundError(msg)
            obj = get_object(session, kind, int(object_id))
            unit_code = str(getattr(obj, kind.unit_field))
            policy.check(actor, Action.VIEW, unit_code=unit_code, domain=kind.domain)
        elif object_type == "user":
            unit_code = _user_in_view(session, actor, policy, object_id).unit_code
        elif object_type == "unit":
            unit = session.get(Unit, object_id)
            if unit is None:
                msg = f"单位 {object_id} 不存在"
                raise NotFoundError(msg)
            unit_code = unit.code
            UnitScope(actor, policy).check(unit_code)
        else:
            msg = f"没有这种对象: {object_type!r} (one of {', '.join(OBJECT_TYPES)})"
            raise NotFoundError(msg)
        visible = sees_personal(policy, actor, unit_code)
        entries = session.exec(
            select(ChangeLog)
            .where(ChangeLog.object_type == object_type, ChangeLog.object_id == object_id)
            .order_by(col(ChangeLog.id))
            .limit(limit)
        ).all()
        return [change_out(e, visible=visible) for e in entries]


@router.get(
    "/users/{username}/changes",
    response_model=list[ChangeOut],
    summary="某用户所做的变更 (最新在前)",
)
def user_changes(
    username: Annotated[str, Path(max_length=50)],
    principal: PrincipalDep,
    policy: PolicyDep,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ChangeOut]:
    actor = principal.actor
    with Session(engine) as session:
        _user_in_view(session, actor, policy, username)
        entries = session.exec(
            select(ChangeLog)
            .where(ChangeLog.actor == username)
            .order_by(col(ChangeLog.id).desc())
            .limit(limit)
        ).all()
        # Changes by one person span units: personal values stay masked here.
        return [change_out(e, visible=False) for e in entries]
