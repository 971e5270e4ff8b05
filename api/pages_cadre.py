"""The cadre's page: the village's facilities with a quick status change and a note.

The form carries the version it was rendered with: a change made meanwhile by someone else is
refused (412) exactly as an API update with a stale If-Match, and the page shows what changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from api.auth import Principal
from api.deps import EngineDep
from api.pages_auth import render
from api.routes.registries import KINDS_BY_TYPE, RegistryKind, change_object_status
from api.routes.units import UnitScope
from api.scopes import FormPrincipal, Guard, PagePrincipal, PolicyDep, version_from_form
from rural import codes
from rural.db import write_session
from rural.enums import UnitLevel
from rural.errors import (
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from rural.lifecycle import STATEFUL_KINDS, default_lifecycles
from rural.models import Unit
from rural.permissions import Action, Policy

router = APIRouter(include_in_schema=False)
VILLAGE_KINDS = ("collection_point", "sewage_facility", "public_toilet")
CodeQuery = Annotated[str | None, Query(pattern=r"^[0-9]{12}$")]


def _villages(session: Session, prefix: str) -> list[Unit]:
    return list(
        session.exec(
            select(Unit)
            .where(
                col(Unit.code).startswith(prefix),
                Unit.level == UnitLevel.VILLAGE,
                col(Unit.valid_to).is_(None),
            )
            .order_by(col(Unit.code))
            .limit(2000)
        )
    )


def _group(
    session: Session, kind: RegistryKind, village: str, principal: Principal, policy: Policy
) -> dict[str, Any] | None:
    actor = principal.actor
    if not policy.allows(actor, Action.VIEW, unit_code=village, domain=kind.domain):
        return None
    stateful = STATEFUL_KINDS[kind.object_type]
    cycle = default_lifecycles()[stateful.lifecycle]
    rows = session.exec(
        select(kind.model)
        .where(col(getattr(kind.model, kind.unit_field)) == village)
        .order_by(col(getattr(kind.model, "id")))  # noqa: B009
        .limit(500)
    ).all()
    items = []
    for row in rows:
        status = getattr(row, stateful.status_field)
        allowed = cycle.transitions.get(status.value, frozenset())
        nexts = [m.value for m in cycle.enum if m.value in allowed]  # the enum's own order
        items.append(
            {
                "id": row.id,  # type: ignore[attr-defined]
                "name": row.name,  # type: ignore[attr-defined]
                "status": status.value,
                "status_label": status.label,
                "version": row.version,  # type: ignore[attr-defined]
                "next": [cycle.enum(s) for s in nexts],
            }
        )
    return {
        "object_type": kind.object_type,
        "label": kind.label,
        "rows": items,
        "can_change": policy.allows(
            actor, kind.status_action, unit_code=village, domain=kind.domain
        ),
    }


def cadre_page(
    request: Request,
    principal: Principal,
    policy: Policy,
    engine: Any,
    village_code: str | None,
    *,
    message: str | None = None,
    message_kind: str = "ok",
    status_code: int = 200,
) -> HTMLResponse:
    actor = principal.actor
    scope = UnitScope(actor, policy)
    own_village = codes.level_of(actor.unit_code) == UnitLevel.VILLAGE
    code = village_code or (actor.unit_code if own_village else None)
    context: dict[str, Any] = {
        "message": message,
        "message_kind": message_kind,
        "can_pick": not own_village,
        "village": None,
    }
    with Session(engine) as session:
        if code is None:
            context["villages"] = _villages(session, codes.prefix_of(actor.unit_code))
        else:
            scope.check(code)
            village = session.get(Unit, code)
            if village is None or village.level != UnitLevel.VILLAGE:
                msg = f"村 {code} 不存在"
                raise NotFoundError(msg)
            context["village"] = village
            groups = [
                _group(session, KINDS_BY_TYPE[name], code, principal, policy)
                for name in VILLAGE_KINDS
            ]
            context["groups"] = [g for g in groups if g is not None]
    return render(request, "site/cadre.html", principal, context, status_code=status_code)


@router.get("/cadre", response_class=HTMLResponse)
def cadre(
    request: Request,
    principal: PagePrincipal,
    policy: PolicyDep,
    engine: EngineDep,
    village: CodeQuery = None,
    done: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    message = "已更新 (saved)" if done else None
    return cadre_page(request, principal, policy, engine, village, message=message)


@router.post("/cadre/status/{object_type}/{object_id}")
def cadre_change_status(
    request: Request,
    principal: FormPrincipal,
    policy: PolicyDep,
    engine: EngineDep,
    object_type: Annotated[str, Path(max_length=40)],
    object_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    to_status: Annotated[str, Form(max_length=40)],
    version: Annotated[str | None, Form(max_length=20)] = None,
    note: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    kind = KINDS_BY_TYPE.get(object_type)
    if kind is None or kind.status_field is None:
        msg = f"没有这种设施: {object_type!r}"
        raise NotFoundError(msg)
    guard = Guard(principal.actor, kind.status_action, kind.domain, policy, principal)
    guard.check(principal.user.unit_code)
    with Session(engine) as session:
        obj = session.get(kind.model, object_id)
        village = str(getattr(obj, kind.unit_field)) if obj is not None else None
    try:
        expected = version_from_form(version)
        with write_session(engine) as session:
            change_object_status(
                session,
                kind,
                guard,
                object_id,
                to_status=to_status,
                note=(note or "").strip() or None,
                effective_on=None,
                expected_version=expected,
            )
    except StaleVersionError as exc:
        current = f", 当前版本 {exc.current_version}" if exc.current_version else ""
        message = f"该设施刚被他人修改{current}，请核对最新状态后再提交。({exc})"
        return cadre_page(
            request, principal, policy, engine, village, message=message,
            message_kind="warn", status_code=412,
        )  # fmt: skip
    except InvalidTransitionError as exc:
        return cadre_page(
            request, principal, policy, engine, village, message=str(exc),
            message_kind="error", status_code=409,
        )  # fmt: skip
    except ValidationError as exc:
        return cadre_page(
            request, principal, policy, engine, village, message=str(exc),
            message_kind="error", status_code=422,
        )  # fmt: skip
    if village is None or kind.unit_field != "village_code":
        return RedirectResponse("/cadre", status_code=303)
    target = f"/cadre?village={village}&done={object_type}-{object_id}"
    return RedirectResponse(target, status_code=303)
