"""Every kind of map built from a real SQLite file (tests/mapworld.py) and rendered (no browser):
the layers carry the features worked out by hand, text from the data is escaped, no personal
data and no other host reach the page, popups link to the village's page."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import pytest
from sqlalchemy import Engine

from maps.assets import Assets, external_references, render_page
from maps.basemaps import basemap_for
from maps.clusters import PointClusters, decode_points
from maps.kinds import KINDS, MapRequest, build_map, kind_of, navigation
from maps.page import MapSetup, feature_count, save
from maps.popups import Links
from rural import migrate
from rural.db import make_engine
from rural.errors import NotFoundError, ValidationError
from tests import mapworld as w

UNIT = {key: (w.A1 if key == "village" else w.COUNTY) for key in KINDS}
# Features per layer, from the counts stated in tests/mapworld.py.
EXPECTED_LAYERS: dict[str, dict[str, int]] = {
    "overview": {"村 · 无害化卫生厕所普及率": 4, "乡镇界": 2, "农户 · 户厕": w.EXPECTED_HOUSEHOLDS},
    "sanitation": {
        "村 · 无害化卫生厕所普及率": 4,
        "乡镇界": 2,
        "农户 · 户厕": w.EXPECTED_HOUSEHOLDS,
        "农村公厕": 2,
    },
    "chain": {
        "村 · 收运链": 4,
        "乡镇界": 2,
        "收运链路": w.EXPECTED_LINKS,
        "收集点": 3,
        "转运站(按负荷)": 2,
        "处理设施": 2,
    },
    "sewage": {"村 · 生活污水治理率": 4, "乡镇界": 2, "污水处理设施": 2},
    "courtyard": {"村 · 美丽庭院达标率": 4, "乡镇界": 2, "农户 · 庭院星级": w.EXPECTED_HOUSEHOLDS},
    "problems": {"村 · 逾期问题": 4, "乡镇界": 2, "未销号问题": w.EXPECTED_OPEN_PROBLEMS},
    "village": {
        "同镇其他村": 1,
        "本村 · 无害化卫生厕所普及率": 1,
        "农户 · 户厕": 20,
        "垃圾收集点": 1,
        "污水处理设施": 1,
        "农村公厕": 1,
        "未销号问题": 0,
    },
}
RAW_HOSTILE = [
    w.HOSTILE,
    w.BACKTICK,
    w.TEMPLATE,
    w.HOSTILE_POINT,
    w.HOSTILE_PROBLEM,
    "<script>alert(1)",
]
PERSONAL = ["王小明", "13812345678", "赵保洁", "李村长"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('mapworld') / 'rural.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    w.build_map_world(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def built(engine: Engine) -> dict[str, folium.Map]:
    """Every kind, built once for the module (served assets, links relative to the app)."""
    return {
        key: build_map(engine, kind, MapRequest(unit_code=UNIT[key]), MapSetup(demo=True))
        for key, kind in KINDS.items()
    }


@pytest.fixture(scope="module")
def pages(built: dict[str, folium.Map]) -> dict[str, str]:
    return {key: render_page(m, assets=Assets.served()) for key, m in built.items()}


def layer(m: folium.Map, name: str) -> Any:
    for child in m._children.values():
        if getattr(child, "layer_name", None) == name:
            return child
    msg = f"no layer {name!r} in {feature_count(m)}"
    raise AssertionError(msg)


def properties(m: folium.Map, name: str) -> list[dict[str, Any]]:
    return [f["properties"] for f in layer(m, name).data["features"]]


def by_code(props: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["code"]: p for p in props}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_carries_the_expected_layers(built: dict[str, folium.Map], kind: str) -> None:
    assert feature_count(built[kind]) == EXPECTED_LAYERS[kind]


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_raw_hostile_text_no_personal_data_no_other_host(
    pages: dict[str, str], kind: str
) -> None:
    html = pages[kind]
    for text in RAW_HOSTILE + PERSONAL:
        assert text not in html, text
    assert external_references(html) == []
    assert "https://" not in html
    assert "http://" not in html
    assert '<span class="rural-demo-badge">示例数据</span>' in html


def test_overview_villages_show_the_rates_worked_out_by_hand(built: dict[str, folium.Map]) -> None:
    villages = by_code(properties(built["overview"], "村 · 无害化卫生厕所普及率"))
    assert {code: p["value_text"] for code, p in villages.items()} == w.EXPECTED_HARMLESS_TEXT
    assert villages[w.A2]["name"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert villages[w.B1]["name"] == "王&#x60;家村"
    assert villages[w.B2]["name"] == "&#x24;{alert(1)}村"
    assert villages[w.A1]["town_name"] == "甲镇"
    assert villages[w.A1]["households_text"] == "20"


def test_village_popups_link_to_the_village_page(built: dict[str, folium.Map]) -> None:
    villages = by_code(properties(built["overview"], "村 · 无害化卫生厕所普及率"))
    links = villages[w.B1]["links"]
    assert f'href="/official?unit={w.B1}"' in links
    assert f'href="/maps/village?unit={w.B1}"' in links
    assert 'target="_top"' in links
    assert ">村页面</a>" in links


def test_saved_map_links_point_to_the_configured_base_url(engine: Engine, tmp_path: Path) -> None:
    setup = MapSetup(assets=Assets.inline(), links=Links.for_file("http://10.1.2.3:8000/rural/"))
    m = build_map(engine, KINDS["overview"], MapRequest(unit_code=w.COUNTY), setup)
    villages = by_code(properties(m, "村 · 无害化卫生厕所普及率"))
    assert f'href="http://10.1.2.3:8000/rural/official?unit={w.A1}"' in villages[w.A1]["links"]
    html = save(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert 'rel="stylesheet"' not in html
    assert "L.markerClusterGroup" in html


def test_households_travel_as_one_compact_cluster_layer(built: dict[str, folium.Map]) -> None:
    clusters = layer(built["sanitation"], "农户 · 户厕")
    assert isinstance(clusters, PointClusters)
    lon, lat, categories = decode_points(clusters.data)
    assert len(lon) == w.EXPECTED_HOUSEHOLDS
    # Toilet classes by hand: harmless 19 + 1 + 3, sanitary 1, leaking 1, none 3.
    labels = [clusters.labels[c] for c in categories]
    assert labels.count("无害化卫生厕所(正常使用)") == 23
    assert labels.count("卫生厕所(非无害化)") == 1
    assert labels.count("厕所损坏/闲置/在建") == 1
    assert labels.count("无户厕记录") == 3
    assert all(120.0 < x < 120.12 for x in lon)
    assert all(30.0 < y < 30.01 for y in lat)
    html = render_page(built["sanitation"], assets=Assets.served())
    assert html.count("L.marker(") == 1  # in the cluster layer's loop: no folium.Marker
    assert html.count("/static/vendor/leaflet.markercluster/1.4.1/leaflet.markercluster.js") == 1


def test_courtyard_households_by_stars(built: dict[str, folium.Map]) -> None:
    clusters = layer(built["courtyard"], "农户 · 庭院星级")
    _lon, _lat, categories = decode_points(clusters.data)
    labels = [clusters.labels[c] for c in categories]
    assert labels.count("五星") == 3
    assert labels.count("二星") == 2
    assert labels.count("未评星") == w.EXPECTED_HOUSEHOLDS - 5


def test_chain_links_breaks_and_station_load(built: dict[str, folium.Map]) -> None:
    m = built["chain"]
    links = properties(m, "收运链路")
    assert sum(p["state_text"] != "收运链正常" for p in links) == w.EXPECTED_BROKEN_LINKS
    broken = {
        (p["source_name"], p["target_name"]) for p in links if p["state_text"] != "收运链正常"
    }
    assert broken == {
        (w.BACKTICK.replace("`", "&#x60;"), "乙乡收集点"),
        ("乙乡收集点", "乙乡转运站"),
        ("乙乡转运站", "县易腐处理站"),
    }
    stations = {p["name"]: p for p in properties(m, "转运站(按负荷)")}
    assert stations["甲镇转运站"]["load_text"] == w.EXPECTED_STATION_A_LOAD
    assert stations["甲镇转运站"]["period_text"] == "2026-10-01至2026-10-31(称重)"
    assert stations["乙乡转运站"]["status_text"] == "停运"
    points = {p["name"] for p in properties(m, "收集点")}
    assert "&lt;b&gt;收集点&lt;/b&gt;&#x60;&#x24;{x}&#x60;" in points


def test_chain_audit_breaks_reach_the_map(built: dict[str, folium.Map]) -> None:
    villages = by_code(properties(built["chain"], "村 · 收运链"))
    # B2 has no collection point at all; the others are linked to an operating... or not.
    assert "未接入任何收集点" in villages[w.B2]["flag_text"]
    assert villages[w.A1]["flag_text"] == "正常"
    assert "乙乡收集点" in villages[w.B1]["flag_text"]  # its only point is in fault


def test_sewage_and_problems(built: dict[str, folium.Map]) -> None:
    sewage = {p["name"]: p for p in properties(built["sewage"], "污水处理设施")}
    assert sewage["东山污水站"]["status_text"] == "运行"
    assert sewage["东山污水站"]["households_text"] == "1"
    assert sewage["东山污水站"]["capacity_text"] == "50 立方米/日"
    assert sewage["王&#x60;家村污水设施"]["status_text"] == "故障"
    problems = properties(built["problems"], "未销号问题")
    states = sorted(p["state_text"] for p in problems)
    assert states == sorted(["未定期限", "整改期限内", "逾期未销号"])
    unlocated = next(
        f
        for f in layer(built["problems"], "未销号问题").data["features"]
        if f["properties"]["description"] == "无位置的问题"
    )
    x, y = unlocated["geometry"]["coordinates"]
    assert 120.1 < x < 120.11  # inside B1 (120.10-120.11, 30.00-30.01)
    assert 30.0 < y < 30.01
    hostile = next(p for p in problems if p["state_text"] == "逾期未销号")
    assert hostile["description"] == (
        "&lt;script&gt;alert(1)&lt;/script&gt;垃圾&#x60;&#x24;{document.cookie}&#x60;"
    )
    villages = by_code(properties(built["problems"], "村 · 逾期问题"))
    assert villages[w.A2]["flag_text"] == "逾期未销号 1 件"
    assert villages[w.B1]["flag_text"] == "无"


def test_gaode_basemap_shifts_overlays_for_display_only(engine: Engine) -> None:
    plain = build_map(engine, KINDS["sewage"], MapRequest(unit_code=w.COUNTY), MapSetup())
    shifted = build_map(
        engine,
        KINDS["sewage"],
        MapRequest(unit_code=w.COUNTY),
        MapSetup(basemap=basemap_for("gaode")),
    )
    a = layer(plain, "污水处理设施").data["features"][0]["geometry"]["coordinates"]
    b = layer(shifted, "污水处理设施").data["features"][0]["geometry"]["coordinates"]
    # GCJ-02 near 120°E 30°N moves a point a few hundred metres (formula in gis.crs).
    dx = (b[0] - a[0]) * 111_320 * math.cos(math.radians(30.0))
    dy = (b[1] - a[1]) * 110_570
    assert 200 < math.hypot(dx, dy) < 800
    html = render_page(shifted, assets=Assets.served())
    assert "webrd0{s}.is.autonavi.com" in html
    assert "L.tileLayer" not in render_page(plain, assets=Assets.served())


def test_unknown_kind_wrong_level_and_unknown_indicator_are_refused(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="没有这种地图"):
        kind_of("heatmap")
    with pytest.raises(ValidationError, match="村详图需要村级单位"):
        build_map(engine, KINDS["village"], MapRequest(unit_code=w.COUNTY), MapSetup())
    with pytest.raises(ValidationError, match="not a village indicator"):
        build_map(
            engine,
            KINDS["overview"],
            MapRequest(unit_code=w.COUNTY, indicator="no_such_rate"),
            MapSetup(),
        )
    with pytest.raises(NotFoundError, match="331128101299"):
        build_map(engine, KINDS["overview"], MapRequest(unit_code="331128101299"), MapSetup())


def test_navigation_offers_the_village_map_only_for_a_village() -> None:
    county = [n.label for n in navigation(KINDS["chain"], MapRequest(w.COUNTY), Links())]
    village = [n.label for n in navigation(KINDS["chain"], MapRequest(w.A1), Links())]
    assert "村详图" not in county
    assert "村详图" in village
    assert [n.current for n in navigation(KINDS["chain"], MapRequest(w.COUNTY), Links())].count(
        True
    ) == 1


def test_a_city_overview_leaves_the_households_out(engine: Engine) -> None:
    m = build_map(engine, KINDS["overview"], MapRequest(unit_code="331100000000"), MapSetup())
    # Both counties' villages (4 + 白水县's 1) and the towns that have a boundary (2).
    assert feature_count(m) == {"村 · 无害化卫生厕所普及率": 5, "乡镇界": 2}
