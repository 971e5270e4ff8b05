"""``rural facility status|history``: lifecycle changes from the command line, recorded with the
actor, date, from, to and note."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from rural import audit
from rural.cli import app
from rural.lifecycle import status_history
from rural.models import CollectionPoint, SewageFacility
from tests.world import World, fresh_sqlite

V1 = "331128101201"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = fresh_sqlite(tmp_path)
    monkeypatch.setenv("RURAL_DATABASE_URL", str(engine.url))
    yield engine
    engine.dispose()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--as", "zhang", *args])
    return result.exit_code, result.output


def test_status_change_is_recorded_with_actor_date_and_note(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    world.village(V1)
    facility = world.sewage_facility(V1)
    code, out = _run(
        "facility",
        "status",
        "sewage_facility",
        str(facility),
        "fault",
        "--note",
        "水泵损坏",
        "--on",
        "2026-07-03",
    )
    assert code == 0, out
    assert "运行 → 故障" in out
    code, out = _run(
        "facility",
        "status",
        "污水设施",
        str(facility),
        "运行",
        "--note",
        "已修复",
        "--on",
        "2026-07-10",
    )
    assert code == 0, out
    with Session(db) as session:
        history = status_history(session, object_type="sewage_facility", object_id=facility)
        assert [(c.effective_on, c.from_status, c.to_status, c.actor, c.note) for c in history] == [
            (date(2026, 7, 3), "operating", "fault", "zhang", "水泵损坏"),
            (date(2026, 7, 10), "fault", "operating", "zhang", "已修复"),
        ]
        logs = audit.history(session, object_type="sewage_facility", object_id=facility)
        assert [log.actor for log in logs] == ["zhang", "zhang"]
        current = session.get(SewageFacility, facility)
        assert current is not None
        assert (current.status, current.version) == ("operating", 3)
    code, out = _run("facility", "history", "sewage_facility", str(facility))
    assert code == 0, out
    assert "2026-07-03" in out
    assert "水泵损坏" in out
    assert "zhang" in out


def test_refusals_name_what_was_wrong_and_write_nothing(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    world.village(V1)
    point = world.point(V1, changes=[(date(2026, 1, 5), "operating", "decommissioned")])
    code, out = _run(
        "facility", "status", "collection_point", str(point), "operating", "--note", "x"
    )
    assert code == 2
    assert "不允许从「报废」变为「运行」" in out
    code, out = _run("facility", "status", "bridge", "1", "operating", "--note", "x")
    assert (code, "KIND 'bridge'" in out) == (2, True)
    code, out = _run("facility", "status", "collection_point", "999", "fault", "--note", "x")
    assert (code, "999" in out) == (2, True)
    code, out = _run(
        "facility", "status", "collection_point", str(point), "fault", "--note", "x", "--on", "7/3"
    )
    assert (code, "--on '7/3'" in out) == (2, True)
    with Session(db) as session:
        assert len(status_history(session, object_type="collection_point", object_id=point)) == 1
        stored = session.get(CollectionPoint, point)
        assert stored is not None
        assert stored.status == "decommissioned"
    code, out = _run("facility", "history", "collection_point", "4242")
    assert (code, "4242" in out) == (2, True)
