"""Basemaps: none by default, Tianditu with a key, Gaode, or an intranet tile server.

On a government intranet nothing outside answers, so the default is no basemap at all: the
maps draw their own boundaries. A deployment sets ``RURAL_TILE_SOURCE``:

- ``none``: no tiles;
- ``tianditu``: 天地图 vector tiles and labels (needs ``RURAL_TIANDITU_KEY``). Its coordinates are
  CGCS2000, which draws on Web Mercator tiles with no offset;
- ``gaode``: 高德 tiles, which are in GCJ-02: every overlay is shifted to GCJ-02 **for display
  only** (never stored) with :func:`gis.crs.gcj02_from_wgs84`;
- an URL template with ``{z}``, ``{x}`` and ``{y}`` (``http(s)://...`` or a path on the app):
  an intranet tile server, taken to be in CGCS2000/WGS84 like Tianditu.

The tile key of Tianditu is a browser key: it is in every page and saved map that uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.crs import gcj02_from_wgs84
from rural.errors import ValidationError

TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
GAODE_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")
# Characters a tile URL template may hold (no quotes, spaces or markup).
_URL = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%{}-]+$")


@dataclass(frozen=True)
class TileSpec:
    """One tile layer: a Leaflet URL template, its subdomains and its credit."""

    url: str
    attribution: str
    subdomains: str = ""
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """The configured basemap: zero, one or two tile layers, and whether overlays go GCJ-02."""

    key: str
    label: str
    tiles: tuple[TileSpec, ...] = ()
    gcj02: bool = False

    @property
    def is_none(self) -> bool:
        return not self.tiles

    def origins(self) -> list[str]:
        """Where the browser fetches tiles from (for the page's Content-Security-Policy)."""
        out: list[str] = []
        for tile in self.tiles:
            parts = urlsplit(tile.url)
            if not parts.scheme:
                continue  # a path on the app itself: 'self'
            host = parts.netloc
            if "{s}" in host:
                hosts = [host.replace("{s}", s) for s in tile.subdomains] or [host]
            else:
                hosts = [host]
            out.extend(f"{parts.scheme}://{h}" for h in hosts)
        return sorted(set(out))

    def to_display(self, geometries: NDArray[np.object_]) -> NDArray[np.object_]:
        """``geometries`` (EPSG:4326/4490 lon, lat) as drawn on this basemap's tiles."""
        if not self.gcj02:
            return geometries

        def shift(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            lon, lat = gcj02_from_wgs84(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        return np.asarray(shapely.transform(geometries, shift), dtype=object)

    def point_to_display(self, lon: float, lat: float) -> tuple[float, float]:
        if not self.gcj02:
            return lon, lat
        x, y = gcj02_from_wgs84(np.array([lon]), np.array([lat]))
        return float(x[0]), float(y[0])


NO_BASEMAP = Basemap(key="none", label="无底图")


def _bad(value: str, why: str) -> ValidationError:
    msg = f"tile_source {value!r}: {why}"
    return ValidationError(msg, field="tile_source", value=value)


def basemap_for(tile_source: str, *, tianditu_key: str = "") -> Basemap:
    """The basemap a deployment configured (``RURAL_TILE_SOURCE``, ``RURAL_TIANDITU_KEY``)."""
    source = tile_source.strip()
    kind = source.lower()
    if kind in ("", "none"):
        return NO_BASEMAP
    if kind == "tianditu":
        key = tianditu_key.strip()
        if not _KEY.match(key):
            msg = "RURAL_TIANDITU_KEY must be set to the Tianditu key (tk) to use tianditu tiles"
            raise ValidationError(msg, field="tianditu_key", value="(hidden)")
        return Basemap(
            key="tianditu",
            label="天地图",
            tiles=tuple(
                TileSpec(
                    url=TIANDITU_URL.replace("{layer}", layer).replace("{key}", key),
                    attribution="天地图",
                    subdomains="01234567",
                )
                for layer in ("vec", "cva")
            ),
        )
    if kind == "gaode":
        return Basemap(
            key="gaode",
            label="高德地图",
            tiles=(TileSpec(url=GAODE_URL, attribution="高德地图", subdomains="1234"),),
            gcj02=True,
        )
    if not _URL.match(source):
        raise _bad(source, "has characters a tile URL cannot hold")
    if not all(part in source for part in ("{z}", "{x}", "{y}")):
        raise _bad(source, "expected none, tianditu, gaode or a URL template with {z}/{x}/{y}")
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") and not (not parts.scheme and source.startswith("/")):
        raise _bad(source, "a tile URL must start with http://, https:// or / (a path on the app)")
    if not parts.scheme and source.startswith("//"):
        raise _bad(source, "give the scheme (http:// or https://)")
    subdomains = "abc" if "{s}" in source else ""
    return Basemap(
        key="intranet",
        label="内网底图",
        tiles=(TileSpec(url=source, attribution="内网底图", subdomains=subdomains),),
    )
