"""A small world for the web-service tests: two counties, a user of every role, one object of each
registry inside the users' scope (village A1) and one outside it (county B).

Everything is inserted through the ORM and ``rural.users`` into a real database.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from api.auth import issue_token
from rural import migrate, users
from rural.db import make_engine, write_session
from rural.enums import (
    CollectionPointKind,
    FacilityStatus,
    Line,
    ProblemSource,
    ProblemStatus,
    ProblemType,
    Role,
    SewageMode,
    ToiletCondition,
    ToiletType,
    TreatmentKind,
    UnitLevel,
)
from rural.models import (
    ChangeLog,
    CollectionPoint,
    Household,
    Problem,
    PublicToilet,
    SecurityEvent,
    SewageFacility,
    TransferStation,
    TreatmentFacility,
    Unit,
)
from rural.permissions import Actor
from rural.settings import Settings, sqlite_path

COUNTY_A, TOWN_A, VILLAGE_A1, VILLAGE_A2 = (
    "331128000000",
    "331128101000",
    "331128101201",
    "331128101202",
)
COUNTY_B, TOWN_B, VILLAGE_B = "331129000000", "331129101000", "331129101201"
PASSWORD = "correct horse 9"

# (username, role, unit, line): one user per role (two lines of department staff).
PEOPLE: tuple[tuple[str, Role, str, Line | None], ...] = (
    ("admin_a", Role.COUNTY_ADMIN, COUNTY_A, None),
    ("official_a", Role.TOWNSHIP_OFFICIAL, TOWN_A, None),
    ("cadre_a", Role.VILLAGE_CADRE, VILLAGE_A1, None),
    ("agri_a", Role.DEPARTMENT_STAFF, COUNTY_A, Line.AGRICULTURE),
    ("eco_a", Role.DEPARTMENT_STAFF, COUNTY_A, Line.ECOLOGY),
    ("field_a", Role.FIELD_STAFF, VILLAGE_A1, None),
    ("reviewer_a", Role.REVIEWER, COUNTY_A, None),
    ("villager_a", Role.VILLAGER, VILLAGE_A1, None),
)
HOUSEHOLDER, ID_NUMBER, PHONE = "王小明", "331128199001011234", "13812345678"


def square(x: float, y: float, size: float = 0.05) -> MultiPolygon:
    return MultiPolygon([box(x, y, x + size, y + size)])


@dataclass
class Place:
    """The objects of one village (and its town and county)."""

    village: str
    town: str
    county: str
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    engine: Engine
    settings: Settings
    inside: Place
    outside: Place
    user_ids: dict[str, int] = field(default_factory=dict)

    def token(self, username: str) -> str:
        with Session(self.engine) as session:
            user = users.user_by_name(session, username)
        assert user is not None
        return issue_token(self.settings, user)[0]

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def session_cookie(self, username: str) -> tuple[str, str]:
        """A page session for ``username``: (cookie value, CSRF token)."""
        with write_session(self.engine) as session:
            user = users.user_by_name(session, username)
            assert user is not None
            raw, web = users.open_session(session, user=user, hours=1)
            return raw, web.csrf_token


def _units(session: Session) -> None:
    rows = [
        (COUNTY_A, "青溪县", UnitLevel.COUNTY, None, square(119.0, 28.0, 1.0)),
        (TOWN_A, "赤石乡", UnitLevel.TOWN, COUNTY_A, square(119.0, 28.0, 0.5)),
        (VILLAGE_A1, "王家村", UnitLevel.VILLAGE, TOWN_A, square(119.0, 28.0, 0.1)),
        (VILLAGE_A2, "李家村", UnitLevel.VILLAGE, TOWN_A, square(119.2, 28.0, 0.1)),
        (COUNTY_B, "白水县", UnitLevel.COUNTY, None, square(121.0, 30.0, 1.0)),
        (TOWN_B, "东坑镇", UnitLevel.TOWN, COUNTY_B, square(121.0, 30.0, 0.5)),
        (VILLAGE_B, "张家村", UnitLevel.VILLAGE, TOWN_B, square(121.0, 30.0, 0.1)),
    ]
    for level in (UnitLevel.COUNTY, UnitLevel.TOWN, UnitLevel.VILLAGE):
        for code, name, lvl, parent, geom in rows:
            if lvl == level:
                session.add(
                    Unit(
                        code=code,
                        name=name,
                        level=lvl,
                        parent_code=parent,
                        urban_rural_code="220" if lvl == UnitLevel.VILLAGE else None,
                        geom=geom,
                    )
                )
        session.flush()  # no relationship(): parents first


def _objects(session: Session, place: Place, x: float, y: float) -> None:
    objects = {
        "collection_point": CollectionPoint(
            village_code=place.village,
            name="村口收集点",
            kind=CollectionPointKind.POINT,
            status=FacilityStatus.OPERATING,
            cleaner="赵保洁",
            geom=Point(x + 0.01, y + 0.01),
        ),
        "transfer_station": TransferStation(
            town_code=place.town,
            name="乡转运站",
            capacity_tpd=20,
            status=FacilityStatus.OPERATING,
            geom=Point(x + 0.02, y + 0.02),
        ),
        "treatment_facility": TreatmentFacility(
            unit_code=place.county,
            name="县焚烧厂",
            kind=TreatmentKind.INCINERATION,
            capacity_tpd=500,
            status=FacilityStatus.OPERATING,
            geom=Point(x + 0.3, y + 0.3),
        ),
        "sewage_facility": SewageFacility(
            village_code=place.village,
            name="村污水站",
            mode=SewageMode.CENTRALIZED,
            status=FacilityStatus.OPERATING,
            geom=Point(x + 0.03, y + 0.01),
        ),
        "public_toilet": PublicToilet(
            village_code=place.village,
            name="村委公厕",
            toilet_type=ToiletType.FLUSH_SEWER,
            condition=ToiletCondition.IN_USE,
            geom=Point(x + 0.04, y + 0.01),
        ),
        "household": Household(
            code=place.village + "001",
            village_code=place.village,
            householder=HOUSEHOLDER,
            id_number=ID_NUMBER,
            phone=PHONE,
            members=3,
            geom=Point(x + 0.05, y + 0.02),
        ),
        "problem": Problem(
            problem_type=ProblemType.GARBAGE,
            source=ProblemSource.INSPECTION,
            village_code=place.village,
            description="垃圾桶满溢",
            found_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
            deadline=date.today() - timedelta(days=3),
            status=ProblemStatus.ASSIGNED,
            geom=Point(x + 0.01, y + 0.03),
        ),
    }
    for name, obj in objects.items():
        session.add(obj)
        session.flush()
        place.ids[name] = int(obj.id)  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return users._hasher().hash(PASSWORD)


def build_world(engine: Engine, settings: Settings) -> World:
    world = World(
        engine=engine,
        settings=settings,
        inside=Place(VILLAGE_A1, TOWN_A, COUNTY_A),
        outside=Place(VILLAGE_B, TOWN_B, COUNTY_B),
    )
    operator = Actor.operator("setup")
    # Argon2 takes ~0.3 s per hash here: every user of every test world shares one hash.
    original = users.hash_password
    users.hash_password = lambda pw: _password_hash() if pw == PASSWORD else original(pw)  # type: ignore[method-assign]
    try:
        _fill(engine, world, operator)
    finally:
        users.hash_password = original  # type: ignore[method-assign]
    return world


def _fill(engine: Engine, world: World, operator: Actor) -> None:
    with write_session(engine) as session:
        _units(session)
        _objects(session, world.inside, 119.0, 28.0)
        _objects(session, world.outside, 121.0, 30.0)
        for username, role, unit, line in PEOPLE:
            user = users.create_user(
                session,
                actor=operator,
                username=username,
                role=role,
                unit_code=unit,
                password=PASSWORD,
                line=line,
                display_name=username,
                phone="13900001111",
            )
            world.user_ids[username] = int(user.id or 0)


def count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(model)
        if where:
            statement = statement.where(*where)  # type: ignore[arg-type]
        return int(session.execute(statement).scalar_one())


def change_count(engine: Engine) -> int:
    return count(engine, ChangeLog)


def security_events(engine: Engine) -> list[SecurityEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)))  # type: ignore[arg-type]


_TEMPLATE: dict[str, tuple[Path, World]] = {}


def copy_world(base: Path, sqlite_url: str) -> World:
    """A fresh copy of the world in the SQLite file of ``sqlite_url``.

    The world is built and migrated once per test process (under ``base``); each test gets its
    own copy of that file, which takes milliseconds instead of a second.
    """
    if "world" not in _TEMPLATE:
        folder = base / "world-template"
        folder.mkdir(exist_ok=True)
        path = folder / "rural.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        template = build_world(engine, Settings(database_url=url))
        engine.dispose()
        _TEMPLATE["world"] = (path, template)
    path, template = _TEMPLATE["world"]
    target = sqlite_path(sqlite_url)
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    settings = Settings(database_url=sqlite_url)
    return World(
        engine=make_engine(sqlite_url),
        settings=settings,
        inside=Place(**{**template.inside.__dict__, "ids": dict(template.inside.ids)}),
        outside=Place(**{**template.outside.__dict__, "ids": dict(template.outside.ids)}),
        user_ids=dict(template.user_ids),
    )


@dataclass
class Server:
    """A real uvicorn server process running the app, on a free loopback port."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, folder: Path, *, serve_args: list[str] | None = None, **env: str
) -> Iterator[Server]:
    """Start a uvicorn server process on ``database_url``; stop it (if still alive) on exit.

    With ``serve_args``, the server is ``rural serve`` itself, given those options."""
    port = free_port()
    log = folder / f"server-{port}.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RURAL_")},
        "RURAL_DATABASE_URL": database_url,
        **env,
    }
    # uvicorn runs the real app factory (as ``rural serve`` does, minus the CLI's imports and
    # the migration check: the test database is migrated already).
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    command += ["--log-level", "warning"]
    if serve_args is not None:
        command = [str(Path(sys.executable).parent / "rural"), "serve", *serve_args]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log=log)
    try:
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server: Server) -> None:
    for _ in range(600):
        if server.process.poll() is not None:
            msg = f"server exited: {server.log.read_text(errors='replace')[-2000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    msg = f"server did not start: {server.log.read_text(errors='replace')[-2000:]}"
    raise RuntimeError(msg)


def page_login(
    client: TestClient, username: str, password: str = PASSWORD, next_url: str = ""
) -> int:
    """Log in through the login page (its CSRF token and cookie); the response status."""
    form = client.get("/login", params={"next": next_url} if next_url else None)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf.group(1),
            "next": next_url,
        },
        follow_redirects=False,
    )
    return response.status_code
