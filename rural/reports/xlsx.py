"""The Excel superiors ask for: one row per village, merged title rows, Chinese headers, a totals
row and the footer 填报单位 / 填报人 / 电话 / 日期.

Each indicator takes three columns (分子 / 分母 / 比率) so the figure can be checked by hand;
the totals row sums numerators and denominators and divides (never averages the rates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import xlsxwriter

from rural.enums import UnitLevel
from rural.errors import ValidationError
from rural.indicators.table import IndicatorTable

SUBHEADERS = ("分子", "分母", "比率")
FIXED_HEADERS = ("序号", "乡镇", "行政村", "统计用区划代码")


@dataclass(frozen=True)
class Footer:
    """Who files the report (填报单位, 填报人, 电话) and when (日期)."""

    unit: str
    reporter: str = ""
    phone: str = ""
    on: date | None = None

    def text(self) -> str:
        day = self.on or date.today()
        when = f"{day.year}年{day.month}月{day.day}日"
        parts = [
            f"填报单位: {self.unit}",
            f"填报人: {self.reporter}",
            f"电话: {self.phone}",
            f"日期: {when}",
        ]
        return "    ".join(parts)


def write_village_report(
    table: IndicatorTable,
    path: Path,
    *,
    title: str,
    footer: Footer,
    town_names: dict[str, str] | None = None,
) -> Path:
    """Write ``table`` (level village) as the superiors' sheet; returns ``path``."""
    if table.level != UnitLevel.VILLAGE:
        msg = f"the village report needs a village-level table, got level {table.level}"
        raise ValidationError(msg, field="level", value=str(table.level))
    towns = town_names or {}
    indicators = list(table.definitions)
    n_cols = len(FIXED_HEADERS) + 3 * len(indicators)
    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet("人居环境指标")
        fmt = _formats(workbook)
        last = n_cols - 1
        sheet.merge_range(0, 0, 0, last, title, fmt["title"])
        options = table.options
        period = table.period
        span = f"{period.start:%Y-%m-%d}至{period.end:%Y-%m-%d}"
        denominator = _POP[options["toilet_denominator"]]
        subtitle = (
            f"统计期: {period.label}({span});状态取期末,流量为期内合计;卫生厕所分母: {denominator}"
        )
        sheet.merge_range(1, 0, 1, last, subtitle, fmt["subtitle"])
        for col, name in enumerate(FIXED_HEADERS):
            sheet.merge_range(2, col, 3, col, name, fmt["header"])
        for i, key in enumerate(indicators):
            col = len(FIXED_HEADERS) + 3 * i
            definition = table.definitions[key]
            name = definition.name + (f"({table.notes[key]})" if table.notes.get(key) else "")
            sheet.merge_range(2, col, 2, col + 2, name, fmt["header"])
            for j, sub in enumerate(SUBHEADERS):
                sheet.write(3, col + j, sub, fmt["header"])
        row = 4
        for seq, code in enumerate(table.codes, start=1):
            parent = str(table.units.loc[code, "parent_code"] or "")
            sheet.write_number(row, 0, seq, fmt["cell"])
            sheet.write(row, 1, towns.get(parent, parent), fmt["cell"])
            sheet.write(row, 2, str(table.units.loc[code, "name"]), fmt["cell"])
            sheet.write_string(row, 3, code, fmt["cell"])
            for i, key in enumerate(indicators):
                value = table.value(code, key)
                _triple(
                    sheet,
                    row,
                    len(FIXED_HEADERS) + 3 * i,
                    value.numerator,
                    value.denominator,
                    value.value,
                    fmt,
                )
            row += 1
        sheet.merge_range(row, 0, row, len(FIXED_HEADERS) - 1, "合计", fmt["total"])
        for i, key in enumerate(indicators):
            block = table.data[key]
            num = float(block["numerator"].sum(min_count=1))
            den = float(block["denominator"].sum(min_count=1))
            shown = table.definitions[key].shown_at(table.level) and den > 0
            _triple(
                sheet,
                row,
                len(FIXED_HEADERS) + 3 * i,
                num,
                den,
                num / den if shown else None,
                fmt,
                total=True,
            )
        row += 2
        sheet.merge_range(row, 0, row, last, footer.text(), fmt["footer"])
        sheet.set_column(0, 0, 6)
        sheet.set_column(1, 2, 14)
        sheet.set_column(3, 3, 16)
        sheet.set_column(4, last, 9)
        sheet.set_row(0, 30)
        sheet.set_row(2, 48)
        sheet.freeze_panes(4, len(FIXED_HEADERS))
    finally:
        workbook.close()
    return path


_POP = {"resident": "常住户", "registered": "户籍户", "due": "应改户", "all": "全部户"}


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, xlsxwriter.format.Format]:
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    return {
        "title": workbook.add_format(
            {
                "font_name": "黑体",
                "font_size": 16,
                "bold": True,
                "align": "center",
                "valign": "vcenter",
            }
        ),
        "subtitle": workbook.add_format({"font_name": "宋体", "font_size": 10, "align": "left"}),
        "header": workbook.add_format({**base, "bold": True, "align": "center", "text_wrap": True}),
        "cell": workbook.add_format({**base, "align": "center"}),
        "number": workbook.add_format({**base, "num_format": "0.##"}),
        "rate": workbook.add_format({**base, "num_format": "0.0%"}),
        "total": workbook.add_format({**base, "bold": True, "align": "center"}),
        "total_number": workbook.add_format({**base, "bold": True, "num_format": "0.##"}),
        "total_rate": workbook.add_format({**base, "bold": True, "num_format": "0.0%"}),
        "footer": workbook.add_format({"font_name": "宋体", "font_size": 10, "align": "left"}),
    }


def _triple(
    sheet: xlsxwriter.worksheet.Worksheet,
    row: int,
    col: int,
    numerator: float | None,
    denominator: float | None,
    value: float | None,
    fmt: dict[str, xlsxwriter.format.Format],
    *,
    total: bool = False,
) -> None:
    number, rate = (
        (fmt["total_number"], fmt["total_rate"]) if total else (fmt["number"], fmt["rate"])
    )
    for offset, amount in ((0, numerator), (1, denominator)):
        if amount is None or math.isnan(amount):
            sheet.write_blank(row, col + offset, None, number)
        else:
            sheet.write_number(row, col + offset, amount, number)
    if value is None or math.isnan(value):
        sheet.write_string(row, col + 2, "—", number)
    else:
        sheet.write_number(row, col + 2, value, rate)
