"""Storage: migrations, the geometry column and SQLite's connection settings, on both databases."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import Engine, event, exc, text
from sqlmodel import Session, select

from rural import migrate
from rural.db import make_engine, write_session
from rural.enums import ChangeAction, UnitLevel
from rural.models import ChangeLog, Household, Unit

COUNTY = "331128000000"
VILLAGE = "331128101201"

# A village outline with a hole (a reservoir), in CGCS2000 degrees near Lishui.
OUTER = [(119.80, 28.40), (119.86, 28.40), (119.87, 28.45), (119.81, 28.46), (119.80, 28.40)]
HOLE = [(119.82, 28.42), (119.84, 28.42), (119.84, 28.43), (119.82, 28.42)]
SECOND = [(119.90, 28.40), (119.92, 28.40), (119.92, 28.42), (119.90, 28.40)]
SHAPE = MultiPolygon([Polygon(OUTER, [HOLE]), Polygon(SECOND)])


def _add_units(session: Session) -> None:
    session.add(Unit(code="330000000000", name="浙江省", level=UnitLevel.PROVINCE))
    session.add(
        Unit(code="331100000000", name="丽水市", level=UnitLevel.CITY, parent_code="330000000000")
    )
    session.add(
        Unit(code=COUNTY, name="青溪县", level=UnitLevel.COUNTY, parent_code="331100000000")
    )
    session.add(Unit(code="331128101000", name="赤石乡", level=UnitLevel.TOWN, parent_code=COUNTY))
    session.add(
        Unit(
            code=VILLAGE,
            name="王`家村",
            level=UnitLevel.VILLAGE,
            parent_code="331128101000",
            urban_rural_code="220",
            valid_from=date(2020, 6, 30),
            geom=SHAPE,
        )
    )
    session.commit()


def test_migration_reaches_head_and_matches_the_models(any_engine: Engine) -> None:
    assert migrate.current_revision(any_engine) in migrate.heads()
    assert migrate.pending_model_changes(any_engine) == []


def test_model_drift_is_detected(any_engine: Engine) -> None:
    """The drift check can fail: a column the migrations do not have shows up."""
    with any_engine.begin() as conn:
        conn.execute(text("ALTER TABLE dataset_info ADD COLUMN stray INTEGER"))
    changes = migrate.pending_model_changes(any_engine)
    assert [c[0] for c in changes] == ["remove_column"]
    assert changes[0][3].name == "stray"


def test_downgrade_to_base_and_upgrade_again(any_engine: Engine) -> None:
    migrate.downgrade(any_engine, "base")
    with any_engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert "unit" not in names
    migrate.upgrade(any_engine)
    assert migrate.is_up_to_date(any_engine)


def test_one_model_round_trips_a_polygon_exactly(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        _add_units(session)
    with Session(any_engine) as session:
        village = session.exec(select(Unit).where(Unit.code == VILLAGE)).one()
        assert village.name == "王`家村"
        assert village.geom is not None
        assert village.geom.equals_exact(SHAPE, tolerance=0)
        assert village.geom.geom_type == "MultiPolygon"
        assert len(village.geom.geoms[0].interiors) == 1
        # Bounding box columns follow the geometry (computed here from the raw coordinates).
        xs = [x for x, _ in OUTER + SECOND]
        ys = [y for _, y in OUTER + SECOND]
        assert (village.minx, village.miny, village.maxx, village.maxy) == (
            min(xs),
            min(ys),
            max(xs),
            max(ys),
        )
        assert village.valid_from == date(2020, 6, 30)


def test_bbox_follows_an_updated_geometry(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        _add_units(session)
        village = session.get(Unit, VILLAGE)
        assert village is not None
        village.geom = MultiPolygon([Polygon([(120.0, 28.0), (120.1, 28.0), (120.1, 28.2)])])
        session.add(village)
        session.commit()
    with Session(any_engine) as session:
        row = session.get(Unit, VILLAGE)
        assert row is not None
        assert (row.minx, row.miny, row.maxx, row.maxy) == (120.0, 28.0, 120.1, 28.2)


def test_postgis_column_is_typed_in_cgcs2000(postgis_url: str) -> None:
    engine = make_engine(postgis_url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        _add_units(session)
    with engine.connect() as conn:
        srid, kind = conn.execute(
            text("SELECT ST_SRID(geom), GeometryType(geom) FROM unit WHERE code = :c"),
            {"c": VILLAGE},
        ).one()
        assert (srid, kind) == (4490, "MULTIPOLYGON")
        # PostGIS itself agrees the stored shape is the one we wrote.
        area = conn.execute(text("SELECT ST_Area(geom) FROM unit WHERE code = :c"), {"c": VILLAGE})
        assert area.scalar_one() == pytest.approx(SHAPE.area, rel=1e-12)
        gist = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_unit_geom_gist'")
        ).scalar_one()
        assert "USING gist" in gist
    engine.dispose()


def test_wrong_geometry_type_is_refused(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        _add_units(session)
        session.add(
            Household(code="3311281012010001", village_code=VILLAGE, geom=SHAPE)  # not a point
        )
        with pytest.raises(exc.StatementError, match="expected a POINT geometry"):
            session.commit()


def test_points_round_trip_and_window_query_uses_bbox(engine: Engine) -> None:
    with Session(engine) as session:
        _add_units(session)
        for i, (x, y) in enumerate([(119.81, 28.41), (119.85, 28.44), (119.95, 28.50)], 1):
            session.add(Household(code=f"{VILLAGE}{i:04d}", village_code=VILLAGE, geom=Point(x, y)))
        session.commit()
    with engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT code FROM household WHERE maxx >= :x0 AND minx <= :x1"
                " AND maxy >= :y0 AND miny <= :y1 ORDER BY code"
            ),
            {"x0": 119.80, "x1": 119.86, "y0": 28.40, "y1": 28.45},
        ).scalars()
        assert list(inside) == [f"{VILLAGE}0001", f"{VILLAGE}0002"]


def test_sqlite_connection_settings(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_sqlite_enforces_foreign_keys(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Household(code="3311281012010001", village_code="331128101299"))
        with pytest.raises(exc.IntegrityError, match="FOREIGN KEY"):
            session.commit()


def test_write_sessions_take_the_write_lock_at_begin(engine: Engine) -> None:
    path = engine.url.database
    assert path is not None
    with write_session(engine) as session:
        session.execute(text("SELECT 1"))  # nothing written yet, but BEGIN IMMEDIATE ran
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL).
            assert other.execute("SELECT count(*) FROM unit").fetchone() == (0,)
        finally:
            other.close()


def _begins(engine: Engine) -> list[tuple[str, float]]:
    """(thread name, time) of every BEGIN the engine's connections send to SQLite, taken when
    SQLite starts the statement (before it waits for the lock)."""
    seen: list[tuple[str, float]] = []

    def trace(statement: str) -> None:
        if statement.startswith("BEGIN"):
            seen.append((threading.current_thread().name, time.monotonic()))

    @event.listens_for(engine, "connect")
    def _traced(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.set_trace_callback(trace)

    return seen


def test_writers_of_one_file_wait_in_line_before_begin(tmp_path: Path) -> None:
    """A second writer in the process does not reach SQLite (no BEGIN, no busy polling) until
    the first commits, even through another engine on the same file."""
    first_engine = make_engine(f"sqlite:///{tmp_path / 'line.db'}")
    second_engine = make_engine(f"sqlite:///{tmp_path}/./line.db")
    begins = _begins(second_engine)
    with second_engine.connect() as conn:  # connected (pragmas set) before the first writes
        conn.exec_driver_sql("SELECT 1")
    begins.clear()
    holding, committed = threading.Event(), []

    def first() -> None:
        with write_session(first_engine) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            holding.set()
            time.sleep(0.5)
        committed.append(time.monotonic())

    def second() -> None:
        with write_session(second_engine) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))

    a = threading.Thread(target=first, name="first")
    b = threading.Thread(target=second, name="second")
    a.start()
    assert holding.wait(10)
    b.start()
    a.join(10)
    b.join(10)
    assert [name for name, _ in begins] == ["second"]
    assert begins[0][1] >= committed[0]
    with first_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    first_engine.dispose()
    second_engine.dispose()


def test_a_writer_that_waits_past_the_busy_timeout_gets_sqlites_answer(tmp_path: Path) -> None:
    """The line never hangs a writer: past the busy timeout it goes on and SQLite refuses."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url, busy_timeout_ms=200)
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with write_session(engine) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    try:
        # The holder keeps the lock until released (10 s at most): an answer while it still
        # holds it is SQLite's "locked" after the busy timeout, not a wait for the holder.
        with (
            pytest.raises(exc.OperationalError, match="locked"),
            write_session(engine) as session,
        ):
            session.execute(text("SELECT 1"))
        assert thread.is_alive()
    finally:
        release.set()
        thread.join(10)
        engine.dispose()


def test_failed_write_session_leaves_the_database_as_it_was(engine: Engine) -> None:
    with Session(engine) as session:
        _add_units(session)

    def failing() -> None:
        with write_session(engine) as session:
            unit = session.get(Unit, VILLAGE)
            assert unit is not None
            unit.name = "改名村"
            session.add(unit)
            session.flush()
            session.add(Household(code="x", village_code="331128101299"))  # bad FK
            session.flush()

    with pytest.raises(exc.IntegrityError):
        failing()
    with Session(engine) as session:
        unit = session.get(Unit, VILLAGE)
        assert unit is not None
        assert unit.name == "王`家村"


def test_change_log_is_append_only_in_the_database(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        session.add(
            ChangeLog(
                actor="tester",
                action=ChangeAction.CREATE,
                object_type="unit",
                object_id=VILLAGE,
                new={"name": "王家村"},
                at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
            )
        )
        session.commit()
    for statement in ("UPDATE change_log SET actor = 'x'", "DELETE FROM change_log"):
        with any_engine.connect() as conn, pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(statement))
    with Session(any_engine) as session:
        row = session.exec(select(ChangeLog)).one()
        assert row.actor == "tester"
        assert row.at == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        assert row.new == {"name": "王家村"}
