"""Bounding-box columns kept in step with each table's geometry."""

from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from rural.geometry import bbox


class SpatialMixin(SQLModel):
    """Indexed bounding-box columns: window queries on SQLite, cheap pre-filters everywhere."""

    minx: float | None = Field(default=None)
    miny: float | None = Field(default=None)
    maxx: float | None = Field(default=None)
    maxy: float | None = Field(default=None)


def _sync_bbox(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    geom: BaseGeometry | None = getattr(target, "geom", None)
    target.minx, target.miny, target.maxx, target.maxy = bbox(geom)


def register_bbox_sync(cls: type[SpatialMixin]) -> None:
    event.listen(cls, "before_insert", _sync_bbox)
    event.listen(cls, "before_update", _sync_bbox)
