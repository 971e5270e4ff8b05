"""``/static/vendor/...``: the map libraries' files, straight from the installed packages.

Only files listed by :func:`maps.assets.asset_files` are served (no path is ever joined to a
directory), with their content type and a long cache: every path carries the library version.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from maps.assets import DEFAULT_BASE_URL, asset_files
from rural.errors import NotFoundError

VENDOR_PREFIX = DEFAULT_BASE_URL
CACHE_CONTROL = "public, max-age=31536000, immutable"

router = APIRouter(prefix=VENDOR_PREFIX)


@router.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def vendor_file(path: str) -> FileResponse:
    file = asset_files().get(path)
    if file is None:
        msg = f"没有这个静态文件: {path}"
        raise NotFoundError(msg)
    return FileResponse(
        file.source, media_type=file.media_type, headers={"Cache-Control": CACHE_CONTROL}
    )
