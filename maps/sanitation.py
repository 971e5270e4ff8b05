"""The sanitation map 厕所革命: villages by harmless-toilet rate, every household by its toilet
(clusters), village public toilets by condition."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages, no_value_note
from maps.enums_text import label_of
from maps.overview import HARMLESS, household_clusters, village_layer_name
from maps.page import (
    COUNTY_DECIMALS,
    LegendSection,
    MapSetup,
    add_points,
    display_bounds,
    drawable,
    finish,
    new_map,
)
from maps.style import HOUSEHOLD_TOILET, PUBLIC_TOILET_CONDITION, public_toilet_key
from maps.topology import COUNTY_TOLERANCE_M
from rural.enums import ToiletCondition, ToiletType

HOUSEHOLD_LAYER_NAME = "农户 · 户厕"
PUBLIC_TOILET_LAYER_NAME = "农村公厕"


def public_toilet_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {
        "name": row.get("name"),
        "village_name": row.get("village_name"),
        "type_text": label_of(ToiletType, row.get("toilet_type")),
        "condition_text": label_of(ToiletCondition, row.get("condition")),
    }


def add_public_toilets(
    m: folium.Map, toilets: gpd.GeoDataFrame, *, setup: MapSetup, decimals: int
) -> folium.GeoJson:
    rows = [
        ("name", "公厕"),
        ("village_name", "村"),
        ("type_text", "类型"),
        ("condition_text", "状况"),
    ]
    return add_points(
        m,
        toilets,
        name=PUBLIC_TOILET_LAYER_NAME,
        colour=lambda row: PUBLIC_TOILET_CONDITION.colour(
            public_toilet_key(str(row.get("condition")))
        ),
        properties=public_toilet_properties,
        tooltip_rows=rows[:2],
        popup_rows=rows,
        decimals=decimals,
        basemap=setup.basemap,
        radius=5,
    )


def build_sanitation_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame | None,
    public_toilets: gpd.GeoDataFrame,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = HARMLESS,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """Villages by ``indicator`` (a toilet rate), households by toilet (left out when None:
    the caller may not see households), public toilets."""
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
        household_clusters(
            households,
            column="toilet",
            palette=HOUSEHOLD_TOILET,
            name=HOUSEHOLD_LAYER_NAME,
            popup_title="户厕",
            basemap=setup.basemap,
            show=True,
        ).add_to(m)
        legend.append(LegendSection("农户(按户厕)", HOUSEHOLD_TOILET.legend(), "dot"))
    add_public_toilets(m, public_toilets, setup=setup, decimals=decimals)
    legend.append(LegendSection(PUBLIC_TOILET_LAYER_NAME, PUBLIC_TOILET_CONDITION.legend(), "dot"))
    notes = [f"{missing} 个村无边界数据，未上图"] if missing else []
    notes += no_value_note(villages, indicator)
    notes.append("农户只计常住户; 户厕按改厕台账当前状态")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
