"""``rural backup``: a consistent copy of a live SQLite database; pg_dump on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url
from typer.testing import CliRunner

from rural.backup import BackupError, PgDumpRequiredError, backup, pg_dump_commands
from rural.cli import app
from rural.db import make_engine, write_session
from rural.enums import ExcretaDestination, ToiletClass, ToiletCondition, ToiletType
from rural.models import Household, HouseholdToilet
from rural.settings import get_settings
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


def _write_pairs(url: str, stop: threading.Event, written: list[int]) -> None:
    """Keep committing a household and its toilet in one transaction until told to stop."""
    engine = make_engine(url)
    try:
        n = 0
        while not stop.is_set():
            with write_session(engine) as session:
                household = Household(code=f"{VILLAGE}{n:06d}", village_code=VILLAGE)
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
    assert report.integrity == "ok"
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
    target = tmp_path / "b" / "copy.db"
    result = CliRunner().invoke(app, ["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份" in result.output
    assert target.exists()
    again = CliRunner().invoke(app, ["backup", str(target)])
    assert again.exit_code == 2
    assert "--force" in again.output
    monkeypatch.setenv("RURAL_DATABASE_URL", "postgresql://rural@127.0.0.1:1/county")
    get_settings.cache_clear()
    pg = CliRunner().invoke(app, ["backup", str(tmp_path / "pg.dump")])
    assert pg.exit_code == 1
    assert "pg_dump --format=custom" in pg.output
