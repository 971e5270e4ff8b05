"""The people's pages in process: login with CSRF, the cadre's quick status change (version in
the form), the official's dashboard, user administration, the public board and its limit."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from rural.db import write_session
from rural.models import CollectionPoint, SecurityEvent, SecurityEventKind, StatusChange, User
from rural.settings import Settings
from tests.apiworld import (
    HOUSEHOLDER,
    ID_NUMBER,
    PASSWORD,
    PHONE,
    VILLAGE_A1,
    World,
    count,
    page_login,
)

HOSTILE = "<script>alert(1)</script>`${x}`"


@pytest.fixture
def world(world: World, sqlite_url: str) -> World:
    world.settings = Settings(
        database_url=sqlite_url, public_requests_per_minute=3, public_window_seconds=3600
    )
    with write_session(world.engine) as session:
        point = session.get(CollectionPoint, world.inside.ids["collection_point"])
        assert point is not None
        point.name = HOSTILE
        session.add(point)
    return world


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_pages_need_a_login_and_return_after_it(client: TestClient) -> None:
    response = client.get("/cadre", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcadre"
    assert page_login(client, "cadre_a", next_url="/cadre") == 303
    cookie = client.cookies.get("rural_session")
    assert cookie
    page = client.get("/cadre")
    assert page.status_code == 200
    assert "王家村" in page.text


def test_login_refuses_a_form_without_its_csrf_cookie(world: World, client: TestClient) -> None:
    response = client.post(
        "/login",
        data={"username": "cadre_a", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "rural_session" not in response.cookies
    assert count(world.engine, SecurityEvent, SecurityEvent.kind == "csrf_failed") == 1


def test_login_cookie_flags_and_no_open_redirect(client: TestClient) -> None:
    form = client.get("/login", params={"next": "//evil.example/x"})
    assert 'name="next" value=""' in form.text
    response = client.post(
        "/login",
        data={
            "username": "official_a",
            "password": PASSWORD,
            "csrf_token": _csrf(form.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/official"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")


def test_wrong_password_shows_the_form_again(client: TestClient) -> None:
    assert page_login(client, "cadre_a", "nope nope") == 401
    assert client.cookies.get("rural_session") is None


def test_cadre_changes_a_status_with_the_version_in_the_form(
    world: World, client: TestClient
) -> None:
    page_login(client, "cadre_a")
    page = client.get("/cadre")
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    point = world.inside.ids["collection_point"]
    action = f"/cadre/status/collection_point/{point}"
    assert action in page.text
    form = {"to_status": "fault", "version": "1", "note": "桶坏了", "csrf_token": _csrf(page.text)}
    done = client.post(action, data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith(f"/cadre?village={VILLAGE_A1}")
    # The same form again (version 1): someone changed it meanwhile -> 412, nothing written.
    stale = client.post(action, data={**form, "to_status": "operating"})
    assert stale.status_code == 412
    assert "刚被他人修改" in stale.text
    # A form without the session's CSRF token is refused and logged.
    forged = client.post(
        action,
        data={**form, "version": "2", "csrf_token": "x"},
        headers={"Accept": "text/html"},
    )
    assert forged.status_code == 403
    with Session(world.engine) as session:
        changes = session.exec(select(StatusChange)).all()
        csrf = session.exec(
            select(SecurityEvent).where(SecurityEvent.kind == SecurityEventKind.CSRF_FAILED)
        ).all()
    assert [(c.to_status, c.note, c.actor) for c in changes] == [("fault", "桶坏了", "cadre_a")]
    assert [e.username for e in csrf] == ["cadre_a"]


def test_cadre_cannot_open_another_village(world: World, client: TestClient) -> None:
    page_login(client, "cadre_a")
    response = client.get("/cadre", params={"village": world.outside.village})
    assert response.status_code == 403


def test_official_dashboard(world: World, client: TestClient) -> None:
    with write_session(world.engine) as session:
        point = session.get(CollectionPoint, world.inside.ids["collection_point"])
        assert point is not None
        point.status = "fault"  # type: ignore[assignment]
        session.add(point)
    page_login(client, "official_a")
    page = client.get("/official")
    assert page.status_code == 200
    assert "赤石乡" in page.text
    assert "垃圾桶满溢" in page.text  # the overdue problem
    assert 'id="down"' in page.text
    assert "故障" in page.text
    assert "张家村" not in page.text  # another county's problem
    assert 'src="/maps/overview?unit=331128101000"' in page.text
    assert 'href="/maps/chain?unit=331128101000"' in page.text
    assert client.get("/official", params={"unit": "331129000000"}).status_code == 403


def test_official_dashboard_shows_only_the_lines_domains(world: World, client: TestClient) -> None:
    """The ecology line may not view problems (403 in the API): the dashboard leaves them out."""
    headers = world.bearer("eco_a")
    assert client.get("/api/problems", headers=headers).status_code == 403
    page_login(client, "eco_a")
    page = client.get("/official")
    assert page.status_code == 200
    assert "垃圾桶满溢" not in page.text
    assert 'id="overdue"' not in page.text
    assert "无权查看问题" in page.text
    # its indicator table: the sewage rates, not the toilet rates
    assert "生活污水治理率" in page.text
    assert "无害化卫生厕所普及率" not in page.text


def test_admin_creates_deactivates_and_resets(world: World, client: TestClient) -> None:
    page_login(client, "admin_a")
    listing = client.get("/admin/users")
    assert listing.status_code == 200
    created = client.post(
        "/admin/users",
        data={
            "csrf_token": _csrf(listing.text),
            "username": "newcadre",
            "role": "village_cadre",
            "unit_code": VILLAGE_A1,
            "password": "a long password",
            "display_name": "<b>新</b>",
        },
    )
    assert created.status_code == 200
    assert "已新建用户 newcadre" in created.text
    assert "<b>新</b>" not in created.text
    with Session(world.engine) as session:
        user = session.exec(select(User).where(User.username == "newcadre")).one()
    edit = client.get(f"/admin/users/{user.id}")
    off = client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": _csrf(edit.text), "op": "deactivate", "version": "1"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    stale = client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": _csrf(edit.text), "op": "activate", "version": "1"},
    )
    assert stale.status_code == 412
    with Session(world.engine) as session:
        assert session.exec(select(User).where(User.username == "newcadre")).one().active is False
    short = client.post(
        "/admin/users",
        data={
            "csrf_token": _csrf(listing.text),
            "username": "x2",
            "role": "village_cadre",
            "unit_code": VILLAGE_A1,
            "password": "short",
        },
    )
    assert short.status_code == 422
    assert "密码长度" in short.text


def test_non_admins_do_not_reach_user_administration(client: TestClient) -> None:
    page_login(client, "official_a")
    assert client.get("/admin/users", headers={"Accept": "text/html"}).status_code == 403


def test_logout_ends_the_session(client: TestClient) -> None:
    page_login(client, "cadre_a")
    page = client.get("/cadre")
    cookie = client.cookies.get("rural_session")
    out = client.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    again = client.get(
        "/cadre",
        headers={"Cookie": f"rural_session={cookie}", "Accept": "text/html"},
        follow_redirects=False,
    )
    assert again.status_code == 303  # back to the login page: the session is revoked


def test_public_board_shows_no_personal_data_and_is_rate_limited(
    world: World, client: TestClient
) -> None:
    board = client.get(f"/board/{VILLAGE_A1}")
    assert board.status_code == 200
    assert "王家村 人居环境公示栏" in board.text
    for secret in (HOUSEHOLDER, ID_NUMBER, PHONE, "赵保洁"):
        assert secret not in board.text
    assert HOSTILE not in board.text
    assert client.get(f"/board/{VILLAGE_A1}").status_code == 200
    assert client.get(f"/board/{VILLAGE_A1}").status_code == 200
    # The 4th request in the minute, even from a second server process: refused.
    with TestClient(create_app(world.settings)) as other:
        limited = other.get(f"/board/{VILLAGE_A1}", headers={"Accept": "text/html"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert client.get(f"/board/{VILLAGE_A1}").status_code == 429
    assert count(world.engine, SecurityEvent, SecurityEvent.kind == "rate_limited") == 1


def test_stylesheet_is_served_by_the_app(client: TestClient) -> None:
    css = client.get("/static/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@media (max-width: 600px)" in css.text
    assert "http" not in css.text
