"""Every kind of map, in one registry: served URLs (``/maps/{kind}``), the command line
(``rural map KIND``), the benchmark and the tests all iterate over :data:`KINDS`.

A kind reads its layers from the database (:mod:`gis.layers`) for one unit and hands them to
its builder. It declares the data domains it shows, so the web service can check the caller's
permission before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
from sqlalchemy import Engine, inspect, select

from gis.layers import (
    KEY_INDICATORS,
    IndicatorInfo,
    chain_layers,
    household_points,
    is_demo_database,
    open_problem_layer,
    public_toilet_layer,
    sewage_facility_layer,
    town_layer,
    village_indicator_choices,
    village_indicators,
    village_layer,
)
from maps.chain import build_chain_map
from maps.courtyard import COURTYARD, build_courtyard_map
from maps.overview import HARMLESS, build_overview_map
from maps.page import MapSetup, NavLink, feature_count
from maps.popups import Links
from maps.problems import build_problems_map
from maps.sanitation import build_sanitation_map
from maps.sewage import TREATMENT, build_sewage_map
from maps.village import VillageLayers, build_village_map
from rural import clock, codes
from rural.enums import UnitLevel
from rural.errors import NotFoundError, ValidationError
from rural.models import Unit
from rural.periods import parse_period
from rural.permissions import Domain

AREA_LEVELS = frozenset(
    {UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.COUNTY, UnitLevel.TOWN, UnitLevel.VILLAGE}
)


@dataclass(frozen=True)
class MapRequest:
    """What to draw: the unit, and for the overview the indicator and period."""

    unit_code: str
    indicator: str | None = None
    period: str | None = None
    # The data domains the caller may see (None: all, the operator at the command line). A
    # layer of a domain outside it is left out; a kind's required domains are checked first.
    allowed: frozenset[Domain] | None = None

    def may(self, domain: Domain | str) -> bool:
        return self.allowed is None or Domain(domain) in self.allowed

    @property
    def indicator_key(self) -> str:
        """The overview's indicator: as asked, else the default for what the caller may see."""
        return self.indicator or default_indicator(self)

    @property
    def period_text(self) -> str:
        """The indicator period: as asked, else the current year (as the official's page)."""
        return self.period or str(clock.today().year)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    level: UnitLevel


Builder = Callable[[Engine, MapRequest, MapSetup, UnitInfo], folium.Map]


@dataclass(frozen=True)
class MapKind:
    """One kind of map: its URL key, Chinese name, the domains it shows, the units it accepts."""

    key: str
    label: str
    domains: frozenset[Domain]  # required: the map makes no sense without them
    build: Builder = field(repr=False)
    levels: frozenset[UnitLevel] = AREA_LEVELS
    indicators: bool = False  # the overview: any village indicator, chosen by the caller

    def domains_for(self, request: MapRequest) -> frozenset[Domain]:
        """The domains this request reads (the overview's depends on the indicator)."""
        if not self.indicators:
            return self.domains
        info = indicator_info(request.indicator_key)
        return self.domains | {Domain(info.domain)}


# ---------------------------------------------------------------- data shared by the kinds


def unit_info(engine: Engine, code: str) -> UnitInfo:
    """The unit (current or not) with this code; NotFoundError when there is none."""
    codes.validate(code)
    unit = inspect(Unit).local_table
    with engine.connect() as conn:
        row = conn.execute(
            select(unit.c.code, unit.c.name, unit.c.level).where(unit.c.code == code)
        ).first()
    if row is None:
        msg = f"单位 {code} 不存在 (unit {code} not found)"
        raise NotFoundError(msg)
    return UnitInfo(code=str(row[0]), name=str(row[1]), level=UnitLevel(row[2]))


def default_unit(engine: Engine) -> str:
    """The county of this database (the lowest code if it holds several)."""
    unit = inspect(Unit).local_table
    with engine.connect() as conn:
        code = conn.execute(
            select(unit.c.code)
            .where(unit.c.level == UnitLevel.COUNTY, unit.c.valid_to.is_(None))
            .order_by(unit.c.code)
            .limit(1)
        ).scalar_one_or_none()
    if code is None:
        msg = "数据库中没有县级单位: 请先导入行政区划或生成示例数据 (rural demo)"
        raise NotFoundError(msg)
    return str(code)


def indicator_info(key: str) -> IndicatorInfo:
    """The village indicator ``key`` (a MapRequest's ``indicator_key``)."""
    choices = village_indicator_choices()
    if key not in choices:
        msg = f"indicator {key!r} is not a village indicator (one of {', '.join(choices)})"
        raise ValidationError(msg, field="indicator", value=key)
    return choices[key]


def default_indicator(request: MapRequest) -> str:
    """The overview's indicator when none is asked: the harmless-toilet rate, or, for a caller
    whose line does not see toilets, the first village indicator of a domain they may see."""
    choices = village_indicator_choices()
    if HARMLESS.id in choices and request.may(choices[HARMLESS.id].domain):
        return HARMLESS.id
    return next((k for k, info in choices.items() if request.may(info.domain)), HARMLESS.id)


def key_facts(request: MapRequest | None = None) -> list[IndicatorInfo]:
    """The figures every village popup lists (those of domains the caller may see)."""
    choices = village_indicator_choices()
    return [
        choices[key]
        for key in KEY_INDICATORS
        if key in choices and (request is None or request.may(choices[key].domain))
    ]


def village_frame(
    engine: Engine, *, unit_code: str, indicators: list[IndicatorInfo], period: str
) -> gpd.GeoDataFrame:
    """Villages within ``unit_code`` (layer of :func:`gis.layers.village_layer`) with each
    indicator's value, numerator and denominator as columns ``<id>``, ``<id>_num``, ``<id>_den``."""
    villages = village_layer(engine, unit_code=unit_code)
    keys = list(dict.fromkeys(info.id for info in indicators))
    values = village_indicators(engine, unit_code=unit_code, indicators=keys, period=period)
    merged = villages.merge(values, left_on="code", right_index=True, how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=villages.crs)


def _title(unit: UnitInfo, what: str, request: MapRequest | None = None) -> str:
    """The map's title; with ``request``, the period its village figures are for (a saved or
    printed map must say which year or quarter it shows)."""
    if request is None:
        return f"{unit.name} {what}"
    return f"{unit.name} {what} · {parse_period(request.period_text).label}"


def _villages(engine: Engine, request: MapRequest, *extra: IndicatorInfo) -> gpd.GeoDataFrame:
    """The village frame with ``extra`` and the key facts, for the domains the caller may see."""
    wanted = [info for info in extra if request.may(info.domain)] + key_facts(request)
    return village_frame(
        engine, unit_code=request.unit_code, indicators=wanted, period=request.period_text
    )


# ---------------------------------------------------------------- the builders


def _overview(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    info = indicator_info(request.indicator_key)
    return build_overview_map(
        _villages(engine, request, info),
        town_layer(engine, unit_code=request.unit_code),
        title=_title(unit, f"农村人居环境总览 · {info.name}", request),
        setup=setup,
        indicator=info,
        facts=key_facts(request),
        households=_households(engine, request),
    )


# Households are drawn for a county and below: a city's or province's would not fit one page.
HOUSEHOLD_LEVELS = frozenset({UnitLevel.COUNTY, UnitLevel.TOWN, UnitLevel.VILLAGE})


def _households(
    engine: Engine, request: MapRequest, *, with_stars: bool = False
) -> gpd.GeoDataFrame | None:
    """The household points, unless the caller may not see them or the unit is too large."""
    if not request.may(Domain.HOUSEHOLDS):
        return None
    if codes.level_of(request.unit_code) not in HOUSEHOLD_LEVELS:
        return None
    return household_points(engine, unit_code=request.unit_code, with_stars=with_stars)


def _sanitation(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    return build_sanitation_map(
        _villages(engine, request, HARMLESS),
        town_layer(engine, unit_code=request.unit_code),
        _households(engine, request),
        public_toilet_layer(engine, unit_code=request.unit_code),
        title=_title(unit, "农村改厕", request),
        setup=setup,
        facts=key_facts(request),
    )


def _courtyard(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    return build_courtyard_map(
        _villages(engine, request, COURTYARD),
        town_layer(engine, unit_code=request.unit_code),
        _households(engine, request, with_stars=True),
        title=_title(unit, "美丽庭院", request),
        setup=setup,
        facts=key_facts(request),
    )


def _chain(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    return build_chain_map(
        _villages(engine, request),
        town_layer(engine, unit_code=request.unit_code),
        chain_layers(engine, unit_code=request.unit_code),
        title=_title(unit, "垃圾收运处置链"),
        setup=setup,
        facts=key_facts(request),
    )


def _sewage(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    return build_sewage_map(
        _villages(engine, request, TREATMENT),
        town_layer(engine, unit_code=request.unit_code),
        sewage_facility_layer(engine, unit_code=request.unit_code),
        title=_title(unit, "农村生活污水治理", request),
        setup=setup,
        facts=key_facts(request),
    )


def _problems(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    return build_problems_map(
        _villages(engine, request),
        town_layer(engine, unit_code=request.unit_code),
        open_problem_layer(engine, unit_code=request.unit_code),
        title=_title(unit, "督查整改 · 未销号问题"),
        setup=setup,
        facts=key_facts(request),
    )


def _village(engine: Engine, request: MapRequest, setup: MapSetup, unit: UnitInfo) -> folium.Map:
    code = request.unit_code
    town = codes.parent_of(code)
    assert town is not None  # a village always has a town
    in_town = MapRequest(unit_code=town, period=request.period, allowed=request.allowed)
    everything = _villages(engine, in_town, HARMLESS)
    own = everything[everything["code"] == code]
    if own.empty:  # a village whose town is not in the database
        own = _villages(engine, request, HARMLESS)
    neighbours = everything[everything["code"] != code]
    points = None
    if request.may(Domain.GARBAGE):
        chain = chain_layers(engine, unit_code=code)
        points = chain.points[chain.points["village_code"] == code]
    layers = VillageLayers(
        households=_households(engine, request),
        points=points,
        sewage=sewage_facility_layer(engine, unit_code=code) if request.may("sewage") else None,
        public_toilets=(
            public_toilet_layer(engine, unit_code=code) if request.may("sanitation") else None
        ),
        problems=open_problem_layer(engine, unit_code=code) if request.may("problems") else None,
    )
    return build_village_map(
        own,
        neighbours,
        layers,
        title=_title(unit, "村详图", request),
        setup=setup,
        facts=key_facts(request),
    )


KINDS: dict[str, MapKind] = {
    kind.key: kind
    for kind in (
        # The overview's required domain is its indicator's (see MapKind.domains_for).
        MapKind("overview", "总览", frozenset(), _overview, indicators=True),
        MapKind("sanitation", "改厕", frozenset({Domain.SANITATION}), _sanitation),
        MapKind("chain", "垃圾收运链", frozenset({Domain.GARBAGE}), _chain),
        MapKind("sewage", "污水治理", frozenset({Domain.SEWAGE}), _sewage),
        MapKind("courtyard", "美丽庭院", frozenset({Domain.COURTYARD}), _courtyard),
        MapKind("problems", "问题整改", frozenset({Domain.PROBLEMS}), _problems),
        # Every layer of the village map is optional: each shows if its domain may be seen.
        MapKind("village", "村详图", frozenset(), _village, levels=frozenset({UnitLevel.VILLAGE})),
    )
}


def kind_of(key: str) -> MapKind:
    if key not in KINDS:
        msg = f"没有这种地图: {key!r} (kinds: {', '.join(KINDS)})"
        raise NotFoundError(msg)
    return KINDS[key]


def check_level(kind: MapKind, unit: UnitInfo) -> None:
    if unit.level not in kind.levels:
        levels = "、".join(level.label for level in sorted(kind.levels, key=list(UnitLevel).index))
        msg = f"{kind.label}需要{levels}级单位, {unit.code} 是{unit.level.label}级 (unit)"
        raise ValidationError(msg, field="unit", value=unit.code)


def build_map(engine: Engine, kind: MapKind, request: MapRequest, setup: MapSetup) -> folium.Map:
    """The map of ``kind`` for ``request`` (the unit must exist and suit the kind)."""
    unit = unit_info(engine, request.unit_code)
    check_level(kind, unit)
    if kind.indicators:
        indicator_info(request.indicator_key)  # refuse an unknown indicator before reading data
    return kind.build(engine, request, setup, unit)


def navigation(kind: MapKind, request: MapRequest, links: Links) -> tuple[NavLink, ...]:
    """Links to the other maps of the same unit the caller may open (the village map only for a
    village)."""
    level = codes.level_of(request.unit_code)
    return tuple(
        NavLink(
            url=links.map_page(other.key, request.unit_code),
            label=other.label,
            current=other.key == kind.key,
        )
        for other in KINDS.values()
        if level in other.levels and all(request.may(d) for d in other.domains)
    )


def indicator_links(request: MapRequest, links: Links) -> tuple[NavLink, ...]:
    """The overview for each village indicator the caller may see (the current one marked)."""
    current = indicator_info(request.indicator_key).id
    out = []
    for info in village_indicator_choices().values():
        if not request.may(info.domain):
            continue  # another line's rate: the caller could not open it
        query: dict[str, str] = {"unit": request.unit_code, "indicator": info.id}
        if request.period:
            query["period"] = request.period
        out.append(
            NavLink(
                url=links.url("/maps/overview", **query),
                label=info.name,
                current=info.id == current,
            )
        )
    return tuple(out)


def demo_flag(engine: Engine) -> bool:
    return is_demo_database(engine)


def summary(m: folium.Map) -> dict[str, Any]:
    """Feature counts per layer (for logs, the command line and the benchmark)."""
    return dict(feature_count(m))


__all__ = [
    "KINDS",
    "MapKind",
    "MapRequest",
    "UnitInfo",
    "build_map",
    "default_unit",
    "indicator_links",
    "kind_of",
    "navigation",
    "unit_info",
    "village_frame",
]
