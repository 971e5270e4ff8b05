"""The authorization matrix, generated from the app's route table.

Every write route (POST/PUT/PATCH/DELETE, API and page forms) must have a case below, or the
test fails: a new route cannot escape it. Each case is sent by a user of every role, once at an
object inside the users' county (village A1 and its town and county) and once at the same kind
of object in another county. Expected outcomes are a table worked out by hand
(EXPECTED_IN_SCOPE), cross-checked against the rule as data (permissions.toml via the policy):

* out of scope: never written (no change-log row), refused, and the refusal is in the security
  log under the user's name and the route's path;
* in scope: written exactly by the users the table names, otherwise refused (403) and logged
  likewise.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session, select

from api.app import create_app
from api.routes.registries import KINDS_BY_SLUG, RegistryKind
from rural import users
from rural.db import write_session
from rural.enums import Role
from rural.lifecycle import STATEFUL_KINDS, default_lifecycles
from rural.models import SecurityEvent, SecurityEventKind, User
from rural.permissions import Action, Actor, Domain, default_policy
from tests.apiworld import PEOPLE, Place, World, change_count

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Signing in and out acts on no unit.
SIGN_IN = {("POST", "/auth/token"), ("POST", "/login"), ("POST", "/logout")}
# Routes that act only on the caller's own tokens: checked separately below.
SELF_ONLY = {
    ("POST", "/api/me/tokens"),
    ("DELETE", "/api/me/tokens/{token_id}"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{token_id}/revoke"),
}
SUCCESS = {200, 201, 303}

# Who may write through each route at an object inside their county, worked out by hand from
# DOMAIN.md's roles and rural/rules/permissions.toml (not from the app's route guards):
# edit/status/ledger: county admin, township official, village cadre, and department staff on
# their line's domains (agriculture: households, sanitation, garbage, problems; ecology:
# sewage); reporting a problem: county admin, village cadre, field staff, villager; managing
# problems: county admin, township official, department staff, reviewer; users: county admin.
# A user acts on their unit and beneath it: official_a (town A) not on the county's plants,
# cadre_a (village A1) only on A1's own objects.
VILLAGE_GARBAGE = frozenset({"admin_a", "official_a", "cadre_a", "agri_a"})
TOWN_GARBAGE = frozenset({"admin_a", "official_a", "agri_a"})
COUNTY_GARBAGE = frozenset({"admin_a", "agri_a"})
VILLAGE_SEWAGE = frozenset({"admin_a", "official_a", "cadre_a", "eco_a"})
VILLAGE_SANITATION = VILLAGE_HOUSEHOLDS = VILLAGE_GARBAGE
ADMIN_ONLY = frozenset({"admin_a"})
EXPECTED_IN_SCOPE: dict[tuple[str, str], frozenset[str]] = {
    **{
        (method, f"/api/{slug}{tail}"): who
        for slug, who in (
            ("collection-points", VILLAGE_GARBAGE),
            ("transfer-stations", TOWN_GARBAGE),
            ("treatment-facilities", COUNTY_GARBAGE),
            ("sewage-facilities", VILLAGE_SEWAGE),
            ("public-toilets", VILLAGE_SANITATION),
        )
        for method, tail in (
            ("POST", ""),
            ("PATCH", "/{object_id}"),
            ("POST", "/{object_id}/status"),
        )
    },
    ("POST", "/api/households"): VILLAGE_HOUSEHOLDS,
    ("PATCH", "/api/households/{object_id}"): VILLAGE_HOUSEHOLDS,
    ("POST", "/api/problems"): frozenset({"admin_a", "cadre_a", "field_a", "villager_a"}),
    ("PATCH", "/api/problems/{object_id}"): frozenset(
        {"admin_a", "official_a", "cadre_a", "agri_a"}
    ),
    ("POST", "/api/problems/{object_id}/status"): frozenset(
        {"admin_a", "official_a", "agri_a", "reviewer_a"}
    ),
    ("POST", "/api/ledgers/{kind}"): VILLAGE_GARBAGE,  # a collection-point ledger of A1
    ("POST", "/cadre/status/{object_type}/{object_id}"): VILLAGE_GARBAGE,  # A1's point
    ("POST", "/api/users"): ADMIN_ONLY,
    ("PATCH", "/api/users/{user_id}"): ADMIN_ONLY,
    ("POST", "/admin/users"): ADMIN_ONLY,
    ("POST", "/admin/users/{user_id}"): ADMIN_ONLY,
}


@dataclass
class Case:
    method: str
    url: str
    action: Action
    domain: Domain
    unit_code: str
    page: bool = False
    json: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    world: World
    client: TestClient
    seq: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    targets: dict[str, int] = field(default_factory=dict)  # "inside"/"outside" -> user id

    def version(self, model: Any, object_id: int) -> int:
        with Session(self.world.engine) as session:
            obj = session.get(model, object_id)
            assert obj is not None
            session.refresh(obj)
            return int(obj.version)


Builder = Callable[[Ctx, Place], Case]


def _unit_for(kind: RegistryKind, place: Place) -> str:
    return {"village_code": place.village, "town_code": place.town, "unit_code": place.county}[
        kind.unit_field
    ]


def _create_body(kind: RegistryKind, place: Place, n: int) -> dict[str, Any]:
    unit = {kind.unit_field: _unit_for(kind, place)}
    bodies: dict[str, dict[str, Any]] = {
        "collection_point": {"name": f"点{n}", "kind": "point", "status": "operating"},
        "transfer_station": {"name": f"站{n}", "capacity_tpd": 10, "status": "operating"},
        "treatment_facility": {
            "name": f"厂{n}",
            "kind": "landfill",
            "capacity_tpd": 100,
            "status": "operating",
        },
        "sewage_facility": {"name": f"污{n}", "mode": "centralized", "status": "operating"},
        "public_toilet": {"name": f"厕{n}", "toilet_type": "flush_sewer", "condition": "in_use"},
        "household": {"code": f"{place.village}{n:03d}", "householder": "测试"},
        "problem": {
            "problem_type": "garbage",
            "source": "inspection",
            "description": f"问题{n}",
            "found_at": "2026-01-01T08:00:00+08:00",
        },
    }
    return {**unit, **bodies[kind.object_type]}


def _patch_body(kind: RegistryKind, n: int) -> dict[str, Any]:
    if kind.object_type == "household":
        return {"address": f"地址{n}"}
    if kind.object_type == "problem":
        return {"description": f"改{n}"}
    return {"name": f"改名{n}"}


def _next_status(object_type: str, current: str) -> str:
    """A transition the lifecycle allows that never reaches a dead end."""
    stateful = STATEFUL_KINDS[object_type]
    choices = default_lifecycles()[stateful.lifecycle].transitions[current]
    return sorted(s for s in choices if s not in ("decommissioned", "closed"))[0]


def _current_status(ctx: Ctx, kind: RegistryKind, object_id: int) -> str:
    with Session(ctx.world.engine) as session:
        obj = session.get(kind.model, object_id)
        assert obj is not None
        session.refresh(obj)
        value = getattr(obj, kind.status_field or "status")
        return str(value.value)


def registry_builders(kind: RegistryKind) -> dict[tuple[str, str], Builder]:
    base = f"/api/{kind.slug}"

    def create(ctx: Ctx, place: Place) -> Case:
        return Case(
            "POST",
            base,
            kind.create_action,
            kind.domain,
            _unit_for(kind, place),
            json=_create_body(kind, place, next(ctx.seq)),
        )

    def patch(ctx: Ctx, place: Place) -> Case:
        object_id = place.ids[kind.object_type]
        version = ctx.version(kind.model, object_id)
        return Case(
            "PATCH",
            f"{base}/{object_id}",
            Action.EDIT_REGISTRY,
            kind.domain,
            _unit_for(kind, place),
            json=_patch_body(kind, next(ctx.seq)),
            headers={"If-Match": f'"{version}"'},
        )

    builders: dict[tuple[str, str], Builder] = {
        ("POST", base): create,
        ("PATCH", base + "/{object_id}"): patch,
    }
    if kind.status_field is not None:

        def status(ctx: Ctx, place: Place) -> Case:
            object_id = place.ids[kind.object_type]
            version = ctx.version(kind.model, object_id)
            current = _current_status(ctx, kind, object_id)
            return Case(
                "POST",
                f"{base}/{object_id}/status",
                kind.status_action,
                kind.domain,
                _unit_for(kind, place),
                json={"to_status": _next_status(kind.object_type, current), "note": "矩阵"},
                headers={"If-Match": f'"{version}"'},
            )

        builders[("POST", base + "/{object_id}/status")] = status
    return builders


def _ledger(ctx: Ctx, place: Place) -> Case:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "垃圾收集点台账"
    sheet.append(["村代码", "收集点名称", "类型", "状态"])
    sheet.append([place.village, f"台账点{next(ctx.seq)}", "收集点", "运行"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Case(
        "POST",
        "/api/ledgers/collection_points",
        Action.UPLOAD_LEDGER,
        Domain.GARBAGE,
        place.village,
        files={"file": ("台账.xlsx", buffer.getvalue(), xlsx)},
    )


def _target_user(ctx: Ctx, place: Place) -> tuple[int, str]:
    key = "inside" if place is ctx.world.inside else "outside"
    return ctx.targets[key], place.village


def _user_create(ctx: Ctx, place: Place) -> Case:
    n = next(ctx.seq)
    return Case(
        "POST",
        "/api/users",
        Action.MANAGE_USERS,
        Domain.USERS,
        place.village,
        json={
            "username": f"new{n}",
            "password": "a long password",
            "role": "village_cadre",
            "unit_code": place.village,
        },
    )


def _user_patch(ctx: Ctx, place: Place) -> Case:
    user_id, unit = _target_user(ctx, place)
    version = ctx.version(User, user_id)
    return Case(
        "PATCH",
        f"/api/users/{user_id}",
        Action.MANAGE_USERS,
        Domain.USERS,
        unit,
        json={"display_name": f"改{next(ctx.seq)}"},
        headers={"If-Match": f'"{version}"'},
    )


def _page_status(ctx: Ctx, place: Place) -> Case:
    kind = KINDS_BY_SLUG["collection-points"]
    object_id = place.ids["collection_point"]
    current = _current_status(ctx, kind, object_id)
    return Case(
        "POST",
        f"/cadre/status/collection_point/{object_id}",
        Action.CHANGE_STATUS,
        Domain.GARBAGE,
        place.village,
        page=True,
        data={
            "to_status": _next_status("collection_point", current),
            "version": str(ctx.version(kind.model, object_id)),
            "note": "页面",
        },
    )


def _page_user_create(ctx: Ctx, place: Place) -> Case:
    n = next(ctx.seq)
    return Case(
        "POST",
        "/admin/users",
        Action.MANAGE_USERS,
        Domain.USERS,
        place.village,
        page=True,
        data={
            "username": f"page{n}",
            "role": "village_cadre",
            "unit_code": place.village,
            "password": "a long password",
        },
    )


def _page_user_change(ctx: Ctx, place: Place) -> Case:
    user_id, unit = _target_user(ctx, place)
    return Case(
        "POST",
        f"/admin/users/{user_id}",
        Action.MANAGE_USERS,
        Domain.USERS,
        unit,
        page=True,
        data={
            "op": "reassign",
            "version": str(ctx.version(User, user_id)),
            "role": "village_cadre",
            "unit_code": unit,
        },
    )


def all_builders() -> dict[tuple[str, str], Builder]:
    builders: dict[tuple[str, str], Builder] = {
        ("POST", "/api/ledgers/{kind}"): _ledger,
        ("POST", "/api/users"): _user_create,
        ("PATCH", "/api/users/{user_id}"): _user_patch,
        ("POST", "/cadre/status/{object_type}/{object_id}"): _page_status,
        ("POST", "/admin/users"): _page_user_create,
        ("POST", "/admin/users/{user_id}"): _page_user_change,
    }
    for kind in KINDS_BY_SLUG.values():
        builders.update(registry_builders(kind))
    return builders


def write_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route that accepts a write method, included routers and plain
    Starlette routes alike."""
    found = set()
    for context in iter_route_contexts(app.routes):
        methods = set(getattr(context, "methods", None) or ())
        methods |= set(getattr(context.original_route, "methods", None) or ())
        path = context.path or getattr(context.original_route, "path", "")
        for method in methods & WRITE_METHODS:
            found.add((method, path))
    return found


def _add_target_users(world: World) -> dict[str, int]:
    operator = Actor.operator("setup")
    ids = {}
    with write_session(world.engine) as session:
        for key, place in (("inside", world.inside), ("outside", world.outside)):
            user = users.create_user(
                session,
                actor=operator,
                username=f"target_{key}",
                role=Role.VILLAGE_CADRE,
                unit_code=place.village,
                password="target password 1",
            )
            ids[key] = int(user.id or 0)
    return ids


def _refusals(world: World, username: str, path: str) -> int:
    with Session(world.engine) as session:
        rows = session.exec(
            select(SecurityEvent).where(
                SecurityEvent.username == username,
                SecurityEvent.path == path,
                SecurityEvent.kind == SecurityEventKind.REFUSED,
            )
        ).all()
        return len(rows)


def _send(ctx: Ctx, case: Case, username: str, auth: dict[str, Any]) -> int:
    headers = dict(case.headers)
    if case.page:
        cookie, csrf = auth[username]["page"]
        headers["Cookie"] = f"rural_session={cookie}"
        headers["Accept"] = "text/html"
        data = {**(case.data or {}), "csrf_token": csrf}
        response = ctx.client.request(
            case.method, case.url, data=data, headers=headers, follow_redirects=False
        )
    else:
        headers.update(auth[username]["api"])
        response = ctx.client.request(
            case.method, case.url, json=case.json, files=case.files, headers=headers
        )
    return response.status_code


def test_every_write_route_is_in_the_matrix_and_scope_holds(world: World) -> None:
    app = create_app(world.settings)
    builders = all_builders()
    routes = write_routes(app)
    uncovered = routes - set(builders) - SIGN_IN - SELF_ONLY
    assert not uncovered, f"write routes without an authorization case: {sorted(uncovered)}"
    assert set(builders) <= routes, sorted(set(builders) - routes)
    policy = default_policy()
    targets = _add_target_users(world)
    auth = {
        name: {"api": world.bearer(name), "page": world.session_cookie(name)} for name, *_ in PEOPLE
    }
    actors = {name: Actor(name, role, unit, line) for name, role, unit, line in PEOPLE}
    tally: Counter[str] = Counter()
    with TestClient(app) as client:
        ctx = Ctx(world=world, client=client, targets=targets)
        for (method, path), build in sorted(builders.items()):
            for name, *_ in PEOPLE:
                for where, place in (("in", world.inside), ("out", world.outside)):
                    case = build(ctx, place)
                    assert case.method == method
                    assert re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), case.url)
                    before = change_count(world.engine)
                    refused_before = _refusals(world, name, case.url)
                    status = _send(ctx, case, name, auth)
                    wrote = change_count(world.engine) > before
                    allowed = where == "in" and name in EXPECTED_IN_SCOPE[(method, path)]
                    label = f"{name} {method} {case.url} ({where} scope) -> {status}"
                    # The rule as data agrees with the hand table (else one of them is wrong).
                    assert allowed == policy.allows(
                        actors[name], case.action, unit_code=case.unit_code, domain=case.domain
                    ), label
                    if allowed:
                        assert status in SUCCESS, label
                        assert wrote, label
                        tally[f"{where}:written"] += 1
                    else:
                        assert not wrote, label
                        assert status in (403, 422), label
                        assert _refusals(world, name, case.url) > refused_before, label
                        tally[f"{where}:refused+logged"] += 1
    shape = f"{len(builders)} write routes x {len(PEOPLE)} users x 2 targets"
    print(f"\nauthorization matrix: {shape}: {dict(tally)}")
    assert tally["out:written"] == 0
    assert tally["out:refused+logged"] == len(builders) * len(PEOPLE)
    assert tally["in:written"] == sum(len(who) for who in EXPECTED_IN_SCOPE.values())
    assert tally["in:refused+logged"] == len(builders) * len(PEOPLE) - tally["in:written"]


def test_self_only_routes_never_reach_another_users_tokens(world: World) -> None:
    """Token routes act on the caller's own tokens: another user's token is 'not found'."""
    with TestClient(create_app(world.settings)) as client:
        owner = world.bearer("admin_a")
        token = client.post("/api/me/tokens", json={"name": "GIS"}, headers=owner).json()
        before = change_count(world.engine)
        for name, *_ in PEOPLE:
            if name == "admin_a":
                continue
            response = client.delete(f"/api/me/tokens/{token['id']}", headers=world.bearer(name))
            assert response.status_code == 404
            cookie, csrf = world.session_cookie(name)
            page = client.post(
                f"/account/tokens/{token['id']}/revoke",
                data={"csrf_token": csrf},
                headers={"Cookie": f"rural_session={cookie}", "Accept": "text/html"},
                follow_redirects=False,
            )
            assert page.status_code == 404
        assert change_count(world.engine) == before
        assert client.get("/ogc", headers={"Authorization": f"Bearer {token['token']}"}).is_success
