"""``rural indicators`` (table, csv, json, the superiors' xlsx) and ``rural chain check``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from rural.cli import app
from tests.world import COUNTY, TOWN, TOWN_B, World, fresh_sqlite

TC, TANK = "three_compartment", "onsite_tank"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = fresh_sqlite(tmp_path)
    monkeypatch.setenv("RURAL_DATABASE_URL", str(engine.url))
    yield engine
    engine.dispose()


def _county(engine: Engine) -> None:
    """Town 101: village 201 with 4 households (3 harmless toilets), village 202 with 2 (none);
    town 102: village 201 with 1 household (harmless)."""
    world = World(engine)
    world.hierarchy(towns=(TOWN, TOWN_B))
    for code, households, harmless in (
        ("331128101201", 4, 3),
        ("331128101202", 2, 0),
        ("331128102201", 1, 1),
    ):
        world.village(code, name=f"村{code[-4:]}")
        for i in range(households):
            hid = world.household(code)
            if i < harmless:
                world.toilet(hid, (date(2020, 1, 1), TC, "in_use", TANK))


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--as", "li", *args])
    return result.exit_code, result.output


def test_csv_and_json_carry_numerators_and_denominators(db: Engine) -> None:
    _county(db)
    # Households that are resident but not registered, or the other way round (the rest of
    # the county is both), so that the two denominators differ:
    #   A village 101201: registered, not resident, harmless toilet in use
    #   B village 101202: resident, not registered, no toilet
    #   C village 102201: registered, not resident, harmless toilet in use
    world = World(db)
    world.household_seq = 100  # after _county's households
    a = world.household("331128101201", resident=False, registered=True)
    world.toilet(a, (date(2020, 1, 1), TC, "in_use", TANK))
    world.household("331128101202", resident=True, registered=False)
    c = world.household("331128102201", resident=False, registered=True)
    world.toilet(c, (date(2020, 1, 1), TC, "in_use", TANK))

    def town_rows(*extra: str) -> list[tuple[str, str, str, float]]:
        code, out = _run(
            "indicators",
            "--unit",
            COUNTY,
            "--period",
            "2026Q3",
            "--level",
            "town",
            "--indicator",
            "harmless_toilet_rate",
            "--format",
            "csv",
            *extra,
        )
        assert code == 0, out
        return [
            (r["unit_code"], r["numerator"], r["denominator"], float(r["value"]))
            for r in csv.DictReader(io.StringIO(out))
        ]

    # resident (the default): town 101: harmless 3 + 0 / households (4 + B) + 2 = 3/7;
    # town 102: 1/1 (C is not resident)
    assert town_rows() == [
        (TOWN, "3.0", "7.0", pytest.approx(3 / 7)),
        (TOWN_B, "1.0", "1.0", 1.0),
    ]
    # registered: town 101: (3 + A) / (4 + A + 2) = 4/7 (B is not registered);
    # town 102: (1 + C) / (1 + C) = 2/2
    assert town_rows("--denominator", "registered") == [
        (TOWN, "4.0", "7.0", pytest.approx(4 / 7)),
        (TOWN_B, "2.0", "2.0", 1.0),
    ]

    def county_json(*extra: str) -> dict[str, Any]:
        code, out = _run(
            "indicators", "--unit", COUNTY, "--period", "2026Q3", "--format", "json", *extra
        )
        assert code == 0, out
        return dict(json.loads(out))

    def harmless(payload: dict[str, Any]) -> tuple[float, float]:
        value = {v["id"]: v for v in payload["values"]}["harmless_toilet_rate"]
        return value["numerator"], value["denominator"]

    default = county_json()
    assert default["options"]["toilet_denominator"] == "resident"
    # county, resident: (3 + 0 + 1) / (4 + 2 + 1 + B) = 4/8
    assert harmless(default) == (4, 8)
    registered = county_json("--denominator", "registered")
    assert registered["options"]["toilet_denominator"] == "registered"
    # county, registered: (3 + A + 0 + 1 + C) / (4 + A + 2 + 1 + C) = 6/9
    assert harmless(registered) == (6, 9)
    by_id = {v["id"]: v for v in registered["values"]}
    assert by_id["station_load"]["value"] is None


def test_table_output(db: Engine) -> None:
    _county(db)
    code, out = _run("indicators", "--unit", TOWN, "--period", "2026Q3")
    assert code == 0, out
    assert "无害化卫生厕所普及率" in out
    assert "50.0%" in out  # 3 of 6
    code, out = _run("indicators", "--unit", TOWN, "--period", "2026Q9")
    assert code == 2
    assert "'2026Q9'" in out


def test_xlsx_is_the_superiors_sheet(db: Engine, tmp_path: Path) -> None:
    _county(db)
    target = tmp_path / "report.xlsx"
    code, out = _run(
        "indicators",
        "--unit",
        COUNTY,
        "--period",
        "2026Q3",
        "--format",
        "xlsx",
        "--output",
        str(target),
        "--reporter",
        "王芳",
        "--phone",
        "0578-1234567",
        "--indicator",
        "sanitary_toilet_rate",
        "--indicator",
        "harmless_toilet_rate",
    )
    assert code == 0, out
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:J1" in merged  # title over 4 fixed + 2 x 3 indicator columns
    assert "E3:G3" in merged  # one header per indicator
    assert "H3:J3" in merged
    assert sheet["A1"].value == "县28农村人居环境整治指标统计表"
    assert [sheet.cell(4, c).value for c in range(5, 8)] == ["分子", "分母", "比率"]
    assert sheet["E3"].value.startswith("卫生厕所普及率")
    assert sheet["H3"].value.startswith("无害化卫生厕所普及率")
    villages = [[sheet.cell(row, c).value for c in (1, 2, 3, 4, 8, 9, 10)] for row in range(5, 8)]
    assert villages == [
        [1, "乡101", "村1201", "331128101201", 3, 4, 0.75],
        [2, "乡101", "村1202", "331128101202", 0, 2, 0],
        [3, "乡102", "村2201", "331128102201", 1, 1, 1],
    ]
    # totals: (3 + 0 + 1) / (4 + 2 + 1) = 4/7, not the mean of the three rates
    assert sheet["A8"].value == "合计"
    assert (sheet["H8"].value, sheet["I8"].value) == (4, 7)
    assert sheet["J8"].value == pytest.approx(4 / 7)
    footer = sheet["A10"].value
    assert "填报单位: 县28" in footer
    assert "填报人: 王芳" in footer
    assert "电话: 0578-1234567" in footer
    assert "日期: " in footer


def test_chain_check_lists_breaks(db: Engine) -> None:
    world = World(db)
    world.hierarchy()
    world.village("331128101201", name="王家村")
    code, out = _run("chain", "check", "--unit", COUNTY, "--period", "2026Q3", "--format", "json")
    assert code == 0, out
    rows = json.loads(out)
    assert rows == [
        {
            "kind": "village_no_point",
            "kind_zh": "村无正常运行的收集点",
            "object_type": "village",
            "object_id": "331128101201",
            "category": "",
            "period": "2026Q3",
            "reason_zh": "王家村: 未接入任何收集点",
        }
    ]
    code, out = _run("chain", "check", "--unit", COUNTY, "--period", "2026Q3", "--fail-on-break")
    assert code == 1
    assert "未接入任何收集点" in out
