"""The village detail map 村详图: one village close up — its boundary with its key figures,
every household by its toilet, collection points, sewage facilities, public toilets and open
problems — with the neighbouring villages of its town as grey outlines for orientation."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class VillageLayers:
    """What lies in the village; a layer is None when the caller may not see its domain."""

    households: gpd.GeoDataFrame | None = None
    points: gpd.GeoDataFrame | None = None
    sewage: gpd.GeoDataFrame | None = None
    public_toilets: gpd.GeoDataFrame | None = None
    problems: gpd.GeoDataFrame | None = None

    def present(self) -> list[tuple[gpd.GeoDataFrame, str]]:
        return [
            (frame, name)
            for name, frame in (
                ("households", self.households),
                ("points", self.points),
                ("sewage", self.sewage),
                ("public_toilets", self.public_toilets),
                ("problems", self.problems),
            )
            if frame is not None
        ]


def build_village_map(
    village: gpd.GeoDataFrame,
    neighbours: gpd.GeoDataFrame,
    layers: VillageLayers,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = HARMLESS,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = VILLAGE_DECIMALS,
    tolerance_m: float = VILLAGE_TOLERANCE_M,
) -> folium.Map:
    """One village (``village``: one row of :func:`maps.kinds.village_frame`) and what is in it."""
    inside = [drawable(village, argument="village")]
    inside += [drawable(frame, argument=name) for frame, name in layers.present()]
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
    legend = [LegendSection(indicator.name, classes.legend())]
    if layers.households is not None:
        household_clusters(
            layers.households,
            column="toilet",
            palette=HOUSEHOLD_TOILET,
            name=HOUSEHOLD_LAYER_NAME,
            popup_title="户厕",
            basemap=setup.basemap,
            show=True,
            unclustered_zoom=14,  # a village fits the screen from zoom 14: every household shown
        ).add_to(m)
        legend.append(LegendSection("农户(按户厕)", HOUSEHOLD_TOILET.legend(), "dot"))
    if layers.points is not None:
        add_points(
            m,
            layers.points,
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
    if layers.sewage is not None:
        add_sewage_facilities(m, layers.sewage, setup=setup, decimals=decimals)
    if layers.points is not None or layers.sewage is not None:
        legend.append(LegendSection("收集点/污水设施状态", FACILITY_STATUS.legend(), "dot"))
    if layers.public_toilets is not None:
        add_public_toilets(m, layers.public_toilets, setup=setup, decimals=decimals)
        legend.append(LegendSection("农村公厕", PUBLIC_TOILET_CONDITION.legend(), "dot"))
    if layers.problems is not None:
        add_problems(m, layers.problems, setup=setup, decimals=decimals)
        legend.append(LegendSection(PROBLEM_LAYER_NAME, PROBLEM_STATE.legend(), "dot"))
    notes = ["本村无边界数据"] if missing else []
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=None,
    )
