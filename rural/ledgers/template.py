"""Write an empty ledger template: the data sheet with Chinese headers, drop-down lists for
choices and 是/否, text format for codes, and a 说明 sheet explaining every column and the key."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from rural.ledgers.reader import NOTES_SHEET, OPTIONS_SHEET
from rural.ledgers.spec import TYPE_LABELS, Column, ColumnType, LedgerKind

TEMPLATE_ROWS = 5000  # rows that get the drop-down lists and formats


def template_filename(kind: LedgerKind) -> str:
    return f"{kind.label}_模板.xlsx"


def write_template(kind: LedgerKind, path: Path) -> Path:
    """Write ``kind``'s template to ``path`` (.xlsx) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    try:
        _write(workbook, kind)
    finally:
        workbook.close()
    return path


def _write(workbook: xlsxwriter.Workbook, kind: LedgerKind) -> None:
    header = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    required = workbook.add_format(
        {
            "bold": True,
            "bg_color": "#FCE4D6",
            "font_color": "#C00000",
            "border": 1,
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    text = workbook.add_format({"num_format": "@"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True})

    data = workbook.add_worksheet(kind.label)
    notes = workbook.add_worksheet(NOTES_SHEET)
    options = workbook.add_worksheet(OPTIONS_SHEET)
    options.hide()

    columns = kind.all_columns
    option_col = 0
    data.set_row(0, 32)
    data.freeze_panes(1, 0)
    for index, column in enumerate(columns):
        data.write_string(0, index, column.header, required if column.required else header)
        data.write_comment(0, index, _comment(column), {"x_scale": 2, "y_scale": 1.5})
        width = max(10, min(40, len(column.header) * 2 + 4))
        cell_format = {ColumnType.DATE: day, ColumnType.DATETIME: moment}.get(
            column.value_type, text
        )
        numeric = column.value_type in (
            ColumnType.INTEGER,
            ColumnType.NUMBER,
            ColumnType.LON,
            ColumnType.LAT,
        )
        data.set_column(index, index, width, None if numeric else cell_format)
        choices = _choices(column)
        if choices:
            options.write_string(0, option_col, column.header)
            for row, choice in enumerate(choices, start=1):
                options.write_string(row, option_col, choice)
            letter = xl_col_to_name(option_col)
            data.data_validation(
                1,
                index,
                TEMPLATE_ROWS,
                index,
                {
                    "validate": "list",
                    "source": f"='{OPTIONS_SHEET}'!${letter}$2:${letter}${len(choices) + 1}",
                    "error_title": column.header,
                    "error_message": "请从下拉列表中选择",
                    # categories of another scheme (or their keys) are accepted on import too
                    "error_type": "warning" if column.categories else "stop",
                },
            )
            option_col += 1
    data.autofilter(0, 0, 0, len(columns) - 1)

    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 8)
    notes.set_column(2, 2, 30)
    notes.set_column(3, 3, 60)
    notes.set_column(4, 4, 28)
    notes.write_string(0, 0, f"{kind.label}: 填写说明", bold)
    notes.write_string(1, 0, kind.description, wrap)
    key = "、".join(kind.key_headers())
    lines = [
        f"自然键(唯一确定一行): {key}。再次导入时,自然键相同的行视为同一对象:"
        "内容相同不作改动,内容不同则更新并记入变更记录;文件中没有的对象不会被删除。",
        "请在工作表「" + kind.label + "」第一行表头下逐行填写;表头文字不要改动,"
        "红色表头为必填列,其余可留空;列的顺序可以调整,多余的列会被忽略。",
        "导入时先检查全部行,任何一行有问题都不会写入数据,并列出每个问题的工作表、行号、列名、值和原因。",
        "区划代码、户编码等编码请保持文本格式,避免 Excel 把长数字变成科学计数法。",
        *kind.notes,
    ]
    if kind.point:
        lines.append(
            "经纬度默认按 CGCS2000 (EPSG:4490) 理解;手机、高德、腾讯地图取得的坐标为 GCJ-02,"
            "导入时须声明 --crs gcj02,系统换算后保存,不保存偏移坐标。"
        )
    for row, line in enumerate(lines, start=2):
        notes.merge_range(row, 0, row, 4, line, wrap)
        notes.set_row(row, 36)
    start = len(lines) + 3
    for col, title in enumerate(("列名", "必填", "类型", "说明", "示例")):
        notes.write_string(start, col, title, header)
    for offset, column in enumerate(columns, start=start + 1):
        notes.write_string(offset, 0, column.header)
        notes.write_string(offset, 1, "是" if column.required else "否")
        notes.write_string(offset, 2, _type_text(column), wrap)
        notes.write_string(offset, 3, _help_text(column, kind), wrap)
        notes.write_string(offset, 4, column.example)
    data.activate()


def _choices(column: Column) -> list[str]:
    if column.value_type == ColumnType.ENUM and column.enum is not None:
        return [m.label for m in column.enum]
    if column.value_type == ColumnType.BOOLEAN:
        return ["是", "否"]
    if column.categories and column.value_type == ColumnType.TEXT:
        from rural.rules_loader import load_garbage_categories

        return [c.label for c in load_garbage_categories().scheme.categories.values()]
    return []


def _type_text(column: Column) -> str:
    if column.value_type == ColumnType.ENUM and column.enum is not None:
        return "选项: " + "、".join(m.label for m in column.enum)
    text = TYPE_LABELS[column.value_type]
    if column.minimum is not None or column.maximum is not None:
        low = "" if column.minimum is None else f"{column.minimum:g}"
        high = "" if column.maximum is None else f"{column.maximum:g}"
        text += f",范围 {low}~{high}"
    if column.max_length is not None:
        text += f",最多 {column.max_length} 字"
    return text


def _help_text(column: Column, kind: LedgerKind) -> str:
    parts = [column.help] if column.help else []
    if column.header in kind.key_headers():
        parts.append("自然键的一部分")
    if column.aliases:
        parts.append("也可写作: " + "、".join(column.aliases))
    return ";".join(parts)


def _comment(column: Column) -> str:
    parts = [column.header + (" (必填)" if column.required else ""), _type_text(column)]
    if column.help:
        parts.append(column.help)
    return "\n".join(parts)
