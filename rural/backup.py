"""A consistent copy of a live database: SQLite's online backup API; pg_dump on PostgreSQL.

The SQLite copy is taken in one backup step, that is inside one read transaction: in WAL mode
the application keeps writing meanwhile, and the copy holds exactly the transactions committed
when the step began. The copy is written under a temporary name, switched to a self-contained
rollback journal, checked (``PRAGMA integrity_check``), synced and only then renamed.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from rural.errors import RuralError


class BackupError(RuralError):
    """The backup could not be made; the message says why. Nothing is left at the target."""


class PgDumpRequiredError(BackupError):
    """PostgreSQL is backed up with pg_dump; ``command`` is the one to run."""

    def __init__(self, message: str, *, command: str, restore: str) -> None:
        super().__init__(message)
        self.command = command
        self.restore = restore


@dataclass(frozen=True)
class BackupReport:
    source: Path
    path: Path
    size_bytes: int
    pages: int
    integrity: str

    def summary(self) -> str:
        return (
            f"已备份 {self.source} → {self.path} ({self.size_bytes / 1024 / 1024:,.1f} MB, "
            f"{self.pages:,} 页, 完整性检查: {self.integrity})"
        )


def pg_dump_commands(url: URL, path: Path) -> tuple[str, str]:
    """The pg_dump command for ``url`` (password left out: use PGPASSWORD or ~/.pgpass) and the
    pg_restore command that loads the dump into an empty database."""
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    target = bare.render_as_string(hide_password=False)
    dump = shlex.join(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", target])
    restore = shlex.join(["pg_restore", "--no-owner", "--dbname=<空数据库 URL>", str(path)])
    return dump, restore


def backup(engine: Engine, path: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the database behind ``engine`` to ``path`` while it stays in use."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        dump, restore = pg_dump_commands(url, path)
        msg = (
            "PostgreSQL 数据库请用 pg_dump 备份(一致的快照,不影响在线使用):\n"
            f"  {dump}\n恢复到空数据库:\n  {restore}"
        )
        raise PgDumpRequiredError(msg, command=dump, restore=restore)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        msg = f"只能备份 SQLite 文件或 PostgreSQL 数据库,收到 {url.render_as_string()}"
        raise BackupError(msg)
    source = Path(url.database)
    return backup_sqlite(source, path, overwrite=overwrite)


def backup_sqlite(source: Path, path: Path, *, overwrite: bool = False) -> BackupReport:
    if not source.is_file():
        msg = f"数据库文件 {source} 不存在"
        raise BackupError(msg)
    if path.exists():
        if path.resolve() == source.resolve():
            msg = f"备份文件 {path} 就是数据库本身"
            raise BackupError(msg)
        if not overwrite:
            msg = f"{path} 已存在;要覆盖请加 --force"
            raise BackupError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        pages, integrity = _copy(source, tmp)
        if integrity != "ok":
            msg = f"备份副本未通过完整性检查: {integrity}"
            raise BackupError(msg)
        with tmp.open("rb") as written:
            os.fsync(written.fileno())
        tmp.replace(path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
    return BackupReport(
        source=source, path=path, size_bytes=path.stat().st_size, pages=pages, integrity=integrity
    )


def _copy(source: Path, target: Path) -> tuple[int, str]:
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.execute("PRAGMA busy_timeout=30000")
            # one step = one read transaction: a consistent snapshot while writers carry on
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            integrity = str(dst.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            dst.close()
    except sqlite3.Error as exc:
        msg = f"备份 {source} 失败: {exc}"
        raise BackupError(msg) from exc
    finally:
        src.close()
    return pages, integrity
