"""Who is calling: bearer tokens (JWT) for the API, personal access tokens (bearer or HTTP Basic
password) for GIS clients, and cookie sessions with CSRF tokens for pages.

Every credential resolves to the user row as stored now: a deactivated user, a reset password
(it changes the token's fingerprint), an expired or revoked token or session is refused at once.
Personal access tokens are read-only: they are accepted on GET and HEAD only, so a browser that
cached Basic credentials for ``/ogc`` cannot be made to write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, NoReturn

import jwt
from fastapi import APIRouter, Depends, Form, Request, Security
from fastapi.security import HTTPBasic, OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import EngineDep, SettingsDep
from api.errors import CsrfError, LoginRequiredError, client_ip, log_event
from rural import clock, users
from rural.errors import AuthenticationError, PermissionDeniedError
from rural.models import SecurityEventKind, User, WebSession
from rural.permissions import Actor
from rural.settings import Settings

ALGORITHM = "HS256"
SESSION_COOKIE = "rural_session"
LOGIN_CSRF_COOKIE = "rural_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_URL = "/auth/token"  # noqa: S105 (a path)


class _DocumentedBearer(OAuth2PasswordBearer):
    """Declares the OAuth2 password flow in the OpenAPI document; the header is read below."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return None


class _DocumentedBasic(HTTPBasic):
    """Declares HTTP Basic (user name + personal access token) in the OpenAPI document."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


bearer_scheme = _DocumentedBearer(
    tokenUrl=TOKEN_URL,
    scheme_name="bearer",
    description="POST /auth/token 取得的令牌，或个人访问令牌 (rpat_...，只读)",
    auto_error=False,
)
basic_scheme = _DocumentedBasic(
    scheme_name="basic",
    description="用户名 + 个人访问令牌作为密码 (GIS 客户端，只读)",
    auto_error=False,
)


@dataclass(frozen=True)
class Principal:
    """The signed-in user as stored now, and how they signed in."""

    user: User
    via: str  # "bearer" | "pat" | "session"
    web_session: WebSession | None = None

    @property
    def actor(self) -> Actor:
        return users.actor_for(self.user)

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id


# ---------------------------------------------------------------- JWT


def _signing_key(settings: Settings) -> bytes:
    """The HMAC key: derived from the configured secret (32 bytes whatever its length)."""
    secret = settings.secret_key.get_secret_value().encode("utf-8")
    return hashlib.sha256(b"rural-api-token:" + secret).digest()


def issue_token(settings: Settings, user: User) -> tuple[str, int]:
    """A signed bearer token for ``user`` and its lifetime in seconds."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    now = clock.now()
    payload = {
        "sub": str(user.id),
        "fp": users.password_fingerprint(user),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "typ": "access",
    }
    token = jwt.encode(payload, _signing_key(settings), algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def _decode(settings: Settings, token: str) -> tuple[int, str]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            _signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "iat"]},
        )
        if payload.get("typ") != "access":
            msg = "wrong token type"
            raise jwt.InvalidTokenError(msg)
        return int(payload["sub"]), str(payload.get("fp", ""))
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        msg = "令牌无效或已过期,请重新登录 (invalid or expired token)"
        raise AuthenticationError(msg) from exc


# ---------------------------------------------------------------- resolving a request


def _refuse(engine: Engine, request: Request, username: str | None, detail: str) -> NoReturn:
    log_event(
        engine, request, SecurityEventKind.AUTH_FAILED, username=username, status=401, detail=detail
    )
    msg = "身份验证失败,请重新登录 (invalid, expired or revoked credentials)"
    raise AuthenticationError(msg)


def _basic(value: str) -> tuple[str, str] | None:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, sep, password = text.partition(":")
    return (name, password) if sep else None


def _resolve_header(engine: Engine, settings: Settings, request: Request, header: str) -> Principal:
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    with Session(engine) as session:
        if scheme == "bearer" and value.startswith(users.TOKEN_PREFIX):
            user = users.resolve_token(session, value)
            if user is None:
                _refuse(engine, request, None, "personal access token unknown, expired or revoked")
            via = "pat"
        elif scheme == "bearer" and value:
            try:
                user_id, fingerprint = _decode(settings, value)
            except AuthenticationError:
                _refuse(engine, request, None, "bearer token invalid or expired")
            user = session.get(User, user_id) if 0 < user_id < 2**31 else None
            if user is None or not user.active:
                _refuse(
                    engine, request, None, f"bearer token for missing or inactive user {user_id}"
                )
            assert user is not None
            if fingerprint != users.password_fingerprint(user):
                _refuse(
                    engine, request, user.username, "bearer token issued before a password reset"
                )
            via = "bearer"
        elif scheme == "basic":
            pair = _basic(value)
            user = users.resolve_token(session, pair[1]) if pair else None
            if pair is None or user is None or user.username != pair[0]:
                _refuse(engine, request, pair[0] if pair else None, "basic: no live token")
            via = "pat"
        else:
            _refuse(engine, request, None, f"unsupported authorization scheme {scheme[:20]!r}")
    assert user is not None
    return Principal(user=user, via=via)


def api_principal(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _bearer: Annotated[str | None, Security(bearer_scheme)] = None,
    _basic_doc: Annotated[None, Security(basic_scheme)] = None,
) -> Principal:
    """The API caller from the Authorization header (bearer JWT, or a personal access token as
    bearer or Basic password). Raises AuthenticationError (401) without one."""
    header = request.headers.get("authorization")
    if not header:
        msg = "需要登录 (not authenticated: send Authorization: Bearer <token>)"
        raise AuthenticationError(msg)
    principal = _resolve_header(engine, settings, request, header)
    request.state.username = principal.user.username
    if principal.via == "pat" and request.method not in SAFE_METHODS:
        msg = "个人访问令牌只能读取数据 (personal access tokens are read-only)"
        raise PermissionDeniedError(msg)
    return principal


def page_principal(request: Request, engine: EngineDep) -> Principal:
    """The page user from the session cookie; browsers without one go to the login page."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with Session(engine) as session:
            found = users.resolve_session(session, raw)
        if found is not None:
            web, user = found
            request.state.username = user.username
            return Principal(user=user, via="session", web_session=web)
    msg = "请先登录 (please sign in)"
    raise LoginRequiredError(msg)


def checked_page_principal(
    principal: Annotated[Principal, Depends(page_principal)],
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Principal:
    """A page form's user, after checking the form's CSRF token against the session's."""
    assert principal.web_session is not None
    if not users.csrf_matches(principal.web_session, csrf_token):
        msg = "表单已过期或来源不明,请刷新页面后重试 (CSRF token missing or wrong)"
        raise CsrfError(msg)
    return principal


# ---------------------------------------------------------------- the token endpoint

router = APIRouter(tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int


def login_limits(settings: Settings) -> users.LoginLimits:
    return users.LoginLimits(
        max_failures=settings.login_max_failures,
        max_failures_per_user=settings.login_max_failures_per_user,
        max_failures_per_ip=settings.login_max_failures_per_ip,
        window=timedelta(minutes=settings.login_window_minutes),
    )


@router.post(
    TOKEN_URL,
    response_model=TokenOut,
    summary="取得 API 令牌 (OAuth2 password)",
    responses={401: {"description": "用户名或密码错误"}, 429: {"description": "失败次数过多"}},
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
) -> TokenOut:
    """Sign in with user name and password; failed attempts are limited per user and address."""
    user = users.authenticate(
        engine,
        username=form.username[:50],
        password=form.password[: users.MAX_PASSWORD_LENGTH + 1],
        ip=client_ip(request),
        limits=login_limits(settings),
        via=TOKEN_URL,
    )
    access, lifetime = issue_token(settings, user)
    return TokenOut(access_token=access, expires_in=lifetime)
