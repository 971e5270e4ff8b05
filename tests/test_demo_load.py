"""Loading the demo: refusing real data, rebuilding, determinism, PostGIS, the several-county
province, and parameter checks. Reduced sizes: the full county is checked in test_demo.py."""

from __future__ import annotations

import hashlib
import logging
import re
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from api.app import create_app
from rural import codes, users
from rural import models as m
from rural.db import make_engine
from rural.demo import DemoParams, Manifest, generate, load_demo, logins
from rural.enums import ChainBreakKind, ProblemSource, ProblemStatus, ProblemType, Role, UnitLevel
from rural.errors import DemoDataError, ValidationError
from rural.settings import Settings
from tests.apiworld import page_login
from tests.test_demo import run_cli

SMALL = DemoParams(villages=20, households=800, towns=3, seed=11)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def content_hash(engine: Engine) -> str:
    """A hash of every table's rows, except the change log (which records when it was loaded)
    and the demo users' password hashes (a new random password every load)."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in m.metadata.sorted_tables:
            if table.name == "change_log":
                continue
            key = ", ".join(c.name for c in table.primary_key.columns)
            columns = ", ".join(c.name for c in table.columns if c.name != "password_hash")
            for row in conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} ORDER BY {key}"):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def password_hashes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {h for (h,) in conn.execute(text("SELECT password_hash FROM user_account"))}


def test_a_database_with_real_data_is_refused(tmp_path: Path, engine: Engine) -> None:
    with Session(engine) as session:
        session.add(m.Unit(code="330000000000", name="浙江省", level=UnitLevel.PROVINCE))
        session.commit()
    result = run_cli(engine.url.render_as_string(hide_password=False), "demo", "--villages", "12")
    assert result.exit_code == 2
    assert "非示例数据" in result.output
    assert "unit" in result.output
    assert scalar(engine, "SELECT count(*) FROM unit") == 1
    assert scalar(engine, "SELECT count(*) FROM dataset_info") == 0
    with pytest.raises(DemoDataError, match="not demo data"):
        load_demo(engine, SMALL, actor="测试")


def test_a_demo_is_rebuilt_with_new_parameters(engine: Engine) -> None:
    load_demo(engine, SMALL, actor="甲")
    first = scalar(engine, "SELECT count(*) FROM household")
    other = DemoParams(villages=15, households=450, towns=2, seed=12)
    report = load_demo(engine, other, actor="乙")
    assert "450 户" in report
    assert scalar(engine, "SELECT count(*) FROM household") == 450 != first
    assert scalar(engine, "SELECT count(*) FROM unit WHERE level = 'village'") == 15
    assert scalar(engine, "SELECT value FROM dataset_info WHERE key = 'seed'") == "12"
    assert scalar(engine, "SELECT count(*) FROM change_log") == 1
    assert scalar(engine, "SELECT actor FROM change_log") == "乙"
    same = load_demo(engine, other, actor="丙", if_missing=True)
    assert "已存在" in same
    assert scalar(engine, "SELECT actor FROM change_log") == "乙"


def test_the_same_seed_gives_the_same_tables_and_another_seed_others(
    tmp_path: Path, make_db: Callable[[str], Engine]
) -> None:
    hashes = []
    passwords = []
    for name, params in (("a", SMALL), ("b", SMALL), ("c", replace(SMALL, seed=12))):
        engine = make_db(f"sqlite:///{tmp_path / name}.db")
        load_demo(engine, params, actor="测试")
        hashes.append(content_hash(engine))
        passwords.append(password_hashes(engine))
    assert hashes[0] == hashes[1]
    assert hashes[2] != hashes[0]
    # every load: one password hash shared by all demo users, a new one each time
    assert [len(p) for p in passwords] == [1, 1, 1]
    assert passwords[0] != passwords[1]


def test_the_manifest_round_trips_through_json() -> None:
    manifest = generate(SMALL).manifest
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert {b.kind for b in again.chain_breaks} == set(ChainBreakKind)
    assert again.lagging_villages
    assert set(again.progress_groups) == {"leading", "ahead", "typical", "behind", "lagging"}


@pytest.mark.postgis
def test_the_demo_loads_on_postgis(
    tmp_path: Path, postgis_url: str, make_db: Callable[[str], Engine]
) -> None:
    engine = make_db(postgis_url)
    login_file = tmp_path / "demo-login.txt"  # not data/ under the working directory
    load_demo(engine, SMALL, actor="测试", login_file=login_file)
    assert logins.password_in(login_file.read_text(encoding="utf-8"))
    assert scalar(engine, "SELECT count(*) FROM household") == SMALL.households
    outside = scalar(
        engine,
        "SELECT count(*) FROM household h JOIN unit u ON u.code = h.village_code"
        " WHERE NOT ST_Within(h.geom, u.geom)",
    )
    assert outside == 0
    assert scalar(engine, "SELECT DISTINCT ST_SRID(geom) FROM unit WHERE geom IS NOT NULL") == 4490
    # Ids were written explicitly: the next ORM insert must still get a fresh one.
    with Session(engine) as session:
        problem = m.Problem(
            problem_type=ProblemType.OTHER,
            source=ProblemSource.INSPECTION,
            village_code=scalar(engine, "SELECT min(code) FROM unit WHERE level = 'village'"),
            description="测试",
            found_at=datetime(2026, 10, 30, 2, tzinfo=UTC),
            status=ProblemStatus.REGISTERED,
        )
        session.add(problem)
        session.commit()
        assert problem.id == scalar(engine, "SELECT count(*) FROM problem")
    # Loading again rebuilds the PostGIS database (tables and trigger functions dropped).
    params = DemoParams(villages=12, households=240, towns=2, seed=5)
    load_demo(engine, params, actor="测试", login_file=login_file)
    assert scalar(engine, "SELECT count(*) FROM household") == 240
    assert scalar(engine, "SELECT count(*) FROM change_log") == 1


def test_many_villages_make_several_counties_that_tile_the_province() -> None:
    params = DemoParams(villages=300, households=3000, seed=2)
    dataset = generate(params)
    units = dataset.tables["unit"].columns
    levels = Counter(units["level"])  # type: ignore[arg-type]
    expected = {"province": 1, "city": 1, "county": 2, "town": params.town_count, "village": 300}
    assert levels == expected
    columns = [units[name] for name in ("code", "parent_code", "level", "geom")]
    rows = list(zip(*columns, strict=True))  # type: ignore[call-overload]
    for code, parent, _, _ in rows:
        assert codes.parent_of(codes.validate(code)) == parent
    province = next(g for _, _, level, g in rows if level == "province")
    counties = [g for _, _, level, g in rows if level == "county"]
    union = shapely.union_all(np.array(counties, dtype=object))
    assert union.symmetric_difference(province).area <= 1e-9 * province.area
    assert shapely.area(shapely.intersection(counties[0], counties[1])) < 1e-12
    down = [b for b in dataset.manifest.chain_breaks if b.kind == ChainBreakKind.FACILITY_DOWN]
    assert len({b.object_type for b in down}) == 2  # collection points and facilities
    facilities = [b for b in down if b.object_type == "treatment_facility"]
    assert len(facilities) == 2  # one per county


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (DemoParams(villages=5), "villages"),
        (DemoParams(villages=30, households=3000, towns=25), "towns"),
        (DemoParams(villages=30, households=20), "households"),
    ],
)
def test_impossible_parameters_are_refused_naming_the_field(params: DemoParams, field: str) -> None:
    with pytest.raises(ValidationError, match=field) as caught:
        generate(params)
    assert caught.value.field == field


def test_the_cli_reports_bad_parameters_in_chinese(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'x.db'}", "demo", "--villages", "5")
    assert result.exit_code == 2
    assert "错误" in result.output
    assert "villages" in result.output


# ---- the demo users' logins ---------------------------------------------------------------------

LOGIN_SIZE = ("--villages", "12", "--households", "240", "--towns", "2")


def printed_password(output: str) -> str:
    found = re.findall(r"密码：(\S+)", output)
    assert len(found) == 1, output
    return str(found[0])


def every_value(engine: Engine) -> str:
    """Every row of every table, as text."""
    parts = []
    with engine.connect() as conn:
        for table in m.metadata.sorted_tables:
            parts += [repr(tuple(r)) for r in conn.exec_driver_sql(f"SELECT * FROM {table.name}")]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/demo.db", Path("data/demo.db.login.txt")),
        ("sqlite:////srv/rural/demo.db?timeout=5", Path("/srv/rural/demo.db.login.txt")),
        ("sqlite://", Path("data/demo-login.txt")),
        ("postgresql+psycopg://rural@db/rural", Path("data/demo-login.txt")),
    ],
)
def test_the_login_file_lies_beside_the_database(url: str, expected: Path) -> None:
    assert logins.login_file_for(url) == expected


def test_the_printed_password_logs_the_demo_users_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run_cli(url, "demo", *LOGIN_SIZE)
    assert first.exit_code == 0, first.output
    password = printed_password(first.output)
    assert "示例数据，仅供演示" in first.output
    assert "共用一个随机密码" in first.output
    for role in Role:
        assert re.search(rf"demo_{role.value}\s+{re.escape(role.label)} / ", first.output)
    saved = tmp_path / "demo.db.login.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert re.findall(r"密码：(\S+)", saved.read_text(encoding="utf-8")) == [password]
    with TestClient(create_app(Settings(database_url=url))) as client:
        token = client.post(
            "/auth/token", data={"username": "demo_county_admin", "password": password}
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = client.get("/api/me", headers=bearer).json()
        assert (me["username"], me["role_label"]) == ("demo_county_admin", "县级管理员")
        # the pages too: the login form, then the county map
        assert page_login(client, "demo_county_admin", password, next_url="/maps/overview") == 303
        assert client.get("/maps/overview").status_code == 200
        refused = client.post(
            "/auth/token", data={"username": "demo_county_admin", "password": password + "x"}
        )
        assert refused.status_code == 401
    again = run_cli(url, "demo", *LOGIN_SIZE, "--if-missing")
    assert again.exit_code == 0, again.output
    assert "已存在" in again.output
    assert printed_password(again.output) == password
    assert "不符" not in again.output
    engine = make_engine(url)
    assert password not in every_value(engine)
    engine.dispose()


def test_a_lost_login_file_resets_the_demo_passwords(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    params = DemoParams(villages=12, households=240, towns=2, seed=5)
    saved = tmp_path / "rural.db.login.txt"  # beside the engine fixture's rural.db
    first = printed_password(load_demo(engine, params, actor="甲"))
    saved.unlink()
    report = load_demo(engine, params, actor="乙", if_missing=True)
    assert "已存在" in report
    assert "已重置" in report
    second = printed_password(report)
    assert second != first
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert printed_password(saved.read_text(encoding="utf-8")) == second
    demo_hashes = {
        name: h
        for name, h in rows_of(engine, "SELECT username, password_hash FROM user_account")
        if name.startswith("demo_")
    }
    assert len(demo_hashes) == len(Role)
    assert len(set(demo_hashes.values())) == 1  # hashed once
    assert users.verify_password(second, next(iter(demo_hashes.values())))
    assert not users.verify_password(first, next(iter(demo_hashes.values())))
    resets = rows_of(
        engine,
        "SELECT actor, action, object_type, object_id, old, new FROM change_log"
        " WHERE object_type = 'user' ORDER BY object_id",
    )
    assert sorted(r[3] for r in resets) == sorted(f"demo_{role.value}" for role in Role)
    assert {(r[0], r[1], r[2]) for r in resets} == {("乙", "update", "user")}
    # a third run prints the saved login; a changed password is pointed out
    assert printed_password(load_demo(engine, params, actor="丙", if_missing=True)) == second
    saved.write_text(saved.read_text(encoding="utf-8").replace(second, "not-the-password"))
    stale = load_demo(engine, params, actor="丙", if_missing=True)
    assert "不符" in stale
    # the plaintext is neither in the database nor in any log record
    everything = every_value(engine)
    assert first not in everything
    assert second not in everything
    assert caplog.records
    assert not [r for r in caplog.records if first in r.getMessage() or second in r.getMessage()]


def rows_of(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)).all())
