"""``rural indicators --unit CODE --period P``: the living-environment figures, computed the same
way every time, as a table, CSV, JSON or the superiors' Excel (one row per village)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rural.commands import print_error
from rural.errors import RuralError

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


def indicators_command(
    unit: Annotated[str, typer.Option(help="12-digit unit code (village, town, county, ...)")],
    period: Annotated[str, typer.Option(help="2026 | 2026Q3 | 2026-07")],
    level: Annotated[
        str | None,
        typer.Option(help="one row per unit of this level (default: the unit itself)"),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table | csv | json | xlsx")
    ] = OutputFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="file to write (csv/json/xlsx)")
    ] = None,
    indicator: Annotated[
        list[str] | None, typer.Option(help="only these indicator ids (repeat the option)")
    ] = None,
    denominator: Annotated[
        str | None,
        typer.Option(
            help="toilet-rate denominator: resident 常住户 | registered 户籍户 | due 应改户"
        ),
    ] = None,
    reporter: Annotated[str | None, typer.Option(help="xlsx footer: 填报人")] = None,
    phone: Annotated[str, typer.Option(help="xlsx footer: 电话")] = "",
) -> None:
    """Indicators of a unit for a period: states at the period's end, flows within it.

    Every figure carries its numerator and denominator; towns and up sum their villages'.
    The xlsx is the superiors' sheet: one row per village, totals, 填报单位/填报人/电话/日期.
    """
    from rural.commands.divisions import current_actor, migrated_engine
    from rural.indicators import compute

    try:
        engine = migrated_engine()
        if output_format == OutputFormat.XLSX:
            level = "village"
        table = compute(
            engine,
            unit_code=unit,
            period=period,
            level=level,
            indicators=indicator or None,
            toilet_denominator=denominator,
        )
        if output_format == OutputFormat.TABLE:
            _print_table(table)
        elif output_format == OutputFormat.CSV:
            _write_text(table.long().to_csv(index=False), output)
        elif output_format == OutputFormat.JSON:
            _write_text(_json(table), output)
        else:
            path = _xlsx(engine, table, output, reporter or current_actor(), phone)
            console.print(f"已写出 {path} ({len(table.codes)} 个村)")
    except RuralError as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc


def _print_table(table: object) -> None:
    from rural.indicators import IndicatorTable

    assert isinstance(table, IndicatorTable)
    if len(table.codes) == 1:
        code = table.codes[0]
        name = str(table.units.loc[code, "name"])
        out = Table(title=f"{name} ({code}) {table.period.label}")
        for name, justify in (("指标", "left"), ("分子", "right"), ("分母", "right")):
            out.add_column(name, justify=justify)  # type: ignore[arg-type]
        out.add_column("值", justify="right")
        out.add_column("说明")
        for v in table.values(code):
            out.add_row(v.name, _num(v.numerator), _num(v.denominator), v.text, v.note)
        console.print(out)
        return
    out = Table(title=f"{table.period.label} ({table.level.label})")
    out.add_column("代码")
    out.add_column("名称")
    for definition in table.definitions.values():
        out.add_column(definition.name, justify="right")
    for code in table.codes:
        cells = [table.value(code, key).text for key in table.definitions]
        out.add_row(code, str(table.units.loc[code, "name"]), *cells)
    console.print(out)


def _num(value: float | None) -> str:
    from rural.indicators.table import number_text

    return number_text(value)


def _json(table: object) -> str:
    from dataclasses import asdict

    from rural.indicators import IndicatorTable

    assert isinstance(table, IndicatorTable)
    payload = {
        "unit_code": table.unit_code,
        "period": table.period.text,
        "level": str(table.level),
        "options": table.options,
        "values": [asdict(v) for v in table.values()],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False, default=_nan)


def _nan(value: object) -> object:
    msg = f"not JSON: {value!r}"
    raise TypeError(msg)


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"已写出 {output}")


def _xlsx(engine: object, table: object, output: Path | None, reporter: str, phone: str) -> Path:
    from sqlalchemy import Engine, or_, select

    from rural import codes
    from rural.indicators import IndicatorTable
    from rural.models import Unit
    from rural.reports.xlsx import Footer, write_village_report

    assert isinstance(table, IndicatorTable)
    assert isinstance(engine, Engine)
    unit = Unit.__table__.c  # type: ignore[attr-defined]
    prefix = codes.prefix_of(table.unit_code)
    with engine.connect() as conn:
        rows = conn.execute(
            select(unit.code, unit.name).where(
                or_(
                    (unit.level == "town") & unit.code.startswith(prefix),
                    unit.code == table.unit_code,
                )
            )
        ).all()
    names = {str(r[0]): str(r[1]) for r in rows}
    unit_name = names.get(table.unit_code, table.unit_code)
    path = output or Path(f"人居环境指标_{table.unit_code}_{table.period.text}.xlsx")
    title = f"{unit_name}农村人居环境整治指标统计表"
    return write_village_report(
        table,
        path,
        title=title,
        footer=Footer(unit=unit_name, reporter=reporter, phone=phone),
        town_names=names,
    )
