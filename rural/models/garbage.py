"""The garbage chain: collection points (村收集), transfer stations (镇转运), treatment facilities
(县处理), the links between them, collection logs, tonnage and household sorting spot checks."""

from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from rural.enums import (
    ChainNodeKind,
    CollectionPointKind,
    FacilityStatus,
    TonnageFate,
    TonnageMethod,
    TreatmentKind,
)
from rural.models.base import enum_type, geometry, spatial_indexes
from rural.models.spatial import SpatialMixin, register_bbox_sync


class CollectionPoint(SpatialMixin, table=True):
    __tablename__ = "collection_point"
    __table_args__ = spatial_indexes("collection_point")

    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="unit.code", index=True)
    name: str = Field(max_length=100)
    kind: CollectionPointKind = Field(sa_type=enum_type(CollectionPointKind))
    bins: dict[str, int] = Field(
        default_factory=dict, sa_type=JSON, description="bins per garbage category"
    )
    frequency_per_week: float | None = Field(default=None, ge=0)
    cleaner: str | None = Field(default=None, max_length=50)
    status: FacilityStatus = Field(sa_type=enum_type(FacilityStatus), index=True)
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class TransferStation(SpatialMixin, table=True):
    __tablename__ = "transfer_station"
    __table_args__ = spatial_indexes("transfer_station")

    id: int | None = Field(default=None, primary_key=True)
    town_code: str = Field(foreign_key="unit.code", index=True)
    name: str = Field(max_length=100)
    capacity_tpd: float = Field(ge=0, description="design capacity, tonnes per day")
    has_weighbridge: bool = True
    operator: str | None = Field(default=None, max_length=100)
    status: FacilityStatus = Field(sa_type=enum_type(FacilityStatus), index=True)
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class TreatmentFacility(SpatialMixin, table=True):
    __tablename__ = "treatment_facility"
    __table_args__ = spatial_indexes("treatment_facility")

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="unit.code", index=True, description="usually the county")
    name: str = Field(max_length=100)
    kind: TreatmentKind = Field(sa_type=enum_type(TreatmentKind))
    capacity_tpd: float = Field(ge=0)
    accepted_categories: list[str] = Field(default_factory=list, sa_type=JSON)
    compliant: bool = Field(default=True, description="meets its pollution-control standard")
    status: FacilityStatus = Field(sa_type=enum_type(FacilityStatus), index=True)
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class ChainLink(SQLModel, table=True):
    """One link of the chain: village → collection point, point → station, station → facility.

    ``category`` None means the link carries every category (mixed). Links are dated so the
    chain on any past date can be rebuilt.
    """

    __tablename__ = "chain_link"
    __table_args__ = (
        CheckConstraint(
            "(source_kind = 'village' AND village_code IS NOT NULL"
            " AND collection_point_id IS NOT NULL AND transfer_station_id IS NULL"
            " AND treatment_facility_id IS NULL)"
            " OR (source_kind = 'collection_point' AND village_code IS NULL"
            " AND collection_point_id IS NOT NULL AND transfer_station_id IS NOT NULL"
            " AND treatment_facility_id IS NULL)"
            " OR (source_kind = 'transfer_station' AND village_code IS NULL"
            " AND collection_point_id IS NULL AND transfer_station_id IS NOT NULL"
            " AND treatment_facility_id IS NOT NULL)",
            name="ck_chain_link_stage",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_kind: ChainNodeKind = Field(sa_type=enum_type(ChainNodeKind), index=True)
    village_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    collection_point_id: int | None = Field(
        default=None, foreign_key="collection_point.id", index=True
    )
    transfer_station_id: int | None = Field(
        default=None, foreign_key="transfer_station.id", index=True
    )
    treatment_facility_id: int | None = Field(
        default=None, foreign_key="treatment_facility.id", index=True
    )
    category: str | None = Field(default=None, max_length=30)
    valid_from: date | None = None
    valid_to: date | None = None


class CollectionLog(SQLModel, table=True):
    """A collection run from a point (保洁员/清运车): vehicle, trips, date."""

    __tablename__ = "collection_log"
    __table_args__ = (Index("ix_collection_log_point_date", "collection_point_id", "collected_on"),)

    id: int | None = Field(default=None, primary_key=True)
    collection_point_id: int = Field(foreign_key="collection_point.id")
    transfer_station_id: int | None = Field(default=None, foreign_key="transfer_station.id")
    collected_on: date = Field(index=True)
    vehicle: str | None = Field(default=None, max_length=30)
    trips: int = Field(default=1, ge=0)
    category: str | None = Field(default=None, max_length=30)
    estimated_tonnes: float | None = Field(default=None, ge=0)
    recorded_by: str | None = Field(default=None, max_length=50)


class TonnageRecord(SQLModel, table=True):
    """Tonnage received at a chain node over a period, weighed (measured) or estimated."""

    __tablename__ = "tonnage_record"
    __table_args__ = (
        Index("ix_tonnage_node_period", "node_kind", "period_start"),
        CheckConstraint("period_end >= period_start", name="ck_tonnage_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    node_kind: ChainNodeKind = Field(sa_type=enum_type(ChainNodeKind))
    village_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    collection_point_id: int | None = Field(default=None, foreign_key="collection_point.id")
    transfer_station_id: int | None = Field(
        default=None, foreign_key="transfer_station.id", index=True
    )
    treatment_facility_id: int | None = Field(
        default=None, foreign_key="treatment_facility.id", index=True
    )
    period_start: date
    period_end: date
    category: str = Field(max_length=30)
    tonnes: float = Field(ge=0)
    method: TonnageMethod = Field(sa_type=enum_type(TonnageMethod))
    fate: TonnageFate | None = Field(default=None, sa_type=enum_type(TonnageFate))


class SortingInspection(SQLModel, table=True):
    """入户抽查: did the household sort, and sort correctly."""

    __tablename__ = "sorting_inspection"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    inspected_on: date = Field(index=True)
    participated: bool
    correct: bool | None = None
    inspector: str | None = Field(default=None, max_length=50)


register_bbox_sync(CollectionPoint)
register_bbox_sync(TransferStation)
register_bbox_sync(TreatmentFacility)
