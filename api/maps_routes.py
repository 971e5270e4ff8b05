"""``GET /maps/{kind}``: every map of :data:`maps.kinds.KINDS`, for the signed-in user's unit.

The caller needs a page session (browsers without one go to the login page). ``unit`` defaults
to the caller's own unit; a unit outside their scope, or a map whose main subject is a data
domain their line does not own, is refused (403, security-logged). Layers and popup figures of
other domains the caller may not see (households, another line's rates) are left out.

Pages are compressed when the browser accepts gzip (the size budget is on what travels), never
cached, and carry a Content-Security-Policy that allows images from the configured tile
source only.
"""

from __future__ import annotations

import gzip
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import EngineDep, SettingsDep
from api.routes.units import UnitScope
from api.scopes import PagePrincipal, PolicyDep
from api.vendor import VENDOR_PREFIX
from gis.layers import is_demo_database
from maps.assets import Assets, render_page
from maps.basemaps import Basemap, basemap_for
from maps.kinds import (
    MapRequest,
    build_map,
    indicator_links,
    kind_of,
    navigation,
)
from maps.page import MapSetup
from maps.popups import Links
from rural.permissions import Action, Domain

router = APIRouter(include_in_schema=False)
NO_STORE = "no-store"
GZIP_MIN_BYTES = 1024

UnitQuery = Annotated[str | None, Query(pattern=r"^[0-9]{12}$")]
IndicatorQuery = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
PeriodQuery = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z-]{4,10}$")]


def content_security_policy(basemap: Basemap) -> str:
    """The app's policy, with the tile hosts of the configured basemap allowed as images."""
    from api.app import CONTENT_SECURITY_POLICY  # the app module imports this one

    origins = basemap.origins()
    if not origins:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data:", "img-src 'self' data: " + " ".join(origins)
    )


@router.get("/maps/{kind}", response_class=Response)
def map_page(
    kind: str,
    request: Request,
    principal: PagePrincipal,
    policy: PolicyDep,
    engine: EngineDep,
    settings: SettingsDep,
    unit: UnitQuery = None,
    indicator: IndicatorQuery = None,
    period: PeriodQuery = None,
) -> Response:
    """One map for one unit, as a full HTML page."""
    map_kind = kind_of(kind)
    actor = principal.actor
    code = unit or actor.unit_code
    UnitScope(actor, policy).check(code)
    allowed = frozenset(
        domain
        for domain in Domain
        if policy.allows(actor, Action.VIEW, unit_code=code, domain=domain)
    )
    wanted = MapRequest(unit_code=code, indicator=indicator, period=period, allowed=allowed)
    for domain in sorted(map_kind.domains_for(wanted)):
        policy.check(actor, Action.VIEW, unit_code=code, domain=domain)
    root = request.scope.get("root_path", "")
    links = Links(base=root)
    basemap = basemap_for(settings.tile_source, tianditu_key=settings.tianditu_key)
    setup = MapSetup(
        assets=Assets.served(root + VENDOR_PREFIX),
        basemap=basemap,
        links=links,
        demo=is_demo_database(engine),
        nav=navigation(map_kind, wanted, links),
        choices_label="指标" if map_kind.indicators else "",
        choices=indicator_links(wanted, links) if map_kind.indicators else (),
    )
    html = render_page(build_map(engine, map_kind, wanted, setup), assets=setup.assets)
    body = html.encode("utf-8")
    headers = {
        "Cache-Control": NO_STORE,
        "Content-Security-Policy": content_security_policy(basemap),
        "Vary": "Accept-Encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) >= GZIP_MIN_BYTES:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
