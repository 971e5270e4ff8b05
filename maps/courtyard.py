"""The courtyard map 美丽庭院: villages by pass rate, households by the stars in force."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages, no_value_note
from maps.overview import household_clusters, village_layer_name
from maps.page import (
    COUNTY_DECIMALS,
    LegendSection,
    MapSetup,
    display_bounds,
    drawable,
    finish,
    new_map,
)
from maps.style import COURTYARD_STARS
from maps.topology import COUNTY_TOLERANCE_M

COURTYARD = IndicatorInfo("courtyard_pass_rate", "美丽庭院达标率", domain="courtyard")
HOUSEHOLD_LAYER_NAME = "农户 · 庭院星级"


def build_courtyard_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame | None,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = COURTYARD,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """Villages by courtyard pass rate; households (clusters) by the rating in force (left out
    when None: the caller may not see households)."""
    frames = [drawable(f, argument=a) for f, a in ((villages, "villages"), (towns, "towns"))]
    bounds = display_bounds(frames, setup.basemap)
    m = new_map(title=title, bounds=bounds, basemap=setup.basemap)
    layer = VillageLayer(indicator=indicator, facts=facts, links=setup.links)
    geojson, classes, missing = add_villages(
        m,
        villages,
        layer,
        name=village_layer_name(indicator),
        basemap=setup.basemap,
        decimals=decimals,
        tolerance_m=tolerance_m,
    )
    add_towns(m, towns, basemap=setup.basemap, decimals=decimals, tolerance_m=tolerance_m)
    legend = [LegendSection(indicator.name, classes.legend())]
    if households is not None:
        rated = households.assign(
            stars_key=[str(int(s)) if int(s) > 0 else "none" for s in households["stars"]]
        )
        household_clusters(
            rated,
            column="stars_key",
            palette=COURTYARD_STARS,
            name=HOUSEHOLD_LAYER_NAME,
            popup_title="庭院",
            basemap=setup.basemap,
            show=True,
        ).add_to(m)
        legend.append(LegendSection("农户(按庭院星级)", COURTYARD_STARS.legend(), "dot"))
    notes = [f"{missing} 个村无边界数据，未上图"] if missing else []
    notes += no_value_note(villages, indicator)
    notes.append("星级为当前有效的最近一次评定;达标线见指标设置")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
