"""The small parts of the maps: compact household points, basemaps, categories and breaks, links
in popups, the page chrome's escaping."""

from __future__ import annotations

import math
import re

import folium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from maps.assets import Assets, render_page
from maps.basemaps import NO_BASEMAP, basemap_for
from maps.clusters import SCALE, PointClusters, decode_points, encode_points
from maps.escape import escape_properties
from maps.page import LegendSection, NavLink, PageOptions, finish, new_map
from maps.popups import Links, link_row, village_links
from maps.style import (
    FACILITY_STATUS,
    HOUSEHOLD_TOILET,
    LOAD_BREAKS,
    Categories,
    Category,
    PointStyle,
    StyleError,
    line_style,
    public_toilet_key,
    quantile_breaks,
)
from rural.errors import ValidationError

# ---------------------------------------------------------------- compact points


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=73.0, max_value=136.0),
            st.floats(min_value=3.0, max_value=54.0),
            st.integers(min_value=0, max_value=9),
        ),
        max_size=200,
    )
)
def test_points_survive_encoding_to_a_metre(points: list[tuple[float, float, int]]) -> None:
    lon = np.array([p[0] for p in points], dtype=float)
    lat = np.array([p[1] for p in points], dtype=float)
    categories = np.array([p[2] for p in points], dtype=np.int64)
    data = encode_points(lon, lat, categories)
    lon2, lat2, cats2 = decode_points(data)
    # Sorted differently: compare as multisets of (rounded lon, rounded lat, category).
    want = sorted(
        zip(
            np.round(lon * SCALE).astype(int),
            np.round(lat * SCALE).astype(int),
            categories.tolist(),
            strict=True,
        )
    )
    got = sorted(
        zip(
            np.round(lon2 * SCALE).astype(int),
            np.round(lat2 * SCALE).astype(int),
            cats2,
            strict=True,
        )
    )
    assert got == want
    assert len(data["c"]) == len(points)  # type: ignore[arg-type]


def test_encoding_is_compact() -> None:
    """60,000 points within ~30 km travel in well under 10 bytes each (before gzip)."""
    rng = np.random.default_rng(7)
    centres = rng.uniform([119.6, 28.2], [120.0, 28.5], (200, 2))
    picks = rng.integers(0, 200, 60_000)
    xy = centres[picks] + rng.normal(0, 0.003, (60_000, 2))
    data = encode_points(xy[:, 0], xy[:, 1], rng.integers(0, 5, 60_000))
    text = str(data["d"]).replace(" ", "")
    assert len(text) + len(str(data["c"])) < 10 * 60_000


def test_bad_categories_are_refused() -> None:
    one = np.array([120.0])
    with pytest.raises(ValueError, match=r"categories must be 0\.\.9"):
        encode_points(one, np.array([30.0]), np.array([10]))
    with pytest.raises(ValueError, match="same length"):
        encode_points(one, np.array([30.0, 31.0]), np.array([1]))


def test_cluster_layer_uses_local_markercluster_and_css_markers() -> None:
    m = new_map(title="t", bounds=[[30.0, 120.0], [30.1, 120.1]])
    PointClusters(
        name="农户 <b>",
        lon=np.array([120.01, 120.02]),
        lat=np.array([30.01, 30.02]),
        categories=np.array([0, 4]),
        palette=HOUSEHOLD_TOILET,
        popup_title="户厕",
    ).add_to(m)
    html = render_page(
        finish(m, PageOptions(title="t"), bounds=None, assets=Assets.served()),
        assets=Assets.served(),
    )
    assert (
        '<script src="/static/vendor/leaflet.markercluster/1.4.1/leaflet.markercluster.js">' in html
    )
    assert "/static/vendor/leaflet.markercluster/1.4.1/MarkerCluster.css" in html
    assert "MarkerCluster.Default.css" not in html  # our own neutral cluster style
    assert "marker-icon.png" not in html
    assert "农户 <b>" not in html  # the layer name is escaped for Leaflet's layer control
    assert html.count("L.marker(") == 1


# ---------------------------------------------------------------- basemaps


def test_no_basemap_by_default() -> None:
    for value in ("none", "", "  NONE "):
        assert basemap_for(value) is NO_BASEMAP
    assert NO_BASEMAP.origins() == []


def test_tianditu_needs_its_key_and_has_no_offset() -> None:
    with pytest.raises(ValidationError, match="RURAL_TIANDITU_KEY"):
        basemap_for("tianditu")
    with pytest.raises(ValidationError, match="RURAL_TIANDITU_KEY"):
        basemap_for("tianditu", tianditu_key="abc'; alert(1)//")
    tianditu = basemap_for("tianditu", tianditu_key="0123456789abcdef0123456789abcdef")
    assert not tianditu.gcj02
    assert [t.url.split("/wmts")[0] for t in tianditu.tiles] == [
        "https://t{s}.tianditu.gov.cn/vec_w",
        "https://t{s}.tianditu.gov.cn/cva_w",
    ]
    assert all("tk=0123456789abcdef0123456789abcdef" in t.url for t in tianditu.tiles)
    assert tianditu.origins() == [f"https://t{i}.tianditu.gov.cn" for i in range(8)]
    point = np.array([shapely_point(120.0, 30.0)], dtype=object)
    assert tianditu.to_display(point)[0].equals(point[0])


def shapely_point(x: float, y: float) -> object:
    from shapely.geometry import Point

    return Point(x, y)


def test_gaode_shifts_for_display_by_a_few_hundred_metres() -> None:
    gaode = basemap_for("gaode")
    assert gaode.gcj02
    x, y = gaode.point_to_display(119.92, 28.45)  # near Lishui, Zhejiang
    east = (x - 119.92) * 111_320 * math.cos(math.radians(28.45))
    north = (y - 28.45) * 110_570
    # STACK-NOTES: ~455 m east and ~380 m (here: north of the WGS84 point) near Lishui.
    assert 400 < east < 520
    assert 300 < abs(north) < 450
    assert gaode.origins() == [f"https://webrd0{i}.is.autonavi.com" for i in range(1, 5)]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ftp://tiles/{z}/{x}/{y}.png", "must start with"),
        ("http://tiles/{z}/{x}.png", "expected none, tianditu, gaode"),
        ('http://tiles/{z}/{x}/{y}.png"><script>', "characters a tile URL cannot hold"),
        ("//tiles/{z}/{x}/{y}.png", "give the scheme"),
        ("javascript:alert(1)//{z}{x}{y}", "must start with"),
    ],
)
def test_bad_tile_urls_are_refused(value: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        basemap_for(value)


def test_intranet_tiles_and_tiles_served_by_the_app() -> None:
    intranet = basemap_for("http://10.8.0.2:8080/tiles/{z}/{x}/{y}.png")
    assert intranet.origins() == ["http://10.8.0.2:8080"]
    same_host = basemap_for("/tiles/{z}/{x}/{y}.png")
    assert same_host.origins() == []  # 'self' already
    m = new_map(title="t", bounds=None, basemap=intranet)
    html = render_page(m, assets=Assets.served())
    assert 'L.tileLayer(\n                "http://10.8.0.2:8080/tiles/{z}/{x}/{y}.png"' in html


# ---------------------------------------------------------------- styles


def test_quantile_breaks_follow_the_values() -> None:
    classes = quantile_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], colours=("#000001", "#000002"))
    assert classes.breaks == (5.5,)
    assert classes.colour(5.0) == "#000001"
    assert classes.colour(6.0) == "#000002"
    assert classes.colour(None) == "#bdbdbd"  # the grey every legend shows for 无数据
    # Every quantile of nine zeros and a 7 is 0: one break, at the top value, keeps the 7 apart
    # in the darkest class.
    skewed = quantile_breaks([0, 0, 0, 0, 0, 0, 0, 0, 0, 7])
    assert skewed.breaks == (7.0,)
    assert skewed.colours == ("#2c7fb8", "#253494")
    assert skewed.colour(7.0) == "#253494"
    assert quantile_breaks([None, math.nan]).class_count == 2
    assert quantile_breaks([3, 3, 3]).breaks == (4.0,)


def test_categories_and_their_legend() -> None:
    assert FACILITY_STATUS.colour("stopped") == "#d7191c"
    assert FACILITY_STATUS.label("fault") == "故障"
    assert FACILITY_STATUS.label("no such state") == "报废"  # the last entry catches the rest
    assert HOUSEHOLD_TOILET.legend()[0] == ("#1a9641", "无害化卫生厕所(正常使用)")
    assert public_toilet_key("frozen") == "broken"
    assert public_toilet_key("unused") == "unused"
    with pytest.raises(StyleError):
        Categories((Category("a", "A", "#000000"), Category("a", "B", "#000000")))
    with pytest.raises(StyleError):
        Category("a", "A", "red; background: url(http://x)")


def test_point_and_line_styles() -> None:
    style = PointStyle(colour="#123456", radius=4).leaflet()
    assert style["fill"] is True  # folium's CircleMarker default is fill: false
    assert style["fillColor"] == "#123456"
    assert line_style("broken")["color"] == "#e31a1c"
    assert line_style("broken")["dashArray"] == "6 4"
    assert line_style("ok")["color"] == "#2b83ba"
    assert LOAD_BREAKS.colour(1.2) == "#d7191c"
    assert LOAD_BREAKS.colour(0.5) == "#1a9641"


# ---------------------------------------------------------------- links and escaping


def test_links_are_escaped_and_local_or_to_the_base_url() -> None:
    assert Links().unit_page("331128101201") == "/official?unit=331128101201"
    assert Links.for_file("http://10.0.0.8:8000/").map_page("village", "331128101201") == (
        "http://10.0.0.8:8000/maps/village?unit=331128101201"
    )
    row = link_row([('/x?a=1&b="2"', "<b>页</b>")])
    assert row == '<a href="/x?a=1&amp;b=&quot;2&quot;" target="_top">&lt;b&gt;页&lt;/b&gt;</a>'
    for bad in ("javascript:alert(1)", "http://x/'onmouseover", "//evil.example", "/a/", "/a//b"):
        with pytest.raises(ValueError, match="links base"):
            Links(base=bad)


def test_only_markup_built_by_the_map_code_passes_unescaped() -> None:
    props = escape_properties(
        {"links": village_links(Links(), "331128101201"), "name": Markup("<b>x</b>").unescape()}
    )
    assert str(props["links"]).startswith('<a href="/official?unit=331128101201"')
    assert props["name"] == "&lt;b&gt;x&lt;/b&gt;"


def test_chrome_escapes_titles_legend_notes_and_navigation() -> None:
    m = new_map(title="<script>alert(1)</script>县", bounds=None)
    options = PageOptions(
        title="<script>alert(1)</script>县",
        legend=[LegendSection("`${x}`", [("#1a9641", "<img src=x>")], "dot")],
        notes=["${alert(1)}"],
        nav=[NavLink(url="/maps/chain?unit=1&x=<y>", label="<i>链</i>", current=True)],
        choices_label="指标",
        choices=[NavLink(url="/maps/overview?indicator=a", label="A'B")],
    )
    html = render_page(
        finish(m, options, bounds=None, assets=Assets.served()), assets=Assets.served()
    )
    body = html.split("<body>", 1)[1]
    for raw in ("<script>alert(1)</script>县", "<img src=x>", "`${x}`", "<i>链</i>", "A'B"):
        assert raw not in html
    assert "&lt;img src=x&gt;" in body
    assert 'href="/maps/chain?unit=1&amp;x=&lt;y&gt;" class="rural-current"' in body
    with pytest.raises(ValueError, match="legend colour"):
        finish(
            new_map(title="t", bounds=None),
            PageOptions(title="t", legend=[LegendSection("t", [("red", "x")])]),
            bounds=None,
            assets=Assets.served(),
        )
    assert isinstance(m, folium.Map)
