"""Courtyard ratings 美丽庭院 (run by the Women's Federation)."""

from datetime import date

from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from rural.enums import CourtyardLevel
from rural.models.base import enum_type


class CourtyardRating(SQLModel, table=True):
    """A dated star rating of a household's courtyard; the latest before a date is in force."""

    __tablename__ = "courtyard_rating"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="ck_courtyard_stars"),
        Index("ix_courtyard_rating_household_date", "household_id", "rated_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id")
    rated_on: date
    stars: int = Field(ge=1, le=5)
    level: CourtyardLevel = Field(sa_type=enum_type(CourtyardLevel))
    inspector: str | None = Field(default=None, max_length=50)
    published: bool = False
    item_scores: dict[str, float] | None = Field(default=None, sa_type=JSON)
    note: str | None = None
