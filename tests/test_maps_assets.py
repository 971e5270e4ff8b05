"""maps.assets: every JS/CSS file of a map is local; folium's class-level lists stay untouched."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import pytest
from folium.plugins import Fullscreen, MarkerCluster

from maps.assets import (
    Assets,
    MissingAssetError,
    asset_files,
    external_references,
    localize,
    media_type,
    render_page,
)

CDN_LEAFLET = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"


def _plain_map() -> folium.Map:
    m = folium.Map(location=(30.0, 120.0), zoom_start=10, tiles=None, maxZoom=18)
    folium.GeoJson(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [120.0, 30.0]},
            "properties": {},
        },
        marker=folium.CircleMarker(radius=4),
    ).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def test_asset_files_exist_with_versioned_paths() -> None:
    files = asset_files()
    for required in (
        "leaflet/1.9.3/leaflet.js",
        "leaflet/1.9.3/leaflet.css",
        "leaflet/1.9.3/images/layers.png",
        "leaflet/1.9.3/images/marker-icon.png",
        "leaflet.markercluster/1.4.1/leaflet.markercluster.js",
        "leaflet.markercluster/1.4.1/MarkerCluster.Default.css",
    ):
        assert required in files, required
    for path, file in files.items():
        assert file.path == path
        assert file.source.is_file(), file.source
        assert not path.startswith("/")
        assert ".." not in path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("leaflet/1.9.3/leaflet.js", "text/javascript; charset=utf-8"),
        ("leaflet/1.9.3/leaflet.css", "text/css; charset=utf-8"),
        ("leaflet/1.9.3/images/layers.png", "image/png"),
    ],
)
def test_media_types(path: str, expected: str) -> None:
    assert media_type(path) == expected


def test_served_page_has_no_http_reference_at_all() -> None:
    html = render_page(_plain_map(), assets=Assets.served())
    assert "http://" not in html
    assert "https://" not in html
    # Only Leaflet is loaded: jQuery, Bootstrap, Font Awesome and awesome-markers are dropped.
    scripts = re.findall(r'<script src="([^"]+)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert scripts == ["/static/vendor/leaflet/1.9.3/leaflet.js"]
    assert styles == ["/static/vendor/leaflet/1.9.3/leaflet.css"]
    files = asset_files()
    for url in scripts + styles:
        assert url.removeprefix("/static/vendor/") in files


def test_base_url_is_configurable() -> None:
    html = render_page(_plain_map(), assets=Assets.served("/rural/static/vendor/"))
    assert '<script src="/rural/static/vendor/leaflet/1.9.3/leaflet.js"></script>' in html


@pytest.mark.parametrize("base", ["https://cdn.example.com/vendor", "//cdn.example.com", "file:/x"])
def test_base_url_naming_another_host_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="local path"):
        Assets(base_url=base)


def test_localize_changes_this_map_only() -> None:
    before_js = list(folium.Map.default_js)
    before_css = list(folium.Map.default_css)
    localize(_plain_map(), Assets.served())
    assert folium.Map.default_js == before_js
    assert folium.Map.default_css == before_css
    assert (
        "leaflet",
        CDN_LEAFLET,
    ) in folium.Map.default_js
    # A map built afterwards, never localized, still uses folium's own defaults.
    other = folium.Map(tiles=None).get_root().render()
    assert CDN_LEAFLET in other


def test_plugin_assets_are_localized_too() -> None:
    m = _plain_map()
    MarkerCluster().add_to(m)
    html = render_page(m, assets=Assets.served())
    assert "/static/vendor/leaflet.markercluster/1.4.1/leaflet.markercluster.js" in html
    assert "/static/vendor/leaflet.markercluster/1.4.1/MarkerCluster.css" in html
    assert "https://" not in html
    assert MarkerCluster.default_js[0][1].startswith("https://")  # class list untouched


def test_element_needing_an_unbundled_library_is_refused() -> None:
    m = _plain_map()
    Fullscreen().add_to(m)
    with pytest.raises(MissingAssetError, match="Fullscreen needs"):
        localize(m, Assets.served())


def test_folium_popup_is_refused_because_it_needs_jquery() -> None:
    m = _plain_map()
    folium.Marker((30.0, 120.0), popup=folium.Popup("x")).add_to(m)
    with pytest.raises(MissingAssetError, match="jQuery"):
        localize(m, Assets.served())


def test_inline_page_embeds_leaflet_and_its_images() -> None:
    html = render_page(_plain_map(), assets=Assets.inline())
    # Browsers only look for the charset in the first 1024 bytes: it comes before the library.
    assert html.index("charset=UTF-8") < 1024
    assert "<script src=" not in html
    assert '<link rel="stylesheet"' not in html
    leaflet_js = (asset_files()["leaflet/1.9.3/leaflet.js"].source).read_text(encoding="utf-8")
    assert leaflet_js[:200] in html  # the library itself, not a link to it
    assert "url(data:image/png;base64," in html
    assert "url(images/" not in html


def test_switching_from_inline_back_to_served_leaves_no_inline_copy() -> None:
    m = _plain_map()
    render_page(m, assets=Assets.inline())
    html = render_page(m, assets=Assets.served())
    assert "data:image/png;base64" not in html
    assert html.count("leaflet.js") == 1


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<script src="https://cdn.example.com/a.js"></script>', 1),
        ("<link rel=stylesheet href='http://x/a.css'>", 1),
        ('<img src="//cdn.example.com/a.png">', 1),
        ("<style>@import 'https://x/y.css'; .a{background:url(https://x/b.png)}</style>", 2),
        ('<script src="/static/vendor/leaflet/1.9.3/leaflet.js"></script>', 0),
        ("<td>see http://example.com in the text</td>", 0),
    ],
)
def test_external_references(html: str, found: int) -> None:
    assert len(external_references(html)) == found


def test_vendor_file_sources_are_inside_the_installed_packages() -> None:
    for file in asset_files().values():
        assert "xstatic" in Path(file.source).as_posix()
