"""Fast bulk inserts into the SQLModel tables, for the demo loader and the importers.

The ORM writes one row at a time; this module writes many rows in one transaction and stores
exactly what the ORM would store:

- SQLite: the raw DBAPI ``executemany`` (``PRAGMA synchronous`` relaxed during the load and
  restored after; the write lock is taken at BEGIN);
- PostgreSQL: psycopg ``COPY ... FROM STDIN``, geometries as hex EWKB with SRID 4490, and each
  table's id sequence moved past the ids written.

Values go through the same column types the ORM uses (enums by value, JSON, dates, the
timezone rule of ``UTCDateTime``); geometries are converted with vectorised shapely calls and
the ``minx/miny/maxx/maxy`` columns are filled from them, as ``register_bbox_sync`` does on
ORM inserts. Columns left out get the model's default, as an ORM insert would.

Data comes as a list of mappings (one per row) or as columns: a mapping of column name to a
list, a numpy array, :class:`Categorical` (codes into a list of values, -1 for None) or
:class:`Points` (x, y arrays). Column rules for numpy arrays: ``S`` (bytes) arrays are ASCII
text, float NaN and ``NaT`` are None, masked entries of a ``numpy.ma`` array are None,
``datetime64`` with a time part is UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import numpy as np
import psycopg
import shapely
from sqlalchemy import Column, Engine, Table, exc
from sqlalchemy.engine import Connection, Dialect
from sqlmodel import SQLModel

from rural.db import write_engine
from rural.errors import ValidationError
from rural.geometry import _ALLOWED, SRID, GeometryType

CHUNK_ROWS = 50_000
SQLITE_LOAD_CACHE_KIB = 262_144  # page cache for a bulk load (the default is 2 MiB)
_POINT_WKB_HEADER = b"\x01\x01\x00\x00\x00"  # little endian, Point
_POINT_EWKB_HEADER = b"\x01\x01\x00\x00\x20"  # little endian, Point with SRID
BBOX_COLUMNS = ("minx", "miny", "maxx", "maxy")
_MISSING = object()
_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "LinearRing": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


@dataclass(frozen=True)
class Categorical:
    """A column stored as integer codes into ``categories``; code -1 is None."""

    codes: np.ndarray
    categories: Sequence[Any]

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, start: int, stop: int) -> list[Any]:
        return _take(_object_array([*self.categories, None]), self.codes[start:stop])


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array holding ``values`` as they are (tuples and bytes included)."""
    arr = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        arr[i] = value
    return arr


def _take(lookup: np.ndarray, codes: np.ndarray) -> list[Any]:
    """``lookup[codes]`` as a list; code -1 picks the last entry (None by convention)."""
    result: list[Any] = lookup[codes].tolist()
    return result


@dataclass(frozen=True)
class Points:
    """A point geometry column as coordinate arrays; a NaN coordinate is no geometry."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def missing(self, start: int, stop: int) -> np.ndarray:
        return np.isnan(self.x[start:stop]) | np.isnan(self.y[start:stop])

    def wkb(self, start: int, stop: int, *, srid: int | None = None) -> list[Any]:
        """WKB of each point (EWKB hex with ``srid``), as ``shapely.to_wkb`` writes it."""
        x, y = self.x[start:stop], self.y[start:stop]
        n = len(x)
        header = _POINT_EWKB_HEADER if srid is not None else _POINT_WKB_HEADER
        width = len(header) + 4 * (srid is not None) + 16
        mat = np.empty((n, width), dtype=np.uint8)
        mat[:, : len(header)] = np.frombuffer(header, dtype=np.uint8)
        at = len(header)
        if srid is not None:
            mat[:, at : at + 4] = np.frombuffer(np.uint32(srid).astype("<u4").tobytes(), np.uint8)
            at += 4
        mat[:, at : at + 8] = x.astype("<f8").view(np.uint8).reshape(n, 8)
        mat[:, at + 8 :] = y.astype("<f8").view(np.uint8).reshape(n, 8)
        buf = mat.tobytes()
        if srid is not None:
            text = buf.hex().upper()
            step = 2 * width
            out: list[Any] = [text[i : i + step] for i in range(0, len(text), step)]
        else:
            out = [buf[i : i + width] for i in range(0, len(buf), width)]
        missing = self.missing(start, stop)
        if missing.any():
            for i in np.flatnonzero(missing).tolist():
                out[i] = None
        return out

    def bounds(self, start: int, stop: int) -> np.ndarray:
        x, y = self.x[start:stop], self.y[start:stop]
        return np.column_stack([x, y, x, y])

    def geometries(self, start: int, stop: int) -> np.ndarray:
        x, y = self.x[start:stop], self.y[start:stop]
        points = np.asarray(shapely.points(x, y), dtype=object)
        missing = np.isnan(x) | np.isnan(y)
        if missing.any():
            points[missing] = None
        return points


ColumnData = np.ndarray | Categorical | Points | Sequence[Any]
Columns = Mapping[str, ColumnData]
Rows = Sequence[Mapping[str, Any]]
Progress = Callable[[int], None]


def column_length(data: ColumnData) -> int:
    return len(data)


def values_of(data: ColumnData, start: int, stop: int) -> list[Any]:
    """Rows ``start:stop`` of a column as Python values (the rules in the module docstring)."""
    if isinstance(data, Categorical):
        return data.take(start, stop)
    if isinstance(data, Points):
        return list(data.geometries(start, stop))
    if isinstance(data, np.ndarray):
        return _array_values(data[start:stop])
    return list(data[start:stop])


def _array_values(arr: np.ndarray) -> list[Any]:
    if isinstance(arr, np.ma.MaskedArray):
        values = _array_values(np.ma.getdata(arr))
        for i in np.flatnonzero(np.ma.getmaskarray(arr)).tolist():
            values[i] = None
        return values
    kind = arr.dtype.kind
    if kind == "S":
        return arr.astype(f"U{max(arr.dtype.itemsize, 1)}").tolist()
    if kind == "f":
        nan = np.isnan(arr)
        if nan.any():
            obj = arr.astype(object)
            obj[nan] = None
            return obj.tolist()
        return arr.tolist()
    if kind == "M":
        unit = np.datetime_data(arr.dtype)[0]
        if unit in ("Y", "M", "W", "D"):
            return arr.astype("datetime64[D]").tolist()
        uniq, inverse = np.unique(arr.astype("datetime64[us]"), return_inverse=True)
        aware = [None if v is None else v.replace(tzinfo=UTC) for v in uniq.tolist()]
        return _take(_object_array(aware), inverse.ravel())
    return arr.tolist()


def materialize(columns: Columns) -> list[dict[str, Any]]:
    """Columns as a list of row dicts of Python values (for the ORM, tests and small data)."""
    n = _length(columns)
    names = list(columns)
    lists = [values_of(columns[name], 0, n) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def _length(columns: Columns) -> int:
    lengths = {name: column_length(data) for name, data in columns.items()}
    if len(set(lengths.values())) > 1:
        msg = f"columns differ in length: {lengths}"
        raise ValidationError(msg, field="columns", value=lengths)
    return next(iter(lengths.values()), 0)


def rows_to_columns(rows: Rows) -> dict[str, list[Any]]:
    """Row mappings as columns; a key missing from some rows is filled with the default later."""
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            names.setdefault(name, None)
    return {name: [row.get(name, _MISSING) for row in rows] for name in names}


@dataclass
class _Plan:
    """How one table's columns are written on one dialect."""

    table: Table
    names: list[str]
    sources: list[Callable[[int, int], list[Any]]]


@dataclass
class BulkWriter:
    """Writes tables within one open transaction; see :func:`bulk_load`."""

    connection: Connection
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    def insert(
        self,
        model: type[SQLModel],
        data: Columns | Rows,
        *,
        chunk_rows: int = CHUNK_ROWS,
        progress: Progress | None = None,
    ) -> int:
        """Insert rows into ``model``'s table; returns the number of rows written."""
        columns: Columns = rows_to_columns(data) if isinstance(data, Sequence) else data
        n = _length(columns)
        if n == 0:
            return 0
        plan = _plan(model, columns, self.dialect)
        if self.dialect.name == "postgresql":
            _copy_postgresql(self.connection, plan, n, chunk_rows, progress)
            if "id" in columns:
                _advance_sequence(self.connection, plan.table)
        else:
            _executemany_sqlite(self.connection, plan, n, chunk_rows, progress)
        self.counts[plan.table.name] = self.counts.get(plan.table.name, 0) + n
        return n


def prepared_rows(
    model: type[SQLModel],
    data: Columns | Rows,
    dialect: Dialect,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
    """The column names and the chunks of ready-to-bind tuples that :meth:`BulkWriter.insert`
    would write (for benchmarks comparing against a bare driver)."""
    columns: Columns = rows_to_columns(data) if isinstance(data, Sequence) else data
    n = _length(columns)
    plan = _plan(model, columns, dialect)
    chunks = (_chunk_rows(plan, start, stop) for start, stop in _chunks(n, chunk_rows))
    return plan.names, chunks


@contextmanager
def bulk_load(
    engine: Engine, *, defer_foreign_keys: bool = False, defer_indexes: bool = False
) -> Iterator[BulkWriter]:
    """One transaction for many bulk inserts; commits on success, rolls back on error.

    On SQLite, ``PRAGMA synchronous=OFF`` and a larger page cache for the load (restored
    after, also on error), and the write lock taken at BEGIN.

    For a large load into an empty database (the demo), not for a database in use (they lock
    the tables and rebuild whole indexes): ``defer_indexes`` drops the secondary indexes and
    creates them again after the rows (one sort each instead of a random insert per row);
    ``defer_foreign_keys`` does the same with PostgreSQL's foreign keys (checked in one pass
    each when added back), as pg_restore does. Both come back exactly as they were.
    """
    sqlite = engine.dialect.name == "sqlite"
    with write_engine(engine).connect() as conn:
        dbapi: Any = conn.connection.driver_connection
        previous: tuple[int, int] | None = None
        if sqlite:
            previous = (
                int(dbapi.execute("PRAGMA synchronous").fetchone()[0]),
                int(dbapi.execute("PRAGMA cache_size").fetchone()[0]),
            )
            dbapi.execute("PRAGMA synchronous=OFF")
            dbapi.execute(f"PRAGMA cache_size=-{SQLITE_LOAD_CACHE_KIB}")
        try:
            with conn.begin():
                indexes = _drop_indexes(conn) if defer_indexes else []
                keys = _drop_foreign_keys(conn) if defer_foreign_keys and not sqlite else []
                yield BulkWriter(conn)
                for create in indexes:
                    conn.exec_driver_sql(create)
                for table, name, definition in keys:
                    _restore_foreign_key(conn, table, name, definition)
        finally:
            if sqlite and previous is not None:
                dbapi.execute(f"PRAGMA synchronous={previous[0]}")
                dbapi.execute(f"PRAGMA cache_size={previous[1]}")


def _drop_indexes(conn: Connection) -> list[str]:
    """Drop the secondary indexes (not those behind a primary key or unique constraint) of
    the model tables; returns the statements that create them again."""
    tables = sorted(SQLModel.metadata.tables)
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in tables)
        found = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks}) ORDER BY name",
            tuple(tables),
        ).all()
    else:
        found = conn.exec_driver_sql(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_class t ON t.oid = i.indrelid"
            " WHERE t.relnamespace = current_schema()::regnamespace"
            " AND t.relname = ANY(%(tables)s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY c.relname",
            {"tables": tables},
        ).all()
    for name, _ in found:
        conn.exec_driver_sql(f"DROP INDEX {quote(str(name))}")
    return [str(create) for _, create in found]


def _restore_foreign_key(conn: Connection, table: str, name: str, definition: str) -> None:
    try:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    except exc.IntegrityError as error:
        msg = f"{table}: rows break {name} {definition}: {error.orig}"
        raise ValidationError(msg, field=table, value=str(error.orig)) from error


def _drop_foreign_keys(conn: Connection) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of the current schema; returns what re-creates them exactly."""
    quote = conn.dialect.identifier_preparer.quote
    found = conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE contype = 'f'"
        " AND connamespace = current_schema()::regnamespace"
        " ORDER BY conrelid::regclass::text, conname"
    ).all()
    deferred = [
        (str(table), quote(str(name)), str(definition)) for table, name, definition in found
    ]
    for table, name, _ in deferred:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return deferred


def bulk_insert(
    engine: Engine,
    model: type[SQLModel],
    data: Columns | Rows,
    *,
    progress: Progress | None = None,
) -> int:
    """Insert one table's rows in their own transaction."""
    with bulk_load(engine) as writer:
        return writer.insert(model, data, progress=progress)


def checkpoint(engine: Engine) -> None:
    """After a large SQLite load: move the WAL into the database file and truncate it."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        dbapi: Any = conn.connection.driver_connection
        dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _plan(model: type[SQLModel], columns: Columns, dialect: Dialect) -> _Plan:
    table: Table = model.__table__  # type: ignore[attr-defined]
    unknown = sorted(set(columns) - set(table.columns.keys()))
    if unknown:
        msg = f"{table.name}: no such column(s) {unknown}"
        raise ValidationError(msg, field=unknown[0], value=unknown)
    geom_col = table.columns.get("geom")
    with_bbox = (
        geom_col is not None
        and isinstance(geom_col.type, GeometryType)
        and all(name in table.columns for name in BBOX_COLUMNS)
    )
    names: list[str] = []
    sources: list[Callable[[int, int], list[Any]]] = []
    bounds_cache: dict[tuple[int, int], np.ndarray] = {}

    for column in table.columns:
        name = column.name
        if with_bbox and name in BBOX_COLUMNS:
            continue  # filled from the geometry below
        if name not in columns:
            if column.primary_key and column.autoincrement in (True, "auto"):
                continue
            default = _default(model, column)
            names.append(name)
            sources.append(_constant_source(table, column, default, dialect))
            continue
        names.append(name)
        sources.append(_column_source(model, table, column, columns[name], dialect, bounds_cache))

    if with_bbox:
        assert geom_col is not None
        geom_data = columns.get("geom")
        for index, name in enumerate(BBOX_COLUMNS):
            names.append(name)
            sources.append(_bbox_source(geom_data, index, bounds_cache))
    return _Plan(table=table, names=names, sources=sources)


def _default(model: type[SQLModel], column: Column[Any]) -> Any:
    info = model.model_fields.get(column.name)
    if info is not None and not info.is_required():
        return info.get_default(call_default_factory=True)
    if column.nullable:
        return None
    msg = f"{column.table.name}.{column.name} is required and was not given"
    raise ValidationError(msg, field=column.name, value=None)


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _constant_source(
    table: Table, column: Column[Any], value: Any, dialect: Dialect
) -> Callable[[int, int], list[Any]]:
    if isinstance(column.type, GeometryType):
        return _geometry_source(table, column, None, dialect, constant=value)
    processor = _processor(column, dialect)
    converted = _convert(table, column, processor, [value], 0)[0]
    return lambda start, stop: [converted] * (stop - start)


def _column_source(
    model: type[SQLModel],
    table: Table,
    column: Column[Any],
    data: ColumnData,
    dialect: Dialect,
    bounds_cache: dict[tuple[int, int], np.ndarray],
) -> Callable[[int, int], list[Any]]:
    if isinstance(column.type, GeometryType):
        return _geometry_source(table, column, data, dialect, bounds_cache=bounds_cache)
    if isinstance(data, Points):
        msg = f"{table.name}.{column.name}: point coordinates given for a non-geometry column"
        raise ValidationError(msg, field=column.name, value="Points")
    processor = _processor(column, dialect)
    if isinstance(data, Categorical):
        # Convert each category once; rows only pick from the converted list.
        values = [*data.categories, None]
        lookup = _object_array(_convert(table, column, processor, values, 0))
        return lambda start, stop: _take(lookup, data.codes[start:stop])
    if _distinct_first(data) and processor is not None:
        array: np.ndarray = data  # type: ignore[assignment]

        def unique_source(start: int, stop: int) -> list[Any]:
            chunk = array[start:stop]
            uniq, inverse = np.unique(chunk, return_inverse=True)
            if len(uniq) * 2 > len(chunk):
                return _convert(table, column, processor, _array_values(chunk), start)
            converted = _convert(table, column, processor, _array_values(uniq), start)
            return _take(_object_array(converted), inverse.ravel())

        return unique_source
    has_missing = isinstance(data, list) and any(v is _MISSING for v in data)
    default = _default(model, column) if has_missing else None

    def source(start: int, stop: int) -> list[Any]:
        values = values_of(data, start, stop)
        if has_missing:
            values = [default if v is _MISSING else v for v in values]
        return _convert(table, column, processor, values, start)

    return source


def _distinct_first(data: ColumnData) -> bool:
    """A plain numpy column whose distinct values can be converted once each."""
    return (
        isinstance(data, np.ndarray)
        and not isinstance(data, np.ma.MaskedArray)
        and data.dtype.kind in "biuMSUf"
    )


def _convert(
    table: Table,
    column: Column[Any],
    processor: Callable[[Any], Any] | None,
    values: list[Any],
    offset: int,
) -> list[Any]:
    """Apply the column type's bind processor, once per distinct value when values repeat."""
    if processor is None:
        return values
    try:
        try:
            distinct = dict.fromkeys(values)
        except TypeError:  # unhashable values (JSON dicts and lists): the same object once
            by_id: dict[int, Any] = {}
            for value in values:
                if id(value) not in by_id:
                    by_id[id(value)] = processor(value)
            return [by_id[id(value)] for value in values]
        if len(distinct) * 2 <= len(values):
            mapped = {v: processor(v) for v in distinct}
            return [mapped[v] for v in values]
        return [processor(v) for v in values]
    except (LookupError, ValueError, TypeError) as exc:
        row, bad = _first_bad(processor, values)
        msg = f"{table.name}.{column.name} row {offset + row}: cannot store {bad!r}: {exc}"
        raise ValidationError(msg, field=column.name, value=bad) from exc


def _first_bad(processor: Callable[[Any], Any], values: list[Any]) -> tuple[int, Any]:
    for index, value in enumerate(values):
        try:
            processor(value)
        except (LookupError, ValueError, TypeError):
            return index, value
    return 0, None


def _geometry_array(data: ColumnData | None, start: int, stop: int) -> np.ndarray:
    if data is None:
        return np.full(stop - start, None, dtype=object)
    if isinstance(data, Points):
        return data.geometries(start, stop)
    values = values_of(data, start, stop)
    arr = np.empty(len(values), dtype=object)
    arr[:] = [None if v is _MISSING else v for v in values]
    return arr


def _check_geometries(table: Table, column: Column[Any], arr: np.ndarray, offset: int) -> None:
    gtype: GeometryType = column.type  # type: ignore[assignment]
    allowed = np.array([_TYPE_IDS[name] for name in _ALLOWED[gtype.geometry_type]])
    present = np.array([v is not None for v in arr], dtype=bool)
    if not present.any():
        return
    not_geometry = [i for i in np.flatnonzero(present) if not isinstance(arr[i], shapely.Geometry)]
    if not_geometry:
        i = int(not_geometry[0])
        msg = (
            f"{table.name}.{column.name} row {offset + i}: geometry must be a shapely geometry,"
            f" got {type(arr[i]).__name__}"
        )
        raise ValidationError(msg, field=column.name, value=arr[i])
    type_ids = shapely.get_type_id(arr[present].astype(object))
    wrong = ~np.isin(type_ids, allowed)
    if wrong.any():
        i = int(np.flatnonzero(present)[np.flatnonzero(wrong)[0]])
        got = arr[i].geom_type
        msg = (
            f"{table.name}.{column.name} row {offset + i}: expected a {gtype.geometry_type}"
            f" geometry, got {got}"
        )
        raise ValidationError(msg, field=column.name, value=got)


def _geometry_source(
    table: Table,
    column: Column[Any],
    data: ColumnData | None,
    dialect: Dialect,
    *,
    constant: Any = None,
    bounds_cache: dict[tuple[int, int], np.ndarray] | None = None,
) -> Callable[[int, int], list[Any]]:
    postgresql = dialect.name == "postgresql"
    track = bounds_cache is not None and column.name == "geom"
    if isinstance(data, Points):
        gtype: GeometryType = column.type  # type: ignore[assignment]
        if "Point" not in _ALLOWED[gtype.geometry_type]:
            msg = (
                f"{table.name}.{column.name}: expected a {gtype.geometry_type} geometry,"
                " got Point coordinates"
            )
            raise ValidationError(msg, field=column.name, value="Point")
        points = data

        def point_source(start: int, stop: int) -> list[Any]:
            if track and bounds_cache is not None:
                bounds_cache.clear()
                bounds_cache[(start, stop)] = points.bounds(start, stop)
            return points.wkb(start, stop, srid=SRID if postgresql else None)

        return point_source

    def source(start: int, stop: int) -> list[Any]:
        if data is None:
            arr = np.empty(stop - start, dtype=object)
            arr[:] = constant
        else:
            arr = _geometry_array(data, start, stop)
        _check_geometries(table, column, arr, start)
        if track and bounds_cache is not None:
            bounds_cache.clear()
            bounds_cache[(start, stop)] = shapely.bounds(arr)
        if postgresql:
            hexed: list[Any] = shapely.to_wkb(
                shapely.set_srid(arr, SRID), hex=True, include_srid=True
            ).tolist()
            return hexed
        raw: list[Any] = shapely.to_wkb(arr).tolist()
        return raw

    return source


def _bbox_source(
    geom_data: ColumnData | None, index: int, bounds_cache: dict[tuple[int, int], np.ndarray]
) -> Callable[[int, int], list[Any]]:
    def source(start: int, stop: int) -> list[Any]:
        bounds = bounds_cache.get((start, stop))
        if bounds is None:  # geometry column not written before the bbox (no geom given)
            if isinstance(geom_data, Points):
                bounds = geom_data.bounds(start, stop)
            else:
                bounds = shapely.bounds(_geometry_array(geom_data, start, stop))
        return _array_values(bounds[:, index])

    return source


def _chunks(n: int, chunk_rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, chunk_rows):
        yield start, min(start + chunk_rows, n)


def _chunk_rows(plan: _Plan, start: int, stop: int) -> list[tuple[Any, ...]]:
    lists = [source(start, stop) for source in plan.sources]
    return list(zip(*lists, strict=True))


def _executemany_sqlite(
    connection: Connection, plan: _Plan, n: int, chunk_rows: int, progress: Progress | None
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in plan.names)
    marks = ", ".join("?" for _ in plan.names)
    sql = f"INSERT INTO {quote(plan.table.name)} ({columns}) VALUES ({marks})"
    dbapi: Any = connection.connection.driver_connection
    cursor = dbapi.cursor()
    try:
        for start, stop in _chunks(n, chunk_rows):
            try:
                cursor.executemany(sql, _chunk_rows(plan, start, stop))
            except sqlite3.IntegrityError as exc:
                msg = f"{plan.table.name} rows {start}-{stop - 1}: {exc}"
                raise ValidationError(msg, field=plan.table.name, value=str(exc)) from exc
            if progress is not None:
                progress(stop - start)
    finally:
        cursor.close()


def _copy_postgresql(
    connection: Connection, plan: _Plan, n: int, chunk_rows: int, progress: Progress | None
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in plan.names)
    sql = f"COPY {quote(plan.table.name)} ({columns}) FROM STDIN"
    dbapi: Any = connection.connection.driver_connection
    try:
        with dbapi.cursor() as cursor, cursor.copy(sql) as copy:
            for start, stop in _chunks(n, chunk_rows):
                for row in _chunk_rows(plan, start, stop):
                    copy.write_row(row)
                if progress is not None:
                    progress(stop - start)
    except psycopg.errors.IntegrityError as exc:
        msg = f"{plan.table.name}: {exc}"
        raise ValidationError(msg, field=plan.table.name, value=str(exc)) from exc


def _advance_sequence(connection: Connection, table: Table) -> None:
    """After explicit ids on PostgreSQL: the next ORM insert must not reuse one."""
    pk = [c for c in table.primary_key.columns if c.autoincrement in (True, "auto")]
    if len(pk) != 1 or not str(pk[0].type).upper().startswith(("INTEGER", "BIGINT")):
        return
    quote = connection.dialect.identifier_preparer.quote
    name, col = table.name, pk[0].name
    connection.exec_driver_sql(
        f"SELECT setval(pg_get_serial_sequence('{name}', '{col}'),"
        f" COALESCE(MAX({quote(col)}), 1), MAX({quote(col)}) IS NOT NULL)"
        f" FROM {quote(name)}"
    )
