"""Shared column types and helpers for the table models."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from rural.enums import LabeledEnum
from rural.geometry import GeometryType


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"naive datetime {value.isoformat()} refused: give a timezone"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[LabeledEnum]) -> sa.Enum:
    """Store an enum by its value in a VARCHAR (no native database enum, no CHECK)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def geometry(geometry_type: str) -> Any:
    """The ``sa_type`` of a geometry column in CGCS2000 (EPSG:4490)."""
    return GeometryType(geometry_type)


def spatial_indexes(table: str) -> tuple[sa.Index, sa.Index]:
    """A bounding-box index (used on SQLite) and a GiST index created on PostgreSQL only."""
    return (
        sa.Index(f"ix_{table}_bbox", "minx", "miny", "maxx", "maxy"),
        sa.Index(f"ix_{table}_geom_gist", "geom", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )
