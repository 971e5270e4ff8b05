"""Who may do what to which unit: the domain rule every entry point enforces."""

from pathlib import Path

import pytest

from rural.enums import Line, Role
from rural.errors import PermissionDeniedError, RulesError
from rural.permissions import Action, Actor, Domain, default_policy, load_policy

COUNTY = "331128000000"
TOWN = "331128101000"
VILLAGE = "331128101201"
NEIGHBOUR_VILLAGE = "331128101202"
OTHER_TOWN_VILLAGE = "331128102201"
OTHER_COUNTY_VILLAGE = "331127101201"

WRITE_ACTIONS = [
    Action.EDIT_REGISTRY,
    Action.CHANGE_STATUS,
    Action.RECORD_FIELD_DATA,
    Action.UPLOAD_LEDGER,
]


def allowed(actor: Actor, action: Action, unit: str, domain: Domain = Domain.GARBAGE) -> bool:
    return default_policy().allows(actor, action, unit_code=unit, domain=domain)


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_village_cadre_writes_only_their_own_village(action: Action) -> None:
    cadre = Actor("cadre", Role.VILLAGE_CADRE, VILLAGE)
    assert allowed(cadre, action, VILLAGE)
    for outside in (NEIGHBOUR_VILLAGE, OTHER_TOWN_VILLAGE, OTHER_COUNTY_VILLAGE, TOWN, COUNTY):
        assert not allowed(cadre, action, outside), outside


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_township_official_writes_every_village_of_the_town_only(action: Action) -> None:
    official = Actor("official", Role.TOWNSHIP_OFFICIAL, TOWN)
    assert allowed(official, action, VILLAGE)
    assert allowed(official, action, NEIGHBOUR_VILLAGE)
    assert allowed(official, action, TOWN)
    assert not allowed(official, action, OTHER_TOWN_VILLAGE)
    assert not allowed(official, action, COUNTY)


def test_department_staff_are_limited_to_their_line() -> None:
    women = Actor("fulian", Role.DEPARTMENT_STAFF, COUNTY, Line.WOMEN)
    assert allowed(women, Action.EDIT_REGISTRY, VILLAGE, Domain.COURTYARD)
    assert not allowed(women, Action.EDIT_REGISTRY, VILLAGE, Domain.SEWAGE)
    ecology = Actor("sthj", Role.DEPARTMENT_STAFF, COUNTY, Line.ECOLOGY)
    assert allowed(ecology, Action.CHANGE_STATUS, VILLAGE, Domain.SEWAGE)
    assert not allowed(ecology, Action.CHANGE_STATUS, VILLAGE, Domain.GARBAGE)
    no_line = Actor("x", Role.DEPARTMENT_STAFF, COUNTY, None)
    assert not allowed(no_line, Action.VIEW, VILLAGE, Domain.GARBAGE)


def test_field_staff_record_but_cannot_change_registries() -> None:
    cleaner = Actor("baojie", Role.FIELD_STAFF, VILLAGE)
    assert allowed(cleaner, Action.RECORD_FIELD_DATA, VILLAGE)
    assert not allowed(cleaner, Action.EDIT_REGISTRY, VILLAGE)
    assert not allowed(cleaner, Action.CHANGE_STATUS, VILLAGE)
    assert not allowed(cleaner, Action.UPLOAD_LEDGER, VILLAGE)


def test_villagers_only_report_problems_and_never_see_personal_data() -> None:
    villager = Actor("cunmin", Role.VILLAGER, VILLAGE)
    assert allowed(villager, Action.REPORT_PROBLEM, VILLAGE, Domain.PROBLEMS)
    for action in (Action.VIEW_PERSONAL, Action.EDIT_REGISTRY, Action.VIEW):
        assert not allowed(villager, action, VILLAGE)


def test_rankings_reach_up_to_the_county_but_not_beyond() -> None:
    cadre = Actor("cadre", Role.VILLAGE_CADRE, VILLAGE)
    assert allowed(cadre, Action.VIEW_RANKING, COUNTY)
    assert allowed(cadre, Action.VIEW_RANKING, OTHER_TOWN_VILLAGE)
    assert not allowed(cadre, Action.VIEW_RANKING, OTHER_COUNTY_VILLAGE)
    assert not allowed(cadre, Action.VIEW, OTHER_TOWN_VILLAGE)


def test_deactivated_user_may_do_nothing() -> None:
    admin = Actor("admin", Role.COUNTY_ADMIN, COUNTY, active=False)
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        default_policy().check(admin, Action.VIEW, unit_code=VILLAGE, domain=Domain.UNITS)


def test_refusal_names_the_reason() -> None:
    cadre = Actor("cadre", Role.VILLAGE_CADRE, VILLAGE)
    with pytest.raises(PermissionDeniedError, match=f"outside cadre's scope {VILLAGE}"):
        default_policy().check(
            cadre, Action.CHANGE_STATUS, unit_code=NEIGHBOUR_VILLAGE, domain=Domain.GARBAGE
        )
    with pytest.raises(PermissionDeniedError, match="may not manage_users"):
        default_policy().check(cadre, Action.MANAGE_USERS, unit_code=VILLAGE, domain=Domain.USERS)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[lines]\n", r"\[roles\]: missing table"),
        ('[roles]\nmayor = ["view"]\n', r"roles\.mayor: unknown role"),
        ('[roles]\nvillager = ["fly"]\n', r"roles\.villager: unknown action"),
        ('[roles]\nvillager = ["view"]\n[lines]\nwomen = ["gossip"]\n', r"lines\.women"),
    ],
)
def test_a_bad_policy_file_names_the_entry(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "permissions.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=match):
        load_policy(path)


def test_a_deployment_can_change_the_rule_as_data(tmp_path: Path) -> None:
    path = tmp_path / "permissions.toml"
    path.write_text('[roles]\nfield_staff = ["view", "change_status"]\n', encoding="utf-8")
    policy = load_policy(path)
    cleaner = Actor("baojie", Role.FIELD_STAFF, VILLAGE)
    assert policy.allows(cleaner, Action.CHANGE_STATUS, unit_code=VILLAGE, domain=Domain.GARBAGE)
    assert not default_policy().allows(
        cleaner, Action.CHANGE_STATUS, unit_code=VILLAGE, domain=Domain.GARBAGE
    )
