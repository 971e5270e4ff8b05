"""The county overview map: villages filled by any indicator, town boundaries, households as
clusters (off at first), village search and the layer switcher.

Works with no network: no basemap tiles by default, JS/CSS from :mod:`maps.assets`. Every
string taken from the data passes through :func:`maps.escape.escape_text` before it reaches the
page, so hostile names show literally and cannot run code.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages, no_value_note
from maps.basemaps import NO_BASEMAP, Basemap
from maps.clusters import PointClusters
from maps.page import (
    COUNTY_DECIMALS,
    DEMO_BADGE,
    LegendSection,
    MapSetup,
    display_bounds,
    drawable,
    feature_count,
    finish,
    new_map,
    save,
)
from maps.style import HOUSEHOLD_TOILET, Categories, ClassBreaks
from maps.topology import COUNTY_TOLERANCE_M

__all__ = [
    "DEMO_BADGE",
    "HARMLESS",
    "HOUSEHOLD_LAYER_NAME",
    "build_overview_map",
    "feature_count",
    "household_clusters",
    "save",
]

HARMLESS = IndicatorInfo("harmless_toilet_rate", "无害化卫生厕所普及率")
HOUSEHOLD_LAYER_NAME = "农户 · 户厕"


def village_layer_name(indicator: IndicatorInfo) -> str:
    return f"村 · {indicator.name}"


def household_clusters(
    households: gpd.GeoDataFrame,
    *,
    column: str,
    palette: Categories,
    name: str,
    popup_title: str,
    basemap: Basemap = NO_BASEMAP,
    show: bool = True,
    unclustered_zoom: int = 17,
) -> PointClusters:
    """Households as a cluster layer coloured by ``column`` (a key of ``palette``)."""
    frame = drawable(households, argument="households")
    geometries = basemap.to_display(np.asarray(frame.geometry.array, dtype=object))
    xy = shapely.get_coordinates(geometries)
    index = {item.key: i for i, item in enumerate(palette.items)}
    categories = (
        frame[column].astype(str).map(index).fillna(len(palette.items) - 1).to_numpy(np.int64)
    )
    lon, lat = xy[:, 0], xy[:, 1]
    return PointClusters(
        name=name,
        lon=lon,
        lat=lat,
        categories=categories,
        palette=palette,
        popup_title=popup_title,
        show=show,
        unclustered_zoom=unclustered_zoom,
    )


def build_overview_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = HARMLESS,
    facts: Sequence[IndicatorInfo] = (),
    households: gpd.GeoDataFrame | None = None,
    households_shown: bool = False,
    classes: ClassBreaks | None = None,
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """Villages filled by ``indicator`` under town boundaries, with legend, tooltips, popups
    (``facts`` and links), search and, when given, the households by toilet as clusters.

    ``villages`` needs the columns of :func:`maps.kinds.village_frame` (the indicator's
    ``<id>``, ``<id>_num``, ``<id>_den``), ``towns`` those of :func:`gis.layers.town_layer`;
    both must carry a CRS. Features without geometry are left out (the legend says how many).
    """
    village_frame = drawable(villages, argument="villages")
    town_frame = drawable(towns, argument="towns")
    frames = [village_frame, town_frame]
    if households is not None:
        frames.append(drawable(households, argument="households"))
    bounds = display_bounds(frames, setup.basemap)
    m = new_map(title=title, bounds=bounds, basemap=setup.basemap)
    layer = VillageLayer(indicator=indicator, facts=facts, classes=classes, links=setup.links)
    geojson, used, missing = add_villages(
        m,
        villages,
        layer,
        name=village_layer_name(indicator),
        basemap=setup.basemap,
        decimals=decimals,
        tolerance_m=tolerance_m,
    )
    add_towns(m, towns, basemap=setup.basemap, decimals=decimals, tolerance_m=tolerance_m)
    legend = [LegendSection(indicator.name, used.legend())]
    if households is not None:
        household_clusters(
            households,
            column="toilet",
            palette=HOUSEHOLD_TOILET,
            name=HOUSEHOLD_LAYER_NAME,
            popup_title="户厕",
            basemap=setup.basemap,
            show=households_shown,
        ).add_to(m)
        legend.append(
            LegendSection("农户(按户厕,可在右上角打开)", HOUSEHOLD_TOILET.legend(), "dot")
        )
    notes = [f"{missing} 个村无边界数据，未上图"] if missing else []
    notes += no_value_note(villages, indicator)
    if indicator.note:
        notes.append(f"{indicator.name}: {indicator.note}")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
