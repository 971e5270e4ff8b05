"""Status lifecycles: the states of each stateful kind, the allowed transitions (rules as data),
and the one service that changes a status — checking scope, transition and version, and writing
the dated status history and the change log in the same transaction."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, NoReturn

from sqlalchemy import update
from sqlmodel import Session, SQLModel, select

from rural import audit, clock, enums
from rural.enums import ChangeAction, LabeledEnum
from rural.errors import InvalidTransitionError, NotFoundError, RulesError, StaleVersionError
from rural.models import (
    CollectionPoint,
    Problem,
    PublicToilet,
    SewageFacility,
    StatusChange,
    TransferStation,
    TreatmentFacility,
)
from rural.permissions import Action, Actor, Domain, Policy, default_policy


@dataclass(frozen=True)
class Lifecycle:
    name: str
    enum: type[LabeledEnum]
    transitions: dict[str, frozenset[str]]

    def allowed(self, from_status: str, to_status: str) -> bool:
        return to_status in self.transitions.get(from_status, frozenset())

    def check(self, from_status: str, to_status: str) -> None:
        if not self.allowed(from_status, to_status):
            labels = {m.value: m.label for m in self.enum}
            nexts = "、".join(labels[s] for s in sorted(self.transitions.get(from_status, ())))
            msg = (
                f"不允许从「{labels.get(from_status, from_status)}」变为"
                f"「{labels.get(to_status, to_status)}」(status {from_status} -> {to_status} "
                f"not allowed; allowed: {nexts or '无'})"
            )
            raise InvalidTransitionError(msg)


@dataclass(frozen=True)
class StatefulKind:
    """A kind of object whose status has a lifecycle."""

    object_type: str
    model: type[SQLModel]
    status_field: str
    lifecycle: str
    domain: Domain
    unit_field: str
    label: str


STATEFUL_KINDS: dict[str, StatefulKind] = {
    kind.object_type: kind
    for kind in (
        StatefulKind(
            "collection_point",
            CollectionPoint,
            "status",
            "facility",
            Domain.GARBAGE,
            "village_code",
            "垃圾收集点",
        ),
        StatefulKind(
            "transfer_station",
            TransferStation,
            "status",
            "facility",
            Domain.GARBAGE,
            "town_code",
            "转运站",
        ),
        StatefulKind(
            "treatment_facility",
            TreatmentFacility,
            "status",
            "facility",
            Domain.GARBAGE,
            "unit_code",
            "处理设施",
        ),
        StatefulKind(
            "sewage_facility",
            SewageFacility,
            "status",
            "facility",
            Domain.SEWAGE,
            "village_code",
            "污水处理设施",
        ),
        StatefulKind(
            "public_toilet",
            PublicToilet,
            "condition",
            "toilet_condition",
            Domain.SANITATION,
            "village_code",
            "农村公厕",
        ),
        StatefulKind(
            "problem", Problem, "status", "problem", Domain.PROBLEMS, "village_code", "问题"
        ),
    )
}


def parse_lifecycles(data: dict[str, Any], *, source: str) -> dict[str, Lifecycle]:
    """Validate the lifecycle document; errors name the file and the entry."""

    def fail(entry: str, problem: str) -> NoReturn:
        msg = f"{source}: {entry}: {problem}"
        raise RulesError(msg)

    raw = data.get("lifecycles")
    if not isinstance(raw, dict) or not raw:
        fail("[lifecycles]", "missing table")
    result: dict[str, Lifecycle] = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            fail(f"lifecycles.{name}", "must be a table")
        enum_name = body.get("enum")
        enum_cls = getattr(enums, str(enum_name), None)
        if not (isinstance(enum_cls, type) and issubclass(enum_cls, LabeledEnum)):
            fail(f"lifecycles.{name}.enum", f"unknown enum {enum_name!r}")
        values = {m.value for m in enum_cls}
        transitions: dict[str, frozenset[str]] = {}
        for state, targets in body.items():
            if state == "enum":
                continue
            if state not in values:
                fail(f"lifecycles.{name}.{state}", f"not a {enum_name} value")
            if not isinstance(targets, list) or any(t not in values for t in targets):
                fail(f"lifecycles.{name}.{state}", f"targets must be {enum_name} values")
            transitions[state] = frozenset(targets)
        missing = values - transitions.keys()
        if missing:
            fail(f"lifecycles.{name}", f"states without an entry: {sorted(missing)}")
        result[name] = Lifecycle(name=name, enum=enum_cls, transitions=transitions)
    return result


@lru_cache(maxsize=1)
def default_lifecycles() -> dict[str, Lifecycle]:
    text = resources.files("rural.rules").joinpath("lifecycle.toml").read_text("utf-8")
    return parse_lifecycles(tomllib.loads(text), source="rural/rules/lifecycle.toml")


def stateful_kind(object_type: str) -> StatefulKind:
    try:
        return STATEFUL_KINDS[object_type]
    except KeyError:
        msg = (
            f"object_type {object_type!r} has no status lifecycle (one of {sorted(STATEFUL_KINDS)})"
        )
        raise NotFoundError(msg) from None


def change_status(
    session: Session,
    *,
    actor: Actor,
    object_type: str,
    object_id: int,
    to_status: str,
    note: str | None = None,
    effective_on: date | None = None,
    expected_version: int | None = None,
    policy: Policy | None = None,
    lifecycles: dict[str, Lifecycle] | None = None,
) -> StatusChange:
    """Change one object's status, or raise without writing anything.

    Checks, in order: the object exists; the actor may change status in its unit and domain;
    the version matches ``expected_version`` (when given); the transition is allowed. Then
    writes the new status (version + 1), a StatusChange row and a ChangeLog row in the session's
    transaction. The caller commits.
    """
    kind = stateful_kind(object_type)
    cycle = (lifecycles or default_lifecycles())[kind.lifecycle]
    obj = session.get(kind.model, object_id)
    if obj is None:
        msg = f"{kind.label} {object_id} 不存在 ({object_type} {object_id} not found)"
        raise NotFoundError(msg)
    unit_code = str(getattr(obj, kind.unit_field))
    action = Action.MANAGE_PROBLEMS if object_type == "problem" else Action.CHANGE_STATUS
    (policy or default_policy()).check(actor, action, unit_code=unit_code, domain=kind.domain)
    current = getattr(obj, kind.status_field)
    from_status = current.value if isinstance(current, LabeledEnum) else str(current)
    version = int(getattr(obj, "version"))  # noqa: B009
    if expected_version is not None and expected_version != version:
        msg = f"{kind.label} {object_id} 已被他人修改 (version {expected_version} is stale)"
        raise StaleVersionError(msg, current_version=version)
    try:
        target = cycle.enum(to_status)
    except ValueError:
        choices = ", ".join(m.value for m in cycle.enum)
        msg = f"to_status {to_status!r} is not a {cycle.enum.__name__} ({choices})"
        raise InvalidTransitionError(msg) from None
    cycle.check(from_status, target.value)
    table = kind.model.__table__  # type: ignore[attr-defined]
    result = session.execute(
        update(table)
        .where(table.c.id == object_id, table.c.version == version)
        .values({kind.status_field: target.value, "version": version + 1})
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        msg = f"{kind.label} {object_id} 已被他人修改 (changed concurrently)"
        raise StaleVersionError(msg, current_version=None)
    session.expire(obj)
    on = effective_on or clock.today()
    change = StatusChange(
        object_type=object_type,
        object_id=object_id,
        from_status=from_status,
        to_status=target.value,
        effective_on=on,
        actor=actor.username,
        note=note,
    )
    session.add(change)
    audit.record(
        session,
        actor=actor.username,
        action=ChangeAction.STATUS,
        object_type=object_type,
        object_id=object_id,
        old={kind.status_field: from_status, "version": version},
        new={kind.status_field: target.value, "version": version + 1},
        note=note,
    )
    session.flush()
    return change


def status_history(session: Session, *, object_type: str, object_id: int) -> list[StatusChange]:
    """Every status change of one object, in effective order (then recording order)."""
    stateful_kind(object_type)
    statement = (
        select(StatusChange)
        .where(StatusChange.object_type == object_type, StatusChange.object_id == object_id)
        .order_by(StatusChange.effective_on, StatusChange.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def status_on(session: Session, *, object_type: str, object_id: int, on: date) -> str | None:
    """The status in force at the end of ``on`` (None if the object had no status yet)."""
    current: str | None = None
    for change in status_history(session, object_type=object_type, object_id=object_id):
        if change.effective_on <= on:
            current = change.to_status
    return current
