"""Households 户 and their household toilets 户厕, with the toilet's state history."""

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.models.base import UTCDateTime, enum_type, geometry, spatial_indexes, utcnow
from rural.models.spatial import SpatialMixin, register_bbox_sync

PERSONAL_FIELDS = ("householder", "id_number", "phone")


class Household(SpatialMixin, table=True):
    """A household. ``householder``, ``id_number`` and ``phone`` are personal data."""

    __tablename__ = "household"
    __table_args__ = spatial_indexes("household")

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, description="village code + sequence")
    village_code: str = Field(foreign_key="unit.code", index=True)
    natural_village_code: str | None = Field(default=None, foreign_key="unit.code")
    householder: str | None = Field(default=None, max_length=50)
    id_number: str | None = Field(default=None, max_length=18)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)
    members: int | None = Field(default=None, ge=0)
    resident: bool = Field(default=True, description="常住户")
    registered: bool = Field(default=True, description="户籍户")
    due_for_renovation: bool = Field(default=False, description="应改户")
    valid_from: date | None = None
    valid_to: date | None = None
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class HouseholdToilet(SQLModel, table=True):
    """The household toilet of the 改厕台账, current state (history in ToiletState)."""

    __tablename__ = "household_toilet"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    toilet_type: ToiletType = Field(sa_type=enum_type(ToiletType))
    condition: ToiletCondition = Field(sa_type=enum_type(ToiletCondition))
    excreta_destination: ExcretaDestination = Field(sa_type=enum_type(ExcretaDestination))
    toilet_class: ToiletClass = Field(
        sa_type=enum_type(ToiletClass), description="derived from type, condition and destination"
    )
    old_toilet_demolished: bool | None = None
    build_year: int | None = None
    batch: str | None = Field(default=None, max_length=50)
    builder: str | None = Field(default=None, max_length=100)
    accepted_on: date | None = None
    accepted_by: str | None = Field(default=None, max_length=50)
    subsidy_yuan: float | None = Field(default=None, ge=0)
    subsidy_source: str | None = Field(default=None, max_length=100)
    last_emptied_on: date | None = None
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class ToiletState(SQLModel, table=True):
    """One state of a toilet from ``effective_on`` until the next state: rebuilds any past date."""

    __tablename__ = "toilet_state"
    __table_args__ = (Index("ix_toilet_state_toilet_date", "toilet_id", "effective_on"),)

    id: int | None = Field(default=None, primary_key=True)
    toilet_id: int = Field(foreign_key="household_toilet.id")
    effective_on: date
    toilet_type: ToiletType = Field(sa_type=enum_type(ToiletType))
    condition: ToiletCondition = Field(sa_type=enum_type(ToiletCondition))
    excreta_destination: ExcretaDestination = Field(sa_type=enum_type(ExcretaDestination))
    toilet_class: ToiletClass = Field(sa_type=enum_type(ToiletClass))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=50)
    note: str | None = None


register_bbox_sync(Household)
