"""Village public toilets 农村公厕."""

from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlmodel import Field

from rural.enums import ToiletCondition, ToiletType
from rural.models.base import enum_type, geometry, spatial_indexes
from rural.models.spatial import SpatialMixin, register_bbox_sync


class PublicToilet(SpatialMixin, table=True):
    __tablename__ = "public_toilet"
    __table_args__ = spatial_indexes("public_toilet")

    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="unit.code", index=True)
    name: str = Field(max_length=100)
    toilet_type: ToiletType = Field(sa_type=enum_type(ToiletType))
    condition: ToiletCondition = Field(sa_type=enum_type(ToiletCondition), index=True)
    cleaner: str | None = Field(default=None, max_length=50)
    opened_on: date | None = None
    geom: BaseGeometry | None = Field(default=None, sa_type=geometry("POINT"))
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    model_config = {"arbitrary_types_allowed": True}  # noqa: RUF012


register_bbox_sync(PublicToilet)
