"""One geometry column type for SQLite and PostGIS, always in CGCS2000 (EPSG:4490).

On PostgreSQL the column is ``geometry(<TYPE>, 4490)`` with a GiST index declared by the table;
elsewhere it is WKB in a BLOB, and tables carry indexed bounding-box columns for window queries.
Python code always sees shapely geometries.
"""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry  # imported at module level: a lazy import breaks on PostgreSQL
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from rural.errors import ValidationError

SRID = 4490
CRS = f"EPSG:{SRID}"

_ALLOWED = {
    "POINT": ("Point",),
    "POLYGON": ("Polygon",),
    "MULTIPOLYGON": ("MultiPolygon",),
    "LINESTRING": ("LineString",),
    "GEOMETRY": ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"),
}


class GeometryType(TypeDecorator[BaseGeometry]):
    """A shapely geometry stored as PostGIS ``geometry(type, 4490)`` or as WKB bytes."""

    impl = LargeBinary
    cache_ok = True
    # Read by geoalchemy2's DDL hooks on PostgreSQL: the GiST index is declared by each table.
    spatial_index = False
    use_N_D_index = False  # noqa: N815 (geoalchemy2's name)
    srid = SRID

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        if geometry_type not in _ALLOWED:
            msg = f"geometry_type must be one of {sorted(_ALLOWED)}, got {geometry_type!r}"
            raise ValueError(msg)
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        # geoalchemy2's DDL hooks ask with no dialect; answer with the PostGIS type.
        if dialect is None:
            return Geometry(self.geometry_type, srid=SRID, spatial_index=False)
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, BaseGeometry):
            msg = f"geometry must be a shapely geometry, got {type(value).__name__}"
            raise ValidationError(msg, field="geom", value=value)
        if value.geom_type not in _ALLOWED[self.geometry_type]:
            msg = f"expected a {self.geometry_type} geometry, got {value.geom_type}"
            raise ValidationError(msg, field="geom", value=value.geom_type)
        if dialect.name == "postgresql":
            return from_shape(value, srid=SRID)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return to_shape(value)
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, bytes | str):
            return shapely.from_wkb(value)
        msg = f"cannot read a geometry from {type(value).__name__}"
        raise TypeError(msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.geometry_type!r})"

    def copy(self, **_kw: Any) -> GeometryType:
        return GeometryType(self.geometry_type)


def bbox(geom: BaseGeometry | None) -> tuple[float, float, float, float] | tuple[None, ...]:
    """(minx, miny, maxx, maxy) of a geometry, or Nones for no geometry."""
    if geom is None or geom.is_empty:
        return (None, None, None, None)
    minx, miny, maxx, maxy = geom.bounds
    return (float(minx), float(miny), float(maxx), float(maxy))
