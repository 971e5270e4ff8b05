"""Personal data in free text and names recorded with objects: masked wherever a caller who may
not see personal data reads them (API, export, maps, dashboard), shown to those who may."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.export import export_gpkg
from maps.problems import problem_properties
from rural.db import write_session
from rural.masking import mask_name, mask_record, mask_text
from rural.models import Problem
from tests.apiworld import World, page_login

MOBILE, ID_NUMBER = "13912345678", "33112819900101123X"
WRITTEN = f"村民反映垃圾桶满溢，联系人手机{MOBILE}，身份证{ID_NUMBER}。"
MASKED = "村民反映垃圾桶满溢，联系人手机139****5678，身份证331128********123X。"
FINDER = "李建国"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WRITTEN, MASKED),
        ("电话:13800001111/15900002222", "电话:138****1111/159****2222"),
        ("+86 18612345678", "+86 186****5678"),
        ("身份证号 110105199001011234 已核实", "身份证号 110105********1234 已核实"),
        # not a mobile number: too long, too short, or not starting 13-19
        ("编号 3311281012010001", "编号 3311281012010001"),
        ("订单 1391234567", "订单 1391234567"),
        ("座机 05781234567", "座机 05781234567"),
        ("2026年7月3日清运3.5吨", "2026年7月3日清运3.5吨"),
        ("", ""),
    ],
)
def test_mask_text_masks_numbers_and_keeps_the_rest(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_names_keep_their_first_character_and_show_they_are_masked() -> None:
    assert [mask_name(n) for n in ("李建国", "张三", "张", "欧阳娜娜")] == [
        "李**",
        "张*",
        "张*",
        "欧***",
    ]


def test_a_record_is_masked_field_by_field() -> None:
    record = {"description": WRITTEN, "found_by": FINDER, "note": None, "status": "assigned"}
    assert mask_record(record, visible=True) == record
    assert mask_record(record, visible=False) == {
        "description": MASKED,
        "found_by": "李**",
        "note": None,
        "status": "assigned",
    }


# --------------------------------------------------------------------- where it is read


@pytest.fixture
def world(world: World) -> World:
    problem_id = world.inside.ids["problem"]
    with write_session(world.engine) as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        problem.description = WRITTEN
        problem.found_by = FINDER
        problem.responsible = FINDER
        problem.result = WRITTEN
        session.add(problem)
    return world


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(("username", "visible"), [("official_a", True), ("reviewer_a", False)])
def test_the_api_masks_a_problems_text_for_those_without_personal_data(
    world: World, client: TestClient, username: str, visible: bool
) -> None:
    problem_id = world.inside.ids["problem"]
    response = client.get(f"/api/problems/{problem_id}", headers=world.bearer(username))
    assert response.status_code == 200, response.text
    record = response.json()
    fields = ("description", "result", "found_by", "responsible")
    if visible:
        assert [record[f] for f in fields] == [WRITTEN, WRITTEN, FINDER, FINDER]
    else:
        assert [record[f] for f in fields] == [MASKED, MASKED, "李**", "李**"]
        listing = client.get("/api/problems", headers=world.bearer(username))
        assert listing.status_code == 200
        for secret in (MOBILE, ID_NUMBER, FINDER):
            assert secret not in response.text
            assert secret not in listing.text


def test_a_masked_export_masks_free_text(world: World, tmp_path: Path) -> None:
    masked = export_gpkg(world.engine, tmp_path / "masked.gpkg")
    problems = pyogrio.read_dataframe(masked.path, layer="问题", read_geometry=False)
    assert MASKED in set(problems["问题描述"])
    assert "李**" in set(problems["发现人"])
    raw = masked.path.read_bytes()
    for secret in (MOBILE, ID_NUMBER, FINDER):
        assert secret.encode() not in raw
    full = export_gpkg(world.engine, tmp_path / "full.gpkg", include_personal=True)
    assert MOBILE.encode() in full.path.read_bytes()


def test_map_popups_never_carry_the_numbers() -> None:
    long_text = "甲" * 75 + MOBILE  # shortened after masking: no half number is left
    shown = problem_properties({"description": long_text})["description"]
    assert "1391" not in str(shown)
    assert problem_properties({"description": WRITTEN})["description"] == MASKED


@pytest.mark.parametrize(("username", "visible"), [("official_a", True), ("reviewer_a", False)])
def test_the_dashboard_masks_overdue_descriptions(
    world: World, client: TestClient, username: str, visible: bool
) -> None:
    assert page_login(client, username) == 303
    page = client.get("/official")
    assert page.status_code == 200
    assert (MOBILE in page.text) is visible
    assert ("139****5678" in page.text) is not visible


@pytest.mark.parametrize(("username", "visible"), [("admin_a", True), ("reviewer_a", False)])
def test_a_status_notes_numbers_are_masked_in_the_change_log(
    world: World, client: TestClient, username: str, visible: bool
) -> None:
    point = world.inside.ids["collection_point"]
    cadre = world.bearer("cadre_a")
    current = client.get(f"/api/collection-points/{point}", headers=cadre)
    changed = client.post(
        f"/api/collection-points/{point}/status",
        json={"to_status": "fault", "note": WRITTEN},
        headers={**cadre, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    for path in (f"/api/changes/collection_point/{point}", "/api/users/cadre_a/changes"):
        response = client.get(path, headers=world.bearer(username))
        if not visible and path.startswith("/api/users"):
            assert response.status_code == 403  # only admins read another user's changes
            continue
        assert response.status_code == 200, response.text
        # a user's changes span units: always masked there
        shown = visible and not path.startswith("/api/users")
        notes = {entry["note"] for entry in response.json()}
        assert (WRITTEN if shown else MASKED) in notes
        assert (MOBILE in response.text) is shown
