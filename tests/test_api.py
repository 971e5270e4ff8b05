"""The REST API in process: registries with ETag / If-Match, scope, masking, the error table."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine, select
from sqlmodel import Session

from api.app import create_app
from api.errors import ERROR_TABLE, lookup
from rural import security_log
from rural.db import write_session
from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.errors import (
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StaleVersionError,
    ValidationError,
    VersionRequiredError,
)
from rural.models import (
    ChangeLog,
    Household,
    HouseholdToilet,
    SecurityEvent,
    StatusChange,
    ToiletState,
)
from rural.settings import Settings
from tests.apiworld import (
    HOUSEHOLDER,
    ID_NUMBER,
    PHONE,
    VILLAGE_A1,
    VILLAGE_A2,
    World,
    build_world,
    change_count,
    count,
    security_events,
)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def test_detail_has_an_etag_and_status_change_needs_if_match(
    world: World, client: TestClient
) -> None:
    headers = world.bearer("cadre_a")
    point = world.inside.ids["collection_point"]
    got = client.get(f"/api/collection-points/{point}", headers=headers)
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    body = {"to_status": "fault", "note": "桶破损"}
    url = f"/api/collection-points/{point}/status"
    before = change_count(world.engine)
    missing = client.post(url, json=body, headers=headers)
    assert missing.status_code == 428
    assert missing.json()["error"] == "version_required"
    done = client.post(url, json=body, headers={**headers, "If-Match": got.headers["etag"]})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "fault"
    assert done.headers["etag"] == '"2"'
    stale = client.post(
        url, json={"to_status": "operating"}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert change_count(world.engine) == before + 1
    assert count(world.engine, StatusChange) == 1


def test_an_invalid_transition_is_409_and_writes_nothing(world: World, client: TestClient) -> None:
    headers = {**world.bearer("cadre_a"), "If-Match": '"1"'}
    point = world.inside.ids["collection_point"]
    response = client.post(
        f"/api/collection-points/{point}/status", json={"to_status": "building"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
    assert count(world.engine, StatusChange) == 0


def test_out_of_scope_is_refused_and_security_logged(world: World, client: TestClient) -> None:
    headers = {**world.bearer("cadre_a"), "If-Match": '"1"'}
    other = world.outside.ids["collection_point"]
    response = client.post(
        f"/api/collection-points/{other}/status", json={"to_status": "fault"}, headers=headers
    )
    assert response.status_code == 403
    assert count(world.engine, StatusChange) == 0
    refused = count(world.engine, SecurityEvent, SecurityEvent.kind == "refused")
    assert refused == 1
    assert client.get(f"/api/collection-points/{other}", headers=headers).status_code == 403


def test_list_is_limited_to_scope_and_filtered(world: World, client: TestClient) -> None:
    headers = world.bearer("official_a")
    listed = client.get("/api/collection-points", headers=headers).json()
    assert listed["total"] == 1
    assert {i["village_code"] for i in listed["items"]} == {VILLAGE_A1}
    assert (
        client.get("/api/collection-points", params={"status": "fault"}, headers=headers).json()[
            "total"
        ]
        == 0
    )
    assert (
        client.get(
            "/api/collection-points", params={"unit": "331129000000"}, headers=headers
        ).status_code
        == 403
    )
    bad = client.get("/api/collection-points", params={"status": "broken"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "status"


@pytest.mark.parametrize(
    ("username", "visible"),
    [("cadre_a", True), ("admin_a", True), ("reviewer_a", False), ("field_a", False)],
)
def test_personal_fields_are_masked_by_role(
    world: World, client: TestClient, username: str, visible: bool
) -> None:
    household = world.inside.ids["household"]
    response = client.get(f"/api/households/{household}", headers=world.bearer(username))
    if username == "reviewer_a" or username == "field_a":
        # reviewers and field staff may view households but not personal data
        assert response.status_code == 200, response.text
    record = response.json()
    if visible:
        assert (record["householder"], record["id_number"], record["phone"]) == (
            HOUSEHOLDER,
            ID_NUMBER,
            PHONE,
        )
    else:
        assert record["householder"] == "王**"
        assert record["id_number"] == "331128********1234"
        assert record["phone"] == "138****5678"
        assert HOUSEHOLDER not in response.text
        assert ID_NUMBER not in response.text


def test_create_names_the_bad_field_and_logs_the_change(world: World, client: TestClient) -> None:
    headers = world.bearer("cadre_a")
    body = {
        "village_code": VILLAGE_A1,
        "name": "新收集点",
        "kind": "point",
        "status": "building",
        "lon": 119.01,
        "lat": 28.02,
    }
    before = change_count(world.engine)
    created = client.post("/api/collection-points", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.json()["lon"] == pytest.approx(119.01)
    assert change_count(world.engine) == before + 1
    for field, value, status in [
        ("kind", "dumpster", 422),
        ("lat", 95.0, 422),
        ("village_code", "331128101299", 422),  # well-formed, no such unit
        ("village_code", "12345", 422),
        ("village_code", VILLAGE_A2, 403),  # a neighbour village: out of the cadre's scope
    ]:
        response = client.post(
            "/api/collection-points", json={**body, field: value}, headers=headers
        )
        assert response.status_code == status, (field, response.text)
        if status == 422:
            assert response.json()["field"] == field, response.json()
    assert change_count(world.engine) == before + 1


def test_patch_edits_fields_with_if_match(world: World, client: TestClient) -> None:
    headers = world.bearer("cadre_a")
    toilet = world.inside.ids["public_toilet"]
    url = f"/api/public-toilets/{toilet}"
    assert client.patch(url, json={"name": "新公厕"}, headers=headers).status_code == 428
    ok = client.patch(url, json={"name": "新公厕"}, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["name"] == "新公厕"
    assert ok.headers["etag"] == '"2"'
    stale = client.patch(url, json={"name": "再改"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    cleared = client.patch(url, json={"name": None}, headers={**headers, "If-Match": '"2"'})
    assert cleared.status_code == 422
    assert cleared.json()["field"] == "name"
    unknown = client.patch(url, json={"colour": "red"}, headers={**headers, "If-Match": '"2"'})
    assert unknown.status_code == 422
    history = client.get(f"/api/changes/public_toilet/{toilet}", headers=headers).json()
    assert [h["action"] for h in history] == ["update"]
    assert history[0]["old"]["name"] == "村委公厕"


def test_change_log_masks_personal_values(world: World, client: TestClient) -> None:
    body = {
        "code": VILLAGE_A1 + "777",
        "village_code": VILLAGE_A1,
        "householder": "李四",
        "id_number": "331128198001011111",
        "phone": "13700001111",
    }
    created = client.post("/api/households", json=body, headers=world.bearer("cadre_a"))
    assert created.status_code == 201, created.text
    household = created.json()["id"]
    duplicate = client.post("/api/households", json=body, headers=world.bearer("cadre_a"))
    assert duplicate.status_code == 409
    own = client.get(f"/api/changes/household/{household}", headers=world.bearer("cadre_a"))
    assert own.json()[0]["new"]["householder"] == "李四"
    reviewer = client.get(f"/api/changes/household/{household}", headers=world.bearer("reviewer_a"))
    assert reviewer.status_code == 200
    assert reviewer.json()[0]["new"]["householder"] == "李*"
    assert "13700001111" not in reviewer.text
    by_user = client.get("/api/users/cadre_a/changes", headers=world.bearer("admin_a"))
    assert by_user.status_code == 200
    assert "李四" not in by_user.text
    assert (
        client.get("/api/users/admin_a/changes", headers=world.bearer("cadre_a")).status_code == 403
    )


def test_units_and_villages_as_geojson(world: World, client: TestClient) -> None:
    headers = world.bearer("official_a")
    villages = client.get("/api/units/331128101000/villages", headers=headers)
    assert villages.status_code == 200
    assert villages.headers["content-type"].startswith("application/geo+json")
    names = [f["properties"]["name"] for f in villages.json()["features"]]
    assert names == ["王家村", "李家村"]
    assert villages.json()["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert client.get("/api/units/331128000000", headers=headers).status_code == 403
    listed = client.get("/api/units", headers=headers).json()
    assert [u["code"] for u in listed["items"]] == ["331128101000", VILLAGE_A1, VILLAGE_A2]


def test_bad_input_is_a_4xx_naming_the_field(world: World, client: TestClient) -> None:
    headers = world.bearer("admin_a")
    for url in ("/api/collection-points/0", "/api/collection-points/99999999999999999999"):
        response = client.get(url, headers=headers)
        assert response.status_code == 422
        assert response.json()["field"] == "object_id"
    assert client.get("/api/collection-points/424242", headers=headers).status_code == 404
    broken = client.post(
        "/api/collection-points",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    nan = client.post(
        "/api/collection-points",
        content=b'{"village_code": "331128101201", "name": "x", "kind": "point",'
        b' "status": "building", "frequency_per_week": NaN}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    huge = client.post(
        "/api/households",
        json={"code": "x1", "village_code": VILLAGE_A1, "members": 10**30},
        headers=headers,
    )
    assert huge.status_code == 422
    assert huge.json()["field"] == "members"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (StaleVersionError("x", current_version=3), 412),
        (VersionRequiredError("x"), 428),
        (InvalidTransitionError("x"), 409),
        (NotFoundError("x"), 404),
        (PermissionDeniedError("x"), 403),
        (RateLimitedError("x", retry_after=5), 429),
        (ValidationError("x", field="f"), 422),
    ],
)
def test_the_one_error_table(error: Exception, status: int) -> None:
    assert lookup(error)[0] == status  # type: ignore[arg-type]
    classes = [cls for cls, _, _ in ERROR_TABLE]
    # most specific first: no class comes after one of its own base classes
    for i, cls in enumerate(classes):
        assert not any(issubclass(cls, earlier) for earlier in classes[:i]), cls


def test_change_log_rows_are_append_only(world: World) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="append-only"), world.engine.begin() as conn:
        conn.execute(text("UPDATE change_log SET actor = 'x'"))
    with pytest.raises(IntegrityError, match="append-only"), world.engine.begin() as conn:
        conn.execute(text("DELETE FROM change_log"))
    assert count(world.engine, ChangeLog) > 0


def _household_with_toilet(
    session: Session,
    *,
    code: str | None,
    village: str,
    toilet: tuple[ToiletType, ToiletCondition, ExcretaDestination] | None,
    resident: bool = True,
) -> None:
    """A household (``code`` None: the world's household of ``village``) with one toilet whose
    only state began in 2025. The stored class is left 'harmless' on purpose: the rule
    (rules/toilet_class.toml, class_source = "rule") decides, not the stored class."""
    if code is None:
        household = session.scalars(
            select(Household).where(Household.village_code == village)  # type: ignore[arg-type]
        ).one()
    else:
        household = Household(code=code, village_code=village, resident=resident)
        session.add(household)
        session.flush()
    if toilet is None:
        return
    kind, condition, destination = toilet
    ledger = HouseholdToilet(
        household_id=household.id,
        toilet_type=kind,
        condition=condition,
        excreta_destination=destination,
        toilet_class=ToiletClass.HARMLESS,
    )
    session.add(ledger)
    session.flush()
    session.add(
        ToiletState(
            toilet_id=ledger.id,
            effective_on=date(2025, 6, 1),
            toilet_type=kind,
            condition=condition,
            excreta_destination=destination,
            toilet_class=ToiletClass.HARMLESS,
            actor="test",
        )
    )


def test_indicators_of_a_unit_and_its_villages(world: World, client: TestClient) -> None:
    tank, untreated = ExcretaDestination.ONSITE_TANK, ExcretaDestination.UNTREATED_DISCHARGE
    three = ToiletType.THREE_COMPARTMENT
    with write_session(world.engine) as session:
        # A1: the world's household 001 (resident): 三格化粪池 in use, tank -> harmless;
        # 002 (resident): 深坑防冻式 in use -> sanitary, not harmless;
        # 003 (NOT resident): 三格化粪池 in use -> harmless, but outside the default
        # denominator (常住户, rules/indicators.toml).
        _household_with_toilet(
            session, code=None, village=VILLAGE_A1, toilet=(three, ToiletCondition.IN_USE, tank)
        )
        _household_with_toilet(
            session,
            code=VILLAGE_A1 + "002",
            village=VILLAGE_A1,
            toilet=(ToiletType.DEEP_PIT_FROSTPROOF, ToiletCondition.IN_USE, tank),
        )
        _household_with_toilet(
            session,
            code=VILLAGE_A1 + "003",
            village=VILLAGE_A1,
            toilet=(three, ToiletCondition.IN_USE, tank),
            resident=False,
        )
        # A2 (no household in the world): 001 三格化粪池 frozen (broken: only toilets in use
        # count); 002 other flush toilet piped untreated to a ditch -> non-sanitary.
        _household_with_toilet(
            session,
            code=VILLAGE_A2 + "001",
            village=VILLAGE_A2,
            toilet=(three, ToiletCondition.FROZEN, tank),
        )
        _household_with_toilet(
            session,
            code=VILLAGE_A2 + "002",
            village=VILLAGE_A2,
            toilet=(ToiletType.FLUSH_OTHER, ToiletCondition.IN_USE, untreated),
        )
    headers = world.bearer("official_a")
    rows = client.get(
        "/api/indicators", params={"level": "village", "period": "2026"}, headers=headers
    )
    assert rows.status_code == 200, rows.text
    got = {
        (r["unit_code"], r["indicator"]): (r["numerator"], r["denominator"], r["value"])
        for r in rows.json()
    }
    # the official of town A sees exactly its two villages (not county B's village)
    assert {unit for unit, _ in got} == {VILLAGE_A1, VILLAGE_A2}
    expected = {
        # A1: resident households 001, 002 -> 2; sanitary-or-better in use: 001, 002 -> 2;
        # harmless: 001 -> 1 (003 is harmless but not resident)
        (VILLAGE_A1, "sanitary_toilet_rate"): (2, 2, 1.0),
        (VILLAGE_A1, "harmless_toilet_rate"): (1, 2, 0.5),
        # A2: 2 resident households, the frozen toilet does not count, the ditch one is
        # non-sanitary -> 0 of 2
        (VILLAGE_A2, "sanitary_toilet_rate"): (0, 2, 0.0),
        (VILLAGE_A2, "harmless_toilet_rate"): (0, 2, 0.0),
        # sewage: A1 has the world's one operating plant (1 of 1 in service); A2 has none
        (VILLAGE_A1, "sewage_operation_rate"): (1, 1, 1.0),
        (VILLAGE_A2, "sewage_operation_rate"): (0, 0, None),
        # no household is connected to a sewage facility: 0 of the resident households
        (VILLAGE_A1, "sewage_treatment_rate"): (0, 2, 0.0),
        (VILLAGE_A2, "sewage_treatment_rate"): (0, 2, 0.0),
        # no titles: 0 of 1 village each
        (VILLAGE_A1, "civilized_title_rate"): (0, 1, 0.0),
        (VILLAGE_A2, "civilized_title_rate"): (0, 1, 0.0),
        # no sorting inspections: 0 of 0, no value
        (VILLAGE_A1, "sorting_participation_rate"): (0, 0, None),
    }
    assert {key: got.get(key) for key in expected} == expected
    refused = client.get("/api/indicators", params={"unit": "331129000000"}, headers=headers)
    assert refused.status_code == 403
    bad = client.get("/api/indicators", params={"period": "2026Q9"}, headers=headers)
    assert bad.status_code == 422


def test_a_line_of_work_sees_its_own_rates_only(world: World, client: TestClient) -> None:
    """The ecology line owns sewage: its three rates, nothing of toilets, garbage, courtyards or
    titles (the maps refuse those to it as well); the county admin sees every rate."""
    sewage = {"sewage_treatment_rate", "sewage_operation_rate", "effluent_compliance_rate"}
    eco = client.get("/api/indicators", params={"period": "2026"}, headers=world.bearer("eco_a"))
    assert eco.status_code == 200, eco.text
    assert {r["indicator"] for r in eco.json()} == sewage
    admin = client.get(
        "/api/indicators", params={"period": "2026"}, headers=world.bearer("admin_a")
    )
    shown = {r["indicator"] for r in admin.json()}
    assert sewage < shown
    assert {"harmless_toilet_rate", "courtyard_pass_rate", "civilized_title_rate"} <= shown


def test_chain_audit_of_a_unit(world: World, client: TestClient) -> None:
    breaks = client.get("/api/chain", headers=world.bearer("official_a"))
    assert breaks.status_code == 200, breaks.text
    found = {(b["kind"], b["object_id"]) for b in breaks.json()}
    # No chain links in this world: both villages lack a working collection point.
    assert ("village_no_point", VILLAGE_A1) in found
    assert all(not b["object_id"].startswith("331129") for b in breaks.json())
    assert client.get("/api/chain", headers=world.bearer("eco_a")).status_code == 403
    other = client.get(
        "/api/chain", params={"unit": "331129000000"}, headers=world.bearer("official_a")
    )
    assert other.status_code == 403


@pytest.mark.postgis
def test_the_api_on_postgis(postgis_url: str, make_db: Callable[[str], Engine]) -> None:
    """The write path, refusals and the database rate limiter on PostgreSQL + PostGIS."""
    engine = make_db(postgis_url)
    world = build_world(engine, Settings(database_url=postgis_url))
    headers = world.bearer("cadre_a")
    point = world.inside.ids["collection_point"]
    with TestClient(create_app(world.settings)) as client:
        etag = client.get(f"/api/collection-points/{point}", headers=headers).headers["etag"]
        url = f"/api/collection-points/{point}/status"
        ok = client.post(url, json={"to_status": "fault"}, headers={**headers, "If-Match": etag})
        assert ok.status_code == 200, ok.text
        stale = client.post(
            url, json={"to_status": "operating"}, headers={**headers, "If-Match": etag}
        )
        assert stale.status_code == 412
        other = world.outside.ids["collection_point"]
        refused = client.post(
            f"/api/collection-points/{other}/status",
            json={"to_status": "fault"},
            headers={**headers, "If-Match": '"1"'},
        )
        assert refused.status_code == 403
        household = world.inside.ids["household"]
        masked = client.get(f"/api/households/{household}", headers=world.bearer("reviewer_a"))
        assert masked.json()["householder"] == "王**"
        created = client.post(
            "/api/public-toilets",
            json={
                "village_code": VILLAGE_A1,
                "name": "新公厕",
                "toilet_type": "flush_sewer",
                "condition": "building",
                "lon": 119.02,
                "lat": 28.03,
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        nul = client.post(
            "/api/problems",
            json={
                "problem_type": "garbage",
                "source": "inspection",
                "village_code": VILLAGE_A1,
                "description": "a\u0000b",
                "found_at": "2026-01-01T08:00:00+08:00",
            },
            headers=headers,
        )
        assert nul.status_code == 422, nul.text
        assert nul.json()["field"] == "description"
    assert count(engine, SecurityEvent, SecurityEvent.kind == "refused") == 1
    assert count(engine, StatusChange) == 2  # the change and the new toilet's first status
    window = security_log.Window(3, timedelta(minutes=15))
    tallies = [security_log.hit(engine, key="k", window=window).count for _ in range(3)]
    assert tallies == [1, 2, 3]
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM change_log"))


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "垃圾收集点台账"
    sheet.append(["村代码", "收集点名称", "类型", "状态"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_ledger_upload_answers_with_every_row_problem(world: World, client: TestClient) -> None:
    headers = world.bearer("cadre_a")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    before = change_count(world.engine)
    bad = _xlsx(
        [
            [VILLAGE_A1, "好的点", "收集点", "运行"],
            [VILLAGE_A1, "坏的点", "垃圾山", "运行"],
            [world.outside.village, "别村的点", "收集点", "运行"],
        ]
    )
    response = client.post(
        "/api/ledgers/collection_points",
        files={"file": ("收集点.xlsx", bad, xlsx)},
        headers=headers,
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {(p["row"], p["column"]) for p in problems} == {(3, "类型"), (4, "村代码")}
    assert all(p["file"] == "收集点.xlsx" for p in problems)
    assert change_count(world.engine) == before  # nothing written
    assert count(world.engine, SecurityEvent, SecurityEvent.kind == "refused") == 1
    good = _xlsx([[VILLAGE_A1, "好的点", "收集点", "运行"]])
    ok = client.post(
        "/api/ledgers/collection_points",
        files={"file": ("收集点.xlsx", good, xlsx)},
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["created"], ok.json()["rows"]) == (1, 1)
    csv = client.post(
        "/api/ledgers/collection_points",
        files={"file": ("x.csv", b"a,b", "text/csv")},
        headers=headers,
    )
    assert csv.status_code == 422
    assert csv.json()["field"] == "file"


def test_a_ledger_cannot_take_over_a_household_of_another_county(
    world: World, client: TestClient
) -> None:
    """The file names the cadre's village, the key is a household of county B: refused,
    security-logged, the household untouched, its personal data never shown."""
    other = world.outside.village + "001"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["户编码", "村代码", "户主姓名", "联系电话"])
    sheet.append([other, VILLAGE_A1, "被改名", "13900000000"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    before = change_count(world.engine)
    for dry_run in ("true", "false"):
        response = client.post(
            "/api/ledgers/households",
            files={"file": ("户.xlsx", buffer.getvalue(), xlsx)},
            data={"dry_run": dry_run},
            headers=world.bearer("cadre_a"),
        )
        assert response.status_code == 422, response.text
        (problem,) = response.json()["problems"]
        assert (problem["row"], problem["column"], problem["value"]) == (2, "户编码", other)
        assert ID_NUMBER not in response.text
    assert change_count(world.engine) == before
    refused = [e for e in security_events(world.engine) if e.kind == "refused"]
    assert len(refused) == 2
    assert other in (refused[-1].detail or "")
    with Session(world.engine) as session:
        household = session.get(Household, world.outside.ids["household"])
    assert household is not None
    assert (household.village_code, household.householder) == (world.outside.village, HOUSEHOLDER)


def test_a_problem_names_only_a_facility_the_reporter_may_see(
    world: World, client: TestClient
) -> None:
    headers = world.bearer("cadre_a")

    def report(**link: object) -> Any:
        body = {
            "problem_type": "sewage",
            "source": "inspection",
            "village_code": VILLAGE_A1,
            "description": "出水发黑",
            "found_at": "2026-01-01T08:00:00+08:00",
            **link,
        }
        return client.post("/api/problems", json=body, headers=headers)

    own = world.inside.ids["sewage_facility"]
    other = world.outside.ids["sewage_facility"]
    assert report(object_kind="sewage_facility", object_id=own).status_code == 201
    refused = report(object_kind="sewage_facility", object_id=other)
    assert refused.status_code == 403, refused.text
    unknown_kind = report(object_kind="household", object_id=own)
    assert (unknown_kind.status_code, unknown_kind.json()["field"]) == (422, "object_kind")
    missing = report(object_kind="sewage_facility", object_id=999_999)
    assert (missing.status_code, missing.json()["field"]) == (422, "object_id")
    assert count(world.engine, SecurityEvent, SecurityEvent.kind == "refused") == 1


def test_codes_in_the_address_are_ascii_digits_only(world: World, client: TestClient) -> None:
    """A full-width code (from a Chinese input method) is refused at the door with 422."""
    full_width = VILLAGE_A1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    headers = world.bearer("official_a")
    for path, params in (
        ("/api/indicators", {"unit": full_width}),
        (f"/api/units/{full_width}", None),
        (f"/board/{full_width}", None),
    ):
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, response.text)
    assert client.get("/api/indicators", params={"unit": VILLAGE_A1}, headers=headers).is_success
