"""Status lifecycles: allowed transitions, scope, versions, dated history and the change log."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from rural import audit
from rural.enums import CollectionPointKind, FacilityStatus, Role, UnitLevel
from rural.errors import (
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    RulesError,
    StaleVersionError,
)
from rural.lifecycle import (
    STATEFUL_KINDS,
    change_status,
    default_lifecycles,
    parse_lifecycles,
    status_history,
    status_on,
)
from rural.models import ChangeLog, CollectionPoint, StatusChange, Unit
from rural.permissions import Actor

TOWN = "331128101000"
VILLAGE = "331128101201"
NEIGHBOUR = "331128101202"
CADRE = __import__("rural.permissions", fromlist=["Actor"]).Actor(
    "wang", Role.VILLAGE_CADRE, VILLAGE
)


def _setup(engine: Engine) -> int:
    with Session(engine) as session:
        session.add(Unit(code="331128000000", name="青溪县", level=UnitLevel.COUNTY))
        session.add(
            Unit(code=TOWN, name="赤石乡", level=UnitLevel.TOWN, parent_code="331128000000")
        )
        for code, name in ((VILLAGE, "王家村"), (NEIGHBOUR, "李家村")):
            session.add(Unit(code=code, name=name, level=UnitLevel.VILLAGE, parent_code=TOWN))
        session.flush()  # without relationship(), the ORM does not order inserts across tables
        point = CollectionPoint(
            village_code=VILLAGE,
            name="村口收集点",
            kind=CollectionPointKind.POINT,
            status=FacilityStatus.OPERATING,
            geom=Point(119.8, 28.4),
        )
        session.add(point)
        session.commit()
        assert point.id is not None
        return point.id


def _counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        changes = session.exec(select(func.count()).select_from(StatusChange)).one()
        logs = session.exec(select(func.count()).select_from(ChangeLog)).one()
        return int(changes), int(logs)


def test_a_status_change_is_dated_logged_and_versioned(any_engine: Engine) -> None:
    point_id = _setup(any_engine)
    with Session(any_engine) as session:
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="fault",
            note="桶破损",
            effective_on=date(2026, 7, 3),
            expected_version=1,
        )
        session.commit()
    with Session(any_engine) as session:
        point = session.get(CollectionPoint, point_id)
        assert point is not None
        assert point.status == FacilityStatus.FAULT
        assert point.version == 2
        (row,) = status_history(session, object_type="collection_point", object_id=point_id)
        assert (row.from_status, row.to_status, row.actor, row.note) == (
            "operating",
            "fault",
            "wang",
            "桶破损",
        )
        (log,) = audit.history(session, object_type="collection_point", object_id=point_id)
        assert log.actor == "wang"
        assert log.old == {"status": "operating", "version": 1}
        assert log.new == {"status": "fault", "version": 2}


def test_past_states_are_rebuilt_from_history(engine: Engine) -> None:
    point_id = _setup(engine)
    steps = [
        ("fault", date(2026, 3, 1)),
        ("operating", date(2026, 3, 20)),
        ("stopped", date(2026, 8, 1)),
    ]
    with Session(engine) as session:
        for to_status, on in steps:
            change_status(
                session,
                actor=CADRE,
                object_type="collection_point",
                object_id=point_id,
                to_status=to_status,
                effective_on=on,
            )
        session.commit()

        def on(day: date) -> str | None:
            return status_on(session, object_type="collection_point", object_id=point_id, on=day)

        assert on(date(2026, 2, 28)) is None  # no recorded state before the first change
        assert on(date(2026, 3, 1)) == "fault"
        assert on(date(2026, 3, 19)) == "fault"
        assert on(date(2026, 3, 20)) == "operating"
        assert on(date(2026, 7, 31)) == "operating"
        assert on(date(2026, 12, 31)) == "stopped"


def test_disallowed_transition_writes_nothing(engine: Engine) -> None:
    point_id = _setup(engine)
    with Session(engine) as session:
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="decommissioned",
        )
        session.commit()
    before = _counts(engine)
    with Session(engine) as session, pytest.raises(InvalidTransitionError, match="报废"):
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="operating",
        )
    assert _counts(engine) == before


def test_unknown_status_value_is_refused(engine: Engine) -> None:
    point_id = _setup(engine)
    with Session(engine) as session, pytest.raises(InvalidTransitionError, match="'broken'"):
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="broken",
        )


def test_out_of_scope_actor_is_refused_before_anything_is_written(engine: Engine) -> None:
    point_id = _setup(engine)
    neighbour_cadre = Actor("li", Role.VILLAGE_CADRE, NEIGHBOUR)
    with Session(engine) as session, pytest.raises(PermissionDeniedError, match="outside"):
        change_status(
            session,
            actor=neighbour_cadre,
            object_type="collection_point",
            object_id=point_id,
            to_status="fault",
        )
    assert _counts(engine) == (0, 0)


def test_stale_version_is_refused_with_the_current_version(engine: Engine) -> None:
    point_id = _setup(engine)
    with Session(engine) as session:
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="fault",
            expected_version=1,
        )
        session.commit()
    with Session(engine) as session, pytest.raises(StaleVersionError) as info:
        change_status(
            session,
            actor=CADRE,
            object_type="collection_point",
            object_id=point_id,
            to_status="operating",
            expected_version=1,
        )
    assert info.value.current_version == 2
    assert _counts(engine) == (1, 1)


def test_missing_object_and_unknown_kind(engine: Engine) -> None:
    _setup(engine)
    with Session(engine) as session:
        with pytest.raises(NotFoundError, match="999"):
            change_status(
                session,
                actor=CADRE,
                object_type="collection_point",
                object_id=999,
                to_status="fault",
            )
        with pytest.raises(NotFoundError, match="no status lifecycle"):
            change_status(
                session, actor=CADRE, object_type="household", object_id=1, to_status="fault"
            )


def test_shipped_lifecycles_cover_every_state_of_every_kind() -> None:
    cycles = default_lifecycles()
    for kind in STATEFUL_KINDS.values():
        cycle = cycles[kind.lifecycle]
        assert set(cycle.transitions) == {m.value for m in cycle.enum}
    # The problem loop of DOMAIN.md: a failed check goes back to 整改中.
    assert cycles["problem"].allowed("awaiting_check", "fixing")
    assert not cycles["problem"].allowed("closed", "fixing")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["lifecycles"]["facility"].update(enum="Nope"), r"facility\.enum"),
        (lambda d: d["lifecycles"]["facility"].update(broken=[]), r"facility\.broken: not a"),
        (lambda d: d["lifecycles"]["problem"].pop("closed"), r"problem: states without"),
        (
            lambda d: d["lifecycles"]["problem"].update(closed=["reopened"]),
            r"problem\.closed: targets",
        ),
    ],
)
def test_a_bad_lifecycle_file_names_the_entry(mutate: object, match: str) -> None:
    path = Path(__file__).parents[1] / "rural" / "rules" / "lifecycle.toml"
    data = tomllib.loads(path.read_text("utf-8"))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(RulesError, match=match):
        parse_lifecycles(data, source="lifecycle.toml")
