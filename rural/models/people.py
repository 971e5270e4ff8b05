"""Users: a role, a unit (and everything beneath it) and, for department staff, a line 条线."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from rural.enums import Line, Role
from rural.models.base import UTCDateTime, enum_type, utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    display_name: str | None = Field(default=None, max_length=50)
    role: Role = Field(sa_type=enum_type(Role))
    unit_code: str = Field(foreign_key="unit.code", index=True)
    line: Line | None = Field(default=None, sa_type=enum_type(Line))
    phone: str | None = Field(default=None, max_length=20)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
