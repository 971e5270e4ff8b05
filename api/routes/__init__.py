"""The REST API under ``/api``, the token endpoint, OGC API Features and the people's pages,
wired onto an app by :func:`install` (called once by ``api.app.create_app``)."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, FastAPI

from api import auth, errors, ogc
from api.routes import chain, changes, indicators, ledgers, registries, units, users


@lru_cache(maxsize=1)
def api_router() -> APIRouter:
    """The API's routes, built once per process on first use (like any module-level router,
    it is shared by every app the process makes; request state comes from ``request.app``)."""
    router = APIRouter(prefix="/api")
    router.include_router(users.router)
    router.include_router(units.router)
    router.include_router(registries.build_router())
    router.include_router(ledgers.router)
    router.include_router(indicators.router)
    router.include_router(chain.router)
    router.include_router(changes.router)
    return router


def install(app: FastAPI) -> None:
    """Exception handlers (the one error table), the token endpoint, the API, OGC, pages."""
    # Imported here: the page modules import this package's route modules.
    from api.pages_admin import router as admin_pages
    from api.pages_auth import router as auth_pages
    from api.pages_cadre import router as cadre_pages
    from api.pages_official import router as official_pages
    from api.pages_public import router as public_pages

    errors.install(app)
    app.include_router(auth.router)
    app.include_router(api_router())
    app.include_router(ogc.router)
    for pages in (auth_pages, cadre_pages, official_pages, admin_pages, public_pages):
        app.include_router(pages)
