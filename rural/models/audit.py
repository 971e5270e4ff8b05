"""The append-only change log (audit) and the dated status history of every stateful object."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from rural.enums import ChangeAction
from rural.models.base import UTCDateTime, enum_type, utcnow


class ChangeLog(SQLModel, table=True):
    """Who changed what, when, from what to what. The database refuses UPDATE and DELETE."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=50, index=True)
    action: ChangeAction = Field(sa_type=enum_type(ChangeAction))
    object_type: str = Field(max_length=40)
    object_id: str = Field(max_length=40)
    old: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    new: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    note: str | None = None


class StatusChange(SQLModel, table=True):
    """A dated status change of a facility, public toilet or problem."""

    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_object", "object_type", "object_id", "effective_on"),)

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=40)
    object_id: int
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    effective_on: date
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=50)
    note: str | None = None
