"""The ledger commands: ``rural template KIND`` and ``rural import ledger KIND FILE --crs``."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlmodel import Session
from typer.testing import CliRunner

from gis.crs import gcj02_from_wgs84
from rural.cli import app
from rural.db import write_session
from rural.ledgers import KINDS
from rural.models import ChangeLog, PublicToilet
from tests.factories import add_unit, add_unit_chain
from tests.test_ledgers import COUNTY, TOWN, V1, V2, write_ledger

# A point near Lishui, Zhejiang, in CGCS2000.
TRUE_LON, TRUE_LAT = 119.9213, 28.4672


@pytest.fixture
def cli_db(
    sqlite_url: str, make_db: Callable[[str], Engine], monkeypatch: pytest.MonkeyPatch
) -> Engine:
    engine = make_db(sqlite_url)
    with write_session(engine) as session:
        add_unit_chain(session=session, county_code=COUNTY)
        add_unit(session=session, code=TOWN, name="示例镇")
        add_unit(session=session, code=V1, name="东村")
        add_unit(session=session, code=V2, name="西村")
    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    return engine


def test_template_command_writes_the_kind(tmp_path: Path) -> None:
    out = tmp_path / "out" / "toilets.xlsx"
    result = CliRunner().invoke(app, ["template", "改厕台账", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "改厕台账" in result.output
    assert load_workbook(out).sheetnames[:2] == ["改厕台账", "说明"]


def test_template_command_writes_every_kind_into_a_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["template", "all", "-o", str(tmp_path / "模板")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "模板").iterdir())
    assert names == sorted(f"{k.label}_模板.xlsx" for k in KINDS)


def test_template_command_refuses_an_unknown_kind(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["template", "nonsense", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert "没有这种台账" in result.output
    assert "toilets(改厕台账)" in result.output


def test_gcj02_points_are_converted_and_the_actor_recorded(tmp_path: Path, cli_db: Engine) -> None:
    gx, gy = gcj02_from_wgs84(TRUE_LON, TRUE_LAT)
    rows = [
        {
            "村代码": V1,
            "公厕名称": "手机定位公厕",
            "厕所类型": "完整上下水道水冲式",
            "使用状况": "正常使用",
            "经度": float(gx),
            "纬度": float(gy),
        }
    ]
    path = write_ledger(tmp_path / "pt.xlsx", "农村公厕台账", rows)
    args = ["--as", "alice", "import", "ledger", "public_toilets", str(path), "--crs", "gcj02"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output
    with Session(cli_db) as s:
        toilet = s.scalars(select(PublicToilet)).one()
        assert toilet.geom is not None
        assert abs(toilet.geom.x - TRUE_LON) < 1e-7
        assert abs(toilet.geom.y - TRUE_LAT) < 1e-7
        # the GCJ-02 offset here is hundreds of metres: what was stored is not what was typed
        dx = (float(gx) - toilet.geom.x) * 111_320 * math.cos(math.radians(TRUE_LAT))
        dy = (float(gy) - toilet.geom.y) * 110_574
        assert math.hypot(dx, dy) > 300
        log = s.scalars(select(ChangeLog)).one()
        assert (log.actor, log.object_type) == ("alice", "public_toilet")
    again = CliRunner().invoke(app, args)
    assert "新增 0,更新 0,未变 1" in again.output


def test_projected_crs_is_transformed(tmp_path: Path, cli_db: Engine) -> None:
    from pyproj import Transformer

    # EPSG:4549: CGCS2000 / 3-degree Gauss-Kruger CM 120E
    x, y = Transformer.from_crs(4490, 4549, always_xy=True).transform(TRUE_LON, TRUE_LAT)
    rows = [
        {
            "村代码": V1,
            "公厕名称": "测绘公厕",
            "厕所类型": "完整上下水道水冲式",
            "使用状况": "正常使用",
            "经度": x,
            "纬度": y,
        }
    ]
    path = write_ledger(tmp_path / "pt.xlsx", "农村公厕台账", rows)
    args = ["import", "ledger", "public_toilets", str(path), "--crs", "EPSG:4549"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with Session(cli_db) as s:
        toilet = s.scalars(select(PublicToilet)).one()
        assert toilet.geom is not None
        assert abs(toilet.geom.x - TRUE_LON) < 1e-8
        assert abs(toilet.geom.y - TRUE_LAT) < 1e-8


def test_import_errors_exit_2_and_name_row_and_column(tmp_path: Path, cli_db: Engine) -> None:
    rows = [
        {"户编码": "3301021012010001", "村代码": V1},
        {"户编码": "3301021012010002", "村代码": "330102101999", "人口数": "三"},
    ]
    path = write_ledger(tmp_path / "h.xlsx", "农户台账", rows)
    result = CliRunner().invoke(app, ["import", "ledger", "households", str(path)])
    assert result.exit_code == 2
    assert "h.xlsx 工作表「农户台账」第3行 列「村代码」 值 '330102101999'" in result.output
    assert "第3行 列「人口数」 值 '三': 应为整数" in result.output
    assert "未导入任何数据" in result.output
    with Session(cli_db) as s:
        assert s.scalars(select(ChangeLog)).all() == []


def test_unknown_crs_is_refused(tmp_path: Path, cli_db: Engine) -> None:
    path = write_ledger(tmp_path / "h.xlsx", "农户台账", [{"户编码": "1", "村代码": V1}])
    result = CliRunner().invoke(app, ["import", "ledger", "households", str(path), "--crs", "bd09"])
    assert result.exit_code == 2
    assert "EPSG:NNNN 或 gcj02" in result.output
