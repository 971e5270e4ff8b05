"""Importing the statistical division list 统计用区划代码 (CSV or Excel), year after year.

Each row: a 12-digit code, a name, the urban-rural code 城乡分类代码 (blank above village level),
and optionally a successor code for a unit merged into another. The parent comes from the code.
Re-importing a newer year renames units, adds new ones, closes revoked ones (``valid_to``) and
links successors; nothing is ever deleted. The import is all or nothing, in one transaction,
with a change-log row for every add, rename, reclassification, closure and successor link.

Which units a list covers: every unit beneath the list's top-level rows (the highest level in
the file). A unit there that the list no longer names is closed; natural villages (which have no
statistical code) are left alone.

A list is refused (nothing written) when it would reopen a revoked unit, leave a current unit
under a parent it closes (or that is already closed), or add a town or village whose parent is
neither in the list nor in the database; only county-level and higher units may lack a parent.
Codes typed with full-width digits (３３…) are read as ASCII.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from rural import audit, codes
from rural.db import write_session
from rural.enums import ChangeAction, UnitLevel, UrbanRuralCode
from rural.errors import ImportRowError, InvalidCodeError
from rural.models import Unit, UnitSuccessor

LEVEL_ORDER = list(codes.PREFIX_LENGTH)
# Levels whose top-level rows may lack a parent (the city or province is often not loaded).
PARENTLESS_LEVELS = (UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.COUNTY)

# Header names a division list may use for each column (compared case-insensitively).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "division_code", "统计用区划代码", "区划代码", "代码", "统计代码"),
    "name": ("name", "名称", "单位名称", "区划名称"),
    "urban_rural_code": ("urban_rural_code", "城乡分类代码", "城乡分类", "城乡代码"),
    "successor": (
        "successor",
        "successor_code",
        "继承单位代码",
        "并入单位代码",
        "合并后代码",
        "并入",
    ),
}
REQUIRED_COLUMNS = ("code", "name")
HEADER_SEARCH_ROWS = 10  # a title row or two may sit above the header


@dataclass(frozen=True)
class DivisionRow:
    """One row of a division list. ``row`` is the row number the user sees (header = its row)."""

    row: int
    code: str
    name: str
    level: UnitLevel
    urban_rural_code: str | None
    successor_code: str | None


@dataclass
class DivisionReport:
    """What an import did (or, on a dry run, would do)."""

    file: str
    as_of: date
    encoding: str | None
    rows: int
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new
    reclassified: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    successors: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.added or self.renamed or self.reclassified or self.closed or self.successors
        )

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "as_of": self.as_of.isoformat(),
            "rows": self.rows,
            "added": len(self.added),
            "renamed": len(self.renamed),
            "reclassified": len(self.reclassified),
            "closed": len(self.closed),
            "successors": len(self.successors),
            "unchanged": self.unchanged,
        }

    def lines(self) -> list[str]:
        out = [
            f"区划导入 / division list: {self.file} (基准日 {self.as_of.isoformat()}, "
            f"{self.rows} 行, 编码 {self.encoding or 'xlsx'})",
            f"  新增 added: {len(self.added)}",
            f"  更名 renamed: {len(self.renamed)}",
            f"  城乡分类变更 urban-rural code changed: {len(self.reclassified)}",
            f"  撤销 closed: {len(self.closed)}",
            f"  继承关系 successor links: {len(self.successors)}",
            f"  未变 unchanged: {self.unchanged}",
        ]
        out += [f"    更名 {code}: {old} → {new}" for code, old, new in self.renamed[:50]]
        out += [f"    撤销 {code}" for code in self.closed[:50]]
        out += [f"    {code} → {succ}" for code, succ in self.successors[:50]]
        return out


# --- reading ----------------------------------------------------------------------------------


def read_division_file(
    path: str | Path, *, sheet: str | None = None
) -> tuple[list[DivisionRow], str | None]:
    """The rows of a CSV or Excel division list, validated, and the CSV's encoding."""
    source = Path(path)
    suffix = source.suffix.lower()
    if not source.is_file():
        msg = f"{source}: 文件不存在 / no such file"
        raise ImportRowError(msg, file=source.name, field="file", value=str(source))
    encoding: str | None = None
    if suffix == ".csv":
        text, encoding = _decode_csv(source)
        table: Iterable[tuple[int, Sequence[Any]]] = enumerate(csv.reader(io.StringIO(text)), 1)
    elif suffix in (".xlsx", ".xlsm"):
        table = _excel_rows(source, sheet=sheet)
    else:
        msg = f"{source.name}: 区划文件应为 .csv 或 .xlsx / a division list must be CSV or Excel"
        raise ImportRowError(msg, file=source.name, field="file", value=suffix)
    return _parse(source.name, table), encoding


def _decode_csv(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        msg = f"{path.name}: 文字既不是 UTF-8 也不是 GB18030 (字节 {exc.start}) / undecodable text"
        raise ImportRowError(msg, file=path.name, field="encoding", value=exc.start) from exc


def _excel_rows(path: Path, *, sheet: str | None) -> Iterable[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        # An .xlsx is a zip archive: this one is empty, text (a CSV) renamed, or damaged.
        size = path.stat().st_size
        what = "空文件" if size == 0 else "不是有效的 Excel 文件(可能是改了扩展名的 CSV)"
        msg = f"{path.name}: {what}, 请另存为 .xlsx 或 .csv / not a readable Excel workbook"
        raise ImportRowError(msg, file=path.name, field="file", value=size) from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            msg = f"{path.name}: 没有工作表 {sheet!r} (有: {', '.join(workbook.sheetnames)})"
            raise ImportRowError(msg, file=path.name, field="sheet", value=sheet)
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        title = worksheet.title
        rows = [
            (i, list(values)) for i, values in enumerate(worksheet.iter_rows(values_only=True), 1)
        ]
    finally:
        workbook.close()
    _refuse_formulas_without_values(path, title, rows)
    return rows


def _refuse_formulas_without_values(
    path: Path, title: str, rows: list[tuple[int, list[Any]]]
) -> None:
    """A formula with no computed value (a file never saved in Excel) reads as empty: refuse it
    naming the first such cell rather than read a code or a name as missing."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    from rural.ledgers.reader import has_formulas

    if not has_formulas(path):
        return
    computed = dict(rows)
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for number, values in enumerate(workbook[title].iter_rows(values_only=True), 1):
            for position, formula in enumerate(values):
                row = computed.get(number, [])
                value = row[position] if position < len(row) else None
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    column = get_column_letter(position + 1)
                    msg = (
                        f"{path.name} 第 {number} 行 {column} 列: 公式 {formula[:40]}"
                        " 没有计算结果(文件未经 Excel 保存), 请在 Excel 中打开并保存后再导入"
                    )
                    raise ImportRowError(
                        msg, file=path.name, row=number, field=column, value=formula
                    )
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lstrip("'").strip()


def _code_text(text: str) -> str:
    """A code cell with full-width digits folded to ASCII (and a leading "'" dropped)."""
    return codes.normalize(text).lstrip("'").strip()


def _find_header(file: str, rows: list[tuple[int, Sequence[Any]]]) -> tuple[int, dict[str, int]]:
    wanted = {alias.lower(): key for key, aliases in COLUMN_ALIASES.items() for alias in aliases}
    for position, (_row, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for index, value in enumerate(values):
            key = wanted.get(_cell_text(value).lower())
            if key is not None and key not in columns:
                columns[key] = index
        if all(name in columns for name in REQUIRED_COLUMNS):
            return position, columns
    names = " / ".join(f"{COLUMN_ALIASES[k][0]}({COLUMN_ALIASES[k][2]})" for k in REQUIRED_COLUMNS)
    msg = f"{file}: 前 {HEADER_SEARCH_ROWS} 行中找不到表头 (需要 {names}) / no header row found"
    raise ImportRowError(msg, file=file, field="header", value=None)


def _parse(file: str, table: Iterable[tuple[int, Sequence[Any]]]) -> list[DivisionRow]:
    rows = list(table)
    header_at, columns = _find_header(file, rows)
    seen: dict[str, int] = {}
    parsed: list[DivisionRow] = []
    for row_number, values in rows[header_at + 1 :]:
        cells = {
            key: _cell_text(values[i]) if i < len(values) else "" for key, i in columns.items()
        }
        if not any(cells.values()):
            continue
        parsed.append(_parse_row(file, row_number, cells, seen))
    if not parsed:
        msg = f"{file}: 没有数据行 / the list has no rows"
        raise ImportRowError(msg, file=file, field="rows", value=0)
    return parsed


def _row_error(file: str, row: int, column: str, value: object, problem: str) -> ImportRowError:
    msg = f"{file} 第 {row} 行, 字段 {column}: {problem} (值 {value!r})"
    return ImportRowError(msg, file=file, row=row, field=column, value=value)


def _parse_row(file: str, row: int, cells: dict[str, str], seen: dict[str, int]) -> DivisionRow:
    code = _code_text(cells["code"])
    if len(code) != 12:
        raise _row_error(
            file, row, "code", code, "统计用区划代码应为 12 位数字 / must be 12 digits"
        )
    try:
        level = codes.level_of(code)
    except InvalidCodeError as exc:
        raise _row_error(file, row, "code", code, str(exc)) from exc
    if code in seen:
        raise _row_error(file, row, "code", code, f"与第 {seen[code]} 行重复 / duplicate code")
    seen[code] = row
    name = cells["name"]
    if not name:
        raise _row_error(file, row, "name", name, "名称为空 / name is empty")
    urban_rural = _code_text(cells.get("urban_rural_code", "")) or None
    if urban_rural is not None:
        try:
            UrbanRuralCode(urban_rural)
        except ValueError as exc:
            valid = ", ".join(str(m) for m in UrbanRuralCode)
            raise _row_error(
                file, row, "urban_rural_code", urban_rural, f"城乡分类代码应为 {valid} 之一"
            ) from exc
    successor = _code_text(cells.get("successor", "")) or None
    if successor is not None:
        if len(successor) != 12:
            raise _row_error(file, row, "successor", successor, "继承单位代码应为 12 位数字")
        try:
            codes.validate(successor)
        except InvalidCodeError as exc:
            raise _row_error(file, row, "successor", successor, str(exc)) from exc
        if successor == code:
            raise _row_error(file, row, "successor", successor, "继承单位不能是自己 / itself")
    return DivisionRow(
        row=row,
        code=code,
        name=name,
        level=level,
        urban_rural_code=urban_rural,
        successor_code=successor,
    )


# --- importing --------------------------------------------------------------------------------


def reference_date(year: int) -> date:
    """The statistical division list's reference date: 30 June of its year."""
    return date(year, 6, 30)


def import_divisions(
    engine: Engine,
    path: str | Path,
    *,
    as_of: date,
    actor: str,
    sheet: str | None = None,
    dry_run: bool = False,
) -> DivisionReport:
    """Read, check and apply a division list in one transaction (nothing on a dry run)."""
    rows, encoding = read_division_file(path, sheet=sheet)
    name = Path(path).name
    report = DivisionReport(file=name, as_of=as_of, encoding=encoding, rows=len(rows))
    with write_session(engine) as session:
        _apply(session, name, rows, as_of=as_of, actor=actor, report=report)
        if dry_run:
            session.rollback()
    return report


def _roots(rows: list[DivisionRow]) -> list[DivisionRow]:
    top = min(LEVEL_ORDER.index(r.level) for r in rows)
    return [r for r in rows if LEVEL_ORDER.index(r.level) == top]


def _load_scope(session: Session, rows: list[DivisionRow]) -> dict[str, Unit]:
    """Every unit in the database the list speaks for, plus the units it names, by code."""
    prefixes = {codes.prefix_of(r.code) for r in _roots(rows)}
    conditions = [col(Unit.code).startswith(p) for p in sorted(prefixes)]
    scope = {u.code: u for u in session.exec(select(Unit).where(or_(*conditions)))}
    # A row outside every top-level row's prefix (another county's village) is named too.
    named = sorted(r.code for r in rows if r.code not in scope)
    for start in range(0, len(named), 500):
        chunk = named[start : start + 500]
        scope.update(
            {u.code: u for u in session.exec(select(Unit).where(col(Unit.code).in_(chunk)))}
        )
    return scope


def _check_references(
    session: Session, file: str, rows: list[DivisionRow], scope: dict[str, Unit]
) -> tuple[set[str], dict[str, Unit]]:
    """Parents and successors must exist in the list or the database. Returns the codes of
    top-level county-or-higher rows whose parent is in neither (they get no parent), and the
    referenced units outside ``scope`` found in the database."""
    in_file = {r.code: r for r in rows}
    wanted = {codes.parent_of(r.code) for r in rows} | {
        r.successor_code for r in rows if r.successor_code
    }
    outside = sorted(c for c in wanted if c and c not in in_file and c not in scope)
    existing: dict[str, Unit] = {}
    for start in range(0, len(outside), 500):
        chunk = outside[start : start + 500]
        existing.update(
            {u.code: u for u in session.exec(select(Unit).where(col(Unit.code).in_(chunk)))}
        )
    known = set(in_file) | set(scope) | set(existing)
    root_codes = {r.code for r in _roots(rows)}
    orphans: set[str] = set()
    for r in rows:
        parent = codes.parent_of(r.code)
        if parent is not None and parent not in known:
            if r.code not in root_codes or r.level not in PARENTLESS_LEVELS:
                raise _row_error(
                    file,
                    r.row,
                    "code",
                    r.code,
                    f"上级单位 {parent} 既不在本表也不在数据库中, {r.level.label}级单位须有上级"
                    f" / parent {parent} is unknown",
                )
            orphans.add(r.code)
        if r.successor_code is None:
            continue
        target = in_file.get(r.successor_code)
        unit = scope.get(r.successor_code) or existing.get(r.successor_code)
        if target is not None and target.successor_code is None:
            continue
        if target is None and unit is not None and unit.valid_to is None:
            continue
        raise _row_error(
            file,
            r.row,
            "successor",
            r.successor_code,
            "继承单位须是本表中的现行单位或数据库中未撤销的单位 / successor must be a current unit",
        )
    return orphans, existing


def _check_lifecycle(
    file: str,
    rows: list[DivisionRow],
    scope: dict[str, Unit],
    outside: dict[str, Unit],
    orphans: set[str],
) -> None:
    """A row listed as current (no successor) must not reopen a revoked unit, nor sit under a
    parent that this list closes (left out, or given a successor) or that is already closed."""
    current = [r for r in rows if r.successor_code is None]
    for r in current:
        unit = scope.get(r.code)
        if unit is not None and unit.valid_to is not None:
            raise _row_error(
                file,
                r.row,
                "code",
                r.code,
                f"「{unit.name}」已于 {unit.valid_to.isoformat()} 撤销, 不能重新启用"
                " / a revoked unit cannot be reopened (a new unit needs a new code)",
            )
    in_file = {r.code: r for r in rows}
    for r in current:
        parent = codes.parent_of(r.code)
        if parent is None or r.code in orphans:
            continue
        parent_row = in_file.get(parent)
        if parent_row is not None:
            if parent_row.successor_code is not None:
                raise _row_error(
                    file,
                    r.row,
                    "code",
                    r.code,
                    f"上级单位 {parent} (第 {parent_row.row} 行) 在本表中并入"
                    f" {parent_row.successor_code} 而撤销, 本单位却仍为现行单位"
                    " / the parent is closed by this list but this unit is current",
                )
            continue
        above = scope.get(parent) or outside.get(parent)
        if above is not None and above.valid_to is not None:
            raise _row_error(
                file,
                r.row,
                "code",
                r.code,
                f"上级单位 {parent}「{above.name}」已于 {above.valid_to.isoformat()} 撤销,"
                " 本单位却仍为现行单位 / the parent is revoked but this unit is current",
            )
        if above is not None and parent in scope:
            raise _row_error(
                file,
                r.row,
                "code",
                r.code,
                f"上级单位 {parent}「{above.name}」不在本表中, 将被撤销, 本单位却仍为现行单位"
                " / the parent is left out of this list (so closed) but this unit is current",
            )


def _check_not_older(file: str, scope: dict[str, Unit], as_of: date) -> None:
    dates = [d for u in scope.values() for d in (u.valid_from, u.valid_to) if d is not None]
    latest = max(dates, default=None)
    if latest is not None and as_of < latest:
        msg = (
            f"{file}: 基准日 {as_of.isoformat()} 早于已导入的区划 ({latest.isoformat()}), "
            f"旧表会错误地撤销单位 / an older list than the one already imported is refused"
        )
        raise ImportRowError(msg, file=file, field="as_of", value=as_of.isoformat())


def _apply(
    session: Session,
    file: str,
    rows: list[DivisionRow],
    *,
    as_of: date,
    actor: str,
    report: DivisionReport,
) -> None:
    scope = _load_scope(session, rows)
    _check_not_older(file, scope, as_of)
    orphans, outside = _check_references(session, file, rows, scope)
    _check_lifecycle(file, rows, scope, outside, orphans)
    note = f"区划 {as_of.isoformat()} ({file})"
    # Parents before children, so every foreign key points at a row already written.
    ordered = sorted(rows, key=lambda r: (LEVEL_ORDER.index(r.level), r.code))
    for r in ordered:
        unit = scope.get(r.code)
        if unit is None:
            _add(session, r, as_of=as_of, actor=actor, note=note, orphan=r.code in orphans)
            report.added.append(r.code)
        elif not _update(session, unit, r, actor=actor, note=note, report=report):
            report.unchanged += 1
    session.flush()
    listed = {r.code for r in rows}
    for r in ordered:
        if r.successor_code is not None:
            _close(
                session, scope.get(r.code) or session.get(Unit, r.code), as_of, actor, note, report
            )
            _link(
                session,
                r.code,
                r.successor_code,
                as_of=as_of,
                actor=actor,
                note=note,
                report=report,
            )
    for code in sorted(scope):
        unit = scope[code]
        if code not in listed and unit.level != UnitLevel.NATURAL_VILLAGE:
            _close(session, unit, as_of, actor, note, report)
    if report.changed:
        audit.record(
            session,
            actor=actor,
            action=ChangeAction.IMPORT,
            object_type="division_list",
            object_id=as_of.isoformat(),
            new=report.summary(),
            note=note,
        )


UNIT_FIELDS = ["code", "name", "level", "parent_code", "urban_rural_code", "valid_from", "valid_to"]


def _add(
    session: Session, r: DivisionRow, *, as_of: date, actor: str, note: str, orphan: bool
) -> None:
    unit = Unit(
        code=r.code,
        name=r.name,
        level=r.level,
        parent_code=None if orphan else codes.parent_of(r.code),
        urban_rural_code=r.urban_rural_code,
        valid_from=as_of,
    )
    session.add(unit)
    audit.record(
        session,
        actor=actor,
        action=ChangeAction.CREATE,
        object_type="unit",
        object_id=r.code,
        new=audit.snapshot(unit, UNIT_FIELDS),
        note=note,
    )


def _update(
    session: Session, unit: Unit, r: DivisionRow, *, actor: str, note: str, report: DivisionReport
) -> bool:
    before = audit.snapshot(unit, UNIT_FIELDS)
    if unit.name != r.name:
        report.renamed.append((r.code, unit.name, r.name))
        unit.name = r.name
    if unit.urban_rural_code != r.urban_rural_code:
        report.reclassified.append((r.code, unit.urban_rural_code, r.urban_rural_code))
        unit.urban_rural_code = r.urban_rural_code
    old, new = audit.diff(before, audit.snapshot(unit, UNIT_FIELDS))
    if not new:
        return False
    unit.version += 1
    session.add(unit)
    audit.record(
        session,
        actor=actor,
        action=ChangeAction.UPDATE,
        object_type="unit",
        object_id=r.code,
        old=old,
        new=new,
        note=note,
    )
    return True


def _close(
    session: Session,
    unit: Unit | None,
    as_of: date,
    actor: str,
    note: str,
    report: DivisionReport,
) -> None:
    if unit is None or unit.valid_to is not None:
        return
    unit.valid_to = as_of
    unit.version += 1
    session.add(unit)
    report.closed.append(unit.code)
    audit.record(
        session,
        actor=actor,
        action=ChangeAction.UPDATE,
        object_type="unit",
        object_id=unit.code,
        old={"valid_to": None},
        new={"valid_to": as_of.isoformat()},
        note=f"撤销 / revoked; {note}",
    )


def _link(
    session: Session,
    code: str,
    successor: str,
    *,
    as_of: date,
    actor: str,
    note: str,
    report: DivisionReport,
) -> None:
    exists = session.exec(
        select(UnitSuccessor).where(
            UnitSuccessor.code == code, UnitSuccessor.successor_code == successor
        )
    ).first()
    if exists is not None:
        return
    session.add(UnitSuccessor(code=code, successor_code=successor, effective_on=as_of, note=note))
    report.successors.append((code, successor))
    audit.record(
        session,
        actor=actor,
        action=ChangeAction.CREATE,
        object_type="unit_successor",
        object_id=f"{code}->{successor}",
        new={"code": code, "successor_code": successor, "effective_on": as_of.isoformat()},
        note=note,
    )
