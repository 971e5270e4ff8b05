"""``rural user ...`` (people, their passwords and access tokens) and ``rural security ...`` (the
security log and its retention purge). The person at the server's command line acts as the
operator: trusted, but named in the change log (``rural --as NAME``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from rural.commands import print_error
from rural.enums import Line, Role
from rural.errors import RuralError
from rural.permissions import Actor
from rural.users import UserChanges

user_app = typer.Typer(help="Users (用户): add, list, deactivate, reset passwords, access tokens.")
security_app = typer.Typer(help="Security log (安全日志): show, purge after the retention period.")
console = Console()
err_console = Console(stderr=True)

RoleOption = Annotated[
    Role, typer.Option("--role", help="county_admin | township_official | village_cadre | ...")
]


def _engine() -> Engine:
    from rural.commands.divisions import migrated_engine

    return migrated_engine()


def _operator() -> Actor:
    from rural.commands.divisions import current_actor

    return Actor.operator(current_actor())


def _fail(exc: RuralError) -> typer.Exit:
    print_error(err_console, exc)
    return typer.Exit(code=2)


def read_password(*, confirm: bool = True) -> str:
    """From a hidden prompt on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@user_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="login name (letters, digits, _.@-)")],
    role: RoleOption,
    unit: Annotated[str, typer.Option("--unit", help="12-digit code of the user's unit")],
    line: Annotated[
        Line | None, typer.Option("--line", help="条线, for department_staff only")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--name", help="display name")] = None,
) -> None:
    """Create a user (the first county admin too). The password comes from a prompt or stdin."""
    from rural import users
    from rural.db import write_session

    password = read_password()
    engine = _engine()
    try:
        with write_session(engine) as session:
            user = users.create_user(
                session,
                actor=_operator(),
                username=username,
                role=role,
                unit_code=unit,
                password=password,
                line=line,
                display_name=display_name,
            )
            console.print(f"已创建用户 {user.username} ({user.role.label}, {user.unit_code})")
    except RuralError as exc:
        raise _fail(exc) from exc


@user_app.command("list")
def list_users() -> None:
    """Every user with role, unit, line and state."""
    from sqlmodel import col, select

    from rural.models import User

    engine = _engine()
    table = Table(title="用户")
    for header in ("用户名", "姓名", "角色", "单位", "条线", "状态"):
        table.add_column(header)
    with Session(engine) as session:
        for user in session.exec(select(User).order_by(col(User.username))):
            table.add_row(
                user.username,
                user.display_name or "",
                user.role.label,
                user.unit_code,
                user.line.label if user.line else "",
                "正常" if user.active else "已停用",
            )
    console.print(table)


def _change(username: str, changes: UserChanges, done: str) -> None:
    from rural import users
    from rural.db import write_session

    engine = _engine()
    with Session(engine) as session:
        user = users.user_by_name(session, username)
    if user is None or user.id is None:
        print_error(err_console, f"用户 {username} 不存在")
        raise typer.Exit(code=2)
    try:
        with write_session(engine) as session:
            users.update_user(
                session,
                actor=_operator(),
                user_id=user.id,
                changes=changes,
                expected_version=user.version,
            )
    except RuralError as exc:
        raise _fail(exc) from exc
    console.print(done)


@user_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument()]) -> None:
    """Deactivate a user: every token and session of theirs stops working at once."""
    _change(username, UserChanges(active=False), f"已停用 {username}")


@user_app.command("activate")
def activate(username: Annotated[str, typer.Argument()]) -> None:
    """Re-activate a deactivated user."""
    _change(username, UserChanges(active=True), f"已启用 {username}")


@user_app.command("reset-password")
def reset_password(username: Annotated[str, typer.Argument()]) -> None:
    """Set a new password (prompt or stdin); every session and token of the user ends."""
    _change(username, UserChanges(password=read_password()), f"已重置 {username} 的密码")


@user_app.command("token")
def token(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "GIS",
    days: Annotated[int, typer.Option("--days", min=1, max=366)] = 90,
) -> None:
    """Create a read-only personal access token (for QGIS/GDAL); printed once, stored hashed."""
    from rural import security_log, users
    from rural.db import write_session
    from rural.models import SecurityEventKind

    engine = _engine()
    try:
        with write_session(engine) as session:
            user = users.user_by_name(session, username)
            if user is None or not user.active:
                print_error(err_console, f"用户 {username} 不存在或已停用")
                raise typer.Exit(code=2)
            raw, created = users.create_token(session, user=user, name=name, days=days)
            expires = created.expires_at.date().isoformat()
    except RuralError as exc:
        raise _fail(exc) from exc
    security_log.record(
        engine,
        kind=SecurityEventKind.TOKEN_CREATED,
        username=username,
        path="cli",
        detail=f"token {created.id} {created.prefix}… (command line)",
    )
    err_console.print(f"令牌 {created.id} 有效期至 {expires}; 只显示这一次:")
    print(raw)  # stdout, so it can be piped


@security_app.command("log")
def show_log(
    kind: Annotated[str | None, typer.Option("--kind", help="login_failed, refused, ...")] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
) -> None:
    """The latest security events, newest first."""
    from rural import security_log
    from rural.models import SecurityEventKind

    try:
        chosen = SecurityEventKind(kind) if kind else None
    except ValueError:
        print_error(err_console, f"无效的 --kind {kind!r}")
        raise typer.Exit(code=2) from None
    engine = _engine()
    table = Table(title="安全日志")
    for header in ("时间 (UTC)", "事件", "用户", "地址", "请求", "说明"):
        table.add_column(header)
    with Session(engine) as session:
        for event in security_log.events(session, kind=chosen, username=user, limit=limit):
            table.add_row(
                event.at.strftime("%Y-%m-%d %H:%M:%S"),
                event.kind.label,
                event.username or "",
                event.ip or "",
                f"{event.method or ''} {event.path or ''}".strip(),
                event.detail or "",
            )
    console.print(table)


@security_app.command("purge")
def purge(
    days: Annotated[
        int | None,
        typer.Option("--days", min=1, help="keep this many days (default: the setting, 180)"),
    ] = None,
) -> None:
    """Delete security events older than the retention period, stale counters, dead sessions."""
    from rural import security_log
    from rural.settings import get_settings

    keep = days or get_settings().security_log_retention_days
    deleted = security_log.purge(_engine(), retention_days=keep)
    console.print(
        f"保留 {keep} 天: 删除安全日志 {deleted['security_event']} 条, "
        f"计数器 {deleted['rate_counter']} 个, 过期会话 {deleted['web_session']} 个"
    )
