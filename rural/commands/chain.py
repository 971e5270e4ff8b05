"""``rural chain check [--unit CODE --period P]``: where the garbage chain breaks, and why."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rural.commands import print_error
from rural.errors import RuralError

console = Console()
err_console = Console(stderr=True)

chain_app = typer.Typer(
    help="The garbage chain 户分类、村收集、镇转运、县处理: audit.", no_args_is_help=True
)


class BreakFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


COLUMNS = ("kind", "kind_zh", "object_type", "object_id", "category", "period", "reason_zh")


@chain_app.command("check")
def chain_check(
    unit: Annotated[
        str | None, typer.Option(help="12-digit unit code (default: everything)")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="2026 | 2026Q3 | 2026-07 (default: this month)")
    ] = None,
    output_format: Annotated[
        BreakFormat, typer.Option("--format", help="table | csv | json")
    ] = BreakFormat.TABLE,
    fail_on_break: Annotated[
        bool, typer.Option("--fail-on-break", help="exit 1 when any break is found")
    ] = False,
) -> None:
    """List every break of the chain with its reason (statuses at the period's end, weights
    within it)."""
    from rural.chain import check_chain
    from rural.commands.divisions import migrated_engine

    try:
        breaks = check_chain(migrated_engine(), unit_code=unit, period=period)
    except RuralError as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc
    rows = [
        {
            "kind": str(b.kind),
            "kind_zh": b.kind.label,
            "object_type": b.object_type,
            "object_id": b.object_id,
            "category": b.category or "",
            "period": b.period,
            "reason_zh": b.reason_zh,
        }
        for b in breaks
    ]
    if output_format == BreakFormat.JSON:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif output_format == BreakFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        title = f"收运链条断点: {len(rows)} 处" if rows else "收运链条: 未发现断点"
        table = Table(title=title)
        for name in ("类型", "对象", "编号", "类别", "原因"):
            table.add_column(name)
        for row in rows:
            table.add_row(
                row["kind_zh"],
                row["object_type"],
                row["object_id"],
                row["category"],
                row["reason_zh"],
            )
        console.print(table)
    if fail_on_break and rows:
        raise typer.Exit(code=1)
