"""Sign-in, tokens, sessions, rate limits with counters in the database, the security log."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError as SettingsError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app import create_app
from api.auth import SESSION_COOKIE
from rural import clock, security_log, users
from rural.db import write_session
from rural.errors import AuthenticationError, RateLimitedError
from rural.models import PersonalAccessToken, RateCounter, SecurityEvent, SecurityEventKind, User
from rural.settings import Settings
from tests.apiworld import PASSWORD, VILLAGE_A1, VILLAGE_A2, World, count


@pytest.fixture
def world(world: World, sqlite_url: str) -> World:
    world.settings = Settings(database_url=sqlite_url, login_max_failures=3)
    return world


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str]]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


def _events(world: World, kind: SecurityEventKind) -> list[SecurityEvent]:
    with Session(world.engine) as session:
        return security_log.events(session, kind=kind)


def test_password_login_gives_a_bearer_token(world: World, client: TestClient) -> None:
    status, body = _login(client, "cadre_a", PASSWORD)
    assert status == 200
    assert body["token_type"] == "bearer"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "cadre_a"
    assert me.json()["role_label"] == "村干部"
    assert [e.username for e in _events(world, SecurityEventKind.LOGIN)] == ["cadre_a"]


def test_failed_logins_are_limited_with_counters_in_the_database(
    world: World, client: TestClient
) -> None:
    for _ in range(3):
        assert _login(client, "cadre_a", "wrong password")[0] == 401
    locked = client.post("/auth/token", data={"username": "cadre_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    # A second server process on the same database sees the same counters.
    with TestClient(create_app(world.settings)) as other:
        assert _login(other, "cadre_a", PASSWORD)[0] == 429
    # Other users are not affected.
    assert _login(client, "official_a", PASSWORD)[0] == 200
    assert len(_events(world, SecurityEventKind.LOGIN_FAILED)) == 3
    assert len(_events(world, SecurityEventKind.LOGIN_LOCKED)) == 2
    assert count(world.engine, RateCounter, RateCounter.key == "login:user:cadre_a") == 1
    # The next window starts afresh.
    later = clock.now() + timedelta(minutes=16)
    window = security_log.Window(3, timedelta(minutes=15))
    tally = security_log.current(world.engine, key="login:user:cadre_a", window=window, now=later)
    assert tally.count == 0


def test_a_guesser_locks_a_name_only_at_their_own_address(world: World) -> None:
    """3 failures from one address lock the name there; its owner still logs in elsewhere.
    Guessing spread over many addresses meets the name's total (5 here) and locks it everywhere
    but at the addresses its owner logged in from lately."""
    limits = users.LoginLimits(max_failures=3, max_failures_per_user=5, max_failures_per_ip=100)

    def attempt(password: str, ip: str) -> str:
        try:
            users.authenticate(
                world.engine, username="cadre_a", password=password, ip=ip, limits=limits
            )
        except RateLimitedError:
            return "locked"
        except AuthenticationError:
            return "refused"
        return "in"

    guesser, owner = "10.0.0.66", "10.0.0.2"
    assert [attempt("guess", guesser) for _ in range(3)] == ["refused"] * 3
    assert attempt(PASSWORD, guesser) == "locked"
    assert attempt(PASSWORD, owner) == "in"
    # Two more failures from two other machines reach the name's total of 5: the name is
    # locked everywhere except where its owner logged in lately.
    assert [attempt("guess", "10.0.1.1"), attempt("guess", "10.0.1.2")] == ["refused"] * 2
    assert attempt(PASSWORD, "10.0.1.3") == "locked"
    assert attempt(PASSWORD, owner) == "in"
    assert attempt(PASSWORD, guesser) == "locked"  # its own lock still holds
    locked = _events(world, SecurityEventKind.LOGIN_LOCKED)[::-1]  # newest first, reversed
    assert [e.ip for e in locked] == [guesser, "10.0.1.3", guesser]
    assert "login:user:cadre_a 5/5" in (locked[1].detail or "")


def test_unknown_users_fail_like_wrong_passwords(world: World, client: TestClient) -> None:
    status, body = _login(client, "nobody", PASSWORD)
    assert status == 401
    assert body["detail"] == "用户名或密码错误 (wrong user name or password)"
    assert _events(world, SecurityEventKind.LOGIN_FAILED)[0].detail == "unknown user"


def test_deactivation_and_reassignment_take_effect_at_once(
    world: World, client: TestClient
) -> None:
    cadre = world.bearer("cadre_a")
    admin = world.bearer("admin_a")
    point = world.inside.ids["collection_point"]
    assert client.get(f"/api/collection-points/{point}", headers=cadre).status_code == 200
    user_id = world.user_ids["cadre_a"]
    got = client.get(f"/api/users/{user_id}", headers=admin)
    moved = client.patch(
        f"/api/users/{user_id}",
        json={"unit_code": VILLAGE_A2},
        headers={**admin, "If-Match": got.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    # The same token, the next request: the old village is out of scope.
    assert client.get(f"/api/collection-points/{point}", headers=cadre).status_code == 403
    off = client.patch(
        f"/api/users/{user_id}",
        json={"active": False},
        headers={**admin, "If-Match": moved.headers["etag"]},
    )
    assert off.status_code == 200
    assert client.get("/api/me", headers=cadre).status_code == 401
    history = client.get("/api/changes/user/cadre_a", headers=admin).json()
    assert [(h["old"], h["new"]) for h in history[1:]] == [
        ({"unit_code": VILLAGE_A1}, {"unit_code": VILLAGE_A2}),
        ({"active": True}, {"active": False}),
    ]


def test_a_password_reset_ends_every_credential_issued_before(
    world: World, client: TestClient
) -> None:
    """Bearer tokens, page sessions and personal access tokens of the user all stop working."""
    cadre = world.bearer("cadre_a")
    admin = world.bearer("admin_a")
    user_id = world.user_ids["cadre_a"]
    cookie, _csrf = world.session_cookie("cadre_a")
    pat = client.post("/api/me/tokens", json={"name": "QGIS", "days": 30}, headers=cadre)
    assert pat.status_code == 201, pat.text
    pat_header = {"Authorization": f"Bearer {pat.json()['token']}"}
    assert client.get("/ogc/collections", headers=pat_header).status_code == 200
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/cadre").status_code == 200
    version = client.get(f"/api/users/{user_id}", headers=admin).headers["etag"]
    reset = client.patch(
        f"/api/users/{user_id}",
        json={"password": "a new password 7"},
        headers={**admin, "If-Match": version},
    )
    assert reset.status_code == 200, reset.text
    assert client.get("/api/me", headers=cadre).status_code == 401
    assert client.get("/ogc/collections", headers=pat_header).status_code == 401
    assert client.get("/cadre", follow_redirects=False).status_code == 401
    assert _login(client, "cadre_a", "a new password 7")[0] == 200
    assert "password_hash" not in client.get("/api/changes/user/cadre_a", headers=admin).text


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": "1", "typ": "access", "iat": 0, "exp": 1}, "x" * 32, algorithm="HS256"),
        jwt.encode({"sub": "1", "typ": "access", "iat": 0, "exp": 9999999999}, None, "none"),
    ],
)
def test_forged_or_expired_tokens_are_refused(world: World, client: TestClient, token: str) -> None:
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert len(_events(world, SecurityEventKind.AUTH_FAILED)) == 1


def test_missing_credentials_are_401(client: TestClient) -> None:
    assert client.get("/api/me").status_code == 401
    ogc = client.get("/ogc")
    assert ogc.status_code == 401
    assert ogc.headers["www-authenticate"].startswith("Basic")


def test_personal_access_tokens_read_only_revocable_expiring(
    world: World, client: TestClient
) -> None:
    bearer = world.bearer("cadre_a")
    created = client.post("/api/me/tokens", json={"name": "QGIS", "days": 30}, headers=bearer)
    assert created.status_code == 201, created.text
    raw = created.json()["token"]
    assert raw.startswith("rpat_")
    with Session(world.engine) as session:
        stored = session.exec(select(PersonalAccessToken)).one()
    assert stored.token_hash == users.sha256(raw)
    assert raw not in stored.token_hash
    basic = base64.b64encode(f"cadre_a:{raw}".encode()).decode()
    for header in (f"Bearer {raw}", f"Basic {basic}"):
        assert client.get("/ogc/collections", headers={"Authorization": header}).status_code == 200
    # Read-only: a write with a personal access token is refused (and logged).
    point = world.inside.ids["collection_point"]
    write = client.post(
        f"/api/collection-points/{point}/status",
        json={"to_status": "fault"},
        headers={"Authorization": f"Bearer {raw}", "If-Match": '"1"'},
    )
    assert write.status_code == 403
    # Another user's name with this token: refused.
    wrong = base64.b64encode(f"admin_a:{raw}".encode()).decode()
    assert client.get("/ogc", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    # Revoked: refused at once.
    token_id = created.json()["id"]
    assert client.delete(f"/api/me/tokens/{token_id}", headers=bearer).status_code == 200
    assert client.get("/ogc", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    # Someone else cannot revoke my tokens: it does not exist for them.
    second = client.post("/api/me/tokens", json={"name": "x"}, headers=bearer).json()
    other = client.delete(f"/api/me/tokens/{second['id']}", headers=world.bearer("admin_a"))
    assert other.status_code == 404
    # Expired: refused.
    with write_session(world.engine) as session:
        token = session.get(PersonalAccessToken, second["id"])
        assert token is not None
        token.expires_at = clock.now() - timedelta(seconds=1)
        session.add(token)
    expired = client.get("/ogc", headers={"Authorization": f"Bearer {second['token']}"})
    assert expired.status_code == 401
    kinds = {e.kind for e in security_events_of(world)}
    assert {"token_created", "token_revoked", "refused", "auth_failed"} <= kinds


def security_events_of(world: World) -> list[SecurityEvent]:
    with Session(world.engine) as session:
        return list(session.exec(select(SecurityEvent)))


def test_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(SettingsError, match="RURAL_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(SettingsError, match="RURAL_SECRET_KEY"):
        Settings(environment="production", secret_key="short")
    good = Settings(environment="production", secret_key="k" * 40)
    assert "k" * 40 not in repr(good)
    assert "k" * 40 not in str(good.model_dump())


def test_security_log_refuses_updates_and_is_purged(world: World) -> None:
    old = clock.now() - timedelta(days=200)
    with write_session(world.engine) as session:
        session.add(SecurityEvent(kind=SecurityEventKind.LOGIN, username="x", at=old))
        session.add(SecurityEvent(kind=SecurityEventKind.LOGIN, username="y"))
    with pytest.raises(IntegrityError, match="cannot be changed"), world.engine.begin() as conn:
        conn.execute(text("UPDATE security_event SET username = 'z'"))
    deleted = security_log.purge(world.engine, retention_days=180)
    assert deleted["security_event"] == 1
    assert [e.username for e in security_events_of(world)] == ["y"]


def test_the_server_purges_the_security_log_itself(world: World) -> None:
    """At start (and then every ``security_log_purge_hours``), no cron entry needed; 0 = never."""
    old = clock.now() - timedelta(days=world.settings.security_log_retention_days + 20)
    with write_session(world.engine) as session:
        session.add(SecurityEvent(kind=SecurityEventKind.LOGIN, username="old", at=old))
        session.add(SecurityEvent(kind=SecurityEventKind.LOGIN, username="new"))
    never = world.settings.model_copy(update={"security_log_purge_hours": 0})
    with TestClient(create_app(never)):
        pass
    assert [e.username for e in security_events_of(world)] == ["old", "new"]
    with TestClient(create_app(world.settings)):
        assert [e.username for e in security_events_of(world)] == ["new"]


def test_cli_adds_the_first_admin_with_a_password_from_stdin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rural.cli import app

    monkeypatch.setenv("RURAL_DATABASE_URL", world.settings.database_url)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--as", "root", "user", "add", "boss", "--role", "county_admin", "--unit", VILLAGE_A1],
        input="a fine password\n",
    )
    assert result.exit_code == 0, result.output
    refused = runner.invoke(
        app,
        ["user", "add", "bob", "--role", "village_cadre", "--unit", VILLAGE_A1],
        input="short\n",
    )
    assert refused.exit_code == 2
    assert "密码长度" in refused.output
    with Session(world.engine) as session:
        boss = session.exec(select(User).where(User.username == "boss")).one()
    assert boss.password_hash is not None
    assert boss.password_hash.startswith("$argon2id$")
    assert "a fine password" not in boss.password_hash
    token = runner.invoke(app, ["user", "token", "boss", "--name", "qgis"])
    assert token.exit_code == 0
    assert "rpat_" in token.output
    assert runner.invoke(app, ["user", "deactivate", "boss"]).exit_code == 0
    database = world.settings.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(database)
    try:
        active = conn.execute("SELECT active FROM user_account WHERE username = 'boss'").fetchall()
    finally:
        conn.close()
    assert active == [(0,)]
    with write_session(world.engine) as session:
        session.add(
            SecurityEvent(
                kind=SecurityEventKind.LOGIN,
                username="forty_days_ago",
                at=clock.now() - timedelta(days=40),
            )
        )
        session.add(
            SecurityEvent(
                kind=SecurityEventKind.LOGIN,
                username="five_days_ago",
                at=clock.now() - timedelta(days=5),
            )
        )
    assert runner.invoke(app, ["security", "purge", "--days", "30"]).exit_code == 0
    left = [e.username for e in security_events_of(world)]
    assert "forty_days_ago" not in left  # older than the 30 days kept
    assert "five_days_ago" in left
