"""The garbage chain map 户分类、村收集、镇转运、县处理: villages, collection points, transfer
stations and treatment facilities, the links between them drawn as lines, breaks in red, and
each station's load (inflow / design capacity).

Breaks come from the chain audit (:func:`rural.chain.check_chain`) through
:func:`gis.layers.chain_layers`; a link is red when it is refused itself (mixed transport) or
when a node it leads to is down or broken. A village with no working collection point is
outlined in red.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from gis.layers import ChainLayers, IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages
from maps.enums_text import label_of
from maps.page import (
    COUNTY_DECIMALS,
    LegendSection,
    MapSetup,
    add_geojson,
    add_points,
    count_text,
    display_bounds,
    drawable,
    finish,
    new_map,
    number,
    tonnes_text,
)
from maps.style import CHAIN_LINK, FACILITY_STATUS, LOAD_BREAKS, format_percent, line_style
from maps.topology import COUNTY_TOLERANCE_M
from rural.enums import ChainNodeKind, CollectionPointKind, TreatmentKind

COVERAGE = IndicatorInfo("chain_coverage_rate", "垃圾收运处置体系覆盖", domain="garbage")
LINK_LAYER_NAME = "收运链路"
POINT_LAYER_NAME = "收集点"
STATION_LAYER_NAME = "转运站(按负荷)"
FACILITY_LAYER_NAME = "处理设施"
VILLAGE_LAYER_NAME = "村 · 收运链"
CATEGORY_LABELS = {
    "recyclable": "可回收物",
    "hazardous": "有害垃圾",
    "perishable": "厨余(易腐)垃圾",
    "other": "其他垃圾",
}
STAGE_LABELS: dict[str, str] = {
    str(ChainNodeKind.VILLAGE): "村→收集点",
    str(ChainNodeKind.COLLECTION_POINT): "收集点→转运站",
    str(ChainNodeKind.TRANSFER_STATION): "转运站→处理设施",
}


def _breaks_text(row: Mapping[Hashable, Any]) -> str:
    reasons = row.get("breaks") or []
    return "；".join(str(r) for r in reasons) if reasons else "无"


def _categories_text(keys: Sequence[str] | None) -> str:
    if not keys:
        return "混合(全部类别)"
    return "、".join(CATEGORY_LABELS.get(str(k), str(k)) for k in keys)


def link_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {
        "stage_text": STAGE_LABELS.get(str(row.get("stage")), str(row.get("stage"))),
        "source_name": row.get("source_name"),
        "target_name": row.get("target_name"),
        "categories_text": _categories_text(row.get("categories")),
        "state_text": CHAIN_LINK.label(row.get("state")),
        "breaks_text": _breaks_text(row),
    }


def point_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {
        "name": row.get("name"),
        "village_name": row.get("village_name"),
        "kind_text": label_of(CollectionPointKind, row.get("kind")),
        "status_text": FACILITY_STATUS.label(row.get("status")),
        "breaks_text": _breaks_text(row),
    }


def station_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    load = number(row.get("load"))
    return {
        "name": row.get("name"),
        "town_name": row.get("town_name"),
        "capacity_text": f"{number(row.get('capacity_tpd')) or 0:g} 吨/日",
        "load_text": format_percent(load),
        "inflow_text": tonnes_text(row.get("inflow_t")),
        "days_text": count_text(row.get("days")),
        "period_text": row.get("load_period"),
        "status_text": FACILITY_STATUS.label(row.get("status")),
        "breaks_text": _breaks_text(row),
    }


def facility_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {
        "name": row.get("name"),
        "kind_text": label_of(TreatmentKind, row.get("kind")),
        "capacity_text": f"{number(row.get('capacity_tpd')) or 0:g} 吨/日",
        "accepted_text": _categories_text(row.get("accepted")),
        "status_text": FACILITY_STATUS.label(row.get("status")),
        "breaks_text": _breaks_text(row),
    }


def station_colour(row: Mapping[Hashable, Any]) -> str:
    """Status colour when not operating, else the load class (green, orange, red)."""
    status = str(row.get("status"))
    if status != "operating":
        return FACILITY_STATUS.colour(status)
    return LOAD_BREAKS.colour(number(row.get("load")))


def build_chain_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    chain: ChainLayers,
    *,
    title: str,
    setup: MapSetup,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """The chain of ``villages`` drawn over them (see module doc)."""
    frames = [
        drawable(villages, argument="villages"),
        drawable(towns, argument="towns"),
        drawable(chain.stations, argument="stations"),
        drawable(chain.facilities, argument="facilities"),
    ]
    bounds = display_bounds(frames, setup.basemap)
    m = new_map(title=title, bounds=bounds, basemap=setup.basemap)
    layer = VillageLayer(
        indicator=COVERAGE,
        facts=facts,
        links=setup.links,
        outline_only=True,
        broken=chain.villages_broken,
        show_value=False,
    )
    geojson, _classes, missing = add_villages(
        m,
        villages,
        layer,
        name=VILLAGE_LAYER_NAME,
        basemap=setup.basemap,
        decimals=decimals,
        tolerance_m=tolerance_m,
    )
    add_towns(m, towns, basemap=setup.basemap, decimals=decimals, tolerance_m=tolerance_m)
    link_rows = [
        ("stage_text", "环节"),
        ("source_name", "从"),
        ("target_name", "到"),
        ("categories_text", "类别"),
        ("state_text", "状态"),
        ("breaks_text", "断链原因"),
    ]
    add_geojson(
        m,
        drawable(chain.links, argument="links"),
        name=LINK_LAYER_NAME,
        properties=link_properties,
        style=lambda row: line_style(str(row.get("state"))),
        decimals=decimals,
        basemap=setup.basemap,
        tooltip_rows=link_rows[:5],
        popup_rows=link_rows,
        highlight={"weight": 5},
    )
    status_rows = [("status_text", "状态"), ("breaks_text", "断链原因")]
    add_points(
        m,
        chain.points,
        name=POINT_LAYER_NAME,
        colour=lambda row: FACILITY_STATUS.colour(row.get("status")),
        properties=point_properties,
        tooltip_rows=[("name", "收集点"), ("village_name", "村"), ("status_text", "状态")],
        popup_rows=[
            ("name", "收集点"),
            ("village_name", "村"),
            ("kind_text", "类型"),
            *status_rows,
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=4,
    )
    add_points(
        m,
        chain.stations,
        name=STATION_LAYER_NAME,
        colour=station_colour,
        properties=station_properties,
        tooltip_rows=[("name", "转运站"), ("load_text", "负荷率"), ("status_text", "状态")],
        popup_rows=[
            ("name", "转运站"),
            ("town_name", "乡镇"),
            ("capacity_text", "设计能力"),
            ("load_text", "负荷率"),
            ("inflow_text", "进站量"),
            ("days_text", "天数"),
            ("period_text", "统计期"),
            *status_rows,
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=9,
    )
    add_points(
        m,
        chain.facilities,
        name=FACILITY_LAYER_NAME,
        colour=lambda row: FACILITY_STATUS.colour(row.get("status")),
        properties=facility_properties,
        tooltip_rows=[("name", "处理设施"), ("kind_text", "类型"), ("status_text", "状态")],
        popup_rows=[
            ("name", "处理设施"),
            ("kind_text", "类型"),
            ("capacity_text", "设计能力"),
            ("accepted_text", "接收类别"),
            *status_rows,
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=12,
    )
    broken_links = int((chain.links["state"] == "broken").sum()) if len(chain.links) else 0
    legend = [
        LegendSection(LINK_LAYER_NAME, CHAIN_LINK.legend(), "line"),
        LegendSection("设施状态", FACILITY_STATUS.legend(), "dot"),
        LegendSection(
            "转运站负荷率(运行中)",
            list(zip(LOAD_BREAKS.colours, LOAD_BREAKS.labels(), strict=True))[::-1],
            "dot",
        ),
        LegendSection("村", [("#e31a1c", "无正常运行的收集点"), ("#7f7f7f", "已接入")]),
    ]
    notes = [
        f"断链 {broken_links} 条, 无收集点可用的村 {len(chain.villages_broken)} 个",
        "负荷率 = 最近一期进站量 / (设计能力 × 天数)",
    ]
    if missing:
        notes.append(f"{missing} 个村无边界数据，未上图")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
