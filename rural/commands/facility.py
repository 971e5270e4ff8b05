"""``rural facility status KIND ID TO_STATUS --note ...`` and ``rural facility history KIND ID``:
a facility's status lifecycle from the command line (acting as the operator, named in the log)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rural.commands import print_error
from rural.errors import RuralError, ValidationError

console = Console()
err_console = Console(stderr=True)

facility_app = typer.Typer(
    help="Facility status 设施状态: change it (with a note) and list its history.",
    no_args_is_help=True,
)

KIND_HELP = (
    "collection_point 收集点 | transfer_station 转运站 | treatment_facility 处理设施 | "
    "sewage_facility 污水设施 | public_toilet 公厕"
)
FACILITY_KINDS = {
    "collection_point": "收集点",
    "transfer_station": "转运站",
    "treatment_facility": "处理设施",
    "sewage_facility": "污水设施",
    "public_toilet": "公厕",
}


def _kind(text: str) -> str:
    """A facility kind by its id or its Chinese label."""
    from rural.lifecycle import STATEFUL_KINDS

    for key, short in FACILITY_KINDS.items():
        if text in (key, short, STATEFUL_KINDS[key].label):
            return key
    msg = f"KIND {text!r} is not a facility kind ({KIND_HELP})"
    raise ValidationError(msg, field="kind", value=text)


def _labels(object_type: str) -> dict[str, str]:
    from rural.lifecycle import STATEFUL_KINDS, default_lifecycles

    cycle = default_lifecycles()[STATEFUL_KINDS[object_type].lifecycle]
    return {str(m): m.label for m in cycle.enum}


@facility_app.command("status")
def facility_status(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    object_id: Annotated[int, typer.Argument(metavar="ID", help="the facility's id")],
    to_status: Annotated[
        str, typer.Argument(help="new status, e.g. operating 运行 | fault 故障 | stopped 停运")
    ],
    note: Annotated[str, typer.Option(help="why (recorded with the change)")],
    on: Annotated[
        str | None, typer.Option(help="effective date YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Change a facility's status: the lifecycle must allow it; actor, time, from, to and the
    note are recorded in the status history and the change log."""
    from rural.commands.divisions import current_actor, migrated_engine
    from rural.db import write_session
    from rural.lifecycle import change_status
    from rural.permissions import Actor

    try:
        object_type = _kind(kind)
        labels = _labels(object_type)
        status = _status_value(to_status, labels)
        effective = _date(on)
        with write_session(migrated_engine()) as session:
            change = change_status(
                session,
                actor=Actor.operator(current_actor()),
                object_type=object_type,
                object_id=object_id,
                to_status=status,
                note=note,
                effective_on=effective,
            )
            old = labels.get(change.from_status or "", change.from_status or "—")
            new = labels.get(change.to_status, change.to_status)
            day = change.effective_on
    except RuralError as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc
    console.print(f"{kind} {object_id}: {old} → {new} ({day.isoformat()} 起, {note})")


@facility_app.command("history")
def facility_history(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    object_id: Annotated[int, typer.Argument(metavar="ID", help="the facility's id")],
) -> None:
    """Every status change of one facility, in effective order."""
    from rural.commands.divisions import migrated_engine
    from rural.db import read_session
    from rural.lifecycle import STATEFUL_KINDS, status_history

    try:
        object_type = _kind(kind)
        labels = _labels(object_type)
        with read_session(migrated_engine()) as session:
            if session.get(STATEFUL_KINDS[object_type].model, object_id) is None:
                msg = f"{STATEFUL_KINDS[object_type].label} {object_id} 不存在 (not found)"
                raise ValidationError(msg, field="id", value=object_id)
            changes = status_history(session, object_type=object_type, object_id=object_id)
    except RuralError as exc:
        print_error(err_console, exc)
        raise typer.Exit(code=2) from exc
    table = Table(title=f"{STATEFUL_KINDS[object_type].label} {object_id} 状态历史")
    for name in ("生效日期", "原状态", "新状态", "操作人", "记录时间(UTC)", "备注"):
        table.add_column(name)
    for c in changes:
        table.add_row(
            c.effective_on.isoformat(),
            labels.get(c.from_status or "", c.from_status or "—"),
            labels.get(c.to_status, c.to_status),
            c.actor,
            c.recorded_at.strftime("%Y-%m-%d %H:%M"),
            c.note or "",
        )
    if not changes:
        console.print(f"{STATEFUL_KINDS[object_type].label} {object_id}: 无状态变更记录")
        return
    console.print(table)


def _status_value(text: str, labels: dict[str, str]) -> str:
    """A status by its value or Chinese label (unknown text goes to the lifecycle to refuse)."""
    for value, label in labels.items():
        if text in (value, label):
            return value
    return text


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--on {text!r} is not a date YYYY-MM-DD"
        raise ValidationError(msg, field="on", value=text) from None
