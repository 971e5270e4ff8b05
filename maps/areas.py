"""Village and town polygons as every map draws them: simplified as one mesh, villages filled by
an indicator with its facts in tooltip and popup, towns as outlines on top.

The village frame comes from :func:`maps.kinds.village_frame`: code, name, town_code,
town_name, resident_households, and per indicator ``<id>``, ``<id>_num``, ``<id>_den``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gis.layers import IndicatorInfo
from maps.basemaps import NO_BASEMAP, Basemap
from maps.page import add_geojson, count_text, drawable, number
from maps.popups import Links, village_links
from maps.style import (
    RATE_BREAKS,
    TOWN_STYLE,
    ClassBreaks,
    PathStyle,
    format_percent,
    quantile_breaks,
    village_style,
)
from maps.topology import COUNTY_TOLERANCE_M, simplify_frame

TOWN_LAYER_NAME = "乡镇界"
HIGHLIGHT = {"weight": 3, "color": "#0b3d91", "fillOpacity": 0.9}


def value_text(
    value: object, info: IndicatorInfo, *, num: object = None, den: object = None
) -> str:
    """``65.9% (146/221)`` for a rate with its counts; ``无数据`` when missing."""
    found = number(value)
    if found is None:
        return "无数据"
    text = format_percent(found) if info.percent else f"{found:.3g}"
    n, d = number(num), number(den)
    if n is not None and d is not None and float(n).is_integer() and float(d).is_integer():
        text += f" ({int(n):,}/{int(d):,})"
    return text


def no_value_note(villages: gpd.GeoDataFrame, info: IndicatorInfo) -> list[str]:
    """A legend note for villages without a value (e.g. communities the indicators leave out)."""
    if info.id not in villages.columns:
        return [f"{info.name}: 无数据"]
    missing = int(villages[info.id].isna().sum())
    if not missing:
        return []
    return [
        f"{missing} 个村级单位没有{info.name}数据"
        "(社区不计入农村指标; 或该期无常住户、无相关设施或记录)"
    ]


def classes_for(values: pd.Series, info: IndicatorInfo) -> ClassBreaks:
    """Fixed rate classes for percentages, quantile classes for other figures."""
    if info.percent:
        return RATE_BREAKS
    return quantile_breaks([number(v) for v in values], percent=False)


@dataclass
class VillageLayer:
    """How to draw the villages: which indicator fills them and which facts the popup lists."""

    indicator: IndicatorInfo
    facts: Sequence[IndicatorInfo] = ()
    classes: ClassBreaks | None = None
    links: Links = field(default_factory=Links)
    detail_link: bool = True
    outline_only: bool = False
    broken: Mapping[str, Sequence[str]] = field(default_factory=dict)  # code -> reasons
    flag_label: str = "收运链"  # the tooltip row of ``broken``
    flag_ok: str = "正常"
    show_value: bool = True  # False: the indicator row is left out of tooltip and popup


def village_properties(layer: VillageLayer) -> Any:
    info = layer.indicator

    def properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
        code = str(row.get("code"))
        props: dict[str, object] = {
            "code": code,
            "name": row.get("name"),
            "town_name": row.get("town_name"),
            "households_text": count_text(row.get("resident_households")),
            "value_text": value_text(
                row.get(info.id), info, num=row.get(f"{info.id}_num"), den=row.get(f"{info.id}_den")
            ),
        }
        for fact in layer.facts:
            props[f"fact_{fact.id}"] = value_text(
                row.get(fact.id), fact, num=row.get(f"{fact.id}_num"), den=row.get(f"{fact.id}_den")
            )
        if layer.broken:
            reasons = layer.broken.get(code, [])
            props["flag_text"] = "；".join(reasons) if reasons else layer.flag_ok
        props["links"] = village_links(layer.links, code, detail_map=layer.detail_link)
        return props

    return properties


def add_villages(
    m: folium.Map,
    villages: gpd.GeoDataFrame,
    layer: VillageLayer,
    *,
    name: str,
    basemap: Basemap = NO_BASEMAP,
    decimals: int,
    tolerance_m: float = COUNTY_TOLERANCE_M,
    show: bool = True,
) -> tuple[folium.GeoJson, ClassBreaks, int]:
    """The village polygons filled by ``layer.indicator``; returns the layer, its classes and
    how many villages had no boundary (left out)."""
    frame = drawable(villages, argument="villages")
    missing = len(villages) - len(frame)
    frame = simplify_frame(frame, tolerance_m=tolerance_m)
    info = layer.indicator
    values = frame[info.id] if info.id in frame.columns else pd.Series([None] * len(frame))
    classes = layer.classes or classes_for(values, info)
    broken = layer.broken

    def style(row: Mapping[Hashable, Any]) -> dict[str, object]:
        if layer.outline_only:
            bad = str(row.get("code")) in broken
            return PathStyle(
                colour="#e31a1c" if bad else "#7f7f7f",
                weight=2.5 if bad else 0.8,
                fill_colour="#fbb4ae" if bad else "#f7f7f7",
                fill_opacity=0.6 if bad else 0.35,
            ).leaflet()
        return village_style(number(row.get(info.id)), classes=classes).leaflet()

    value_row = [("value_text", info.name)] if layer.show_value else []
    tooltip_rows = [("name", "村"), ("town_name", "乡镇"), *value_row]
    popup_rows = [
        ("name", "村"),
        ("code", "代码"),
        ("town_name", "乡镇"),
        ("households_text", "常住户数"),
        *value_row,
        *[(f"fact_{f.id}", f.name) for f in layer.facts if f.id != info.id],
    ]
    if broken:
        tooltip_rows.append(("flag_text", layer.flag_label))
        popup_rows.append(("flag_text", layer.flag_label))
    popup_rows.append(("links", "查看"))
    geojson = add_geojson(
        m,
        frame,
        name=name,
        properties=village_properties(layer),
        style=style,
        decimals=decimals,
        basemap=basemap,
        tooltip_rows=tooltip_rows,
        popup_rows=popup_rows,
        highlight=HIGHLIGHT,
        show=show,
    )
    return geojson, classes, missing


def add_towns(
    m: folium.Map,
    towns: gpd.GeoDataFrame,
    *,
    basemap: Basemap = NO_BASEMAP,
    decimals: int,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.GeoJson:
    """Town boundaries as outlines, not interactive (hovering reaches the village below)."""
    frame = simplify_frame(drawable(towns, argument="towns"), tolerance_m=tolerance_m)
    return add_geojson(
        m,
        frame,
        name=TOWN_LAYER_NAME,
        properties=lambda row: {"code": row.get("code"), "name": row.get("name")},
        style=lambda _row: TOWN_STYLE.leaflet(),
        decimals=decimals,
        basemap=basemap,
        interactive=False,
    )
