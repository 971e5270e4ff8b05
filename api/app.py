"""The application factory: the only place that wires FastAPI to the rest.

Nothing is built at import time: ``create_app(settings)`` makes the app, and the database
engine is made in the lifespan (or on first use) and disposed at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import pages, vendor
from api.deps import EngineDep, app_engine
from rural.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RuralError,
    ValidationError,
)
from rural.settings import Settings, get_settings

# The one table from domain errors to HTTP statuses (most specific class first).
ERROR_STATUS: list[tuple[type[RuralError], int]] = [
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (ValidationError, 422),
    (RuralError, 400),
]

# Pages may only load from this server: an intranet browser never reaches out, and injected
# markup could not pull anything in. folium writes inline scripts and styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def status_for(exc: RuralError) -> int:
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuralError)
    return _render_error(request, status_for(exc), str(exc))


# Framework errors people may see, in Chinese (others keep the framework's text).
HTTP_MESSAGES = {404: "页面不存在", 405: "不支持该请求方法"}


def _http_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return _render_error(request, exc.status_code, message, headers=exc.headers)


def _render_error(
    request: Request, status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> Response:
    if _wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": message},
            status_code=status,
            headers=headers,
        )
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _healthz(engine: EngineDep) -> Response:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app for ``settings`` (default: read from the ``RURAL_`` environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_engine(app)
        try:
            yield
        finally:
            engine = getattr(app.state, "engine", None)
            if engine is not None:
                engine.dispose()
                app.state.engine = None

    app = FastAPI(
        title="rural 农村人居环境",
        lifespan=lifespan,
        docs_url=None,  # the default docs page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.templates = pages.make_templates()
    app.add_exception_handler(RuralError, _error_response)
    app.add_exception_handler(StarletteHTTPException, _http_error_response)
    app.middleware("http")(_security_headers)
    app.include_router(pages.router)
    app.include_router(vendor.router)
    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    return app
