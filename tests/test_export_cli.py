"""The export and restore commands: rural export gpkg|xlsx|geojson, rural import gpkg."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyogrio
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from rural.cli import app
from rural.settings import get_settings
from tests.test_export import build_county, dump, table_counts


@pytest.fixture
def county_url(
    tmp_path: Path, make_db: Callable[[str], Engine], monkeypatch: pytest.MonkeyPatch
) -> str:
    url = f"sqlite:///{tmp_path / 'county.db'}"
    build_county(make_db(url))
    monkeypatch.setenv("RURAL_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RURAL_DATABASE_URL", url)
    get_settings.cache_clear()


def test_export_restore_commands(
    tmp_path: Path,
    county_url: str,
    make_db: Callable[[str], Engine],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    full = tmp_path / "full.gpkg"
    result = runner.invoke(app, ["export", "gpkg", str(full), "--include-personal"])
    assert result.exit_code == 0, result.output
    assert "含个人信息" in result.output
    again = runner.invoke(app, ["export", "gpkg", str(full)])
    assert again.exit_code == 2
    assert "--force" in again.output

    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = make_db(target_url)
    use(target_url, monkeypatch)
    restored = runner.invoke(app, ["import", "gpkg", str(full)])
    assert restored.exit_code == 0, restored.output
    assert "已从" in restored.output
    source = make_db(county_url)
    assert dump(target) == dump(source)
    twice = runner.invoke(app, ["import", "gpkg", str(full)])
    assert twice.exit_code == 2
    assert "不是空的" in twice.output
    assert table_counts(target) == table_counts(source)


def test_a_village_cadre_may_not_export_personal_data(tmp_path: Path, county_url: str) -> None:
    runner = CliRunner()
    refused = runner.invoke(
        app, ["--as", "cadre1", "export", "gpkg", str(tmp_path / "x.gpkg"), "--include-personal"]
    )
    assert refused.exit_code == 2
    assert "cadre1 无权导出含个人信息" in refused.output
    assert not (tmp_path / "x.gpkg").exists()
    masked = runner.invoke(app, ["--as", "cadre1", "export", "gpkg", str(tmp_path / "x.gpkg")])
    assert masked.exit_code == 0, masked.output
    assert "个人信息已脱敏" in masked.output


def test_xlsx_and_geojson_commands(tmp_path: Path, county_url: str) -> None:
    runner = CliRunner()
    book = runner.invoke(app, ["export", "xlsx", str(tmp_path / "all.xlsx")])
    assert book.exit_code == 0, book.output
    workbook = load_workbook(tmp_path / "all.xlsx", read_only=True)
    try:
        assert workbook.sheetnames[0] == "说明"
        rows = list(workbook["农户"].iter_rows(values_only=True))
    finally:
        workbook.close()
    conn = sqlite3.connect(str(county_url).removeprefix("sqlite:///"))
    try:
        households = conn.execute("SELECT count(*) FROM household").fetchone()[0]
    finally:
        conn.close()
    assert households == 12  # build_county writes 12 households
    assert len(rows) == 1 + households  # a header row, then one row per household
    first = dict(zip(rows[0], rows[1], strict=True))
    # no --include-personal: the first household (张三丰, 11010519491231002X, 13800001234,
    # 一组1号) comes out as the masking rules say: a name keeps its first character, an ID
    # number its first 6 and last 4, a phone its first 3 and last 4
    assert first["户编码"] == "3301021012010000"
    assert (first["户主姓名"], first["身份证号"], first["联系电话"], first["地址"]) == (
        "张**",
        "110105********002X",
        "138****1234",
        "一***",
    )
    folder = tmp_path / "layers"
    layers = runner.invoke(app, ["export", "geojson", str(folder)])
    assert layers.exit_code == 0, layers.output
    info = pyogrio.read_info(folder / "农户.geojson")
    assert info["features"] == 11
    replaced = runner.invoke(app, ["export", "geojson", str(folder), "--force"])
    assert replaced.exit_code == 0, replaced.output
