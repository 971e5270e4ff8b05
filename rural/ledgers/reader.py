"""Read a ledger workbook: find the sheet and its header row, map headers to columns, and hand
back the raw cells of every non-empty row with the row number Excel shows."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from rural.ledgers.problems import LedgerError, RowProblem
from rural.ledgers.spec import Column, LedgerKind

NOTES_SHEET = "说明"
OPTIONS_SHEET = "选项"
HEADER_SCAN_ROWS = 10

_NORMALIZE = re.compile(r"[\s*＊()（）]|必填")


def normalize_header(text: Any) -> str:
    """Headers match ignoring spaces, a required-mark '*', brackets and the word 必填."""
    if text is None:
        return ""
    return _NORMALIZE.sub("", str(text)).lower()


def header_names(column: Column) -> set[str]:
    return {normalize_header(h) for h in (column.header, *column.aliases)}


@dataclass
class RawSheet:
    """The cells of a ledger sheet, by column field, with Excel row numbers."""

    file: str
    sheet: str
    header_row: int
    present: dict[str, str]  # field -> header as written in the file
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)


def read_sheet(
    path: Path,
    kind: LedgerKind,
    *,
    sheet: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RawSheet:
    """The raw rows of ``kind``'s sheet in ``path``; a missing required column is a problem."""
    name = path.name
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        problem = RowProblem(
            name, "", 0, "", path.suffix, "只支持 .xlsx 文件,请在 Excel 中另存为 .xlsx"
        )
        raise LedgerError([problem], file=name)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        # An .xlsx is a zip archive: this one is empty, or text (a CSV) renamed to .xlsx.
        reason = "空文件,不是 Excel 文件" if path.stat().st_size == 0 else "不是有效的 .xlsx 文件"
        problem = RowProblem(
            name,
            "",
            0,
            "",
            None,
            f"{reason}(可能是改了扩展名的 CSV 或文本文件),请在 Excel 中打开后另存为 .xlsx",
        )
        raise LedgerError([problem], file=name) from exc
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        problem = RowProblem(name, "", 0, "", None, f"无法读取 Excel 文件: {exc}")
        raise LedgerError([problem], file=name) from exc
    try:
        worksheet = _pick_sheet(workbook, kind, sheet, name)
        rows = worksheet.iter_rows(values_only=True)
        head: list[tuple[Any, ...]] = []
        for row in rows:
            head.append(tuple(row))
            if len(head) >= HEADER_SCAN_ROWS:
                break
        header_index, mapping, ignored = _find_header(head, kind)
        sheet_name = worksheet.title
        missing = [c for c in kind.all_columns if c.required and c.field not in mapping.values()]
        if missing:
            problems = [
                RowProblem(name, sheet_name, header_index + 1, c.header, None, "缺少必填列")
                for c in missing
            ]
            raise LedgerError(problems, file=name)
        result = RawSheet(
            file=name,
            sheet=sheet_name,
            header_row=header_index + 1,
            present={f: _header_text(head[header_index], i) for i, f in mapping.items()},
            ignored_headers=ignored,
        )

        def consume(number: int, values: tuple[Any, ...]) -> None:
            cells = {f: values[i] if i < len(values) else None for i, f in mapping.items()}
            if any(
                v is not None and not (isinstance(v, str) and not v.strip()) for v in cells.values()
            ):
                result.rows.append((number, cells))
            if progress is not None and number % 500 == 0:
                progress(number)

        for offset, values in enumerate(head[header_index + 1 :], start=header_index + 2):
            consume(offset, values)
        for offset, values in enumerate(rows, start=len(head) + 1):
            consume(offset, tuple(values))
    finally:
        workbook.close()
    _refuse_formulas_without_values(path, result, mapping)
    return result


def has_formulas(path: Path) -> bool:
    """Whether any worksheet of the file holds a formula (a cheap look at the XML)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                data = archive.read(name)
                if b"<f>" in data or b"<f " in data:
                    return True
    return False


def _refuse_formulas_without_values(path: Path, result: RawSheet, mapping: dict[int, str]) -> None:
    """A formula cell read as empty because the file keeps no computed value for it (written by a
    program, never opened and saved in Excel) would import as nothing: refuse it instead."""
    if not has_formulas(path):
        return
    kept = dict(result.rows)  # row number -> cells read (rows with nothing at all are left out)
    reason = "公式没有计算结果(文件未经 Excel 保存),请在 Excel 中打开并保存后再导入"
    problems: list[RowProblem] = []
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = workbook[result.sheet].iter_rows(values_only=True)
        for number, values in enumerate(rows, start=1):
            if number <= result.header_row:
                continue
            cells = kept.get(number, {})
            for position, field_name in mapping.items():
                formula = values[position] if position < len(values) else None
                computed = cells.get(field_name)
                if computed is None and isinstance(formula, str) and formula.startswith("="):
                    header = result.present.get(field_name, field_name)
                    problems.append(
                        RowProblem(result.file, result.sheet, number, header, formula, reason)
                    )
    finally:
        workbook.close()
    if problems:
        raise LedgerError(problems, file=result.file)


def _pick_sheet(workbook: Any, kind: LedgerKind, sheet: str | None, name: str) -> Any:
    titles = list(workbook.sheetnames)
    wanted = sheet or (kind.label if kind.label in titles else None)
    if wanted is not None:
        if wanted not in titles:
            problem = RowProblem(
                name, wanted, 0, "", None, f"找不到该工作表(文件中有: {'、'.join(titles)})"
            )
            raise LedgerError([problem], file=name)
        return workbook[wanted]
    candidates = [t for t in titles if t not in (NOTES_SHEET, OPTIONS_SHEET)]
    if not candidates:
        problem = RowProblem(name, "", 0, "", None, "文件中没有数据工作表")
        raise LedgerError([problem], file=name)
    return workbook[candidates[0]]


def _find_header(
    head: list[tuple[Any, ...]], kind: LedgerKind
) -> tuple[int, dict[int, str], list[str]]:
    """The header row (the one among the first rows matching most known headers), the map from
    cell position to field, and the headers nobody knows."""
    lookup: dict[str, str] = {}
    for column in kind.all_columns:
        for text in header_names(column):
            lookup.setdefault(text, column.field)
    best_index = 0
    best_mapping: dict[int, str] = {}
    best_ignored: list[str] = []
    for index, row in enumerate(head):
        mapping: dict[int, str] = {}
        ignored: list[str] = []
        for position, cell in enumerate(row):
            key = normalize_header(cell)
            if not key:
                continue
            target = lookup.get(key)
            if target is None or target in mapping.values():
                ignored.append(str(cell).strip())
            else:
                mapping[position] = target
        if len(mapping) > len(best_mapping):
            best_index, best_mapping, best_ignored = index, mapping, ignored
    return best_index, best_mapping, best_ignored


def _header_text(row: tuple[Any, ...], index: int) -> str:
    return str(row[index]).strip() if index < len(row) and row[index] is not None else ""
