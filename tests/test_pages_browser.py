"""The cadre's page on a phone, in Chromium against a real server: sign in from a link, change
a facility's status with a note, and nothing overflows the screen sideways."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from rural.db import make_engine
from rural.models import StatusChange
from tests.apiworld import PASSWORD, World, running_server

pytestmark = pytest.mark.browser
# Set RURAL_SCREENSHOT=path.png to keep the phone screenshot for a look.
SCREENSHOT = os.environ.get("RURAL_SCREENSHOT")
PHONE = {"width": 375, "height": 740}
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Phone) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.40"
)


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_cadre_changes_a_status_from_a_phone(browser: Any, world: World, tmp_path: Path) -> None:
    point = world.inside.ids["collection_point"]
    with running_server(world.settings.database_url, tmp_path) as server:
        context = browser.new_context(
            viewport=PHONE, user_agent=WECHAT_UA, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{server.base_url}/cadre")  # the link a cadre gets in WeChat
            page.wait_for_selector("#login-form")
            assert _no_sideways_scroll(page)
            page.fill("#username", "cadre_a")
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector(f"#collection_point-{point}")
            assert "王家村" in page.inner_text("main")
            assert _no_sideways_scroll(page)
            item = page.locator(f"#collection_point-{point}")
            item.locator("select[name=to_status]").select_option("fault")
            item.locator("input[name=note]").fill("桶破损，已报修")
            item.locator("button[type=submit]").click()
            page.wait_for_selector("#message")
            assert page.inner_text("#message") == "已更新 (saved)"
            assert "故障" in page.inner_text(f"#collection_point-{point}")
            assert _no_sideways_scroll(page)
            page.screenshot(path=str(SCREENSHOT or tmp_path / "cadre-phone.png"), full_page=True)
            assert errors == []
        finally:
            context.close()
    engine = make_engine(world.settings.database_url)
    try:
        with Session(engine) as session:
            change = session.exec(select(StatusChange)).one()
    finally:
        engine.dispose()
    assert (change.to_status, change.note, change.actor) == ("fault", "桶破损，已报修", "cadre_a")
