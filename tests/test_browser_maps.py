"""The maps in a real browser: Debian Chromium driven by Playwright, against a live server.

Checks what only a browser can: a user logs in through the login form, every served map draws
its polygons, tooltips and popups show hostile names literally and run nothing, the village
search finds a village, and no request leaves the test server (or, for a saved file, the disk)
— except tiles of a configured tile source.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from maps.assets import Assets
from maps.basemaps import basemap_for
from maps.kinds import KINDS, MapRequest, build_map
from maps.page import MapSetup, save
from maps.popups import Links
from rural import migrate
from rural.db import make_engine
from rural.settings import Settings
from tests import mapworld as w

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}
UNIT = {key: (w.A1 if key == "village" else w.COUNTY) for key in KINDS}
# Polygons drawn (villages + towns, or the village and its neighbour), from tests/mapworld.py.
POLYGONS = dict.fromkeys(KINDS, 4 + 2) | {"village": 2}
# One transparent 1x1 PNG: what the fake intranet tile server answers.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class LiveServer:
    origin: str
    database_url: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn in a thread on a free 127.0.0.1 port, serving the map world."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'rural.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    w.build_map_world(engine)
    engine.dispose()
    app = create_app(Settings(database_url=url))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):  # up to ~10 s; not a timing assertion, just a start-up wait
        if server.started:
            started.set()
            break
        started.wait(0.02)
    if not started.is_set():
        server.should_exit = True
        pytest.fail("uvicorn did not start")
    try:
        yield LiveServer(origin=f"http://127.0.0.1:{port}", database_url=url)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class PageWatch:
    """Everything a page did that a test wants to check afterwards."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # responses with status >= 400


def _watched_page(browser: Any, **context_options: Any) -> tuple[Any, Any, PageWatch]:
    context = browser.new_context(viewport=VIEWPORT, **context_options)
    page = context.new_page()
    watch = PageWatch()
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on(
        "response",
        lambda response: (
            watch.failed.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            watch.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, page, watch


@pytest.fixture(scope="module")
def login_state(browser: Any, live_server: LiveServer) -> dict[str, Any]:
    """Log in through the login form once; later pages reuse the session cookie."""
    context, page, watch = _watched_page(browser)
    try:
        page.goto(f"{live_server.origin}/maps/overview")
        page.wait_for_url(re.compile(r".*/login\?next=%2Fmaps%2Foverview$"))
        page.fill("#username", "admin")
        page.fill("#password", w.PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{live_server.origin}/maps/overview")
        page.locator(".leaflet-overlay-pane svg path").first.wait_for(state="attached")
        # The login page (not a map) may ask for /favicon.ico, which the app does not have.
        assert [f for f in watch.failed if not f.endswith("/favicon.ico")] == []
        assert watch.dialogs == []
        assert watch.page_errors == []
        state: dict[str, Any] = context.storage_state()
        return state
    finally:
        context.close()


def _assert_clean(watch: PageWatch) -> None:
    assert watch.failed == []
    assert watch.dialogs == []
    assert watch.page_errors == []
    assert watch.console_errors == []


def _on_the_map(body: str) -> str:
    """A page function running ``body`` with ``map``: the page's folium map (map_<hex>)."""
    find = "window[Object.keys(window).find((k) => /^map_[0-9a-f]{32}$/.test(k))]"
    return f"() => {{\n    const map = {find};\n{body}}}\n"


# Opens every tooltip and popup of every feature through Leaflet's own events and returns the
# text each shows (what a user hovering and clicking each feature would read).
OPEN_ALL = _on_the_map("""
    const out = {tooltips: [], popups: [], links: []};
    map.eachLayer((leaf) => {
        if (!leaf.feature) { return; }
        const at = leaf.getLatLng ? leaf.getLatLng() : leaf.getBounds().getCenter();
        leaf.fire("mouseover", {latlng: at}, true);
        const tip = document.querySelector(".leaflet-tooltip");
        if (tip) { out.tooltips.push(tip.innerText); }
        leaf.fire("mouseout", {latlng: at}, true);
        leaf.fire("click", {latlng: at}, true);
        const popup = document.querySelector(".leaflet-popup-content");
        if (popup) {
            out.popups.push(popup.innerText);
            popup.querySelectorAll("a").forEach((a) => out.links.push(a.getAttribute("href")));
        }
        map.closePopup();
    });
    map.stop();  // end a pan some popup's autoPan started
    out.images = document.querySelectorAll("img").length;
    return out;
""")


# True once no marker-cluster group is animating. After a zoom, Leaflet.markercluster swaps the
# household markers in and out for about 300 ms (its _enqueue queue); a click landing in that
# window presses one marker and releases on whatever replaced it, so no popup opens.
POINTS_SETTLED = _on_the_map("""
    let busy = Boolean(map._animatingZoom || map._panAnim && map._panAnim._inProgress);
    map.eachLayer((leaf) => {
        if (leaf._topClusterLevel && (leaf._inZoomAnimation || leaf._queueTimeout)) { busy = true; }
    });
    return !busy;
""")


# The map's centre and zoom, to see whether something moved it.
MAP_VIEW = _on_the_map("""
    const centre = map.getCenter();
    return [centre.lat, centre.lng, map.getZoom()];
""")


def _open_all(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(OPEN_ALL)
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_served_map_draws_and_stays_on_the_server(
    browser: Any, live_server: LiveServer, login_state: dict[str, Any], kind: str
) -> None:
    context, page, watch = _watched_page(browser, storage_state=login_state)
    try:
        page.goto(f"{live_server.origin}/maps/{kind}?unit={UNIT[kind]}")
        polygons = page.locator(".leaflet-overlay-pane svg path")
        polygons.nth(POLYGONS[kind] - 1).wait_for(state="attached")
        assert page.locator(".rural-demo-badge").inner_text() == "示例数据"
        assert page.locator("#rural-legend").inner_text().strip()
        assert re.fullmatch(r"\d+ k?m", page.locator(".leaflet-control-scale").inner_text())
        found = _open_all(page)
        text = "\n".join(found["tooltips"] + found["popups"])
        assert found["tooltips"], "no tooltip opened"
        assert found["images"] == 0  # no <img> smuggled in by a name
        if kind != "village":
            for name in (w.HOSTILE, w.BACKTICK, w.TEMPLATE):
                assert name in text, name
        assert "王小明" not in text
        if kind == "village":  # up close, every household of A1 is its own CSS marker
            markers = page.locator(".leaflet-marker-pane .rural-pt")
            markers.nth(19).wait_for(state="attached")  # chunked loading adds them in turns
            assert markers.count() == 20
            page.wait_for_function(POINTS_SETTLED)
            markers.first.click()
            household = page.locator(".leaflet-popup-content", has_text="户厕: ")
            household.wait_for(state="visible")
            assert household.inner_text().startswith("户厕: ")
        _assert_clean(watch)
        outside = [url for url in watch.requests if not url.startswith(live_server.origin + "/")]
        assert outside == []
    finally:
        context.close()


def test_hovering_and_searching_villages_show_names_literally(
    browser: Any, live_server: LiveServer, login_state: dict[str, Any]
) -> None:
    context, page, watch = _watched_page(browser, storage_state=login_state)
    try:
        page.goto(f"{live_server.origin}/maps/overview")
        villages = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
        villages.nth(3).wait_for(state="attached")
        assert villages.count() == 4  # towns are not interactive; households are hidden
        texts = {}
        for index in range(villages.count()):
            box = villages.nth(index).bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            tooltip = page.locator(".leaflet-tooltip")
            tooltip.wait_for(state="visible")
            first, *rest = tooltip.inner_text().splitlines()
            texts[first.removeprefix("村").strip()] = "\n".join(rest)
            page.mouse.move(2, VIEWPORT["height"] - 2)
            tooltip.wait_for(state="detached")
        assert sorted(texts) == sorted(w.VILLAGE_NAMES.values())
        for code, name in w.VILLAGE_NAMES.items():
            assert w.EXPECTED_HARMLESS_TEXT[code] in texts[name]

        # The village search: every village offered by name and town; Enter opens its popup.
        box = page.locator("#rural-search input")
        options = page.locator("#rural-search-list option")
        values = sorted(options.nth(i).get_attribute("value") for i in range(options.count()))
        assert values == sorted(
            f"{name} · {w.TOWN_NAMES[code[:9] + '000']}" for code, name in w.VILLAGE_NAMES.items()
        )
        box.fill(f"{w.HOSTILE} · 甲镇")
        box.press("Enter")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        assert w.HOSTILE in popup.inner_text()
        assert "25.0% (1/4)" in popup.inner_text()
        link = popup.locator("a", has_text="村页面")
        assert link.get_attribute("href") == f"/official?unit={w.A2}"
        assert page.locator("img[src='x']").count() == 0
        # Part of a name finds the one village it names; a part several villages share finds none.
        page.locator(".leaflet-popup-close-button").click()
        popup.wait_for(state="detached")
        box.fill("东山")
        box.press("Enter")
        popup.wait_for(state="visible")
        assert "东山村" in popup.inner_text()
        page.locator(".leaflet-popup-close-button").click()
        popup.wait_for(state="detached")
        box.fill("村")  # in more than one name: no jump
        view = page.evaluate(MAP_VIEW)
        box.press("Enter")  # the search runs in the keydown handler, before press() returns
        assert page.evaluate(MAP_VIEW) == view
        assert page.locator(".leaflet-popup-content").count() == 0
        _assert_clean(watch)
    finally:
        context.close()


def _saved(database_url: str, folder: Path, kind: str, **setup: Any) -> Path:
    engine = make_engine(database_url)
    try:
        m = build_map(
            engine,
            KINDS[kind],
            MapRequest(unit_code=UNIT[kind]),
            MapSetup(assets=Assets.inline(), links=Links.for_file("http://10.0.0.8"), **setup),
        )
    finally:
        engine.dispose()
    return save(m, folder / f"{kind}.html")


def test_saved_map_opens_from_disk_with_no_network(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    kind = "overview"
    path = _saved(live_server.database_url, tmp_path, kind)
    assert "<script src=" not in path.read_text(encoding="utf-8")
    context, page, watch = _watched_page(browser)
    try:
        page.goto(path.as_uri())
        polygons = page.locator(".leaflet-overlay-pane svg path")
        polygons.nth(POLYGONS[kind] - 1).wait_for(state="attached")
        found = _open_all(page)
        text = "\n".join(found["tooltips"] + found["popups"])
        for name in (w.HOSTILE, w.BACKTICK, w.TEMPLATE):
            assert name in text
        assert f"http://10.0.0.8/official?unit={w.A1}" in found["links"]
        _assert_clean(watch)
        assert watch.requests == [path.as_uri()]
    finally:
        context.close()


def test_an_intranet_tile_source_is_the_only_other_host(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    tiles = "http://tiles.intranet.test/{z}/{x}/{y}.png"
    path = _saved(live_server.database_url, tmp_path, "sewage", basemap=basemap_for(tiles))
    context, page, watch = _watched_page(browser)
    served: list[str] = []

    def fake_tile_server(route: Any) -> None:
        served.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG_1X1)

    try:
        page.route("http://tiles.intranet.test/**", fake_tile_server)
        page.goto(path.as_uri())
        page.locator(".leaflet-tile-loaded").first.wait_for(state="attached")
        _assert_clean(watch)
        others = [url for url in watch.requests if url != path.as_uri()]
        assert others
        assert all(
            re.fullmatch(r"http://tiles\.intranet\.test/\d+/\d+/\d+\.png", u) for u in others
        )
        assert served
    finally:
        context.close()
