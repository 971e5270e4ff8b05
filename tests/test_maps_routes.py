"""``/maps/{kind}`` through the app (Starlette's TestClient, a real SQLite file): behind the page
login, for the caller's unit by default, refused outside their scope or line, compressed,
no-store, with a Content-Security-Policy that admits only the configured tile host."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.auth import SESSION_COOKIE
from maps.kinds import KINDS
from rural import clock
from rural.settings import Settings
from tests import mapworld as w
from tests.mapworld import MapWorld, build_map_world

YEAR = f"{clock.today().year}年"  # the maps' default period: this year
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MapWorld, str]]:
    from rural import migrate
    from rural.db import make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('routes') / 'rural.db'}"
    engine: Engine = make_engine(url)
    migrate.upgrade(engine)
    yield build_map_world(engine), url
    engine.dispose()


def _client(url: str, **settings: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, **settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client(world: tuple[MapWorld, str]) -> Iterator[TestClient]:
    with _client(world[1]) as test_client:
        yield test_client


def _as(client: TestClient, world: MapWorld, username: str) -> TestClient:
    client.cookies.set(SESSION_COOKIE, world.session_cookie(username))
    return client


def test_without_login_a_browser_goes_to_the_login_page(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get(
        "/maps/overview", params={"unit": w.COUNTY}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmaps%2Foverview%3Funit%3D331128000000"
    assert client.get("/maps/chain").status_code == 401


# What a map page may load, written out: its own scripts and styles (folium writes inline ones),
# images from itself or data: URIs (plus the tile host when one is configured), nothing else.
MAP_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
}


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_served_to_the_county_admin(
    client: TestClient, world: tuple[MapWorld, str], kind: str
) -> None:
    unit = w.A1 if kind == "village" else w.COUNTY
    response = _as(client, world[0], "admin").get(f"/maps/{kind}", params={"unit": unit})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert _directives(response.headers["content-security-policy"]) == MAP_POLICY
    page = response.text
    assert "http://" not in page
    assert "https://" not in page
    assert w.HOSTILE not in page
    assert "王小明" not in page
    assert '<span class="rural-demo-badge">示例数据</span>' in page
    assets = re.findall(r'<(?:script|link)[^>]* (?:src|href)="(/[^"]+)"', page)
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in assets
    assert "/static/vendor/leaflet/1.9.3/leaflet.css" in assets
    for url in assets:
        assert client.get(url).status_code == 200, url
    # The title bar links to the other maps of the same unit (not fetched: each is a map).
    nav = re.findall(r'<a href="(/maps/[a-z]+\?unit=\d{12})"', page)
    assert f"/maps/{kind}?unit={unit}" in nav
    if kind == "overview":
        # Names reach the page only escaped (in JSON "&" is also escaped, as \u0026).
        assert f"<title>清溪县 农村人居环境总览 · 无害化卫生厕所普及率 · {YEAR}</title>" in page
        assert "`家村" not in page
        assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
        assert "\\u738b\\u0026#x60;\\u5bb6\\u6751" in page  # 王&#x60;家村


def test_the_default_unit_is_the_callers_own(
    client: TestClient, world: tuple[MapWorld, str]
) -> None:
    page = _as(client, world[0], "official_b").get("/maps/overview").text
    assert f"<title>乙乡 农村人居环境总览 · 无害化卫生厕所普及率 · {YEAR}</title>" in page
    assert "东山村" not in page  # a village of the other town
    cadre = _as(client, world[0], "cadre").get("/maps/village").text
    assert f"<title>东山村 村详图 · {YEAR}</title>" in cadre


@pytest.mark.parametrize(
    ("username", "kind", "unit", "status"),
    [
        ("admin", "overview", w.OTHER_COUNTY, 403),  # another county
        ("official_b", "overview", w.TOWN_A, 403),  # the neighbouring town
        ("cadre", "sewage", w.A2, 403),  # the neighbouring village
        ("eco", "sewage", w.COUNTY, 200),  # ecology owns sewage...
        ("eco", "courtyard", w.COUNTY, 403),  # ... not courtyards (妇联)
        ("eco", "overview", w.COUNTY, 200),  # opens on a sewage rate, not the toilet rate
        ("women", "courtyard", w.COUNTY, 200),  # 妇联: courtyards, without households
        ("eco", "village", w.A1, 200),  # the village map shows what the line may see
        ("admin", "village", w.COUNTY, 422),  # the village map needs a village
        ("admin", "heatmap", w.COUNTY, 404),
        ("admin", "overview", "33112800000", 422),  # not 12 digits
        ("admin", "overview", "331128101299", 404),  # in scope, but no such unit
    ],
)
def test_scope_line_and_bad_input(
    client: TestClient,
    world: tuple[MapWorld, str],
    username: str,
    kind: str,
    unit: str,
    status: int,
) -> None:
    response = _as(client, world[0], username).get(f"/maps/{kind}", params={"unit": unit})
    assert response.status_code == status, response.text[:300]


def test_indicator_choice_and_refusal(client: TestClient, world: tuple[MapWorld, str]) -> None:
    admin = _as(client, world[0], "admin")
    page = admin.get("/maps/overview", params={"indicator": "sanitary_toilet_rate"}).text
    assert f"<title>清溪县 农村人居环境总览 · 卫生厕所普及率 · {YEAR}</title>" in page
    assert 'id="rural-choices"' in page
    bad = admin.get("/maps/overview", params={"indicator": "no_such_rate"})
    assert bad.status_code == 422
    assert "no_such_rate" in bad.json()["detail"]
    assert admin.get("/maps/overview", params={"indicator": "<x>"}).status_code == 422


def test_pages_are_gzipped_when_the_browser_accepts_it(
    client: TestClient, world: tuple[MapWorld, str]
) -> None:
    admin = _as(client, world[0], "admin")
    response = admin.get("/maps/sanitation", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    raw = admin.get("/maps/sanitation", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers

    # httpx decodes the gzip body; folium names elements at random, so compare without names.
    def normal(text: str) -> str:
        return re.sub(r"_[0-9a-f]{32}", "_X", text)

    assert normal(response.text) == normal(raw.text)
    assert int(response.headers["content-length"]) < len(raw.content) / 3


def test_a_tile_source_is_the_only_other_host_allowed(world: tuple[MapWorld, str]) -> None:
    tiles = "http://tiles.intranet.example:8080/{z}/{x}/{y}.png"
    with _client(world[1], tile_source=tiles) as client:
        response = _as(client, world[0], "admin").get("/maps/overview")
    assert response.status_code == 200
    policy = _directives(response.headers["content-security-policy"])
    assert policy == MAP_POLICY | {
        "img-src": ["'self'", "data:", "http://tiles.intranet.example:8080"]
    }
    assert '"http://tiles.intranet.example:8080/{z}/{x}/{y}.png"' in response.text


def test_a_bad_tile_source_is_a_clear_error(world: tuple[MapWorld, str]) -> None:
    with _client(world[1], tile_source="tianditu") as client:
        response = _as(client, world[0], "admin").get("/maps/overview")
    assert response.status_code == 422
    assert "RURAL_TIANDITU_KEY" in response.json()["detail"]


def test_errors_are_chinese_pages_for_a_browser(
    client: TestClient, world: tuple[MapWorld, str]
) -> None:
    response = _as(client, world[0], "admin").get(
        "/maps/overview", params={"unit": "331128101299"}, headers=HTML
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "单位 331128101299 不存在" in response.text


def test_layers_and_figures_of_other_lines_are_left_out(
    client: TestClient, world: tuple[MapWorld, str]
) -> None:
    eco = _as(client, world[0], "eco")
    overview = eco.get("/maps/overview", params={"indicator": "sewage_treatment_rate"}).text
    assert "fact_sewage_treatment_rate" in overview
    assert "fact_harmless_toilet_rate" not in overview  # sanitation is not ecology's
    assert "L.markerClusterGroup" not in overview  # nor are households
    village = eco.get("/maps/village", params={"unit": w.A1}).text
    assert "\\u4e1c\\u5c71\\u6c61\\u6c34\\u7ad9" in village  # 东山污水站, its own domain
    assert "L.markerClusterGroup" not in village
    assert "\\u672a\\u9500\\u53f7\\u95ee\\u9898" not in village  # 未销号问题: problems
    admin = _as(client, world[0], "admin").get("/maps/village", params={"unit": w.A1}).text
    assert "L.markerClusterGroup" in admin
    assert "\\u672a\\u9500\\u53f7\\u95ee\\u9898" in admin
    women = _as(client, world[0], "women").get("/maps/courtyard").text
    assert "fact_courtyard_pass_rate" in women
    assert "L.markerClusterGroup" not in women


def test_the_overview_opens_on_a_rate_the_callers_line_may_see(
    client: TestClient, world: tuple[MapWorld, str]
) -> None:
    """With no indicator asked, a line that does not see toilets gets its own first rate
    (the dashboard embeds the overview without one), not a 403."""
    eco = _as(client, world[0], "eco").get("/maps/overview", headers=HTML)
    assert eco.status_code == 200, eco.text[:300]
    assert f"农村人居环境总览 · 生活污水治理率 · {YEAR}</title>" in eco.text
    women = _as(client, world[0], "women").get("/maps/overview", headers=HTML)
    assert women.status_code == 200, women.text[:300]
    assert f"农村人居环境总览 · 美丽庭院达标率 · {YEAR}</title>" in women.text
    # its map links and indicator choices are only those it may open
    assert "/maps/courtyard?" in women.text
    for other in ("/maps/sanitation?", "/maps/chain?", "/maps/sewage?", "/maps/problems?"):
        assert other not in women.text
    assert "indicator=courtyard_pass_rate" in women.text
    assert "indicator=harmless_toilet_rate" not in women.text
    admin = _as(client, world[0], "admin").get("/maps/overview", headers=HTML)
    assert f"农村人居环境总览 · 无害化卫生厕所普及率 · {YEAR}</title>" in admin.text
    # asked for a rate of another line: still refused
    asked = _as(client, world[0], "eco").get(
        "/maps/overview", params={"indicator": "harmless_toilet_rate"}, headers=HTML
    )
    assert asked.status_code == 403
    assert "条线不管理这类数据" in asked.text
