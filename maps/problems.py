"""The open problems map 督查整改: every problem not yet closed (销号), red when overdue, and
the villages that have overdue ones outlined in red."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from gis.layers import IndicatorInfo
from maps.areas import VillageLayer, add_towns, add_villages
from maps.enums_text import label_of
from maps.overview import HARMLESS
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
from maps.style import PROBLEM_STATE
from maps.topology import COUNTY_TOLERANCE_M
from rural.enums import Escalation, ProblemSource, ProblemStatus, ProblemType
from rural.masking import mask_text

PROBLEM_LAYER_NAME = "未销号问题"
VILLAGE_LAYER_NAME = "村 · 逾期问题"
DESCRIPTION_CHARS = 80


def problem_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    """A problem's popup facts. Maps carry no personal data: phone and ID numbers written into
    the description are masked (before it is shortened, so no half number is left)."""
    text = mask_text(str(row.get("description") or ""))
    if len(text) > DESCRIPTION_CHARS:
        text = text[:DESCRIPTION_CHARS] + "…"
    deadline = row.get("deadline")
    return {
        "type_text": label_of(ProblemType, row.get("problem_type")),
        "source_text": label_of(ProblemSource, row.get("source")),
        "village_name": row.get("village_name"),
        "description": text,
        "status_text": label_of(ProblemStatus, row.get("status")),
        "deadline_text": "未定" if deadline is None else str(deadline),
        "escalation_text": label_of(Escalation, row.get("escalation")),
        "state_text": PROBLEM_STATE.label(row.get("state")),
    }


def add_problems(
    m: folium.Map, problems: gpd.GeoDataFrame, *, setup: MapSetup, decimals: int
) -> folium.GeoJson:
    return add_points(
        m,
        problems,
        name=PROBLEM_LAYER_NAME,
        colour=lambda row: PROBLEM_STATE.colour(row.get("state")),
        properties=problem_properties,
        tooltip_rows=[("type_text", "问题"), ("village_name", "村"), ("state_text", "期限")],
        popup_rows=[
            ("type_text", "类型"),
            ("village_name", "村"),
            ("description", "描述"),
            ("source_text", "来源"),
            ("status_text", "状态"),
            ("deadline_text", "整改期限"),
            ("state_text", "期限"),
            ("escalation_text", "督办"),
        ],
        decimals=decimals,
        basemap=setup.basemap,
        radius=lambda row: 7.0 if row.get("state") == "overdue" else 5.0,
    )


def overdue_by_village(problems: gpd.GeoDataFrame) -> dict[str, list[str]]:
    if not len(problems):
        return {}
    overdue = problems[problems["state"] == "overdue"]
    counts = overdue.groupby("village_code").size()
    return {str(code): [f"逾期未销号 {int(n)} 件"] for code, n in counts.items()}


def build_problems_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    problems: gpd.GeoDataFrame,
    *,
    title: str,
    setup: MapSetup,
    facts: Sequence[IndicatorInfo] = (),
    decimals: int = COUNTY_DECIMALS,
    tolerance_m: float = COUNTY_TOLERANCE_M,
) -> folium.Map:
    """Open problems as points; villages with overdue problems outlined in red."""
    frames = [drawable(villages, argument="villages"), drawable(towns, argument="towns")]
    bounds = display_bounds(frames, setup.basemap)
    m = new_map(title=title, bounds=bounds, basemap=setup.basemap)
    layer = VillageLayer(
        indicator=HARMLESS,
        facts=facts,
        links=setup.links,
        outline_only=True,
        broken=overdue_by_village(problems),
        flag_label="逾期问题",
        flag_ok="无",
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
    add_problems(m, problems, setup=setup, decimals=decimals)
    overdue = int((problems["state"] == "overdue").sum()) if len(problems) else 0
    legend = [
        LegendSection(PROBLEM_LAYER_NAME, PROBLEM_STATE.legend(), "dot"),
        LegendSection("村", [("#e31a1c", "有逾期未销号问题"), ("#7f7f7f", "无逾期问题")]),
    ]
    notes = [f"未销号 {len(problems)} 件, 其中逾期 {overdue} 件"]
    if missing:
        notes.append(f"{missing} 个村无边界数据，未上图")
    return finish(
        m,
        setup.page(title, legend=legend, notes=notes),
        bounds=bounds,
        assets=setup.assets,
        search_layer=geojson,
    )
