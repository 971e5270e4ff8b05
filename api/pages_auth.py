"""Signing in and out of the pages, the pages' stylesheet, personal access tokens, and the
rendering helper every page module uses (user, navigation and CSRF token in each page).

Page sessions live in the database (``web_session``): the cookie holds a random token, HttpOnly
and SameSite=Lax; every form carries the session's CSRF token. The login form, which has no
session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal, login_limits
from api.deps import EngineDep, SettingsDep
from api.errors import client_ip, log_event
from api.scopes import FormPrincipal, PagePrincipal
from rural import clock, users
from rural.db import write_session
from rural.enums import Role
from rural.errors import AuthenticationError, RateLimitedError, ValidationError
from rural.models import SecurityEventKind, User

router = APIRouter(include_in_schema=False)
STATIC_DIR = Path(__file__).parent / "static"
NO_STORE = {"Cache-Control": "no-store"}
OFFICE_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_OFFICIAL, Role.DEPARTMENT_STAFF, Role.REVIEWER)


def home_for(user: User) -> str:
    if user.role in OFFICE_ROLES:
        return "/official"
    return "/cadre"


def nav_for(user: User) -> list[dict[str, str]]:
    links = []
    if user.role in OFFICE_ROLES:
        links.append({"href": "/official", "label": "工作台"})
    links.append({"href": "/cadre", "label": "设施状态"})
    if user.role == Role.COUNTY_ADMIN:
        links.append({"href": "/admin/users", "label": "用户管理"})
    links.append({"href": "/account/tokens", "label": "访问令牌"})
    return links


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with the signed-in user, their navigation and the session's CSRF token."""
    templates: Jinja2Templates = request.app.state.templates
    full: dict[str, Any] = {"me": None, "nav": [], "csrf_token": ""}
    if principal is not None:
        full["me"] = principal.user
        full["nav"] = nav_for(principal.user)
        if principal.web_session is not None:
            full["csrf_token"] = principal.web_session.csrf_token
    full.update(context or {})
    return templates.TemplateResponse(
        request, template, full, status_code=status_code, headers={**NO_STORE, **(headers or {})}
    )


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login (never another site: no scheme, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 for c in target):
        return None
    return target[:500]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "site/login.html",
        None,
        {"login_csrf": token, "next_url": next_url, "username": username, "error": error},
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/static/site.css")
def stylesheet() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "site.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> HTMLResponse:
    return _login_page(request, next_url=safe_next(next) or "")


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=50)],
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    next_url = safe_next(next) or ""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        log_event(
            engine,
            request,
            SecurityEventKind.CSRF_FAILED,
            username=username,
            status=403,
            detail="login form without its CSRF cookie",
        )
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error="登录页已过期，请重新输入 (form expired)",
            status_code=403,
        )
    try:
        user = users.authenticate(
            engine,
            username=username,
            password=password,
            ip=client_ip(request),
            limits=login_limits(settings),
            via="/login",
        )
    except RateLimitedError as exc:
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error=str(exc),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except AuthenticationError as exc:
        return _login_page(
            request, next_url=next_url, username=username, error=str(exc), status_code=401
        )
    with write_session(engine) as session:
        raw, _ = users.open_session(session, user=user, hours=settings.session_hours)
    response = RedirectResponse(next_url or home_for(user), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, principal: FormPrincipal, engine: EngineDep) -> RedirectResponse:
    raw = request.cookies.get(SESSION_COOKIE, "")
    with write_session(engine) as session:
        users.close_session(session, raw=raw)
    log_event(
        engine, request, SecurityEventKind.LOGOUT, username=principal.user.username, status=303
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/home")
def home(principal: PagePrincipal) -> RedirectResponse:
    return RedirectResponse(home_for(principal.user), status_code=303)


# ---------------------------------------------------------------- personal access tokens


def _tokens_page(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    new_token: str | None = None,
    message: str | None = None,
    message_kind: str = "ok",
    status_code: int = 200,
) -> HTMLResponse:
    with Session(engine) as session:
        tokens = users.list_tokens(session, user=principal.user)
    now = clock.now()
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "expires_at": t.expires_at,
            "revoked_at": t.revoked_at,
            "expired": t.expires_at <= now,
        }
        for t in tokens
    ]
    return render(
        request,
        "site/tokens.html",
        principal,
        {
            "tokens": rows,
            "new_token": new_token,
            "ogc_url": str(request.base_url).rstrip("/") + "/ogc",
            "message": message,
            "message_kind": message_kind,
        },
        status_code=status_code,
    )


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, principal: PagePrincipal, engine: EngineDep) -> HTMLResponse:
    return _tokens_page(request, principal, engine)


@router.post("/account/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    principal: FormPrincipal,
    engine: EngineDep,
    name: Annotated[str, Form(max_length=50)],
    days: Annotated[int, Form(ge=1, le=366)] = 90,
) -> HTMLResponse:
    try:
        with write_session(engine) as session:
            raw, token = users.create_token(session, user=principal.user, name=name, days=days)
    except ValidationError as exc:
        return _tokens_page(
            request, principal, engine, message=str(exc), message_kind="error", status_code=422
        )
    log_event(
        engine,
        request,
        SecurityEventKind.TOKEN_CREATED,
        username=principal.user.username,
        status=200,
        detail=f"token {token.id} {token.prefix}…",
    )
    return _tokens_page(request, principal, engine, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke")
def tokens_revoke(
    request: Request,
    principal: FormPrincipal,
    engine: EngineDep,
    token_id: Annotated[int, PathParam(ge=1, le=2_147_483_647)],
) -> RedirectResponse:
    with write_session(engine) as session:
        token = users.revoke_token(session, user=principal.user, token_id=token_id)
    log_event(
        engine,
        request,
        SecurityEventKind.TOKEN_REVOKED,
        username=principal.user.username,
        status=303,
        detail=f"token {token.id} {token.prefix}…",
    )
    return RedirectResponse("/account/tokens", status_code=303)
