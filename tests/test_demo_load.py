"""Loading the demo: refusing real data, rebuilding, determinism, PostGIS, the several-county
province, and parameter checks. Reduced sizes: the full county is checked in test_demo.py."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text
from sqlmodel import Session

from rural import codes
from rural import models as m
from rural.demo import DemoParams, Manifest, generate, load_demo
from rural.enums import ChainBreakKind, ProblemSource, ProblemStatus, ProblemType, UnitLevel
from rural.errors import DemoDataError, ValidationError
from tests.test_demo import run_cli

SMALL = DemoParams(villages=20, households=800, towns=3, seed=11)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def content_hash(engine: Engine) -> str:
    """A hash of every table's rows (except the change log, which records when it was loaded)."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in m.metadata.sorted_tables:
            if table.name == "change_log":
                continue
            key = ", ".join(c.name for c in table.primary_key.columns)
            for row in conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY {key}"):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_a_database_with_real_data_is_refused(tmp_path: Path, engine: Engine) -> None:
    with Session(engine) as session:
        session.add(m.Unit(code="330000000000", name="浙江省", level=UnitLevel.PROVINCE))
        session.commit()
    result = run_cli(engine.url.render_as_string(hide_password=False), "demo", "--villages", "12")
    assert result.exit_code == 2
    assert "非示例数据" in result.output
    assert "unit" in result.output
    assert scalar(engine, "SELECT count(*) FROM unit") == 1
    assert scalar(engine, "SELECT count(*) FROM dataset_info") == 0
    with pytest.raises(DemoDataError, match="not demo data"):
        load_demo(engine, SMALL, actor="测试")


def test_a_demo_is_rebuilt_with_new_parameters(engine: Engine) -> None:
    load_demo(engine, SMALL, actor="甲")
    first = scalar(engine, "SELECT count(*) FROM household")
    other = DemoParams(villages=15, households=450, towns=2, seed=12)
    report = load_demo(engine, other, actor="乙")
    assert "450 户" in report
    assert scalar(engine, "SELECT count(*) FROM household") == 450 != first
    assert scalar(engine, "SELECT count(*) FROM unit WHERE level = 'village'") == 15
    assert scalar(engine, "SELECT value FROM dataset_info WHERE key = 'seed'") == "12"
    assert scalar(engine, "SELECT count(*) FROM change_log") == 1
    assert scalar(engine, "SELECT actor FROM change_log") == "乙"
    same = load_demo(engine, other, actor="丙", if_missing=True)
    assert "已存在" in same
    assert scalar(engine, "SELECT actor FROM change_log") == "乙"


def test_the_same_seed_gives_the_same_tables_and_another_seed_others(
    tmp_path: Path, make_db: Callable[[str], Engine]
) -> None:
    hashes = []
    for name, params in (("a", SMALL), ("b", SMALL), ("c", replace(SMALL, seed=12))):
        engine = make_db(f"sqlite:///{tmp_path / name}.db")
        load_demo(engine, params, actor="测试")
        hashes.append(content_hash(engine))
    assert hashes[0] == hashes[1]
    assert hashes[2] != hashes[0]


def test_the_manifest_round_trips_through_json() -> None:
    manifest = generate(SMALL).manifest
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert {b.kind for b in again.chain_breaks} == set(ChainBreakKind)


@pytest.mark.postgis
def test_the_demo_loads_on_postgis(postgis_url: str, make_db: Callable[[str], Engine]) -> None:
    engine = make_db(postgis_url)
    load_demo(engine, SMALL, actor="测试")
    assert scalar(engine, "SELECT count(*) FROM household") == SMALL.households
    outside = scalar(
        engine,
        "SELECT count(*) FROM household h JOIN unit u ON u.code = h.village_code"
        " WHERE NOT ST_Within(h.geom, u.geom)",
    )
    assert outside == 0
    assert scalar(engine, "SELECT DISTINCT ST_SRID(geom) FROM unit WHERE geom IS NOT NULL") == 4490
    # Ids were written explicitly: the next ORM insert must still get a fresh one.
    with Session(engine) as session:
        problem = m.Problem(
            problem_type=ProblemType.OTHER,
            source=ProblemSource.INSPECTION,
            village_code=scalar(engine, "SELECT min(code) FROM unit WHERE level = 'village'"),
            description="测试",
            found_at=datetime(2026, 10, 30, 2, tzinfo=UTC),
            status=ProblemStatus.REGISTERED,
        )
        session.add(problem)
        session.commit()
        assert problem.id == scalar(engine, "SELECT count(*) FROM problem")
    # Loading again rebuilds the PostGIS database (tables and trigger functions dropped).
    load_demo(engine, DemoParams(villages=12, households=240, towns=2, seed=5), actor="测试")
    assert scalar(engine, "SELECT count(*) FROM household") == 240
    assert scalar(engine, "SELECT count(*) FROM change_log") == 1


def test_many_villages_make_several_counties_that_tile_the_province() -> None:
    params = DemoParams(villages=300, households=3000, seed=2)
    dataset = generate(params)
    units = dataset.tables["unit"].columns
    levels = Counter(units["level"])  # type: ignore[arg-type]
    expected = {"province": 1, "city": 1, "county": 2, "town": params.town_count, "village": 300}
    assert levels == expected
    columns = [units[name] for name in ("code", "parent_code", "level", "geom")]
    rows = list(zip(*columns, strict=True))  # type: ignore[call-overload]
    for code, parent, _, _ in rows:
        assert codes.parent_of(codes.validate(code)) == parent
    province = next(g for _, _, level, g in rows if level == "province")
    counties = [g for _, _, level, g in rows if level == "county"]
    union = shapely.union_all(np.array(counties, dtype=object))
    assert union.symmetric_difference(province).area <= 1e-9 * province.area
    assert shapely.area(shapely.intersection(counties[0], counties[1])) < 1e-12
    down = [b for b in dataset.manifest.chain_breaks if b.kind == ChainBreakKind.FACILITY_DOWN]
    assert len({b.object_type for b in down}) == 2  # collection points and facilities
    facilities = [b for b in down if b.object_type == "treatment_facility"]
    assert len(facilities) == 2  # one per county


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (DemoParams(villages=5), "villages"),
        (DemoParams(villages=30, households=3000, towns=25), "towns"),
        (DemoParams(villages=30, households=20), "households"),
    ],
)
def test_impossible_parameters_are_refused_naming_the_field(params: DemoParams, field: str) -> None:
    with pytest.raises(ValidationError, match=field) as caught:
        generate(params)
    assert caught.value.field == field


def test_the_cli_reports_bad_parameters_in_chinese(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'x.db'}", "demo", "--villages", "5")
    assert result.exit_code == 2
    assert "错误" in result.output
    assert "villages" in result.output
