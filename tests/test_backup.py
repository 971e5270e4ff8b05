"""``rural backup``: a consistent copy of a live SQLite database; pg_dump on PostgreSQL."""

from __future__ import annotations

import shlex
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlmodel import Session
from typer.testing import CliRunner

from rural.backup import BackupError, PgDumpRequiredError, backup, pg_dump_commands
from rural.cli import app
from rural.db import make_engine, write_session
from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.models import Household, HouseholdToilet
from rural.settings import get_settings
from tests import pgcluster
from tests.factories import add_unit, add_unit_chain

COUNTY = "330102000000"
VILLAGE = "330102101201"


@pytest.fixture
def county_db(sqlite_url: str, make_db: Callable[[str], Engine]) -> Engine:
    engine = make_db(sqlite_url)
    with write_session(engine) as session:
        add_unit_chain(session=session, county_code=COUNTY)
        add_unit(session=session, code="330102101000", name="镇")
        add_unit(session=session, code=VILLAGE, name="村")
    return engine


def _add_pair(session: Session, n: int, householder: str | None = None) -> None:
    """Household n of the village and its harmless toilet."""
    household = Household(code=f"{VILLAGE}{n:06d}", village_code=VILLAGE, householder=householder)
    session.add(household)
    session.flush()
    assert household.id is not None
    session.add(
        HouseholdToilet(
            household_id=household.id,
            toilet_type=ToiletType.THREE_COMPARTMENT,
            condition=ToiletCondition.IN_USE,
            excreta_destination=ExcretaDestination.ONSITE_TANK,
            toilet_class=ToiletClass.HARMLESS,
        )
    )


def _write_pairs(url: str, stop: threading.Event, written: list[int]) -> None:
    """Keep committing a household and its toilet in one transaction until told to stop."""
    engine = make_engine(url)
    try:
        n = 0
        while not stop.is_set():
            with write_session(engine) as session:
                _add_pair(session, n)
            n += 1
            written.append(n)
    finally:
        engine.dispose()


def _counts(path: Path) -> tuple[int, int, str]:
    conn = sqlite3.connect(path)
    try:
        households = conn.execute("SELECT count(*) FROM household").fetchone()[0]
        toilets = conn.execute("SELECT count(*) FROM household_toilet").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return int(households), int(toilets), str(mode)
    finally:
        conn.close()


def _integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def _all_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in rowid order, read with the stdlib sqlite3 module."""
    conn = sqlite3.connect(path)
    try:
        names = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            for name in names
        }
    finally:
        conn.close()


def test_backup_while_writing_is_a_consistent_snapshot(
    tmp_path: Path, county_db: Engine, sqlite_url: str
) -> None:
    stop = threading.Event()
    written: list[int] = []
    writer = threading.Thread(target=_write_pairs, args=(sqlite_url, stop, written))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(written) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = len(written)
        report = backup(county_db, tmp_path / "copy.db")
        after = len(written)
    finally:
        stop.set()
        writer.join()
    assert before >= 20
    households, toilets, mode = _counts(report.path)
    # every transaction is either wholly in the copy or wholly out of it
    assert households == toilets
    # the copy holds what was committed when it was taken: at least what was before, at most
    # what had been committed once it returned
    assert before <= households <= after + 1
    assert _integrity(report.path) == ["ok"]  # checked here, not the report's own word
    assert mode == "delete"  # self-contained: no -wal file needed
    assert not list(tmp_path.glob(".copy.db.*"))  # no temporary file left behind
    source_households, _source_toilets, _ = _counts(Path(str(county_db.url.database)))
    assert source_households == len(written)


def test_backup_refuses_to_overwrite_or_copy_onto_itself(tmp_path: Path, county_db: Engine) -> None:
    target = tmp_path / "copy.db"
    target.write_text("keep me")
    with pytest.raises(BackupError, match="已存在"):
        backup(county_db, target)
    assert target.read_text() == "keep me"
    with pytest.raises(BackupError, match="数据库本身"):
        backup(county_db, Path(str(county_db.url.database)), overwrite=True)
    report = backup(county_db, target, overwrite=True)
    assert _counts(report.path)[:2] == (0, 0)


def test_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    engine = make_engine("postgresql+psycopg://rural:s3cret@db.example:5433/county")
    try:
        with pytest.raises(PgDumpRequiredError) as caught:
            backup(engine, tmp_path / "county.dump")
    finally:
        engine.dispose()
    command = caught.value.command
    assert command.startswith("pg_dump --format=custom --no-owner")
    assert f"--file={tmp_path / 'county.dump'}" in command
    assert "postgresql://rural@db.example:5433/county" in command
    assert "s3cret" not in str(caught.value)
    assert "pg_restore" in caught.value.restore
    assert not (tmp_path / "county.dump").exists()


def test_pg_dump_command_quotes_odd_paths(tmp_path: Path) -> None:
    dump, _restore = pg_dump_commands(
        make_url("postgresql+psycopg://u@h/d"), tmp_path / "my backups" / "a.dump"
    )
    assert f"'--file={tmp_path / 'my backups' / 'a.dump'}'" in dump


def test_backup_command(
    tmp_path: Path, county_db: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    with write_session(county_db) as session:
        for n in range(2):
            _add_pair(session, n, householder=f"户主{n}")
    target = tmp_path / "b" / "copy.db"
    result = CliRunner().invoke(app, ["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份" in result.output
    copied, source = _all_rows(target), _all_rows(Path(str(county_db.url.database)))
    assert _integrity(target) == ["ok"]
    assert set(copied) == set(source)
    assert {"unit", "household", "household_toilet", "alembic_version"} <= set(copied)
    for table, rows in source.items():
        assert copied[table] == rows, table
    # the comparison is not between empty tables: the units of the chain and the two
    # households with their toilets written above are in the copy
    conn = sqlite3.connect(target)
    try:
        units = [r[0] for r in conn.execute("SELECT code FROM unit ORDER BY code")]
        households = conn.execute("SELECT code, householder FROM household ORDER BY code")
        assert units == ["330000000000", "330100000000", COUNTY, "330102101000", VILLAGE]
        assert households.fetchall() == [
            (f"{VILLAGE}000000", "户主0"),
            (f"{VILLAGE}000001", "户主1"),
        ]
        assert conn.execute("SELECT count(*) FROM household_toilet").fetchone()[0] == 2
    finally:
        conn.close()
    again = CliRunner().invoke(app, ["backup", str(target)])
    assert again.exit_code == 2
    assert "--force" in again.output
    monkeypatch.setenv("RURAL_DATABASE_URL", "postgresql://rural@127.0.0.1:1/county")
    get_settings.cache_clear()
    pg = CliRunner().invoke(app, ["backup", str(tmp_path / "pg.dump")])
    assert pg.exit_code == 1
    assert "pg_dump --format=custom" in pg.output


def test_the_printed_pg_dump_and_pg_restore_round_trip(
    tmp_path: Path,
    postgis_url: str,
    pg_cluster: pgcluster.Cluster | None,
    make_db: Callable[[str], Engine],
) -> None:
    """The commands ``rural backup`` prints for PostgreSQL, run for real on the throwaway
    PostGIS: the dump restored into a fresh database holds the same rows in every table."""
    assert pg_cluster is not None  # postgis_url skips first when there is no cluster
    engine = make_db(postgis_url)
    with write_session(engine) as session:
        add_unit_chain(session=session, county_code=COUNTY)
        add_unit(session=session, code="330102101000", name="镇")
        add_unit(session=session, code=VILLAGE, name="村")
        for n in range(3):
            session.add(Household(code=f"{VILLAGE}{n:06d}", village_code=VILLAGE))
    dump_file = tmp_path / "county.dump"
    with pytest.raises(PgDumpRequiredError) as caught:
        backup(engine, dump_file)
    dump = shlex.split(caught.value.command)
    restore = shlex.split(caught.value.restore)
    assert (dump[0], restore[0]) == ("pg_dump", "pg_restore")
    name = f"r_{uuid.uuid4().hex[:12]}"
    restored_url = pg_cluster.create_database(name)
    restored = make_url(restored_url).set(drivername="postgresql").render_as_string(False)
    restore = [a.replace("<空数据库 URL>", restored) for a in restore]
    try:
        for argv in (dump, restore):
            subprocess.run(
                [str(pg_cluster.bin_dir / argv[0]), *argv[1:]],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
        source_counts = _pg_counts(engine)
        target = make_engine(restored_url)  # not migrated: exactly what pg_restore wrote
        try:
            restored_counts = _pg_counts(target)
        finally:
            target.dispose()
    finally:
        pg_cluster.drop_database(name)
    assert restored_counts == source_counts
    # written above, independently of the counts compared: 5 units, 3 households
    assert (source_counts["unit"], source_counts["household"]) == (5, 3)
    assert source_counts["alembic_version"] == 1


def _pg_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ).scalars()
        return {
            str(t): int(conn.execute(text(f'SELECT count(*) FROM public."{t}"')).scalar_one())
            for t in list(tables)
        }
