"""HTML pages: the index (the maps are served by ``api.maps_routes``). Chinese for people,
English in the code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from api.deps import EngineDep, app_engine
from gis.layers import is_demo_database
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
    env.globals["demo_database"] = demo_database
    return Jinja2Templates(env=env)


def demo_database(request: Request) -> bool:
    """Whether the app's database holds the generated demo (every page then says 示例数据);
    asked once per request however often a page's templates ask."""
    known = getattr(request.state, "demo_database", None)
    if known is None:
        try:
            known = is_demo_database(app_engine(request.app))
        except SQLAlchemyError:  # no tables yet: nothing to label
            known = False
        request.state.demo_database = known
    return bool(known)


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
