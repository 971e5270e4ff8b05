"""User administration for county admins: create, deactivate, reset password, change unit or role.
Every change goes through :mod:`rural.users` (scope check, version check, change log)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import EngineDep
from api.pages_auth import render
from api.scopes import Guard, require_page, version_from_form
from rural import users
from rural.db import write_session
from rural.enums import Line, Role
from rural.errors import ConflictError, StaleVersionError, ValidationError
from rural.permissions import Action, Domain

router = APIRouter(include_in_schema=False)
ManagePage = Annotated[Guard, Depends(require_page(Action.MANAGE_USERS, Domain.USERS))]
ManageForm = Annotated[Guard, Depends(require_page(Action.MANAGE_USERS, Domain.USERS, form=True))]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Text50 = Annotated[str, Form(max_length=50)]
OPS = ("reassign", "password", "deactivate", "activate")


def _choice(enum: Any, value: str, field: str) -> Any:
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        msg = f"{field}: 无效的选项 {value[:40]!r}"
        raise ValidationError(msg, field=field, value=value[:40]) from None


def _list_page(
    request: Request,
    guard: Guard,
    engine: Any,
    *,
    form: dict[str, str] | None = None,
    message: str | None = None,
    message_kind: str = "ok",
    status_code: int = 200,
) -> HTMLResponse:
    with Session(engine) as session:
        found = users.list_users(session, actor=guard.actor, policy=guard.policy)
    return render(
        request,
        "site/admin_users.html",
        guard.principal,
        {
            "users": found,
            "roles": list(Role),
            "lines": list(Line),
            "form": form or {"role": Role.VILLAGE_CADRE.value},
            "message": message,
            "message_kind": message_kind,
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, guard: ManagePage, engine: EngineDep) -> HTMLResponse:
    return _list_page(request, guard, engine)


@router.post("/admin/users", response_class=HTMLResponse)
def admin_create_user(
    request: Request,
    guard: ManageForm,
    engine: EngineDep,
    username: Text50,
    role: Annotated[str, Form(max_length=40)],
    unit_code: Annotated[str, Form(max_length=15)],
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)],
    line: Annotated[str, Form(max_length=40)] = "",
    display_name: Annotated[str, Form(max_length=50)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {
        "username": username,
        "role": role,
        "unit_code": unit_code,
        "line": line,
        "display_name": display_name,
        "phone": phone,
    }
    try:
        chosen_role = _choice(Role, role, "role")
        if chosen_role is None:
            msg = "role: 请选择角色"
            raise ValidationError(msg, field="role", value="")
        with write_session(engine) as session:
            user = users.create_user(
                session,
                actor=guard.actor,
                username=username.strip(),
                role=chosen_role,
                unit_code=unit_code.strip(),
                password=password,
                line=_choice(Line, line, "line"),
                display_name=display_name.strip() or None,
                phone=phone.strip() or None,
                policy=guard.policy,
            )
    except (ValidationError, ConflictError) as exc:
        status = 409 if isinstance(exc, ConflictError) else 422
        return _list_page(
            request, guard, engine, form=form, message=str(exc), message_kind="error",
            status_code=status,
        )  # fmt: skip
    return _list_page(request, guard, engine, message=f"已新建用户 {user.username}")


def _user_page(
    request: Request,
    guard: Guard,
    engine: Any,
    user_id: int,
    *,
    message: str | None = None,
    message_kind: str = "ok",
    status_code: int = 200,
) -> HTMLResponse:
    with Session(engine) as session:
        user = users.get_user(session, user_id)
    guard.check(user.unit_code)
    return render(
        request,
        "site/admin_user.html",
        guard.principal,
        {
            "user": user,
            "roles": list(Role),
            "lines": list(Line),
            "message": message,
            "message_kind": message_kind,
        },
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def admin_user(
    request: Request, guard: ManagePage, engine: EngineDep, user_id: UserId
) -> HTMLResponse:
    return _user_page(request, guard, engine, user_id)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def admin_change_user(
    request: Request,
    guard: ManageForm,
    engine: EngineDep,
    user_id: UserId,
    op: Annotated[str, Form(max_length=20)],
    version: Annotated[str | None, Form(max_length=20)] = None,
    role: Annotated[str, Form(max_length=40)] = "",
    unit_code: Annotated[str, Form(max_length=15)] = "",
    line: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)] = "",
) -> Response:
    if op not in OPS:
        msg = f"op: 无效的操作 {op!r}"
        raise ValidationError(msg, field="op", value=op)
    try:
        expected = version_from_form(version)
        if op == "reassign":
            chosen_line = _choice(Line, line, "line")
            changes = users.UserChanges(
                role=_choice(Role, role, "role"),
                unit_code=unit_code.strip() or None,
                line=chosen_line,
                clear_line=chosen_line is None,
            )
        elif op == "password":
            changes = users.UserChanges(password=password)
        else:
            changes = users.UserChanges(active=op == "activate")
        with write_session(engine) as session:
            users.update_user(
                session,
                actor=guard.actor,
                user_id=user_id,
                changes=changes,
                expected_version=expected,
                policy=guard.policy,
            )
    except StaleVersionError as exc:
        message = f"该用户刚被他人修改，请核对后重试 ({exc})"
        return _user_page(
            request, guard, engine, user_id, message=message, message_kind="warn", status_code=412
        )
    except (ValidationError, ConflictError) as exc:
        status = 409 if isinstance(exc, ConflictError) else 422
        return _user_page(
            request, guard, engine, user_id, message=str(exc), message_kind="error",
            status_code=status,
        )  # fmt: skip
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)
