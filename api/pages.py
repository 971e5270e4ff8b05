"""HTML pages: the index and the maps. Chinese for people, English in the code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, func, inspect, select

from api.deps import EngineDep
from api.vendor import VENDOR_PREFIX
from gis.layers import is_demo_database, town_layer, village_layer
from maps.assets import Assets, render_page
from maps.overview import build_overview_map
from rural import codes
from rural.enums import UnitLevel
from rural.errors import NotFoundError
from rural.models import Unit

TEMPLATE_DIR = Path(__file__).parent / "templates"
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter()


def make_templates() -> Jinja2Templates:
    """Page templates with autoescaping on for every template."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )
    return Jinja2Templates(env=env)


@dataclass(frozen=True)
class CountySummary:
    code: str
    name: str
    towns: int
    villages: int


def county_summary(engine: Engine) -> CountySummary:
    """The county of this database (the lowest code if it holds several), with unit counts.

    Raises NotFoundError when there is none. Later issues pick the caller's own scope instead.
    """
    unit = inspect(Unit).local_table
    current = unit.c.valid_to.is_(None)
    with engine.connect() as conn:
        county = conn.execute(
            select(unit.c.code, unit.c.name)
            .where(unit.c.level == UnitLevel.COUNTY, current)
            .order_by(unit.c.code)
            .limit(1)
        ).first()
        if county is None:
            msg = "数据库中没有县级单位: 请先导入行政区划或生成示例数据 (rural demo)"
            raise NotFoundError(msg)
        code, name = str(county[0]), str(county[1])
        rows = conn.execute(
            select(unit.c.level, func.count())
            .where(unit.c.code.startswith(codes.prefix_of(code)), current)
            .group_by(unit.c.level)
        ).all()
    counts = {str(level): int(count) for level, count in rows}
    return CountySummary(
        code=code,
        name=name,
        towns=counts.get(str(UnitLevel.TOWN), 0),
        villages=counts.get(str(UnitLevel.VILLAGE), 0),
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, engine: EngineDep) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    try:
        county: CountySummary | None = county_summary(engine)
    except NotFoundError:
        county = None
    return templates.TemplateResponse(
        request,
        "index.html",
        {"county": county, "demo": is_demo_database(engine)},
        headers=NO_STORE,
    )


@router.get("/maps/overview", response_class=HTMLResponse, include_in_schema=False)
def overview_map(request: Request, engine: EngineDep) -> HTMLResponse:
    """The county overview map: villages by harmless-toilet rate, town boundaries."""
    county = county_summary(engine)
    villages = village_layer(engine, unit_code=county.code)
    towns = town_layer(engine, unit_code=county.code)
    # Behind a proxy that mounts the app under a prefix, the asset URLs follow it.
    assets = Assets.served(request.scope.get("root_path", "") + VENDOR_PREFIX)
    m = build_overview_map(
        villages,
        towns,
        title=f"{county.name} 农村无害化卫生厕所普及率",
        demo=is_demo_database(engine),
        assets=assets,
    )
    return HTMLResponse(render_page(m, assets=assets), headers=NO_STORE)
