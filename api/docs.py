"""``/docs``: the API documented in the browser (Swagger UI), with no CDN.

FastAPI's own docs page loads Swagger UI from a CDN, which an intranet cannot reach, so it is
off (``docs_url=None``). This page loads Swagger UI 5 (FastAPI writes OpenAPI 3.1, which
Swagger UI 4 cannot read) from the files of the ``fastapi-offline`` package the project
installs, served under ``/static/swagger-ui/<package version>/``: only the files listed in
:data:`FILES`, never a path joined to a directory. Swagger UI's online validator badge (a
request to validator.swagger.io) is switched off in ``docs.js``.

"Authorize" uses the API's OAuth2 password flow (``POST /auth/token``), so a user may try the
API with their own account; the page itself holds no data and needs no login, like
``/openapi.json``.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from rural.errors import NotFoundError

DOCS_PATH = "/docs"
STATIC_PREFIX = "/static/swagger-ui"
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Served file name -> (file in the bundle or in api/static, content type).
FILES = {
    "swagger-ui.css": ("bundle", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": ("bundle", "text/javascript; charset=utf-8"),
    "favicon.png": ("bundle", "image/png"),
    "docs.js": ("ours", "text/javascript; charset=utf-8"),
}
OUR_STATIC = Path(__file__).parent / "static"

router = APIRouter()


@cache
def _bundle() -> tuple[str, Path]:
    """(package version, folder) of the installed Swagger UI files."""
    package = "fastapi-offline"
    folder = Path(str(files("fastapi_offline"))) / "static"
    return version(package), folder


def static_url(name: str) -> str:
    """Where ``name`` (a key of :data:`FILES`) is served; the version keeps caches honest."""
    return f"{STATIC_PREFIX}/{_bundle()[0]}/{name}"


@router.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)
def docs_page(request: Request) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "docs.html",
        {
            "openapi_url": request.app.openapi_url or "/openapi.json",
            "css_url": static_url("swagger-ui.css"),
            "js_url": static_url("swagger-ui-bundle.js"),
            "init_url": static_url("docs.js"),
            "icon_url": static_url("favicon.png"),
            "title": f"{request.app.title} · API 文档",
        },
    )


@router.api_route(
    f"{STATIC_PREFIX}/{{release}}/{{name}}", methods=["GET", "HEAD"], include_in_schema=False
)
def docs_file(release: str, name: str) -> FileResponse:
    installed, folder = _bundle()
    entry = FILES.get(name)
    if entry is None or release != installed:
        msg = f"没有这个静态文件: {release}/{name}"
        raise NotFoundError(msg)
    where, media_type = entry
    source = (folder if where == "bundle" else OUR_STATIC) / name
    return FileResponse(source, media_type=media_type, headers={"Cache-Control": CACHE_CONTROL})
