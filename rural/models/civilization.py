"""Civilized-village and -town titles (文明村镇称号): who holds which level, from when to when.

The selection workflow (申报 → 推荐 → 测评 → 联审 → 公示 → 命名 → 复查) will write these rows; the
indicators read them for the share of villages holding a county-level or higher title.
"""

from datetime import date

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from rural.enums import TitleLevel
from rural.models.base import enum_type


class CivilizedTitle(SQLModel, table=True):
    """A title named on ``awarded_on``; ``revoked_on`` set when a re-check cancels or revokes it."""

    __tablename__ = "civilized_title"
    __table_args__ = (
        Index("ix_civilized_title_unit_level", "unit_code", "level"),
        CheckConstraint(
            "revoked_on IS NULL OR revoked_on >= awarded_on", name="ck_civilized_title_dates"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="unit.code")
    level: TitleLevel = Field(sa_type=enum_type(TitleLevel))
    title: str = Field(max_length=50, description="e.g. 文明村, 文明乡镇")
    campaign: str | None = Field(default=None, max_length=100, description="评选批次")
    document_no: str | None = Field(default=None, max_length=100, description="命名文号")
    awarded_on: date
    revoked_on: date | None = None
    revoke_reason: str | None = None
