"""The maps in a real browser: Debian Chromium driven by Playwright, against a live server.

Checks what only a browser can: the polygons are drawn, tooltips show hostile names literally
and run nothing, and no request leaves the test server (or, for a saved file, the disk).
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
from gis.layers import town_layer, village_layer
from maps.assets import Assets
from maps.overview import build_overview_map, save
from rural import migrate
from rural.db import make_engine
from rural.settings import Settings
from tests.factories import SmallCounty, ToiletMix, VillageSpec, small_county

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
BACKTICK = "王`家村"
TEMPLATE = "${alert(1)}村"
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class LiveServer:
    origin: str
    county: SmallCounty
    database_url: str

    @property
    def village_names(self) -> list[str]:
        return [name for names in self.county.village_names for name in names]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn in a thread on a free 127.0.0.1 port, serving a small county with hostile names."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'rural.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    county = small_county(
        engine,
        county_name="清溪县",
        demo=True,
        towns=[
            (
                "甲镇",
                [
                    VillageSpec("东山村", ToiletMix(harmless_in_use=19, sanitary_in_use=1)),
                    VillageSpec(HOSTILE, ToiletMix(harmless_in_use=1, no_toilet=3)),
                ],
            ),
            (
                "乙乡",
                [
                    VillageSpec(BACKTICK, ToiletMix(harmless_in_use=3, harmless_broken=1)),
                    VillageSpec(TEMPLATE),
                ],
            ),
        ],
    )
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
        yield LiveServer(origin=f"http://127.0.0.1:{port}", county=county, database_url=url)
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


def _watched_page(browser: Any) -> tuple[Any, Any, PageWatch]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = PageWatch()
    page.on("request", lambda request: watch.requests.append(request.url))
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


def _tooltip_texts(page: Any) -> list[str]:
    """Hover each village polygon in turn; the text of the tooltip it opens."""
    texts = []
    villages = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    for index in range(villages.count()):
        box = villages.nth(index).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for(state="visible")
        texts.append(tooltip.inner_text())
        page.mouse.move(2, VIEWPORT["height"] - 2)  # off every polygon: the tooltip closes
        tooltip.wait_for(state="detached")
    return texts


def _assert_clean(watch: PageWatch) -> None:
    assert watch.dialogs == []
    assert watch.page_errors == []
    assert watch.console_errors == []


def test_overview_map_draws_everything_and_stays_on_the_server(
    browser: Any, live_server: LiveServer
) -> None:
    context, page, watch = _watched_page(browser)
    try:
        page.goto(f"{live_server.origin}/maps/overview")
        paths = page.locator(".leaflet-overlay-pane svg path")
        villages = len(live_server.village_names)
        towns = len(live_server.county.town_codes)
        paths.nth(villages + towns - 1).wait_for(state="attached")
        assert paths.count() == villages + towns
        assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == villages

        assert (
            page.locator("#rural-title").inner_text().startswith("清溪县 农村无害化卫生厕所普及率")
        )
        assert page.locator(".rural-demo-badge").inner_text() == "示例数据"
        legend = page.locator("#rural-legend").inner_text()
        for label in ("无害化卫生厕所普及率", "≥ 95%", "< 50%", "无数据"):
            assert label in legend
        scale = page.locator(".leaflet-control-scale").inner_text()
        assert re.fullmatch(r"\d+ k?m", scale.strip()), scale  # metric only
        layers = page.locator(".leaflet-control-layers").inner_text()
        assert "村 · 无害化卫生厕所普及率" in layers
        assert "乡镇界" in layers

        texts = _tooltip_texts(page)
        by_name = {}
        for text in texts:
            first_line = text.splitlines()[0]
            assert first_line.startswith("村")
            by_name[first_line.removeprefix("村").strip()] = text
        assert sorted(by_name) == sorted(live_server.village_names)
        # Figures worked out by hand from the ToiletMix of each village.
        assert "95.0%" in by_name["东山村"]  # 19 / 20
        assert "25.0%" in by_name[HOSTILE]  # 1 / 4
        assert "75.0%" in by_name[BACKTICK]  # 3 / 4 (one harmless toilet leaks)
        assert "无数据" in by_name[TEMPLATE]  # no households
        assert "甲镇" in by_name[HOSTILE]
        assert "乙乡" in by_name[BACKTICK]
        assert page.locator(".leaflet-tooltip img").count() == 0
        assert page.locator("img[src='x']").count() == 0

        _assert_clean(watch)
        assert watch.requests
        outside = [url for url in watch.requests if not url.startswith(live_server.origin + "/")]
        assert outside == []
    finally:
        context.close()


def test_index_links_to_the_map(browser: Any, live_server: LiveServer) -> None:
    context, page, watch = _watched_page(browser)
    try:
        page.goto(f"{live_server.origin}/")
        assert page.locator("#demo-badge").inner_text() == "示例数据"
        page.locator("#link-overview").click()
        page.wait_for_url(f"{live_server.origin}/maps/overview")
        page.locator(".leaflet-overlay-pane svg path").first.wait_for(state="attached")
        _assert_clean(watch)
        assert all(url.startswith(live_server.origin + "/") for url in watch.requests)
    finally:
        context.close()


def test_saved_map_opens_from_disk_with_no_network(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = make_engine(live_server.database_url)
    try:
        code = live_server.county.county_code
        villages = village_layer(engine, unit_code=code)
        towns = town_layer(engine, unit_code=code)
    finally:
        engine.dispose()
    m = build_overview_map(villages, towns, title="清溪县 总览", demo=True, assets=Assets.served())
    path = save(m, tmp_path / "总览.html")
    html = path.read_text(encoding="utf-8")
    assert "<script src=" not in html

    context, page, watch = _watched_page(browser)
    try:
        page.goto(path.as_uri())
        paths = page.locator(".leaflet-overlay-pane svg path")
        expected = len(live_server.village_names) + len(live_server.county.town_codes)
        paths.nth(expected - 1).wait_for(state="attached")
        assert paths.count() == expected
        texts = _tooltip_texts(page)
        assert any(text.splitlines()[0].endswith(HOSTILE) for text in texts)
        assert any(text.splitlines()[0].endswith(BACKTICK) for text in texts)
        _assert_clean(watch)
        assert watch.requests == [path.as_uri()]
    finally:
        context.close()
