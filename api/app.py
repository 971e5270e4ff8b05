"""The application factory: the only place that wires FastAPI to the rest.

Nothing is built at import time: ``create_app(settings)`` makes the app, and the database
engine is made in the lifespan (or on first use) and disposed at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api import docs, maps_routes, pages, routes, vendor
from api.deps import EngineDep, app_engine
from api.errors import ERROR_STATUS, status_for  # noqa: F401 (the one error table lives there)
from rural import security_log
from rural.settings import Settings, get_settings

log = logging.getLogger("rural.api")

# Pages may only load from this server: an intranet browser never reaches out, and injected
# markup could not pull anything in. folium writes inline scripts and styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


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


async def purge_security_log(app: FastAPI) -> None:
    """Drop security events past the retention period (and stale counters and sessions).

    Never stops the server: a database that cannot be purged now is logged and tried again."""
    settings: Settings = app.state.settings
    try:
        deleted = await run_in_threadpool(
            security_log.purge,
            app_engine(app),
            retention_days=settings.security_log_retention_days,
        )
    except SQLAlchemyError as exc:
        log.warning("security log purge failed: %s", exc.__class__.__name__)
    else:
        log.info(
            "security log purged (kept %d days): %s", settings.security_log_retention_days, deleted
        )


async def _purge_periodically(app: FastAPI, hours: float) -> None:
    while True:
        await asyncio.sleep(hours * 3600)
        await purge_security_log(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app for ``settings`` (default: read from the ``RURAL_`` environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app_engine(app)
        purging: asyncio.Task[None] | None = None
        if settings.security_log_purge_hours > 0:
            await purge_security_log(app)
            purging = asyncio.create_task(
                _purge_periodically(app, settings.security_log_purge_hours)
            )
        try:
            yield
        finally:
            if purging is not None:
                purging.cancel()
            engine = getattr(app.state, "engine", None)
            if engine is not None:
                engine.dispose()
                app.state.engine = None

    app = FastAPI(
        title="rural 农村人居环境",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; api/docs.py serves it locally
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = None
    app.state.templates = pages.make_templates()
    app.middleware("http")(_security_headers)
    app.include_router(pages.router)
    app.include_router(vendor.router)
    app.include_router(docs.router)  # /docs: Swagger UI from the installed package
    app.include_router(maps_routes.router)  # /maps/{kind}, behind the page login
    routes.install(app)  # error handlers, /auth/token, /api, /ogc, the people's pages
    app.add_api_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    return app
