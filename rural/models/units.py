"""Administrative units from province to natural village, their successors and crosswalks."""

from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from rural.enums import UnitLevel
from rural.models.base import enum_type, geometry, spatial_indexes
from rural.models.spatial import SpatialMixin, register_bbox_sync


class Unit(SpatialMixin, table=True):
    """A unit keyed by its statistical division code (15 digits for a natural village)."""

    __tablename__ = "unit"
    __table_args__ = spatial_indexes("unit")

    code: str = Field(primary_key=True, max_length=15)
    name: str = Field(max_length=100, index=True)
    level: UnitLevel = Field(sa_type=enum_type(UnitLevel), index=True)
    parent_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    urban_rural_code: str | None = Field(default=None, max_length=3)
    rural_override: bool | None = Field(
        default=None, description="None: follow the rule; True/False: counted as a village by hand"
    )
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="set when the unit is revoked")
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("MULTIPOLYGON"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class UnitSuccessor(SQLModel, table=True):
    """A merged or revoked unit's successor, so history rolls up."""

    __tablename__ = "unit_successor"
    __table_args__ = (UniqueConstraint("code", "successor_code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(foreign_key="unit.code", index=True)
    successor_code: str = Field(foreign_key="unit.code", index=True)
    effective_on: date
    note: str | None = None


class UnitCrosswalk(SQLModel, table=True):
    """The ID another system (a ministry's reporting platform) uses for a unit."""

    __tablename__ = "unit_crosswalk"
    __table_args__ = (UniqueConstraint("system", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(foreign_key="unit.code", index=True)
    system: str = Field(max_length=50)
    external_id: str = Field(max_length=100)


class DatasetInfo(SQLModel, table=True):
    """Facts about the data in this database (e.g. that it is demo data, and its manifest)."""

    __tablename__ = "dataset_info"

    key: str = Field(primary_key=True, max_length=50)
    value: str


register_bbox_sync(Unit)
