"""The division list import: first load, a newer year (renames, adds, closures, successors),
idempotence, all-or-nothing failures that name the row and field, CSV/Excel, encodings, CLI."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from typer.testing import CliRunner

from rural.divisions import import_divisions, read_division_file
from rural.enums import ChangeAction, UnitLevel
from rural.errors import ImportRowError
from rural.models import ChangeLog, Unit, UnitSuccessor

COUNTY = "331128000000"
TOWN_A = "331128101000"  # 赤石乡 (a 镇 code; names are made up)
TOWN_B = "331128201000"
HEADER = ["统计用区划代码", "名称", "城乡分类代码"]


def village(town: str, seq: int) -> str:
    return town[:9] + f"{seq:03d}"


def base_rows(villages_per_town: int = 3) -> list[list[str]]:
    """A county, two towns and their villages; village names are 王家村1, 王家村2 ..."""
    rows = [[COUNTY, "青溪县", ""], [TOWN_A, "赤石乡", ""], [TOWN_B, "石门乡", ""]]
    for town in (TOWN_A, TOWN_B):
        for seq in range(1, villages_per_town + 1):
            rows.append([village(town, 200 + seq), f"王家村{town[6]}{seq}", "220"])
    return rows


def write_csv(
    path: Path, rows: Sequence[Sequence[str]], *, header: Sequence[str] = HEADER, enc: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=enc) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        units = session.exec(select(func.count()).select_from(Unit)).one()
        logs = session.exec(select(func.count()).select_from(ChangeLog)).one()
        links = session.exec(select(func.count()).select_from(UnitSuccessor)).one()
    return int(units), int(logs), int(links)


def units_by_code(engine: Engine) -> dict[str, Unit]:
    with Session(engine) as session:
        return {u.code: u for u in session.exec(select(Unit))}


def test_first_import_creates_the_hierarchy(tmp_path: Path, engine: Engine) -> None:
    rows = base_rows()
    path = write_csv(tmp_path / "2023.csv", rows)
    report = import_divisions(engine, path, as_of=date(2023, 6, 30), actor="张三")

    units = units_by_code(engine)
    assert set(units) == {r[0] for r in rows}
    assert len(report.added) == len(rows)
    assert units[COUNTY].parent_code is None  # the city is not in the list nor the database
    assert units[COUNTY].level == UnitLevel.COUNTY
    assert units[TOWN_A].parent_code == COUNTY
    first_village = village(TOWN_A, 201)
    assert units[first_village].parent_code == TOWN_A
    assert units[first_village].level == UnitLevel.VILLAGE
    assert units[first_village].urban_rural_code == "220"
    assert units[first_village].name == "王家村11"
    assert units[first_village].valid_from == date(2023, 6, 30)
    with Session(engine) as session:
        logs = list(session.exec(select(ChangeLog)))
    creates = [log for log in logs if log.action == ChangeAction.CREATE]
    assert {log.object_id for log in creates} == {r[0] for r in rows}
    assert {log.actor for log in logs} == {"张三"}
    assert [log.object_type for log in logs if log.action == ChangeAction.IMPORT] == [
        "division_list"
    ]


def test_newer_year_renames_adds_closes_and_links(tmp_path: Path, any_engine: Engine) -> None:
    engine = any_engine
    import_divisions(
        engine, write_csv(tmp_path / "2023.csv", base_rows()), as_of=date(2023, 6, 30), actor="a"
    )
    units_before, logs_before, _ = counts(engine)

    renamed, dropped, merged, kept = (
        village(TOWN_A, 201),
        village(TOWN_A, 202),
        village(TOWN_B, 201),
        village(TOWN_B, 202),
    )
    new = village(TOWN_B, 210)
    rows = [[*r, ""] for r in base_rows() if r[0] != dropped]
    for r in rows:
        if r[0] == renamed:
            r[1] = "赤石新村"
        if r[0] == merged:
            r[3] = kept
    rows.append([new, "新设村", "220", ""])
    path = write_csv(tmp_path / "2024.csv", rows, header=[*HEADER, "并入单位代码"])
    report = import_divisions(engine, path, as_of=date(2024, 6, 30), actor="李四")

    units = units_by_code(engine)
    assert len(units) == units_before + 1  # nothing deleted, one added
    assert units[renamed].name == "赤石新村"
    assert units[renamed].valid_to is None
    assert units[new].valid_from == date(2024, 6, 30)
    assert units[new].parent_code == TOWN_B
    assert units[dropped].valid_to == date(2024, 6, 30)
    assert units[merged].valid_to == date(2024, 6, 30)
    assert units[kept].valid_to is None
    assert report.renamed == [(renamed, "王家村11", "赤石新村")]
    assert report.added == [new]
    assert sorted(report.closed) == sorted([dropped, merged])
    assert report.successors == [(merged, kept)]
    with Session(engine) as session:
        links = list(session.exec(select(UnitSuccessor)))
        logs = list(session.exec(select(ChangeLog).where(ChangeLog.actor == "李四")))
    assert [(link.code, link.successor_code, link.effective_on) for link in links] == [
        (merged, kept, date(2024, 6, 30))
    ]
    rename_log = [log for log in logs if log.object_id == renamed]
    assert len(rename_log) == 1
    assert rename_log[0].old == {"name": "王家村11"}
    assert rename_log[0].new == {"name": "赤石新村"}
    closed_logs = {log.object_id for log in logs if log.new == {"valid_to": "2024-06-30"}}
    assert closed_logs == {dropped, merged}
    # one row per add, rename, closure (2), link, plus the import summary
    assert len(logs) == 1 + 1 + 2 + 1 + 1
    assert counts(engine)[1] == logs_before + len(logs)


def test_reimporting_the_same_list_changes_nothing(tmp_path: Path, engine: Engine) -> None:
    path = write_csv(tmp_path / "2023.csv", base_rows())
    import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    before = counts(engine)
    report = import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    assert not report.changed
    assert report.unchanged == len(base_rows())
    assert counts(engine) == before


def test_bad_50th_row_writes_nothing_and_names_row_and_field(
    tmp_path: Path, engine: Engine
) -> None:
    rows = base_rows(villages_per_town=40)
    assert len(rows) >= 60
    rows[49][2] = "999"  # the 50th data row: an urban-rural code that does not exist
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportRowError) as caught:
        import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    error = caught.value
    assert error.row == 51  # the header is row 1, so data row 50 is row 51
    assert error.field == "urban_rural_code"
    assert error.value == "999"
    assert "bad.csv" in str(error)
    assert "第 51 行" in str(error)
    assert "urban_rural_code" in str(error)
    assert counts(engine) == (0, 0, 0)


def test_failed_reimport_leaves_the_database_unchanged(tmp_path: Path, engine: Engine) -> None:
    """A newer list whose late row refers to an unknown successor: nothing of it is applied,
    not even the renames and closures that come before the bad row."""
    import_divisions(
        engine, write_csv(tmp_path / "2023.csv", base_rows()), as_of=date(2023, 6, 30), actor="a"
    )
    before = counts(engine)
    names_before = {c: u.name for c, u in units_by_code(engine).items()}
    rows = [[*r, ""] for r in base_rows()][:-1]  # drops a village: would close it
    rows[3][1] = "改了名"
    rows[-1][3] = "331128201999"  # successor nobody knows
    path = write_csv(tmp_path / "2024.csv", rows, header=[*HEADER, "successor"])
    with pytest.raises(ImportRowError, match="successor") as caught:
        import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    assert caught.value.row == len(rows) + 1
    assert counts(engine) == before
    after = units_by_code(engine)
    assert {c: u.name for c, u in after.items()} == names_before
    assert all(u.valid_to is None for u in after.values())


@pytest.mark.parametrize(
    ("cell", "value", "field", "message"),
    [
        (0, "33112810120", "code", "12 位"),
        (0, "331128000201", "code", "all zeros"),
        (1, "", "name", "名称为空"),
        (2, "230", "urban_rural_code", "城乡分类代码"),
        (0, "331128101201", "code", "重复"),  # duplicates the first village
    ],
)
def test_bad_rows_are_refused(
    tmp_path: Path, cell: int, value: str, field: str, message: str
) -> None:
    rows = base_rows()
    rows[5][cell] = value
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportRowError, match=message) as caught:
        read_division_file(path)
    assert caught.value.row == 7
    assert caught.value.field == field


def test_unknown_parent_below_the_top_level_is_refused(tmp_path: Path, engine: Engine) -> None:
    rows = base_rows()
    rows.append([village("331128301000", 201), "孤村", "220"])  # its town is nowhere
    path = write_csv(tmp_path / "orphan.csv", rows)
    with pytest.raises(ImportRowError, match="331128301000") as caught:
        import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    assert caught.value.row == len(rows) + 1
    assert counts(engine) == (0, 0, 0)


def test_an_older_list_is_refused(tmp_path: Path, engine: Engine) -> None:
    path = write_csv(tmp_path / "l.csv", base_rows())
    import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    before = counts(engine)
    with pytest.raises(ImportRowError, match="早于"):
        import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    assert counts(engine) == before


def test_gbk_csv_and_excel_give_the_same_units(tmp_path: Path, engine: Engine) -> None:
    rows = base_rows()
    gbk = read_division_file(write_csv(tmp_path / "gbk.csv", rows, enc="gbk"))
    assert gbk[1] == "gb18030"
    assert [r.name for r in gbk[0]] == [r[1] for r in rows]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2023年统计用区划代码 (青溪县)"])  # a title row above the header
    sheet.append(HEADER)
    for code, name, ur in rows:
        sheet.append([int(code), name, int(ur) if ur else None])  # codes typed as numbers
    book.save(tmp_path / "list.xlsx")
    excel, encoding = read_division_file(tmp_path / "list.xlsx")
    assert encoding is None
    assert [(r.code, r.name, r.urban_rural_code) for r in excel] == [
        (r.code, r.name, r.urban_rural_code) for r in gbk[0]
    ]
    assert excel[0].row == 3


def test_dry_run_reports_but_writes_nothing(tmp_path: Path, engine: Engine) -> None:
    path = write_csv(tmp_path / "2023.csv", base_rows())
    report = import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a", dry_run=True)
    assert len(report.added) == len(base_rows())
    assert counts(engine) == (0, 0, 0)


def test_cli_records_the_actor(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rural.cli import app

    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    path = write_csv(tmp_path / "2023.csv", base_rows())
    result = CliRunner().invoke(
        app, ["--as", "王科长", "import", "divisions", str(path), "--year", "2023"]
    )
    assert result.exit_code == 0, result.output
    assert "新增 added: 9" in result.output
    from rural.db import make_engine

    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            actors = set(session.exec(select(ChangeLog.actor)))
            village_unit = session.get(Unit, village(TOWN_B, 203))
        assert actors == {"王科长"}
        assert village_unit is not None
        assert village_unit.valid_from == date(2023, 6, 30)
    finally:
        engine.dispose()

    bad = write_csv(tmp_path / "bad.csv", [["12345", "x", ""]])
    result = CliRunner().invoke(app, ["import", "divisions", str(bad), "--year", "2024"])
    assert result.exit_code == 2
    assert "第 2 行" in result.output


# --- codes typed with full-width digits ------------------------------------------------------


def test_full_width_codes_are_read_as_ascii(tmp_path: Path, engine: Engine) -> None:
    rows = [[*r, ""] for r in base_rows()]
    rows[3][0] = "３３１１２８１０１２０１"  # village(TOWN_A, 201), typed with a Chinese IME
    rows[4][3] = "３３１１２８１０１２０３"  # successor village(TOWN_A, 203)
    rows[5][2] = "２２０"
    path = write_csv(tmp_path / "fw.csv", rows, header=[*HEADER, "并入单位代码"])
    report = import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")

    units = units_by_code(engine)
    assert set(units) == {r[0] for r in base_rows()}
    assert "331128101201" in units
    assert units["331128101203"].urban_rural_code == "220"
    assert report.successors == [("331128101202", "331128101203")]
    assert all(code.isascii() for code in units)


def test_other_unicode_digits_are_refused(tmp_path: Path) -> None:
    rows = base_rows()
    rows[5][0] = "٣٣١١٢٨١٠١٢٠٣"  # Arabic-Indic digits: NFKC leaves them alone
    path = write_csv(tmp_path / "ar.csv", rows)
    with pytest.raises(ImportRowError, match="ASCII digits") as caught:
        read_division_file(path)
    assert (caught.value.row, caught.value.field) == (7, "code")


# --- files that are not what their name says --------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "空文件"),
        ("统计用区划代码,名称\n331128000000,青溪县\n".encode(), "不是有效的 Excel 文件"),
    ],
    ids=["empty", "csv-text"],
)
def test_a_broken_xlsx_is_a_file_error(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    message: str,
) -> None:
    from rural.cli import app
    from rural.db import make_engine

    path = tmp_path / "区划.xlsx"
    path.write_bytes(content)
    with pytest.raises(ImportRowError, match=message) as caught:
        read_division_file(path)
    assert caught.value.file == "区划.xlsx"
    assert caught.value.field == "file"

    monkeypatch.setenv("RURAL_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(app, ["import", "divisions", str(path), "--year", "2023"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "区划.xlsx" in output
    assert message in output
    engine = make_engine(sqlite_url)
    try:
        assert counts(engine) == (0, 0, 0)
    finally:
        engine.dispose()


def test_cli_refuses_a_missing_file(tmp_path: Path) -> None:
    from rural.cli import app

    missing = tmp_path / "nowhere.csv"
    result = CliRunner().invoke(app, ["import", "divisions", str(missing), "--year", "2023"])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback
    assert "nowhere.csv" in result.output
    assert "does not exist" in result.output


def test_read_division_file_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportRowError, match="文件不存在"):
        read_division_file(tmp_path / "nowhere.csv")


# --- re-import: revoked units, closed parents, unknown parents ---------------------------------


def import_2023(tmp_path: Path, engine: Engine) -> None:
    import_divisions(
        engine, write_csv(tmp_path / "2023.csv", base_rows()), as_of=date(2023, 6, 30), actor="a"
    )


def test_a_revoked_unit_cannot_reappear(tmp_path: Path, engine: Engine) -> None:
    import_2023(tmp_path, engine)
    dropped = village(TOWN_A, 202)
    rows_2024 = [r for r in base_rows() if r[0] != dropped]
    path = write_csv(tmp_path / "2024.csv", rows_2024)
    import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    before = counts(engine)

    path = write_csv(tmp_path / "2025.csv", base_rows())  # lists the dropped village again
    with pytest.raises(ImportRowError, match="已于 2024-06-30 撤销, 不能重新启用") as caught:
        import_divisions(engine, path, as_of=date(2025, 6, 30), actor="a")
    assert caught.value.row == 6  # header, county, two towns, village 201, then 202
    assert caught.value.value == dropped
    assert "2025.csv 第 6 行" in str(caught.value)
    assert "王家村12" in str(caught.value)
    assert counts(engine) == before
    assert units_by_code(engine)[dropped].valid_to == date(2024, 6, 30)


def test_a_merged_unit_cannot_reappear_and_keeps_its_link(tmp_path: Path, engine: Engine) -> None:
    import_2023(tmp_path, engine)
    merged, kept = village(TOWN_B, 201), village(TOWN_B, 202)
    rows = [[*r, kept if r[0] == merged else ""] for r in base_rows()]
    path = write_csv(tmp_path / "2024.csv", rows, header=[*HEADER, "并入单位代码"])
    import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    before = counts(engine)
    assert before[2] == 1

    path = write_csv(tmp_path / "2025.csv", base_rows())
    with pytest.raises(ImportRowError, match="不能重新启用") as caught:
        import_divisions(engine, path, as_of=date(2025, 6, 30), actor="a")
    assert caught.value.row == 8
    assert counts(engine) == before
    assert units_by_code(engine)[merged].valid_to == date(2024, 6, 30)


def test_a_current_village_under_a_town_left_out_is_refused(tmp_path: Path, engine: Engine) -> None:
    import_2023(tmp_path, engine)
    before = counts(engine)
    # TOWN_B is left out (it would be closed) but its villages are still listed.
    rows = [r for r in base_rows() if r[0] != TOWN_B]
    path = write_csv(tmp_path / "2024.csv", rows)
    with pytest.raises(ImportRowError, match="331128201000") as caught:
        import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    assert caught.value.row == 7  # header, county, TOWN_A, three villages of A, then B's first
    assert caught.value.value == village(TOWN_B, 201)
    assert "将被撤销" in str(caught.value)
    assert counts(engine) == before
    assert all(u.valid_to is None for u in units_by_code(engine).values())


def test_a_current_village_under_a_merged_town_is_refused(tmp_path: Path, engine: Engine) -> None:
    import_2023(tmp_path, engine)
    before = counts(engine)
    rows = [[*r, TOWN_A if r[0] == TOWN_B else ""] for r in base_rows()]
    path = write_csv(tmp_path / "2024.csv", rows, header=[*HEADER, "并入单位代码"])
    with pytest.raises(ImportRowError, match="第 4 行") as caught:
        import_divisions(engine, path, as_of=date(2024, 6, 30), actor="a")
    assert caught.value.row == 8  # the first village of TOWN_B
    assert counts(engine) == before


def test_a_village_under_a_revoked_town_is_refused(tmp_path: Path, engine: Engine) -> None:
    """A list of villages only (the town is outside its scope) cannot add one to a closed town."""
    import_2023(tmp_path, engine)
    rows_2024 = [r for r in base_rows() if not r[0].startswith(TOWN_B[:9])]
    import_divisions(
        engine, write_csv(tmp_path / "2024.csv", rows_2024), as_of=date(2024, 6, 30), actor="a"
    )
    assert units_by_code(engine)[TOWN_B].valid_to == date(2024, 6, 30)
    before = counts(engine)
    path = write_csv(tmp_path / "new.csv", [[village(TOWN_B, 220), "新村", "220"]])
    with pytest.raises(ImportRowError, match="已于 2024-06-30 撤销") as caught:
        import_divisions(engine, path, as_of=date(2025, 6, 30), actor="a")
    assert caught.value.row == 2
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("rows", "level"),
    [
        ([[village("331128301000", 201), "孤村", "220"]], "村"),  # a list of villages only
        ([["331128301000", "孤乡", ""], [village("331128301000", 201), "孤村", "220"]], "乡镇"),
    ],
    ids=["village", "town"],
)
def test_a_parentless_town_or_village_is_refused(
    tmp_path: Path, engine: Engine, rows: list[list[str]], level: str
) -> None:
    path = write_csv(tmp_path / "orphan.csv", rows)
    with pytest.raises(ImportRowError, match=f"{level}级单位须有上级") as caught:
        import_divisions(engine, path, as_of=date(2023, 6, 30), actor="a")
    assert caught.value.row == 2
    assert caught.value.value == rows[0][0]
    assert counts(engine) == (0, 0, 0)


def test_a_row_outside_the_top_level_rows_updates_its_stored_unit(
    tmp_path: Path, engine: Engine
) -> None:
    """A list for one county that also names a stored village of another county: the village
    is updated in place (it used to be inserted again and fail on the unique code)."""
    other_town, other_village = "331127101000", "331127101201"
    first = [["331127000000", "甲县", ""], [other_town, "甲镇", ""], [other_village, "甲村", "220"]]
    import_divisions(
        engine, write_csv(tmp_path / "a.csv", first), as_of=date(2023, 6, 30), actor="a"
    )
    rows = [[COUNTY, "青溪县", ""], [other_village, "甲新村", "220"]]
    report = import_divisions(
        engine, write_csv(tmp_path / "b.csv", rows), as_of=date(2024, 6, 30), actor="a"
    )
    assert report.added == [COUNTY]
    assert report.renamed == [(other_village, "甲村", "甲新村")]
    assert report.closed == []
    units = units_by_code(engine)
    assert units[other_village].name == "甲新村"
    assert units[other_village].parent_code == other_town


def test_a_formula_without_a_computed_value_is_refused(tmp_path: Path, engine: Engine) -> None:
    """A name written as a formula in a file never saved by Excel reads as empty: named by row
    and column instead of a misleading "名称为空"."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    rows = base_rows()
    for code, name, ur in rows:
        sheet.append([code, name, ur])
    sheet.cell(row=3, column=2, value='=CONCAT("赤石","乡")')
    book.save(tmp_path / "formula.xlsx")
    with pytest.raises(ImportRowError, match="第 3 行 B 列: 公式") as caught:
        read_division_file(tmp_path / "formula.xlsx")
    assert (caught.value.row, caught.value.field) == (3, "B")
    assert counts(engine) == (0, 0, 0)
