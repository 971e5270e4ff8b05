"""The one table from domain errors to HTTP statuses, and the exception handlers that use it.

Domain errors know nothing of HTTP; this module is the only place that maps them. A refused
action is written to the security log here (its own transaction: the action itself was rolled
back). Bad input is always a 4xx that names the field, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import app_engine
from rural import security_log
from rural.errors import (
    AuthenticationError,
    ConflictError,
    DemoDataError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RulesError,
    RuralError,
    StaleVersionError,
    ValidationError,
    VersionRequiredError,
)
from rural.models import SecurityEventKind

# The one table: most specific class first. (class, HTTP status, error code in JSON bodies)
ERROR_TABLE: list[tuple[type[RuralError], int, str]] = [
    (StaleVersionError, 412, "stale_version"),
    (VersionRequiredError, 428, "version_required"),
    (InvalidTransitionError, 409, "invalid_transition"),
    (DemoDataError, 409, "real_data_present"),
    (ConflictError, 409, "conflict"),
    (NotFoundError, 404, "not_found"),
    (AuthenticationError, 401, "not_authenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (RateLimitedError, 429, "rate_limited"),
    (ValidationError, 422, "invalid"),
    (RulesError, 500, "rules_invalid"),
    (RuralError, 400, "bad_request"),
]
# Kept for callers of the first version of this table.
ERROR_STATUS: list[tuple[type[RuralError], int]] = [(c, s) for c, s, _ in ERROR_TABLE]

# Framework errors people may see, in Chinese (others keep the framework's text).
HTTP_MESSAGES = {404: "页面不存在", 405: "不支持该请求方法"}
# Paths whose clients are programs (JSON answers even without an Accept header).
LOGIN_PAGE = "/login"


def lookup(exc: RuralError) -> tuple[int, str]:
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"


def status_for(exc: RuralError) -> int:
    return lookup(exc)[0]


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def render_error(
    request: Request,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An HTML error page for browsers, else ``{"detail": message, ...}``."""
    if wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": message},
            status_code=status,
            headers=dict(headers or {}),
        )
    body: dict[str, Any] = {"detail": message, **(extra or {})}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def challenge(request: Request) -> dict[str, str]:
    """The WWW-Authenticate header of a 401: GIS clients may use HTTP Basic on ``/ogc``."""
    if request.url.path.startswith("/ogc"):
        return {"WWW-Authenticate": 'Basic realm="rural", charset="UTF-8"'}
    return {"WWW-Authenticate": "Bearer"}


class LoginRequiredError(AuthenticationError):
    """A page that needs a signed-in user: browsers are sent to the login page."""


class CsrfError(PermissionDeniedError):
    """A page form that does not carry its session's CSRF token."""


def log_event(
    engine: Engine,
    request: Request,
    kind: SecurityEventKind,
    *,
    username: str | None,
    status: int,
    detail: str | None = None,
) -> None:
    """One security-log entry about ``request`` (its address, method and path), written in a
    transaction of its own."""
    security_log.record(
        engine,
        kind=kind,
        username=username,
        ip=client_ip(request),
        method=request.method,
        path=request.url.path,
        status=status,
        detail=detail,
    )


async def _log_refusal(request: Request, exc: Exception, status: int) -> None:
    kind = (
        SecurityEventKind.CSRF_FAILED if isinstance(exc, CsrfError) else SecurityEventKind.REFUSED
    )
    await run_in_threadpool(
        log_event,
        app_engine(request.app),
        request,
        kind,
        username=getattr(request.state, "username", None),
        status=status,
        detail=str(exc),
    )


async def rural_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuralError)
    status, code = lookup(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {"error": code}
    if isinstance(exc, LoginRequiredError) and wants_html(request):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"{LOGIN_PAGE}?next={quote(target, safe='')}", status_code=303)
    if isinstance(exc, PermissionDeniedError):
        await _log_refusal(request, exc, status)
    elif isinstance(exc, AuthenticationError):
        headers.update(challenge(request))
    elif isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, StaleVersionError) and exc.current_version is not None:
        headers["ETag"] = f'"{exc.current_version}"'
        extra["current_version"] = exc.current_version
    if isinstance(exc, ValidationError) and exc.field is not None:
        extra["field"] = exc.field
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list):  # a ledger's row problems: every one, by sheet/row/column
        extra["problems"] = [_problem(p) for p in problems]
    if status == 422 and _is_ogc(request):
        status = 400  # OGC API Features: an invalid parameter value is a 400
    return render_error(request, status, str(exc), headers=headers, extra=extra)


def _is_ogc(request: Request) -> bool:
    return request.url.path == "/ogc" or request.url.path.startswith("/ogc/")


def _problem(problem: Any) -> dict[str, Any]:
    value = getattr(problem, "value", None)
    return {
        "file": getattr(problem, "file", None),
        "sheet": getattr(problem, "sheet", None),
        "row": getattr(problem, "row", None),
        "column": getattr(problem, "column", None),
        "value": value if isinstance(value, str | int | float | bool | None) else str(value),
        "reason": getattr(problem, "reason", str(problem)),
    }


async def http_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return render_error(request, exc.status_code, message, headers=exc.headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or (str(loc[0]) if loc else "request")


async def validation_error_response(request: Request, exc: Exception) -> Response:
    """422 naming each field: ``{"detail": "to_status: ...", "errors": [{"field": ...}]}`` (400
    under /ogc, as OGC API Features requires)."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        errors.append(
            {
                "field": _field_of(loc),
                "location": str(loc[0]) if loc else "request",
                "message": str(error.get("msg", "invalid")),
            }
        )
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid input"
    return render_error(
        request,
        400 if _is_ogc(request) else 422,
        f"输入有误 (invalid input): {summary}",
        extra={
            "error": "invalid",
            "field": errors[0]["field"] if errors else None,
            "errors": errors,
        },
    )


async def integrity_error_response(request: Request, exc: Exception) -> Response:
    """A unique key or reference the database refused: the input conflicts with stored data."""
    text = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    message = f"与已有数据冲突(重复或引用不存在) (conflicts with stored data: {text})"
    return render_error(request, 409, message, extra={"error": "conflict"})


async def data_error_response(request: Request, exc: Exception) -> Response:
    """A value the database cannot store (a NUL character in text, a number out of range)."""
    text = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    message = f"输入的值无法保存 (a value cannot be stored: {text})"
    return render_error(request, 422, message, extra={"error": "invalid"})


async def operational_error_response(request: Request, _exc: Exception) -> Response:
    """The database is busy or unreachable: tell the client to retry (nothing was written)."""
    return render_error(
        request,
        503,
        "数据库繁忙,请稍后重试 (database busy or unavailable; nothing was written)",
        headers={"Retry-After": "1"},
        extra={"error": "unavailable"},
    )


def install(app: FastAPI) -> None:
    """Register every exception handler on ``app``."""
    app.add_exception_handler(RuralError, rural_error_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(IntegrityError, integrity_error_response)
    app.add_exception_handler(DataError, data_error_response)
    app.add_exception_handler(OperationalError, operational_error_response)
