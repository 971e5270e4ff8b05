"""rural.bulk: rows written in bulk are the rows the ORM writes, on SQLite and PostGIS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, select

from rural import bulk, migrate
from rural import models as m
from rural.bulk import Categorical, Points, bulk_insert, bulk_load, values_of
from rural.demo import DemoParams, generate
from rural.enums import (
    ChangeAction,
    CollectionPointKind,
    FacilityStatus,
    ToiletType,
    TreatmentKind,
    UnitLevel,
)
from rural.errors import ValidationError
from tests import pgcluster
from tests.conftest import skip_or_fail

PROVINCE, CITY, COUNTY = "330000000000", "331100000000", "331128000000"
TOWN, VILLAGE = "331128101000", "331128101201"
CST = timezone(timedelta(hours=8))
SHAPE = MultiPolygon(
    [
        Polygon(
            [(119.80, 28.40), (119.86, 28.40), (119.87, 28.45), (119.80, 28.40)],
            [[(119.82, 28.41), (119.84, 28.41), (119.84, 28.415), (119.82, 28.41)]],
        )
    ]
)


def edge_rows() -> list[tuple[type[SQLModel], list[dict[str, Any]]]]:
    """Rows with the awkward values: None geometry and JSON, enums as members and as text,
    Chinese in JSON, a non-UTC timestamp, a polygon with a hole, defaults left out."""
    return [
        (
            m.Unit,
            [
                {"code": PROVINCE, "name": "浙江省", "level": UnitLevel.PROVINCE},
                {"code": CITY, "name": "丽水市", "level": "city", "parent_code": PROVINCE},
                {"code": COUNTY, "name": "青溪县", "level": "county", "parent_code": CITY},
                {"code": TOWN, "name": "赤石乡", "level": "town", "parent_code": COUNTY},
                {
                    "code": VILLAGE,
                    "name": "王`家村",
                    "level": UnitLevel.VILLAGE,
                    "parent_code": TOWN,
                    "urban_rural_code": "220",
                    "rural_override": True,
                    "valid_from": date(2020, 6, 30),
                    "geom": SHAPE,
                },
            ],
        ),
        (
            m.Household,
            [
                {
                    "id": 1,
                    "code": VILLAGE + "0001",
                    "village_code": VILLAGE,
                    "householder": "叶建国",
                    "members": 3,
                    "resident": False,
                    "geom": Point(119.83, 28.42),
                },
                {"id": 2, "code": VILLAGE + "0002", "village_code": VILLAGE, "geom": None},
            ],
        ),
        (
            m.HouseholdToilet,
            [
                {
                    "id": 1,
                    "household_id": 1,
                    "toilet_type": ToiletType.THREE_COMPARTMENT,
                    "condition": "in_use",
                    "excreta_destination": "onsite_tank",
                    "toilet_class": "harmless",
                    "subsidy_yuan": 1500.5,
                    "accepted_on": date(2019, 5, 1),
                }
            ],
        ),
        (
            m.CollectionPoint,
            [
                {
                    "id": 7,
                    "village_code": VILLAGE,
                    "name": "收集点1",
                    "kind": CollectionPointKind.SORTING_HOUSE,
                    "bins": {"perishable": 2, "其他": 1},
                    "status": FacilityStatus.OPERATING,
                    "geom": Point(119.81, 28.41),
                }
            ],
        ),
        (
            m.TreatmentFacility,
            [
                {
                    "id": 3,
                    "unit_code": COUNTY,
                    "name": "焚烧厂",
                    "kind": TreatmentKind.INCINERATION,
                    "capacity_tpd": 600.0,
                    "accepted_categories": ["other"],
                    "status": "fault",
                }
            ],
        ),
        (
            m.SewageFacility,
            [
                {
                    "id": 1,
                    "village_code": VILLAGE,
                    "name": "终端",
                    "mode": "centralized",
                    "status": "operating",
                    "service_area": SHAPE.geoms[0],
                    "geom": Point(119.82, 28.405),
                }
            ],
        ),
        (
            m.ChangeLog,
            [
                {
                    "at": datetime(2026, 1, 2, 8, 30, 0, 123456, tzinfo=CST),
                    "actor": "测试",
                    "action": ChangeAction.IMPORT,
                    "object_type": "unit",
                    "object_id": VILLAGE,
                    "old": None,
                    "new": {"名称": "王家村", "n": [1, 2.5, None]},
                }
            ],
        ),
        (
            m.StatusChange,
            [
                {
                    "object_type": "collection_point",
                    "object_id": 7,
                    "from_status": None,
                    "to_status": "operating",
                    "effective_on": date(2024, 1, 1),
                    "recorded_at": datetime(2024, 1, 1, 1, 0, tzinfo=UTC),
                    "actor": "测试",
                }
            ],
        ),
    ]


@pytest.fixture(params=["sqlite", "postgis"])
def engine_pair(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    make_db: Callable[[str], Engine],
    pg_cluster: pgcluster.Cluster | None,
) -> Iterator[tuple[Engine, Engine]]:
    """Two empty migrated databases of one kind: one written by the ORM, one in bulk."""
    if request.param == "sqlite":
        yield (
            make_db(f"sqlite:///{tmp_path / 'orm.db'}"),
            make_db(f"sqlite:///{tmp_path / 'bulk.db'}"),
        )
        return
    if pg_cluster is None:
        skip_or_fail(f"PostGIS unavailable: {pgcluster.unavailable_reason()}")
        return
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    engines = [make_db(pg_cluster.create_database(name)) for name in names]
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()
    for name in names:
        pg_cluster.drop_database(name)


def _orm_write(engine: Engine, tables: list[tuple[type[SQLModel], list[dict[str, Any]]]]) -> None:
    with Session(engine) as session:
        for model, rows in tables:  # one commit per table: the ORM does not order by FK
            session.add_all([model(**row) for row in rows])
            session.commit()


def _raw(engine: Engine, model: type[SQLModel]) -> list[tuple[Any, ...]]:
    """Stored values as the driver returns them, without the ORM's type processing."""
    table = model.__table__  # type: ignore[attr-defined]
    key = ", ".join(c.name for c in table.primary_key.columns)
    columns = [c.name for c in table.columns if not (model is m.ChangeLog and c.name == "id")]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {key}"
        ).all()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


def _orm_read(engine: Engine, model: type[SQLModel]) -> list[dict[str, Any]]:
    with Session(engine) as session:
        objects = session.exec(select(model)).all()
        result = []
        for obj in objects:
            data = obj.model_dump()
            for key, value in data.items():
                if isinstance(value, shapely.Geometry):
                    data[key] = value.wkt
            result.append(data)
    key = "code" if model is m.Unit else "id"
    return sorted(result, key=lambda r: str(r[key]))


def test_bulk_writes_what_the_orm_writes(engine_pair: tuple[Engine, Engine]) -> None:
    orm_engine, bulk_engine = engine_pair
    tables = edge_rows()
    _orm_write(orm_engine, tables)
    with bulk_load(bulk_engine) as writer:
        for model, rows in tables:
            assert writer.insert(model, rows) == len(rows)
    for model, _ in tables:
        assert _raw(bulk_engine, model) == _raw(orm_engine, model), model.__name__
        assert _orm_read(bulk_engine, model) == _orm_read(orm_engine, model), model.__name__
    # The bounding box columns were filled from the geometry, as the ORM's hook does.
    with bulk_engine.connect() as conn:
        box = conn.execute(text(f"SELECT minx, miny, maxx, maxy FROM unit WHERE code='{VILLAGE}'"))
        assert box.one() == pytest.approx((119.80, 28.40, 119.87, 28.45))


def test_every_demo_table_matches_the_orm(engine_pair: tuple[Engine, Engine]) -> None:
    """The demo's columns (categorical, point, numpy, datetime64, JSON) through both paths."""
    dataset = generate(DemoParams(villages=10, households=120, towns=2, seed=3))
    tables = [(t.model, bulk.materialize(t.columns)) for t in dataset.tables.values()]
    orm_engine, bulk_engine = engine_pair
    _orm_write(orm_engine, tables)
    with bulk_load(bulk_engine) as writer:
        for table in dataset.tables.values():
            writer.insert(table.model, table.columns, chunk_rows=37)
    for model, rows in tables:
        assert len(_raw(bulk_engine, model)) == len(rows)
        assert _raw(bulk_engine, model) == _raw(orm_engine, model), model.__name__


def test_explicit_ids_leave_the_sequence_past_them(any_engine: Engine) -> None:
    rows = edge_rows()
    bulk_insert(any_engine, m.Unit, rows[0][1])
    bulk_insert(any_engine, m.Household, rows[1][1])
    with Session(any_engine) as session:
        session.add(m.Household(code=VILLAGE + "0003", village_code=VILLAGE))
        session.commit()
        ids = sorted(h.id for h in session.exec(select(m.Household)).all() if h.id is not None)
    assert ids == [1, 2, 3]


def _foreign_keys(engine: Engine) -> list[tuple[Any, ...]]:
    inspector = inspect(engine)
    return sorted(
        (table, fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
        for table in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(table)
    )


def _indexes(engine: Engine) -> list[tuple[Any, ...]]:
    inspector = inspect(engine)
    return sorted(
        (table, ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
        for table in inspector.get_table_names()
        for ix in inspector.get_indexes(table)
    )


def test_deferred_keys_and_indexes_come_back_and_still_refuse_orphans(
    any_engine: Engine,
) -> None:
    before = (_foreign_keys(any_engine), _indexes(any_engine))
    assert len(before[1]) > 30
    rows = edge_rows()
    with bulk_load(any_engine, defer_foreign_keys=True, defer_indexes=True) as writer:
        writer.insert(m.Unit, rows[0][1])
        writer.insert(m.Household, rows[1][1])
    assert (_foreign_keys(any_engine), _indexes(any_engine)) == before
    assert migrate.pending_model_changes(any_engine) == []
    orphan = {"id": 9, "code": "X1", "village_code": "331128999201"}

    def load_orphan() -> None:
        with bulk_load(any_engine, defer_foreign_keys=True, defer_indexes=True) as writer:
            writer.insert(m.Household, [orphan])

    with pytest.raises(ValidationError, match=r"household.*(FOREIGN KEY|village_code)"):
        load_orphan()
    assert (_foreign_keys(any_engine), _indexes(any_engine)) == before
    with any_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM household")).scalar() == 2


def test_columns_of_every_kind_give_python_values() -> None:
    assert values_of(Categorical(np.array([1, -1, 0, 1]), ["a", "乙"]), 0, 4) == [
        "乙",
        None,
        "a",
        "乙",
    ]
    assert values_of(np.array([b"331128", b"0001"]), 0, 2) == ["331128", "0001"]
    assert values_of(np.array([1.5, np.nan]), 0, 2) == [1.5, None]
    assert values_of(np.array(["2026-01-02", "NaT"], dtype="datetime64[D]"), 0, 2) == [
        date(2026, 1, 2),
        None,
    ]
    stamps = np.array(["2026-01-02T03:04:05.000006"], dtype="datetime64[us]")
    assert values_of(stamps, 0, 1) == [datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)]
    points = values_of(Points(np.array([119.5, np.nan]), np.array([28.5, 1.0])), 0, 2)
    assert points[0].equals(Point(119.5, 28.5))
    assert points[1] is None


def test_point_wkb_is_byte_for_byte_shapely() -> None:
    x, y = np.array([119.8, 0.0, -1.5]), np.array([28.4, 0.0, 2.25])
    points = Points(x, y)
    expected = [shapely.to_wkb(Point(a, b)) for a, b in zip(x, y, strict=True)]
    assert points.wkb(0, 3) == expected
    expected_hex = [
        shapely.to_wkb(shapely.set_srid(Point(a, b), 4490), hex=True, include_srid=True)
        for a, b in zip(x, y, strict=True)
    ]
    assert points.wkb(0, 3, srid=4490) == expected_hex


@pytest.mark.parametrize(
    ("model", "table", "row", "match"),
    [
        (
            m.Unit,
            "unit",
            {"code": PROVINCE, "name": "x", "level": "planet"},
            r"unit\.level row 0.*planet",
        ),
        (
            m.Unit,
            "unit",
            {"code": PROVINCE, "name": "x", "level": "province", "geom": Point(1, 2)},
            r"unit\.geom row 0: expected a MULTIPOLYGON geometry, got Point",
        ),
        (
            m.Unit,
            "unit",
            {"code": PROVINCE, "name": "x", "level": "province", "colour": 1},
            "colour",
        ),
        (m.Unit, "unit", {"code": PROVINCE, "level": "province"}, r"unit\.name is required"),
        (
            m.PublicToilet,
            "public_toilet",
            {"village_code": VILLAGE, "name": "x", "toilet_type": "none", "condition": "wet"},
            r"public_toilet\.condition row 0.*'wet'",
        ),
    ],
)
def test_bad_values_are_refused_naming_field_and_value(
    engine: Engine, model: type[SQLModel], table: str, row: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        bulk_insert(engine, model, [row])
    with engine.connect() as conn:
        # nothing written to the table the rows were for
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_a_failed_load_writes_nothing_and_restores_synchronous(engine: Engine) -> None:
    rows = edge_rows()

    def load_then_fail() -> None:
        with bulk_load(engine) as writer:
            writer.insert(m.Unit, rows[0][1])
            writer.insert(
                m.ToiletState,
                [
                    {
                        "toilet_id": 1,
                        "effective_on": date(2026, 1, 1),
                        "toilet_type": "loft",
                        "condition": "broken",
                        "excreta_destination": "unknown",
                        "toilet_class": "sanitary",
                        "actor": "测试",
                    }
                ],
            )

    with pytest.raises(ValidationError, match=r"toilet_state\.condition row 0.*'broken'"):
        load_then_fail()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit")).scalar() == 0
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL again
    bulk_insert(engine, m.Unit, rows[0][1])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit")).scalar() == 5
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
