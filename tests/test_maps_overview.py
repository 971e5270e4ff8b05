"""maps.overview: the overview map built from hand-made GeoDataFrames (rendered, no browser)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon

from maps.assets import Assets, render_page
from maps.overview import build_overview_map, feature_count, save
from maps.page import MapSetup
from rural.errors import ValidationError

CRS = "EPSG:4490"


def _villages(**overrides: Any) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {
        "code": ["330102100201", "330102100202", "330102100203"],
        "name": ["东山村", "<img src=x onerror=alert(1)>", "王`家村"],
        "town_code": ["330102100000"] * 3,
        "town_name": ["甲镇"] * 3,
        "resident_households": [20, 4, 0],
        "harmless_toilet_rate": [0.95, 0.25, math.nan],
        "harmless_toilet_rate_num": [19, 1, 0],
        "harmless_toilet_rate_den": [20, 4, 0],
    }
    geometry = [
        MultiPolygon([Polygon([(120.123456789, 30.0), (120.2, 30.0), (120.2, 30.1)])]),
        MultiPolygon([Polygon([(120.2, 30.0), (120.3, 30.0), (120.3, 30.1)])]),
        MultiPolygon([Polygon([(120.3, 30.0), (120.4, 30.0), (120.4, 30.1)])]),
    ]
    data.update(overrides)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)


def _towns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["330102100000"], "name": ["甲镇"], "county_code": ["330102000000"]},
        geometry=[MultiPolygon([Polygon([(120.1, 29.9), (120.5, 29.9), (120.5, 30.2)])])],
        crs=CRS,
    )


def _village_features(html: str) -> list[dict[str, Any]]:
    """The village GeoJSON embedded in the page (the first ``..._add({...})`` call)."""
    match = re.search(r"_add\((\{\"features\".*?\})\);\n", html)
    assert match is not None
    return list(json.loads(match.group(1))["features"])


def _setup(*, demo: bool = False) -> MapSetup:
    return MapSetup(assets=Assets.served(), demo=demo)


def _render(*, demo: bool = False, **kwargs: Any) -> str:
    options: dict[str, Any] = {"title": "示例县 总览", "setup": _setup(demo=demo)}
    options.update(kwargs)
    return render_page(build_overview_map(_villages(), _towns(), **options), assets=Assets.served())


def test_layers_carry_every_feature() -> None:
    m = build_overview_map(_villages(), _towns(), title="t", setup=_setup())
    assert feature_count(m) == {"村 · 无害化卫生厕所普及率": 3, "乡镇界": 1}


def test_coordinates_are_rounded_to_five_decimals_by_default() -> None:
    html = _render()
    assert "120.12346" in html
    assert "120.123457" not in html
    assert "120.123456789" not in html


def test_precision_can_be_raised_for_close_ups() -> None:
    html = _render(decimals=6)
    assert "120.123457" in html
    assert "120.123456789" not in html


def test_tooltip_properties_are_escaped_and_formatted() -> None:
    features = _village_features(_render())
    props = [f["properties"] for f in features]
    assert [p["name"] for p in props] == [
        "东山村",
        "&lt;img src=x onerror=alert(1)&gt;",
        "王&#x60;家村",
    ]
    assert [p["value_text"] for p in props] == ["95.0% (19/20)", "25.0% (1/4)", "无数据"]
    assert [p["households_text"] for p in props] == ["20", "4", "0"]
    assert [p["town_name"] for p in props] == ["甲镇"] * 3


def _fill_by_code(m: folium.Map) -> dict[str, object]:
    """Each village's fill colour from the style function of the village layer itself."""
    (layer,) = [
        child
        for child in m._children.values()
        if isinstance(child, folium.GeoJson) and str(child.layer_name).startswith("村 · ")
    ]
    return {
        f["properties"]["code"]: layer.style_function(f)["fillColor"]
        for f in layer.data["features"]
    }


def _page_fills(html: str, feature_ids: list[str]) -> dict[str, str]:
    """The fill colour the page's styler gives each of ``feature_ids``: its own case of the
    switch, or the default when no case names it."""
    styler = re.search(
        r"_styler\(feature\) \{\s*switch\(feature\.id\) \{(.*?)\n\s*\}\n", html, re.S
    )
    assert styler is not None
    cases: dict[str, str] = {}
    default: str | None = None
    for labels, style in re.findall(
        r'((?:case "\d+":\s*)+|default:\s*)return (\{[^}]*\});', styler.group(1)
    ):
        colour = json.loads(style)["fillColor"]
        if labels.strip().startswith("default"):
            default = colour
        for feature_id in re.findall(r'case "(\d+)":', labels):
            cases[feature_id] = colour
    assert default is not None
    return {i: cases.get(i, default) for i in feature_ids}


def test_fill_colours_follow_the_rate_classes() -> None:
    # 0.95 -> >= 95% (dark green); 0.25 -> < 50% (red); NaN (no households) -> no-data grey.
    expected = {"330102100201": "#1a9641", "330102100202": "#d7191c", "330102100203": "#bdbdbd"}
    m = build_overview_map(_villages(), _towns(), title="t", setup=_setup())
    assert _fill_by_code(m) == expected
    # and the page's styler draws each feature so (by the feature ids in the page)
    html = render_page(m, assets=Assets.served())
    ids = {f["properties"]["code"]: str(f["id"]) for f in _village_features(html)}
    fills = _page_fills(html, list(ids.values()))
    assert {code: fills[ids[code]] for code in ids} == expected


@pytest.mark.parametrize(("demo", "shown"), [(True, True), (False, False)])
def test_demo_badge(demo: bool, shown: bool) -> None:
    html = _render(demo=demo)
    assert ('<span class="rural-demo-badge">示例数据</span>' in html) is shown


def test_title_is_escaped() -> None:
    html = _render(title="<script>alert(1)</script>县")
    assert "<script>alert(1)</script>县" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;县" in html


def test_villages_without_boundary_are_left_out_and_counted() -> None:
    villages = _villages()
    villages.loc[1, "geometry"] = None
    m = build_overview_map(villages, _towns(), title="t", setup=_setup())
    assert feature_count(m)["村 · 无害化卫生厕所普及率"] == 2
    assert "1 个村无边界数据，未上图" in render_page(m, assets=Assets.served())


def test_data_without_crs_is_refused() -> None:
    villages = _villages().set_crs(None, allow_override=True)
    with pytest.raises(ValidationError, match="villages has no CRS"):
        build_overview_map(villages, _towns(), title="t", setup=_setup())


def test_empty_layers_still_make_a_page() -> None:
    empty_villages = _villages().iloc[:0]
    empty_towns = _towns().iloc[:0]
    m = build_overview_map(empty_villages, empty_towns, title="t", setup=_setup())
    html = render_page(m, assets=Assets.served())
    assert "[35.0, 105.0]" in html  # the fallback centre


def test_save_writes_one_standalone_utf8_file(tmp_path: Path) -> None:
    m = build_overview_map(_villages(), _towns(), title="示例县", setup=_setup(demo=True))
    path = save(m, tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert 'rel="stylesheet"' not in html
    assert "charset=UTF-8" in html[:1024]
    assert "示例数据" in html
    assert len(html) > 150_000  # Leaflet itself is inside
