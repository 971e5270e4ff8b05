"""Engines and sessions. SQLite by default (WAL, foreign keys, busy timeout, immediate writes);
PostgreSQL + PostGIS when ``RURAL_DATABASE_URL`` says so. Nothing here runs at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from rural.settings import Settings, sqlite_path

WRITE_OPTION = "rural_write"


class _WriteQueue:
    """The writers of one SQLite file in this process, waiting in line.

    SQLite lets one writer in at a time; the others poll under the busy timeout with growing
    sleeps, so under load some wait far longer than their turn. Writers of this process take
    this lock first and enter one after another; writers of other processes still meet SQLite's
    busy timeout. A writer that waits longer than the busy timeout goes on without the lock (and
    SQLite's timeout then decides), so the lock never fails a write the database would accept.
    """

    def __init__(self, timeout_s: float) -> None:
        self.lock = threading.RLock()
        self.timeout_s = timeout_s


_QUEUE_BY_FILE: dict[Path, _WriteQueue] = {}
_QUEUE_BY_URL: dict[str, _WriteQueue] = {}  # every URL naming the file shares its queue
_QUEUES_LOCK = threading.Lock()


def _register_write_queue(engine: Engine, path: Path, timeout_s: float) -> None:
    with _QUEUES_LOCK:
        queue = _QUEUE_BY_FILE.setdefault(path.resolve(), _WriteQueue(timeout_s))
        _QUEUE_BY_URL[str(engine.url)] = queue


def _write_queue(engine: Engine) -> _WriteQueue | None:
    return _QUEUE_BY_URL.get(str(engine.url)) if engine.dialect.name == "sqlite" else None


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> Engine:
    """An engine for ``url``. SQLite files get WAL, foreign keys, a busy timeout and
    ``BEGIN IMMEDIATE`` for sessions opened with :func:`write_session`."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms)
        if path is not None:
            _register_write_queue(engine, path, busy_timeout_ms / 1000)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, echo=echo, pool_pre_ping=True)


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling defers it).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_engine(engine: Engine) -> Engine:
    """The same engine, but transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction begins immediately; commits on success, rolls back on error.

    On a SQLite file, this process's writers queue for their turn (:class:`_WriteQueue`).
    """
    queue = _write_queue(engine)
    queued = queue is not None and queue.lock.acquire(timeout=queue.timeout_s)
    try:
        with Session(write_engine(engine), expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if queued and queue is not None:
            queue.lock.release()


def database_size_bytes(engine: Engine) -> int:
    """On-disk size of the database (SQLite file plus WAL, or pg_database_size)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return 0
        base = Path(url.database)
        return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
    with engine.connect() as conn:
        value = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        return int(value or 0)
