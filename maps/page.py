"""The frame every map shares: the Leaflet map, its layers from GeoDataFrames, the page chrome
(title, 示例数据 badge, legend, scale, navigation), village search and the layer switcher.

Builders in the other modules only choose layers, styles and the facts in popups; everything
that touches text from the data goes through here and :mod:`maps.escape`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from maps.assets import Assets, localize, render_page
from maps.basemaps import NO_BASEMAP, Basemap
from maps.escape import escape_properties, escape_text
from maps.popups import Links
from maps.popups import popup as make_popup
from maps.popups import tooltip as make_tooltip
from maps.style import PointStyle
from rural.errors import ValidationError

DRAW_CRS = "EPSG:4326"
COUNTY_DECIMALS = 5  # ~1.1 m: finer than a screen pixel at any county or town zoom
VILLAGE_DECIMALS = 6  # ~0.1 m for the close-up map of one village
MAX_ZOOM = 18
DEMO_BADGE = "示例数据"
FONT_STACK = (
    '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
)
# Shown where no data gives the map a place (roughly the middle of China).
FALLBACK_CENTRE = (35.0, 105.0)

Properties = Callable[[Mapping[Hashable, Any]], dict[str, object]]
Style = Callable[[Mapping[Hashable, Any]], dict[str, object]]


# ---------------------------------------------------------------- values and text


def number(value: object) -> float | None:
    """A finite float, or None for missing, NaN and anything that is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real) and math.isfinite(float(value)):
        return float(value)
    return None


def count_text(value: object) -> str:
    found = number(value)
    return "—" if found is None else f"{int(found):,}"


def tonnes_text(value: object) -> str:
    found = number(value)
    return "—" if found is None else f"{found:,.1f} 吨"


# ---------------------------------------------------------------- geometry to GeoJSON


def drawable(frame: gpd.GeoDataFrame, *, argument: str) -> gpd.GeoDataFrame:
    """``frame`` in the drawing CRS, without rows that have no geometry."""
    if frame.crs is None:
        msg = f"{argument} has no CRS: expected EPSG:4490 (CGCS2000)"
        raise ValidationError(msg, field=argument, value=None)
    keep = frame.geometry.notna() & ~frame.geometry.is_empty
    return frame.loc[keep].to_crs(DRAW_CRS)


def rounded(geometries: Any, decimals: int) -> Any:
    return shapely.transform(
        np.asarray(geometries, dtype=object), lambda xy: np.round(xy, decimals)
    )


def feature_collection(
    frame: gpd.GeoDataFrame,
    properties: Properties,
    *,
    decimals: int,
    basemap: Basemap = NO_BASEMAP,
) -> dict[str, Any]:
    """GeoJSON with display coordinates (rounded, GCJ-02 on Gaode) and escaped properties.

    Feature ids are row numbers, which the per-feature styles refer to.
    """
    geometries = rounded(
        basemap.to_display(np.asarray(frame.geometry.array, dtype=object)), decimals
    )
    features = []
    for index, (geometry, row) in enumerate(zip(geometries, frame.to_dict("records"), strict=True)):
        features.append(
            {
                "type": "Feature",
                "id": str(index),
                "geometry": shapely.geometry.mapping(geometry),
                "properties": escape_properties(properties(row)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def bounds_of(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]] | None:
    """[[south, west], [north, east]] around every frame (drawing CRS), or None if all empty."""
    boxes = [f.total_bounds for f in frames if len(f)]
    if not boxes:
        return None
    stacked = np.vstack(boxes)
    minx, miny = stacked[:, 0].min(), stacked[:, 1].min()
    maxx, maxy = stacked[:, 2].max(), stacked[:, 3].max()
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


# ---------------------------------------------------------------- legend and chrome


@dataclass(frozen=True)
class LegendSection:
    """A block of the legend: a title and (colour, label) rows drawn as boxes, dots or lines."""

    title: str
    items: Sequence[tuple[str, str]]
    shape: str = "box"  # box | dot | line


@dataclass(frozen=True)
class NavLink:
    """A link in the title bar (served maps only): another map or another indicator."""

    url: str
    label: str
    current: bool = False


@dataclass
class PageOptions:
    """What the page around the map shows."""

    title: str
    demo: bool = False
    legend: list[LegendSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    nav: list[NavLink] = field(default_factory=list)
    choices_label: str = ""
    choices: list[NavLink] = field(default_factory=list)


@dataclass(frozen=True)
class MapSetup:
    """How a map is delivered: assets, basemap, where links point, the demo badge, navigation.

    Served maps get served assets, links relative to the app and navigation; saved maps get
    inline assets and links to the configured base URL.
    """

    assets: Assets = field(default_factory=Assets.served)
    basemap: Basemap = NO_BASEMAP
    links: Links = field(default_factory=Links)
    demo: bool = False
    nav: tuple[NavLink, ...] = ()
    choices_label: str = ""
    choices: tuple[NavLink, ...] = ()

    def page(self, title: str, **kwargs: Any) -> PageOptions:
        """The page options of a map with this setup's badge and navigation."""
        return PageOptions(
            title=title,
            demo=self.demo,
            nav=list(self.nav),
            choices_label=self.choices_label,
            choices=list(self.choices),
            **kwargs,
        )


class _PageChrome(MacroElement):
    """Title bar with the 示例数据 badge, navigation, legend, fonts, metric scale, fit to data."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            html, body, .leaflet-container { font-family: {{ this.font_stack }}; }
            .rural-title {
                position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
                z-index: 1000; background: rgba(255,255,255,0.94); padding: 6px 14px;
                border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); text-align: center;
                font-size: 18px; font-weight: bold; color: #222; white-space: nowrap;
            }
            .rural-demo-badge {
                display: inline-block; margin-left: 10px; padding: 1px 8px; border-radius: 3px;
                background: #d9480f; color: #fff; font-size: 13px; vertical-align: middle;
            }
            .rural-nav { font-size: 13px; font-weight: normal; margin-top: 4px; }
            .rural-nav a { color: #0b3d91; margin: 0 4px; text-decoration: none; }
            .rural-nav a.rural-current { color: #222; font-weight: bold; }
            .rural-nav select { font-size: 13px; max-width: 220px; }
            .rural-legend {
                position: absolute; bottom: 24px; left: 10px; z-index: 1000;
                background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 4px;
                box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 13px; line-height: 20px;
                max-height: 60vh; overflow-y: auto;
            }
            .rural-legend h4 { margin: 6px 0 2px 0; font-size: 14px; }
            .rural-legend h4:first-child { margin-top: 0; }
            .rural-legend i {
                display: inline-block; width: 18px; height: 12px; margin-right: 6px;
                vertical-align: middle; border: 1px solid #888;
            }
            .rural-legend i.rural-dot { width: 11px; height: 11px; border-radius: 50%; }
            .rural-legend i.rural-line { height: 0; border: 0; border-top: 3px solid; }
            .rural-legend .rural-legend-note { color: #555; margin-top: 4px; max-width: 260px; }
            .rural-popup th { color: #555; font-weight: normal; white-space: nowrap; }
        </style>
        {% endmacro %}

        {% macro html(this, kwargs) %}
        <div class="rural-title" id="rural-title">{{ this.title }}
            {%- if this.demo %}<span class="rural-demo-badge">{{ this.badge }}</span>{% endif %}
            {%- if this.nav or this.choices %}
            <div class="rural-nav" id="rural-nav">
            {%- for url, label, current in this.nav %}
                <a href="{{ url }}"{% if current %} class="rural-current"{% endif %}>{{ label }}</a>
            {%- endfor %}
            {%- if this.choices %}
                <label>{{ this.choices_label }}
                <select id="rural-choices" onchange="window.location.href = this.value;">
                {%- for url, label, current in this.choices %}
                    <option value="{{ url }}"{% if current %} selected{% endif %}>
                        {{- label -}}
                    </option>
                {%- endfor %}
                </select></label>
            {%- endif %}
            </div>
            {%- endif %}
        </div>
        {%- if this.legend or this.notes %}
        <div class="rural-legend" id="rural-legend">
            {%- for title, items, shape in this.legend %}
            <h4>{{ title }}</h4>
            {%- for colour, label in items %}
            <div><i class="rural-{{ shape }}" style="{{ this.swatch[shape] }}: {{ colour }}"></i>
                {{- label -}}
            </div>
            {%- endfor %}
            {%- endfor %}
            {%- for note in this.notes %}
            <div class="rural-legend-note">{{ note }}</div>
            {%- endfor %}
        </div>
        {%- endif %}
        {% endmacro %}

        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
            L.control.scale({imperial: false, position: "bottomright"})
                .addTo({{ this._parent.get_name() }});
            {%- if this.bounds %}
            // No zoom animation: the map is ready, and stays put, once the page has loaded.
            {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {
                animate: false, maxZoom: {{ this.fit_max_zoom }},
                paddingTopLeft: [20, {{ this.top_padding }}], paddingBottomRight: [20, 20]
            });
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, options: PageOptions, *, bounds: list[list[float]] | None) -> None:
        super().__init__()
        self._name = "RuralPageChrome"
        # The template does not autoescape: everything below is escaped or our own constant.
        self.title = escape_text(options.title)
        self.demo = options.demo
        self.badge = DEMO_BADGE
        self.legend = [
            (
                escape_text(section.title),
                [(_colour(colour), escape_text(label)) for colour, label in section.items],
                section.shape if section.shape in ("box", "dot", "line") else "box",
            )
            for section in options.legend
        ]
        self.notes = [escape_text(note) for note in options.notes]
        self.nav = [(escape_text(n.url), escape_text(n.label), n.current) for n in options.nav]
        self.choices_label = escape_text(options.choices_label)
        self.choices = [
            (escape_text(n.url), escape_text(n.label), n.current) for n in options.choices
        ]
        self.swatch = {"line": "border-top-color", "box": "background", "dot": "background"}
        self.font_stack = FONT_STACK
        # Leaflet's default prefix is a link with a flag; keep the credit, drop the link.
        self.prefix = "Leaflet"
        self.bounds = bounds
        self.fit_max_zoom = 16
        self.top_padding = 90 if (self.nav or self.choices) else 60


def _colour(value: str) -> str:
    # Legend colours come from maps.style (checked #rrggbb); refuse anything else.
    if (
        len(value) != 7
        or not value.startswith("#")
        or not all(c in "0123456789abcdefABCDEF" for c in value[1:])
    ):
        msg = f"legend colour must be #rrggbb, got {value!r}"
        raise ValueError(msg)
    return value


class VillageSearch(MacroElement):
    """A search box (村名或代码) over a polygon layer: zooms to the village and opens its popup.

    Names reach the page escaped; the box decodes them as text (a ``<textarea>`` parses no
    markup) and puts them in ``<option>`` values, never into HTML.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            .rural-search { background: #fff; padding: 4px; }
            .rural-search input { width: 190px; font-size: 13px; padding: 3px 4px; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer.get_name() }};
            function decode(text) {
                var area = document.createElement("textarea");
                area.innerHTML = text == null ? "" : String(text);
                return area.value;
            }
            var Search = L.Control.extend({
                options: {position: "topleft"},
                onAdd: function () {
                    var box = L.DomUtil.create("div", "rural-search leaflet-bar");
                    box.id = "rural-search";
                    var input = L.DomUtil.create("input", "", box);
                    input.type = "search";
                    input.placeholder = {{ this.placeholder|tojson }};
                    input.setAttribute("list", "rural-search-list");
                    input.setAttribute("aria-label", {{ this.placeholder|tojson }});
                    var list = L.DomUtil.create("datalist", "", box);
                    list.id = "rural-search-list";
                    var index = {};
                    var byName = {};
                    layer.eachLayer(function (item) {
                        var p = item.feature.properties;
                        var name = decode(p.name);
                        var town = decode(p.town_name);
                        var key = town && town !== "—" ? name + " · " + town : name;
                        var option = document.createElement("option");
                        option.value = key;
                        list.appendChild(option);
                        index[key] = item;
                        index[decode(p.code)] = item;
                        (byName[name] = byName[name] || []).push(item);
                    });
                    // A bare name finds its village only when no other village has that name.
                    Object.keys(byName).forEach(function (name) {
                        if (byName[name].length === 1 && !(name in index)) {
                            index[name] = byName[name][0];
                        }
                    });
                    function find(text) {
                        if (!text) { return null; }
                        if (Object.prototype.hasOwnProperty.call(index, text)) {
                            return index[text];
                        }
                        // part of a name, a town or a code: the one village it names, if one
                        var found = null;
                        for (var key in index) {
                            if (key.indexOf(text) !== -1) {
                                if (found && found !== index[key]) { return null; }
                                found = index[key];
                            }
                        }
                        return found;
                    }
                    function go() {
                        var item = find(input.value.trim());
                        if (!item) { return; }
                        map.fitBounds(item.getBounds(), {animate: false, maxZoom: 15});
                        item.fire("click", {latlng: item.getBounds().getCenter()}, true);
                    }
                    L.DomEvent.on(input, "change", go);
                    L.DomEvent.on(input, "keydown", function (e) {
                        if (e.key === "Enter") { go(); }
                    });
                    L.DomEvent.disableClickPropagation(box);
                    L.DomEvent.disableScrollPropagation(box);
                    return box;
                }
            });
            new Search().addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.GeoJson) -> None:
        super().__init__()
        self._name = "VillageSearch"
        self.layer = layer
        self.placeholder = "搜索村名或代码"


# ---------------------------------------------------------------- the map and its layers


def new_map(
    *, title: str, bounds: list[list[float]] | None, basemap: Basemap = NO_BASEMAP
) -> folium.Map:
    """An empty Leaflet map (SVG paths, metric scale added later) with the configured basemap."""
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
        zoomSnap=0.25,  # fit the county to the screen, not to the next power of two
        zoomDelta=0.5,
    )
    figure = m.get_root()
    assert isinstance(figure, Figure)  # folium.Map always sits in a Figure
    figure.title = escape_text(title)
    # No favicon request: a saved map makes none at all, a served one no 404.
    figure.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    for index, tile in enumerate(basemap.tiles):
        folium.TileLayer(
            tiles=tile.url,
            attr=escape_text(tile.attribution),
            name=basemap.label if index == 0 else f"{basemap.label}注记",
            subdomains=tile.subdomains or "abc",
            max_zoom=tile.max_zoom,
            overlay=index > 0,
            control=index == 0,
        ).add_to(m)
    return m


def display_bounds(
    frames: Sequence[gpd.GeoDataFrame], basemap: Basemap = NO_BASEMAP
) -> list[list[float]] | None:
    """The bounds of ``frames`` as drawn on ``basemap`` (shifted to GCJ-02 on Gaode)."""
    found = bounds_of(frames)
    if found is None or not basemap.gcj02:
        return found
    (south, west), (north, east) = found
    west2, south2 = basemap.point_to_display(west, south)
    east2, north2 = basemap.point_to_display(east, north)
    return [[south2, west2], [north2, east2]]


def add_geojson(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    properties: Properties,
    style: Style,
    decimals: int,
    basemap: Basemap = NO_BASEMAP,
    tooltip_rows: Sequence[tuple[str, str]] = (),
    popup_rows: Sequence[tuple[str, str]] = (),
    highlight: dict[str, object] | None = None,
    points: bool = False,
    interactive: bool = True,
    show: bool = True,
) -> folium.GeoJson:
    """A GeoJSON layer of ``frame`` (drawing CRS) with per-feature styles worked out in Python.

    Points are drawn as circle markers (vector: no marker images to fetch).
    """
    styles = {str(i): style(row) for i, row in enumerate(frame.to_dict("records"))}
    has_features = len(frame) > 0
    layer = folium.GeoJson(
        feature_collection(frame, properties, decimals=decimals, basemap=basemap),
        name=escape_text(name),  # Leaflet's layer switcher shows names as HTML
        style_function=lambda feature: styles[feature["id"]],
        highlight_function=(lambda _feature: highlight) if highlight else None,
        # folium checks the fields against the first feature: no features, no tooltip.
        tooltip=make_tooltip(tooltip_rows) if tooltip_rows and has_features else None,
        popup=make_popup(popup_rows) if popup_rows and has_features else None,
        marker=folium.CircleMarker(radius=6) if points else None,
        interactive=interactive,
        show=show,
        zoom_on_click=False,
    )
    layer.add_to(m)
    return layer


def finish(
    m: folium.Map,
    options: PageOptions,
    *,
    bounds: list[list[float]] | None,
    assets: Assets,
    search_layer: folium.GeoJson | None = None,
) -> folium.Map:
    """Add the chrome, the village search and the layer switcher; point assets local."""
    _PageChrome(options, bounds=bounds).add_to(m)
    if search_layer is not None and search_layer.data.get("features"):
        VillageSearch(search_layer).add_to(m)
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
    """Features per GeoJSON layer name (and points per cluster layer), for reports and tests."""
    counts: dict[str, int] = {}
    for child in m._children.values():
        if isinstance(child, folium.GeoJson):
            counts[str(child.layer_name)] = len(child.data.get("features", []))
        elif isinstance(child, Layer) and hasattr(child, "point_count"):
            counts[str(child.layer_name)] = int(child.point_count)
    return counts


def add_points(
    m: folium.Map,
    points: gpd.GeoDataFrame,
    *,
    name: str,
    colour: Callable[[Mapping[Hashable, Any]], str],
    properties: Properties,
    tooltip_rows: Sequence[tuple[str, str]],
    popup_rows: Sequence[tuple[str, str]],
    decimals: int,
    basemap: Basemap = NO_BASEMAP,
    radius: Callable[[Mapping[Hashable, Any]], float] | float = 6.0,
    show: bool = True,
) -> folium.GeoJson:
    """Point features as circle markers coloured per feature (no marker images)."""
    frame = drawable(points, argument=name)

    def style(row: Mapping[Hashable, Any]) -> dict[str, object]:
        size = radius(row) if callable(radius) else radius
        return PointStyle(colour=colour(row), radius=size).leaflet()

    return add_geojson(
        m,
        frame,
        name=name,
        properties=properties,
        style=style,
        decimals=decimals,
        basemap=basemap,
        tooltip_rows=tooltip_rows,
        popup_rows=popup_rows,
        highlight={"weight": 3, "color": "#0b3d91"},
        points=True,
        show=show,
    )
