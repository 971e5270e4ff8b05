"""Sewage facilities (一设施一档案), household connections, inspections, repairs, samples."""

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from rural.enums import DischargeClass, FacilityStatus, SewageMode, WaterClass
from rural.models.base import UTCDateTime, enum_type, geometry, spatial_indexes
from rural.models.spatial import SpatialMixin, register_bbox_sync


class SewageFacility(SpatialMixin, table=True):
    __tablename__ = "sewage_facility"
    __table_args__ = spatial_indexes("sewage_facility")

    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="unit.code", index=True)
    name: str = Field(max_length=100)
    mode: SewageMode = Field(sa_type=enum_type(SewageMode))
    process: str | None = Field(default=None, max_length=50)
    design_capacity_m3d: float | None = Field(default=None, ge=0)
    receiving_water: str | None = Field(default=None, max_length=100)
    water_class: WaterClass | None = Field(default=None, sa_type=enum_type(WaterClass))
    standard: str | None = Field(default=None, max_length=50, description="执行标准")
    discharge_class: DischargeClass | None = Field(
        default=None, sa_type=enum_type(DischargeClass), description="None: follow the class rule"
    )
    om_contractor: str | None = Field(default=None, max_length=100)
    om_cost_yuan: float | None = Field(default=None, ge=0, description="O&M cost per year")
    commissioned_on: date | None = None
    status: FacilityStatus = Field(sa_type=enum_type(FacilityStatus), index=True)
    service_area: BaseGeometry | None = Field(
        default=None, sa_type=geometry("GEOMETRY"), description="area served, if drawn"
    )
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class SewageConnection(SQLModel, table=True):
    """A household's sewage goes to this facility (or network) from one date to another."""

    __tablename__ = "sewage_connection"
    __table_args__ = (
        CheckConstraint(
            "disconnected_on IS NULL OR disconnected_on >= connected_on",
            name="ck_sewage_connection_dates",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    facility_id: int = Field(foreign_key="sewage_facility.id", index=True)
    connected_on: date
    disconnected_on: date | None = None


class SewageInspection(SQLModel, table=True):
    __tablename__ = "sewage_inspection"
    __table_args__ = (Index("ix_sewage_inspection_facility_date", "facility_id", "inspected_on"),)

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="sewage_facility.id")
    inspected_on: date
    inspector: str | None = Field(default=None, max_length=50)
    pump_ok: bool | None = None
    meter_m3: float | None = Field(default=None, ge=0)
    effluent_look: str | None = Field(default=None, max_length=50)
    note: str | None = None


class RepairRequest(SQLModel, table=True):
    __tablename__ = "repair_request"

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="sewage_facility.id", index=True)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    reported_by: str | None = Field(default=None, max_length=50)
    description: str
    fixed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EffluentSample(SQLModel, table=True):
    """An effluent sample; judged against the limits of its facility's discharge class."""

    __tablename__ = "effluent_sample"
    __table_args__ = (Index("ix_effluent_sample_facility_date", "facility_id", "sampled_on"),)

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="sewage_facility.id")
    sampled_on: date
    lab: str | None = Field(default=None, max_length=100)
    ph: float | None = None
    cod: float | None = Field(default=None, ge=0, description="mg/L")
    bod5: float | None = Field(default=None, ge=0, description="mg/L")
    ss: float | None = Field(default=None, ge=0, description="mg/L")
    nh3n: float | None = Field(default=None, ge=0, description="mg/L")
    tn: float | None = Field(default=None, ge=0, description="mg/L")
    tp: float | None = Field(default=None, ge=0, description="mg/L")
    fecal_coliform: float | None = Field(default=None, ge=0, description="MPN/L")


register_bbox_sync(SewageFacility)
