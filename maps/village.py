"""The village detail map 村详图: one village close up — its boundary with its key figures,
every household by its toilet, collection points, sewage facilities, public toilets and open
problems — with the neighbouring villages of its town as grey outlines for orientation."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_villages
from maps.chain import point_properties
from maps.overview import HARMLESS, household_clusters
from maps.page import (
    VILLAGE_DECIMALS,
    LegendSection,
    MapSetup,
    add_geojson,
    add_points,
    display_bounds,
    drawable,
    finish,
    new_map,
)
from maps.problems import PROBLEM_LAYER_NAME, add_problems
from maps.sanitation import add_public_toilets
from maps.sewage import add_sewage_facilities
from maps.style import (
    FACILITY_STATUS,
    HOUSEHOLD_TOILET,
    PROBLEM_STATE,
    PUBLIC_TOILET_CONDITION,
    PathStyle,
)
from maps.topology import VILLAGE_TOLERANCE_M

NEIGHBOUR_LAYER_NAME = "同镇其他村"
HOUSEHOLD_LAYER_NAME = "农户 · 户厕"
POINT_LAYER_NAME = "垃圾收集点"
NEIGHBOUR_STYLE = PathStyle(colour="#9e9e9e", weight=1.0, fill_colour="#f0f0f0", fill_opacity=0.3)


def _neighbour_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {"name": row.get("name"), "code": row.get("code")}


def build_village_map(
    village: gpd.GeoDataFrame,
    neighbours: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    sewage: gpd.GeoDataFrame,
    public_toilets: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = HARMLESS,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = VILLAGE_DECIMALS,
    tolerance_m: float = VILLAGE_TOLERANCE_M,
) -> folium.Map:
    """One village (``village``: one row of :func:`maps.kinds.village_frame`) and what is in it."""
    inside = [
        drawable(f, argument=a)
        for f, a in (
            (village, "village"),
            (households, "households"),
            (points, "points"),
            (sewage, "sewage"),
            (public_toilets, "public_toilets"),
            (problems, "problems"),
        )
    ]
    bounds = display_bounds(inside, setup.basemap)
    m = new_map(title=title, bounds=bounds, basemap=setup.basemap)
    if len(neighbours):
        add_geojson(
            m,
            drawable(neighbours, argument="neighbours"),
            name=NEIGHBOUR_LAYER_NAME,
            properties=_neighbour_properties,
            style=lambda _row: NEIGHBOUR_STYLE.leaflet(),
            decimals=decimals,
            basemap=setup.basemap,
            tooltip_rows=[("name", "村")],
        )
    layer = VillageLayer(indicator=indicator, facts=facts, links=setup.links, detail_link=False)
    _layer, classes, missing = add_villages(
        m,
        village,
        layer,
        name=f"本村 · {indicator.name}",
        basemap=setup.basemap,
        decimals=decimals,
        tolerance_m=tolerance_m,
    )
    household_clusters(
        households,
        column="toilet",
        palette=HOUSEHOLD_TOILET,
        name=HOUSEHOLD_LAYER_NAME,
        popup_title="户厕",
        basemap=setup.basemap,
        show=True,
        unclustered_zoom=14,  # a village fits the screen from zoom 14: every household shown
    ).add_to(m)
    add_points(
        m,
        points,
        name=POINT_LAYER_NAME,
        colour=lambda row: FACILITY_STATUS.colour(row.get("status")),
        properties=point_properties,
        tooltip_rows=[("name", "收集点"), ("status_text", "状态")],
        popup_rows=[
            ("name", "收集点"),
            ("kind_text", "类型"),
            ("status_text", "状态"),
            ("breaks_text", "断链原因"),
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=6,
    )
    add_sewage_facilities(m, sewage, setup=setup, decimals=decimals)
    add_public_toilets(m, public_toilets, setup=setup, decimals=decimals)
    add_problems(m, problems, setup=setup, decimals=decimals)
    legend = [
        LegendSection(indicator.name, classes.legend()),
        LegendSection("农户(按户厕)", HOUSEHOLD_TOILET.legend(), "dot"),
        LegendSection("收集点/污水设施状态", FACILITY_STATUS.legend(), "dot"),
        LegendSection("农村公厕", PUBLIC_TOILET_CONDITION.legend(), "dot"),
        LegendSection(PROBLEM_LAYER_NAME, PROBLEM_STATE.legend(), "dot"),
    ]
    notes = ["本村无边界数据"] if missing else []
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=None,
    )
