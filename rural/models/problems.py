"""Problem records of the inspect → assign → rectify → check → close loop (督查整改)."""

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlmodel import Field, SQLModel

from rural.enums import Escalation, ProblemSource, ProblemStatus, ProblemType
from rural.models.base import UTCDateTime, enum_type, geometry, spatial_indexes
from rural.models.spatial import SpatialMixin, register_bbox_sync


class Problem(SpatialMixin, table=True):
    __tablename__ = "problem"
    __table_args__ = spatial_indexes("problem")

    id: int | None = Field(default=None, primary_key=True)
    problem_type: ProblemType = Field(sa_type=enum_type(ProblemType))
    source: ProblemSource = Field(sa_type=enum_type(ProblemSource))
    village_code: str = Field(foreign_key="unit.code", index=True)
    object_kind: str | None = Field(default=None, max_length=30, description="e.g. sewage_facility")
    object_id: int | None = None
    description: str
    found_by: str | None = Field(default=None, max_length=50)
    found_at: datetime = Field(sa_type=UTCDateTime)
    responsible: str | None = Field(default=None, max_length=50)
    deadline: date | None = None
    status: ProblemStatus = Field(sa_type=enum_type(ProblemStatus), index=True)
    escalation: Escalation = Field(default=Escalation.NONE, sa_type=enum_type(Escalation))
    reviewer: str | None = Field(default=None, max_length=50)
    result: str | None = None
    closed_on: date | None = None
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


class ProblemPhoto(SQLModel, table=True):
    __tablename__ = "problem_photo"

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    stage: str = Field(max_length=20, description="found | rectified")
    file_name: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lon: float | None = None
    lat: float | None = None


register_bbox_sync(Problem)
