"""``/docs``: the API documentation page works with no internet, in Chromium against a real
server: every operation of the OpenAPI document is listed, nothing is fetched from outside the
app, and "Authorize" + "Try it out" call the API as the user who signed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.docs import FILES, STATIC_PREFIX, static_url
from rural.settings import Settings
from tests.apiworld import PASSWORD, World, running_server

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_the_page_and_only_the_listed_files_are_served(sqlite_url: str) -> None:
    with TestClient(create_app(Settings(database_url=sqlite_url))) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for name in FILES:
            assert f'"{static_url(name)}"' in page.text
            reply = client.get(static_url(name))
            assert reply.status_code == 200, name
            assert reply.content, name
            assert "immutable" in reply.headers["cache-control"]
        assert (
            client.get(static_url("swagger-ui-bundle.js"))
            .headers["content-type"]
            .startswith("text/javascript")
        )
        release = static_url("docs.js").split("/")[-2]
        refused = [
            f"{STATIC_PREFIX}/{release}/redoc.standalone.js",  # in the package, not listed
            f"{STATIC_PREFIX}/{release}/..%2F__init__.py",
            f"{STATIC_PREFIX}/0.0.0/swagger-ui.css",  # another release
        ]
        for url in refused:
            assert client.get(url).status_code == 404, url
        # No CDN anywhere in the page (FastAPI's own docs page would load jsdelivr).
        assert "http" not in page.text.replace("http-equiv", "")


@pytest.mark.browser
def test_docs_list_every_operation_and_try_one_as_the_user(
    browser: Any, world: World, tmp_path: Path
) -> None:
    with running_server(world.settings.database_url, tmp_path) as server:
        schema = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
        operations = sum(
            1 for item in schema["paths"].values() for method in item if method in HTTP_METHODS
        )
        assert operations > 20
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{server.base_url}/docs")
            blocks = page.locator(".opblock")
            blocks.nth(operations - 1).wait_for(state="attached")
            assert blocks.count() == operations

            page.locator("button.authorize").first.click()
            page.fill("#oauth_username", "cadre_a")
            page.fill("#oauth_password", PASSWORD)
            page.get_by_role("button", name="Apply given OAuth2 credentials").click()
            page.get_by_text("Authorized", exact=True).wait_for()  # /auth/token answered
            page.locator(".close-modal").click()

            me = page.locator(".opblock-get").filter(
                has=page.locator('.opblock-summary-path[data-path="/api/me"]')
            )
            me.locator(".opblock-summary").click()
            me.locator("button.try-out__btn").click()
            me.locator("button.execute").click()
            body = me.locator(".live-responses-table .response .microlight").first
            body.wait_for()
            assert '"cadre_a"' in body.inner_text()
            status = me.locator(".live-responses-table tbody .response-col_status").first
            assert status.inner_text().strip() == "200"
        finally:
            context.close()
        outside = [url for url in requests if not url.startswith(server.base_url + "/")]
        assert outside == []
        assert errors == []
