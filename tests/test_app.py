"""The web app with Starlette's TestClient on real SQLite files (no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from maps.assets import asset_files
from rural.db import write_session
from rural.settings import Settings
from tests.apiworld import World, page_login
from tests.factories import ToiletMix, VillageSpec, mark_demo, small_county

HOSTILE = "<img src=x onerror=alert(1)>"
BACKTICK = "王`家村"


def _county(engine: Engine, *, demo: bool) -> None:
    small_county(
        engine,
        county_name="清溪县",
        demo=demo,
        towns=[
            ("甲镇", [VillageSpec("东山村", ToiletMix(harmless_in_use=3, sanitary_in_use=1))]),
            ("乙乡", [VillageSpec(HOSTILE, ToiletMix(harmless_in_use=1)), VillageSpec(BACKTICK)]),
        ],
    )


@pytest.fixture
def client(engine: Engine, sqlite_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=sqlite_url))
    with TestClient(app) as test_client:
        yield test_client


def test_index_names_the_county_and_links_the_map(engine: Engine, client: TestClient) -> None:
    _county(engine, demo=False)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "清溪县" in page
    assert "2 个乡镇 · 3 个村" in page
    assert 'href="maps/overview"' in page
    for link in ("login", "docs"):  # the way in, and the API's documentation
        assert f'href="{link}"' in page
        assert client.get(f"/{link}").status_code == 200
    assert "示例数据" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_index_shows_the_demo_badge_for_demo_data(engine: Engine, client: TestClient) -> None:
    _county(engine, demo=True)
    page = client.get("/").text
    assert 'id="demo-badge">示例数据</span>' in page


def test_index_escapes_names(engine: Engine, client: TestClient) -> None:
    small_county(engine, county_name="<script>alert(1)</script>县", towns=[])
    page = client.get("/").text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;县" in page


def test_index_of_an_empty_database(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "暂无数据" in response.text


def test_vendor_files_with_content_type_and_cache(client: TestClient) -> None:
    files = asset_files()
    for path, expected_type in [
        ("leaflet/1.9.3/leaflet.js", "text/javascript; charset=utf-8"),
        ("leaflet/1.9.3/leaflet.css", "text/css; charset=utf-8"),
        ("leaflet/1.9.3/images/layers.png", "image/png"),
    ]:
        response = client.get(f"/static/vendor/{path}")
        assert response.status_code == 200
        assert response.headers["content-type"] == expected_type
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == files[path].source.read_bytes()
    head = client.head("/static/vendor/leaflet/1.9.3/leaflet.js")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "leaflet/1.9.3/nope.js",
        "leaflet/1.9.3/../../../../etc/passwd",
        "leaflet/1.9.3/%2e%2e/%2e%2e/__init__.py",
        "leaflet/1.9.3/leaflet-src.js",  # in the package, but not a file we ship
    ],
)
def test_vendor_serves_only_listed_files(client: TestClient, path: str) -> None:
    response = client.get(f"/static/vendor/{path}")
    assert response.status_code == 404
    # Ours for a listed prefix; the router's for a path the client resolved out of it.
    detail = response.json()["detail"]
    assert detail.startswith("没有这个静态文件: leaflet/1.9.3/") or detail == "页面不存在"
    assert "root:" not in response.text


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    app = create_app(Settings(database_url="postgresql+psycopg://u:p@127.0.0.1:1/none"))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_engine_lives_with_the_app(sqlite_url: str, engine: Engine) -> None:
    app = create_app(Settings(database_url=sqlite_url))
    assert app.state.engine is None  # nothing made before the app starts
    with TestClient(app):
        made = app.state.engine
        assert made is not None
        assert str(made.url) == sqlite_url
    assert app.state.engine is None


def test_no_cdn_docs_pages(client: TestClient) -> None:
    # FastAPI's default /docs and /redoc load their scripts from a CDN: /redoc is off, /docs is
    # ours (tests/test_docs_page.py) and names no other host.
    assert client.get("/redoc").status_code == 404
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(urls) >= 4
    assert [url for url in urls if not url.startswith("/")] == []


def test_unknown_page_is_a_chinese_404(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert client.get("/no/such/page").json() == {"detail": "页面不存在"}


def test_error_page_escapes_the_requested_path(client: TestClient) -> None:
    response = client.get(
        "/static/vendor/leaflet/1.9.3/<script>alert(1)</script>", headers={"Accept": "text/html"}
    )
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


DEMO_BADGE = re.compile(r'<span [^>]*id="demo-badge"[^>]*>示例数据</span>')
# Each signed-in page with a user who may open it (tests/apiworld.py's roles).
SIGNED_IN_PAGES = (
    ("/cadre", "cadre_a"),
    ("/official", "official_a"),
    ("/admin/users", "admin_a"),
    ("/account/tokens", "villager_a"),
)


@pytest.mark.parametrize("demo", [True, False])
def test_every_site_page_says_when_the_data_is_the_demo(world: World, demo: bool) -> None:
    """The login page and every signed-in page (the cadre's, the official's, user admin,
    tokens) carry the 示例数据 badge on a demo database, and only there."""
    if demo:  # what the demo generator writes: dataset_info 'demo' = 'true'
        with write_session(world.engine) as session:
            mark_demo(session=session)
    app = create_app(world.settings)
    with TestClient(app) as anonymous:
        login = anonymous.get("/login")
        assert login.status_code == 200
        assert (DEMO_BADGE.search(login.text) is not None) is demo
    for path, username in SIGNED_IN_PAGES:
        with TestClient(app) as client:
            assert page_login(client, username) == 303
            page = client.get(path, follow_redirects=False)
            assert page.status_code == 200, (path, username)
            assert (DEMO_BADGE.search(page.text) is not None) is demo, path
