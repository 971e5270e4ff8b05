"""The sewage map 农村生活污水: villages by treatment rate, facilities by state (运行/故障/停运/
在建/报废), sized by mode, with their file (一设施一档案) in the popup."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages, no_value_note
from maps.enums_text import label_of
from maps.overview import village_layer_name
from maps.page import (
    COUNTY_DECIMALS,
    LegendSection,
    MapSetup,
    add_points,
    count_text,
    display_bounds,
    drawable,
    finish,
    new_map,
    number,
)
from maps.style import FACILITY_STATUS
from maps.topology import COUNTY_TOLERANCE_M
from rural.enums import DischargeClass, SewageMode, WaterClass

TREATMENT = IndicatorInfo("sewage_treatment_rate", "生活污水治理率", domain="sewage")
FACILITY_LAYER_NAME = "污水处理设施"
MODE_RADIUS = {"centralized": 8.0, "piped": 6.0, "decentralized": 4.5}


def sewage_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    capacity = number(row.get("design_capacity_m3d"))
    inspected = row.get("last_inspected_on")
    water_class = label_of(WaterClass, row.get("water_class"))
    return {
        "name": row.get("name"),
        "village_name": row.get("village_name"),
        "mode_text": label_of(SewageMode, row.get("mode")),
        "process": row.get("process"),
        "capacity_text": "—" if capacity is None else f"{capacity:g} 立方米/日",
        "households_text": count_text(row.get("connected_households")),
        "water_text": f"{row.get('receiving_water') or '—'} ({water_class})",
        "class_text": label_of(DischargeClass, row.get("discharge_class")),
        "om_contractor": row.get("om_contractor"),
        "inspected_text": "—" if inspected is None else str(inspected),
        "status_text": FACILITY_STATUS.label(row.get("status")),
    }


def add_sewage_facilities(
    m: folium.Map, facilities: gpd.GeoDataFrame, *, setup: MapSetup, decimals: int
) -> folium.GeoJson:
    return add_points(
        m,
        facilities,
        name=FACILITY_LAYER_NAME,
        colour=lambda row: FACILITY_STATUS.colour(row.get("status")),
        properties=sewage_properties,
        tooltip_rows=[("name", "设施"), ("mode_text", "模式"), ("status_text", "状态")],
        popup_rows=[
            ("name", "设施"),
            ("village_name", "村"),
            ("mode_text", "模式"),
            ("process", "工艺"),
            ("capacity_text", "设计规模"),
            ("households_text", "接入户数"),
            ("water_text", "受纳水体"),
            ("class_text", "排放标准级别"),
            ("om_contractor", "运维单位"),
            ("inspected_text", "最近巡查"),
            ("status_text", "状态"),
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=lambda row: MODE_RADIUS.get(str(row.get("mode")), 5.0),
    )


def build_sewage_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    title: str,
    setup: MapSetup,
    indicator: IndicatorInfo = TREATMENT,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """Villages by sewage treatment rate; every sewage facility by its state."""
    frames = [
        drawable(villages, argument="villages"),
        drawable(towns, argument="towns"),
        drawable(facilities, argument="facilities"),
    ]
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
    add_sewage_facilities(m, facilities, setup=setup, decimals=decimals)
    status = facilities["status"].map(str) if len(facilities) else facilities.get("status")
    down = int(status.isin(["fault", "stopped"]).sum()) if status is not None else 0
    legend = [
        LegendSection(indicator.name, classes.legend()),
        LegendSection("设施状态", FACILITY_STATUS.legend(), "dot"),
    ]
    notes = [f"设施 {len(facilities)} 个, 故障或停运 {down} 个", "圆点大小: 集中式 > 纳管 > 分散式"]
    notes += no_value_note(villages, indicator)
    if missing:
        notes.append(f"{missing} 个村无边界数据，未上图")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
