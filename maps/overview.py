"""The county overview map: villages coloured by harmless-toilet rate, town boundaries.

Works with no network: no basemap tiles by default, JS/CSS from :mod:`maps.assets`. Every
string taken from the data passes through :func:`maps.escape.escape_text` before it reaches the
page, so hostile names show literally and cannot run code.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from maps.assets import Assets, localize, render_page
from maps.escape import escape_properties, escape_text
from maps.style import RATE_BREAKS, TOWN_STYLE, ClassBreaks, format_percent, village_style
from rural.errors import ValidationError

DRAW_CRS = "EPSG:4326"
COORDINATE_DECIMALS = 6  # ~0.1 m: finer digits only make the page heavier
MAX_ZOOM = 18
DEMO_BADGE = "示例数据"
VILLAGE_LAYER_NAME = "村 · 无害化卫生厕所普及率"
TOWN_LAYER_NAME = "乡镇界"
RATE_TITLE = "无害化卫生厕所普及率"
FONT_STACK = (
    '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
)
# Shown where no boundary data gives the map a place (roughly the middle of China).
FALLBACK_CENTRE = (35.0, 105.0)

# Tooltip rows of a village: (property, Chinese label).
VILLAGE_TOOLTIP = (
    ("name", "村"),
    ("town_name", "乡镇"),
    ("rate_text", RATE_TITLE),
    ("households_text", "常住户数"),
    ("harmless_text", "无害化卫生厕所户数"),
)


def _drawable(frame: gpd.GeoDataFrame, *, argument: str) -> gpd.GeoDataFrame:
    """``frame`` in the drawing CRS, without rows that have no geometry."""
    if frame.crs is None:
        msg = f"{argument} has no CRS: expected EPSG:4490 (CGCS2000)"
        raise ValidationError(msg, field=argument, value=None)
    keep = frame.geometry.notna() & ~frame.geometry.is_empty
    return frame.loc[keep].to_crs(DRAW_CRS)


def _rounded(geometries: Any) -> Any:
    return shapely.transform(
        np.asarray(geometries, dtype=object), lambda xy: np.round(xy, COORDINATE_DECIMALS)
    )


def _feature_collection(
    frame: gpd.GeoDataFrame, properties: Callable[[Mapping[Hashable, Any]], dict[str, object]]
) -> dict[str, Any]:
    """GeoJSON with rounded coordinates and escaped properties; feature ids are row numbers."""
    features = []
    for index, (geometry, row) in enumerate(
        zip(_rounded(frame.geometry.array), frame.to_dict("records"), strict=True)
    ):
        features.append(
            {
                "type": "Feature",
                "id": str(index),
                "geometry": shapely.geometry.mapping(geometry),
                "properties": escape_properties(properties(row)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _number(value: object) -> float | None:
    if isinstance(value, numbers.Real) and math.isfinite(float(value)):
        return float(value)
    return None


def _count_text(value: object) -> str:
    number = _number(value)
    return "—" if number is None else f"{int(number):,}"


def _village_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {
        "code": row.get("code"),
        "name": row.get("name"),
        "town_name": row.get("town_name"),
        "rate_text": format_percent(_number(row.get("harmless_rate"))),
        "households_text": _count_text(row.get("resident_households")),
        "harmless_text": _count_text(row.get("harmless_households")),
    }


def _town_properties(row: Mapping[Hashable, Any]) -> dict[str, object]:
    return {"code": row.get("code"), "name": row.get("name")}


class _PageChrome(MacroElement):
    """Title bar with the 示例数据 badge, legend, fonts, metric scale, plain attribution."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            html, body, .leaflet-container { font-family: {{ this.font_stack }}; }
            .rural-title {
                position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
                z-index: 1000; background: rgba(255,255,255,0.92); padding: 6px 14px;
                border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
                font-size: 18px; font-weight: bold; color: #222; white-space: nowrap;
            }
            .rural-demo-badge {
                display: inline-block; margin-left: 10px; padding: 1px 8px; border-radius: 3px;
                background: #d9480f; color: #fff; font-size: 13px; vertical-align: middle;
            }
            .rural-legend {
                position: absolute; bottom: 24px; left: 10px; z-index: 1000;
                background: rgba(255,255,255,0.92); padding: 8px 10px; border-radius: 4px;
                box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 13px; line-height: 20px;
            }
            .rural-legend h4 { margin: 0 0 4px 0; font-size: 14px; }
            .rural-legend i {
                display: inline-block; width: 18px; height: 12px; margin-right: 6px;
                vertical-align: middle; border: 1px solid #888;
            }
            .rural-legend .rural-legend-note { color: #555; margin-top: 4px; }
        </style>
        {% endmacro %}

        {% macro html(this, kwargs) %}
        <div class="rural-title" id="rural-title">{{ this.title }}
            {%- if this.demo %}<span class="rural-demo-badge">{{ this.badge }}</span>{% endif %}
        </div>
        <div class="rural-legend" id="rural-legend">
            <h4>{{ this.legend_title }}</h4>
            {%- for colour, label in this.legend %}
            <div><i style="background: {{ colour }}"></i>{{ label }}</div>
            {%- endfor %}
            {%- for note in this.notes %}
            <div class="rural-legend-note">{{ note }}</div>
            {%- endfor %}
        </div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
            L.control.scale({imperial: false, position: "bottomright"})
                .addTo({{ this._parent.get_name() }});
            {%- if this.bounds %}
            // No zoom animation: the map is ready, and stays put, once the page has loaded.
            {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {
                animate: false, paddingTopLeft: [20, 60], paddingBottomRight: [20, 20]
            });
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        title: str,
        demo: bool,
        legend_title: str,
        legend: list[tuple[str, str]],
        notes: list[str],
        bounds: list[list[float]] | None,
    ) -> None:
        super().__init__()
        self._name = "RuralPageChrome"
        # The template does not autoescape: everything below is escaped or our own constant.
        self.title = escape_text(title)
        self.demo = demo
        self.badge = DEMO_BADGE
        self.legend_title = escape_text(legend_title)
        self.legend = [(colour, escape_text(label)) for colour, label in legend]
        self.notes = [escape_text(note) for note in notes]
        self.font_stack = FONT_STACK
        # Leaflet's default prefix is a link with a flag; keep the credit, drop the link.
        self.prefix = "Leaflet"
        self.bounds = bounds


def _bounds(frames: list[gpd.GeoDataFrame]) -> list[list[float]] | None:
    boxes = [f.total_bounds for f in frames if len(f)]
    if not boxes:
        return None
    stacked = np.vstack(boxes)
    minx, miny = stacked[:, 0].min(), stacked[:, 1].min()
    maxx, maxy = stacked[:, 2].max(), stacked[:, 3].max()
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def build_overview_map(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    *,
    title: str,
    demo: bool,
    assets: Assets,
    classes: ClassBreaks = RATE_BREAKS,
) -> folium.Map:
    """Villages filled by harmless-toilet rate under town boundaries, with legend and tooltips.

    ``villages`` needs the columns of :func:`gis.layers.village_layer`, ``towns`` those of
    :func:`gis.layers.town_layer`; both must carry a CRS. Features without geometry are left
    out (the legend says how many villages). No basemap tiles.
    """
    village_frame = _drawable(villages, argument="villages")
    town_frame = _drawable(towns, argument="towns")
    bounds = _bounds([village_frame, town_frame])
    if bounds is None:
        centre = FALLBACK_CENTRE
    else:
        (south, west), (north, east) = bounds
        centre = ((south + north) / 2, (west + east) / 2)
    m = folium.Map(
        location=centre,
        zoom_start=4 if bounds is None else 11,
        tiles=None,
        maxZoom=MAX_ZOOM,  # with tiles=None folium drops max_zoom: pass Leaflet's option
        control_scale=False,  # a metric-only scale is added with the page chrome
        prefer_canvas=False,  # SVG paths: one element per feature
    )
    figure = m.get_root()
    assert isinstance(figure, Figure)  # folium.Map always sits in a Figure
    figure.title = escape_text(title)
    # No favicon request: a saved map makes none at all, a served one no 404.
    figure.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")

    # Feature ids are row numbers: the style of each village is worked out here, in Python.
    styles = {
        str(index): village_style(_number(rate), classes=classes).leaflet()
        for index, rate in enumerate(village_frame["harmless_rate"])
    }
    folium.GeoJson(
        _feature_collection(village_frame, _village_properties),
        name=VILLAGE_LAYER_NAME,
        style_function=lambda feature: styles[feature["id"]],
        highlight_function=lambda _feature: {"weight": 3, "color": "#0b3d91", "fillOpacity": 0.9},
        # folium checks the fields against the first feature: no features, no tooltip.
        tooltip=folium.GeoJsonTooltip(
            fields=[key for key, _ in VILLAGE_TOOLTIP],
            aliases=[label for _, label in VILLAGE_TOOLTIP],
            sticky=True,
        )
        if len(village_frame)
        else None,
    ).add_to(m)

    folium.GeoJson(
        _feature_collection(town_frame, _town_properties),
        name=TOWN_LAYER_NAME,
        style_function=lambda _feature: TOWN_STYLE.leaflet(),
        interactive=False,  # hovering a boundary must reach the village underneath
    ).add_to(m)

    missing = len(villages) - len(village_frame)
    notes = [f"{missing} 个村无边界数据，未上图"] if missing else []
    _PageChrome(
        title=title,
        demo=demo,
        legend_title=RATE_TITLE,
        legend=classes.legend(),
        notes=notes,
        bounds=bounds,
    ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return localize(m, assets)


def save(m: folium.Map, path: Path) -> Path:
    """Write ``m`` as one standalone HTML file (Leaflet inlined) that opens from disk offline.

    The map is switched to inline assets; render it again with other assets to serve it.
    """
    html = render_page(m, assets=Assets.inline())
    path.write_text(html, encoding="utf-8")
    return path


def feature_count(m: folium.Map) -> dict[str, int]:
    """Features per GeoJSON layer name, for reports and tests of what a map carries."""
    counts: dict[str, int] = {}
    for child in m._children.values():
        if isinstance(child, folium.GeoJson):
            counts[str(child.layer_name)] = len(child.data.get("features", []))
    return counts
