"""Households as fast clusters: tens of thousands of points in a few hundred kilobytes.

One ``folium.Marker`` per household costs ~440 bytes of page and most of the render time. Here
the points travel as one compact array (integer steps of 1e-5 degree, ~1 m, each point as the
step from the previous one after sorting by ~2 km cells) plus one digit per point for its
category; a few lines of JavaScript rebuild them into Leaflet.markercluster (served from the
installed XStatic package) as tiny CSS-only markers. No marker images, no per-point popups: a
click on a point shows its category label (our own constant text).

No personal data travels: a point carries its position and a category, nothing else.
"""

from __future__ import annotations

import numpy as np
from folium.map import Layer
from folium.template import Template
from numpy.typing import ArrayLike, NDArray

from maps.escape import escape_text
from maps.style import Categories

SCALE = 100_000  # 1e-5 degree steps (~1.1 m)
CELL_DEGREES = 0.02  # sorting cells (~2 km): neighbours in the array are neighbours on the map
MAX_CATEGORIES = 10  # one decimal digit per point


def encode_points(lon: ArrayLike, lat: ArrayLike, categories: ArrayLike) -> dict[str, object]:
    """The compact form of the points: ``{"x0", "y0", "d": [dx, dy, ...], "c": "0123..."}``.

    Coordinates are rounded to 1e-5 degree; ``x0``/``y0`` is the origin of the first step.
    """
    lon_ = np.asarray(lon, dtype=float)
    lat_ = np.asarray(lat, dtype=float)
    cats = np.asarray(categories, dtype=np.int64)
    if not (len(lon_) == len(lat_) == len(cats)):
        msg = "lon, lat and categories must have the same length"
        raise ValueError(msg)
    if len(cats) and (cats.min() < 0 or cats.max() >= MAX_CATEGORIES):
        msg = f"categories must be 0..{MAX_CATEGORIES - 1}"
        raise ValueError(msg)
    if not len(lon_):
        return {"x0": 0, "y0": 0, "d": [], "c": ""}
    x = np.round(lon_ * SCALE).astype(np.int64)
    y = np.round(lat_ * SCALE).astype(np.int64)
    cell = int(CELL_DEGREES * SCALE)
    order = np.lexsort((y, x, x // cell, y // cell))
    x, y, cats = x[order], y[order], cats[order]
    x0, y0 = int(x[0]), int(y[0])
    steps = np.column_stack([np.diff(x, prepend=x0), np.diff(y, prepend=y0)])
    return {
        "x0": x0,
        "y0": y0,
        "d": steps.ravel().tolist(),
        "c": "".join(map(str, cats.tolist())),
    }


def decode_points(
    data: dict[str, object],
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[int]]:
    """The inverse of :func:`encode_points` (sorted order): lon, lat, category per point."""
    steps = np.asarray(data["d"], dtype=np.int64).reshape(-1, 2)
    x = int(data["x0"]) + np.cumsum(steps[:, 0])  # type: ignore[call-overload]
    y = int(data["y0"]) + np.cumsum(steps[:, 1])  # type: ignore[call-overload]
    return x / SCALE, y / SCALE, [int(c) for c in str(data["c"])]


class PointClusters(Layer):
    """A marker-cluster layer of many small points coloured by category (see module doc)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            .rural-pt { border-radius: 50%; border: 1px solid rgba(0,0,0,0.55); }
            {%- for colour in this.colours %}
            .{{ this.css }}-{{ loop.index0 }} { background: {{ colour }}; }
            {%- endfor %}
            .rural-cluster {
                background: rgba(44, 62, 80, 0.78); color: #fff; border-radius: 50%;
                text-align: center; font-size: 12px; font-weight: bold;
                border: 2px solid rgba(255,255,255,0.9); box-shadow: 0 0 3px rgba(0,0,0,0.4);
            }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var data = {{ this.data|tojson }};
            var labels = {{ this.labels|tojson }};
            var group = L.markerClusterGroup({
                chunkedLoading: true,
                showCoverageOnHover: false,
                spiderfyOnMaxZoom: false,
                disableClusteringAtZoom: {{ this.unclustered_zoom }},
                maxClusterRadius: 60,
                iconCreateFunction: function (cluster) {
                    var n = cluster.getChildCount();
                    var size = n < 100 ? 30 : (n < 1000 ? 38 : 46);
                    var icon = document.createElement("div");
                    icon.textContent = String(n);
                    icon.style.lineHeight = (size - 4) + "px";
                    return L.divIcon({
                        html: icon.outerHTML, className: "rural-cluster",
                        iconSize: [size, size]
                    });
                }
            });
            var icons = labels.map(function (_, i) {
                return L.divIcon({
                    className: "rural-pt {{ this.css }}-" + i, iconSize: [9, 9]
                });
            });
            var markers = new Array(data.c.length);
            var x = data.x0, y = data.y0;
            for (var i = 0; i < data.c.length; i++) {
                x += data.d[2 * i];
                y += data.d[2 * i + 1];
                var c = data.c.charCodeAt(i) - 48;
                var marker = L.marker([y / {{ this.scale }}, x / {{ this.scale }}], {
                    icon: icons[c], keyboard: false
                });
                marker.category = c;
                markers[i] = marker;
            }
            group.addLayers(markers);
            group.on("click", function (e) {
                var text = document.createElement("div");
                text.textContent = {{ this.popup_title|tojson }} + ": " + labels[e.layer.category];
                L.popup().setLatLng(e.layer.getLatLng()).setContent(text)
                    .openOn({{ this._parent.get_name() }});
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        name: str,
        lon: ArrayLike,
        lat: ArrayLike,
        categories: ArrayLike,
        palette: Categories,
        popup_title: str,
        show: bool = True,
        unclustered_zoom: int = 17,
    ) -> None:
        super().__init__(name=escape_text(name), overlay=True, control=True, show=show)
        self._name = "PointClusters"
        if len(palette.items) > MAX_CATEGORIES:
            msg = f"at most {MAX_CATEGORIES} categories"
            raise ValueError(msg)
        self.data = encode_points(lon, lat, categories)
        self.point_count = len(str(self.data["c"]))
        self.labels = [item.label for item in palette.items]  # our constants; shown as text
        self.colours = [item.colour for item in palette.items]  # checked #rrggbb
        self.css = f"rural-pt-{self.get_name()}"
        self.scale = SCALE
        self.popup_title = popup_title
        self.unclustered_zoom = unclustered_zoom
        # Per instance, never on the class: maps.assets.localize points these at local files.
        self.default_js = [("markerclusterjs", "leaflet.markercluster.js")]
        self.default_css = [("markerclustercss", "MarkerCluster.css")]
