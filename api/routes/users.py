"""People: the caller (``/api/me``), their personal access tokens, and user administration."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import EngineDep
from api.errors import log_event
from api.scopes import Guard, PrincipalDep, require, set_etag, version_from_if_match
from rural import users
from rural.db import write_session
from rural.enums import Line, Role
from rural.errors import ValidationError
from rural.masking import mask_record
from rural.models import PersonalAccessToken, SecurityEventKind, User
from rural.permissions import Action, Domain

router = APIRouter(tags=["用户"])
Manage = Annotated[Guard, Depends(require(Action.MANAGE_USERS, Domain.USERS))]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]
NoNul = r"^[^\x00]*$"


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: Role
    role_label: str
    unit_code: str
    line: Line | None
    phone: str | None
    active: bool
    version: int


def user_out(user: User, *, guard: Guard | None = None) -> UserOut:
    phone = user.phone
    if guard is not None and phone:
        phone = mask_record({"phone": phone}, visible=guard.sees_personal(user.unit_code))["phone"]
    return UserOut(
        id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=user.role.label,
        unit_code=user.unit_code,
        line=user.line,
        phone=phone,
        active=user.active,
        version=user.version,
    )


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Input):
    username: str = Field(min_length=2, max_length=50, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(
        min_length=users.MIN_PASSWORD_LENGTH, max_length=users.MAX_PASSWORD_LENGTH, pattern=NoNul
    )
    role: Role
    unit_code: str = Field(pattern=r"^[0-9]{12}([0-9]{3})?$")
    line: Line | None = None
    display_name: str | None = Field(None, max_length=50, pattern=NoNul)
    phone: str | None = Field(None, max_length=20, pattern=r"^[0-9+\- ]*$")


class UserPatch(_Input):
    active: bool | None = None
    password: str | None = Field(
        None,
        min_length=users.MIN_PASSWORD_LENGTH,
        max_length=users.MAX_PASSWORD_LENGTH,
        pattern=NoNul,
    )
    role: Role | None = None
    unit_code: str | None = Field(None, pattern=r"^[0-9]{12}([0-9]{3})?$")
    line: Line | None = None
    display_name: str | None = Field(None, max_length=50, pattern=NoNul)
    phone: str | None = Field(None, max_length=20, pattern=r"^[0-9+\- ]*$")
    note: str | None = Field(None, max_length=500, pattern=NoNul)


class TokenCreate(_Input):
    name: str = Field(min_length=1, max_length=50, pattern=NoNul)
    days: int = Field(90, ge=1, le=366)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="只显示这一次 (shown once)")


def token_out(token: PersonalAccessToken) -> TokenOut:
    return TokenOut(
        id=token.id or 0,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


@router.get("/me", response_model=UserOut, summary="当前用户")
def me(principal: PrincipalDep) -> UserOut:
    return user_out(principal.user)


@router.get("/me/tokens", response_model=list[TokenOut], summary="我的个人访问令牌")
def my_tokens(principal: PrincipalDep, engine: EngineDep) -> list[TokenOut]:
    with Session(engine) as session:
        return [token_out(t) for t in users.list_tokens(session, user=principal.user)]


@router.post(
    "/me/tokens",
    response_model=NewTokenOut,
    status_code=201,
    summary="新建个人访问令牌 (只读, 供 QGIS/GDAL 使用)",
)
def new_token(
    body: TokenCreate, principal: PrincipalDep, engine: EngineDep, request: Request
) -> NewTokenOut:
    with write_session(engine) as session:
        raw, token = users.create_token(
            session, user=principal.user, name=body.name, days=body.days
        )
        out = NewTokenOut(**token_out(token).model_dump(), token=raw)
    log_event(
        engine,
        request,
        SecurityEventKind.TOKEN_CREATED,
        username=principal.user.username,
        status=201,
        detail=f"token {out.id} {out.prefix}… expires {out.expires_at.date().isoformat()}",
    )
    return out


@router.delete(
    "/me/tokens/{token_id}",
    response_model=TokenOut,
    summary="撤销个人访问令牌",
)
def revoke_token(
    token_id: UserId, principal: PrincipalDep, engine: EngineDep, request: Request
) -> TokenOut:
    with write_session(engine) as session:
        token = users.revoke_token(session, user=principal.user, token_id=token_id)
        out = token_out(token)
    log_event(
        engine,
        request,
        SecurityEventKind.TOKEN_REVOKED,
        username=principal.user.username,
        status=200,
        detail=f"token {out.id} {out.prefix}…",
    )
    return out


@router.get("/users", response_model=list[UserOut], summary="用户列表 (管理员)")
def list_users(guard: Manage, engine: EngineDep) -> list[UserOut]:
    with Session(engine) as session:
        found = users.list_users(session, actor=guard.actor, policy=guard.policy)
        return [user_out(u, guard=guard) for u in found]


@router.post("/users", response_model=UserOut, status_code=201, summary="新建用户 (管理员)")
def create_user(body: UserCreate, guard: Manage, engine: EngineDep, response: Response) -> UserOut:
    with write_session(engine) as session:
        user = users.create_user(
            session,
            actor=guard.actor,
            username=body.username,
            role=body.role,
            unit_code=body.unit_code,
            password=body.password,
            line=body.line,
            display_name=body.display_name,
            phone=body.phone,
            policy=guard.policy,
        )
        out = user_out(user, guard=guard)
    set_etag(response, out.version)
    return out


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情 (ETag = 版本号)")
def get_user(user_id: UserId, guard: Manage, engine: EngineDep, response: Response) -> UserOut:
    with Session(engine) as session:
        user = users.get_user(session, user_id)
        guard.check(user.unit_code)
        set_etag(response, user.version)
        return user_out(user, guard=guard)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="修改用户: 停用/启用、重置密码、调整单位或角色 (须带 If-Match)",
    responses={412: {"description": "版本已过期"}, 428: {"description": "缺少 If-Match"}},
)
def patch_user(
    user_id: UserId,
    body: UserPatch,
    guard: Manage,
    engine: EngineDep,
    response: Response,
    if_match: IfMatch = None,
) -> UserOut:
    fields = body.model_dump(exclude_unset=True)
    for name in ("active", "role", "unit_code"):
        if name in fields and fields[name] is None:
            msg = f"{name}: 不能为空 (cannot be null)"
            raise ValidationError(msg, field=name, value=None)
    with Session(engine) as session:
        user = users.get_user(session, user_id)
        guard.check(user.unit_code)
        expected = version_from_if_match(if_match, current=user.version)
    # update_user checks scope and version again inside its own write transaction.
    with write_session(engine) as session:
        changed = users.update_user(
            session,
            actor=guard.actor,
            user_id=user_id,
            changes=users.UserChanges(
                active=fields.get("active"),
                password=fields.get("password"),
                role=fields.get("role"),
                unit_code=fields.get("unit_code"),
                line=fields.get("line"),
                clear_line="line" in fields and fields["line"] is None,
                display_name=fields.get("display_name"),
                phone=fields.get("phone"),
            ),
            expected_version=expected,
            note=fields.get("note"),
            policy=guard.policy,
        )
        out = user_out(changed, guard=guard)
    set_etag(response, out.version)
    return out
