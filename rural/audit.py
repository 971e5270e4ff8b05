"""The append-only change log: every change lands in it in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, SQLModel, select

from rural.enums import ChangeAction
from rural.models import ChangeLog


def json_value(value: Any) -> Any:
    """A JSON-safe form of a column value (enums by value, dates ISO, geometry as WKT)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def snapshot(obj: SQLModel, fields: list[str] | None = None) -> dict[str, Any]:
    """The named fields (default: all columns) of a row, JSON-safe."""
    names = fields or list(type(obj).model_fields)
    return {name: json_value(getattr(obj, name)) for name in names}


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (old, new)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def record(
    session: Session,
    *,
    actor: str,
    action: ChangeAction,
    object_type: str,
    object_id: str | int,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    note: str | None = None,
) -> ChangeLog:
    """Add a change-log row to the session's transaction (committed with the change itself)."""
    entry = ChangeLog(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        old=old,
        new=new,
        note=note,
    )
    session.add(entry)
    return entry


def history(session: Session, *, object_type: str, object_id: str | int) -> list[ChangeLog]:
    """The change log of one object, oldest first."""
    statement = (
        select(ChangeLog)
        .where(ChangeLog.object_type == object_type, ChangeLog.object_id == str(object_id))
        .order_by(ChangeLog.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def by_actor(session: Session, *, actor: str, limit: int = 200) -> list[ChangeLog]:
    """The latest changes made by one user, newest first."""
    statement = (
        select(ChangeLog)
        .where(ChangeLog.actor == actor)
        .order_by(ChangeLog.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return list(session.exec(statement))
