"""The demo users' logins 示例账号: one random password per load, shared by every demo user and
hashed once. The plaintext goes into a file beside the database (mode 0600) and into the load
report, never into the database or a log.

The file for ``sqlite:///data/demo.db`` is ``data/demo.db.login.txt``; for other databases
``data/demo-login.txt`` (relative to the working directory).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import col, select

from rural import audit, users
from rural.db import write_session
from rural.demo.village_life import demo_username
from rural.enums import ChangeAction, Role
from rural.models import User
from rural.settings import sqlite_path

FILE_SUFFIX = ".login.txt"
OTHER_DATABASES_FILE = Path("data") / "demo-login.txt"
PASSWORD_LABEL = "密码："  # noqa: S105 (a label, not a secret)
PASSWORD_BYTES = 12  # 16 URL-safe characters
FILE_MODE = 0o600


def login_file_for(database_url: str) -> Path:
    """Where the logins of the demo in ``database_url`` are kept."""
    path = sqlite_path(database_url)
    if path is None:
        return OTHER_DATABASES_FILE
    return path.with_name(path.name + FILE_SUFFIX)


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def demo_usernames() -> list[str]:
    return [demo_username(role) for role in Role]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    unit_name: str


def demo_users(engine: Engine) -> list[DemoUser]:
    """The demo users still in the database, with their role and unit."""
    names = demo_usernames()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.username, a.role, u.name FROM user_account a"
                " JOIN unit u ON u.code = a.unit_code ORDER BY a.id"
            )
        ).all()
    return [DemoUser(str(n), Role(r), str(unit)) for n, r, unit in rows if n in names]


def login_text(people: list[DemoUser], password: str) -> str:
    """The logins as printed and saved: who has which role, and the one password."""
    width = max((len(p.username) for p in people), default=0) + 2
    lines = [
        f"示例账号（示例数据，仅供演示；这 {len(people)} 个账号共用一个随机密码，"
        "每次生成时更换）：",
        f"  {'用户名'.ljust(width - 3)}角色 / 所属单位",
    ]
    lines += [f"  {p.username.ljust(width)}{p.role.label} / {p.unit_name}" for p in people]
    lines += [
        f"  {PASSWORD_LABEL}{password}",
        "登录：用浏览器打开 rural serve 打印的地址（make run 会接着启动它），输入用户名和密码。",
    ]
    return "\n".join(lines) + "\n"


def password_in(saved: str) -> str | None:
    """The password written in a saved login text, or None when there is none."""
    for line in saved.splitlines():
        if line.strip().startswith(PASSWORD_LABEL):
            return line.strip().removeprefix(PASSWORD_LABEL).strip() or None
    return None


def write_login_file(path: Path, content: str) -> None:
    """Replace ``path`` with ``content``, readable and writable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), FILE_MODE)  # whatever the umask or an old file left
            out.write(content)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def reset_passwords(engine: Engine, *, actor: str, note: str) -> str:
    """Give every demo user one new random password (hashed once); returns it. Each reset is
    in the change log, without the password."""
    password = new_password()
    password_hash = users.hash_password(password)
    with write_session(engine) as session:
        found = session.exec(select(User).where(col(User.username).in_(demo_usernames()))).all()
        for user in found:
            user.password_hash = password_hash
            user.version += 1
            session.add(user)
            audit.record(
                session,
                actor=actor,
                action=ChangeAction.UPDATE,
                object_type="user",
                object_id=user.username,
                old={"password": "******"},
                new={"password": "(reset)"},
                note=note,
            )
    return password


def saved_note(path: Path) -> str:
    return f"（以上账号与密码已保存在 {path}，仅本人可读写。）"
