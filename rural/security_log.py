"""The security log (logins, failed logins, refused actions) and the database rate limiter.

Each entry is written in its own transaction, so it survives the rollback of the action it
records. Counters live in the database (not in process memory), so a limit holds across every
server process. Entries are kept for a configurable period and then purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from rural import clock
from rural.db import write_session
from rural.errors import RateLimitedError
from rural.models import RateCounter, SecurityEvent, SecurityEventKind, WebSession

_COUNTER = RateCounter.__table__  # type: ignore[attr-defined]


def _clip(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= size else value[: size - 1] + "…"


def record(
    engine: Engine,
    *,
    kind: SecurityEventKind,
    username: str | None = None,
    ip: str | None = None,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one security event in a transaction of its own (committed before returning)."""
    with write_session(engine) as session:
        session.add(
            SecurityEvent(
                kind=kind,
                username=_clip(username, 50),
                ip=_clip(ip, 64),
                method=_clip(method, 10),
                path=_clip(path, 300),
                status=status,
                detail=_clip(detail, 500),
            )
        )


def events(
    session: Session,
    *,
    kind: SecurityEventKind | None = None,
    username: str | None = None,
    limit: int = 200,
) -> list[SecurityEvent]:
    """The latest security events, newest first."""
    statement = select(SecurityEvent).order_by(SecurityEvent.id.desc())  # type: ignore[union-attr]
    if kind is not None:
        statement = statement.where(SecurityEvent.kind == kind)  # type: ignore[arg-type]
    if username is not None:
        statement = statement.where(SecurityEvent.username == username)  # type: ignore[arg-type]
    return list(session.scalars(statement.limit(limit)))


@dataclass(frozen=True)
class Window:
    """A fixed counting window: ``limit`` events per ``length``."""

    limit: int
    length: timedelta

    def start(self, now: datetime) -> datetime:
        seconds = int(self.length.total_seconds())
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)

    def retry_after(self, now: datetime) -> int:
        """Seconds until the current window ends (at least 1)."""
        end = self.start(now) + self.length
        return max(1, int((end - now).total_seconds()) + 1)


def hit(engine: Engine, *, key: str, window: Window, now: datetime | None = None) -> int:
    """Count one event under ``key`` in the current window (atomic upsert); return the count."""
    at = now or clock.now()
    start = window.start(at)
    with write_session(engine) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert = insert(_COUNTER).values(key=key, window_start=start, count=1)
        stmt = upsert.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((_COUNTER.c.window_start == start, _COUNTER.c.count + 1), else_=1),
                "window_start": start,
            },
        ).returning(_COUNTER.c.count)
        return int(session.execute(stmt).scalar_one())


def count(engine: Engine, *, key: str, window: Window, now: datetime | None = None) -> int:
    """The count under ``key`` in the current window, without counting."""
    start = window.start(now or clock.now())
    with Session(engine) as session:
        value = session.execute(
            select(_COUNTER.c.count).where(_COUNTER.c.key == key, _COUNTER.c.window_start == start)
        ).scalar_one_or_none()
    return int(value or 0)


def reset(engine: Engine, *, key: str) -> None:
    with write_session(engine) as session:
        session.execute(delete(_COUNTER).where(_COUNTER.c.key == key))


def limit_public(
    engine: Engine,
    *,
    ip: str,
    window: Window,
    path: str | None = None,
    now: datetime | None = None,
) -> None:
    """Count one public request from ``ip``; raise RateLimitedError over the limit (the first
    refusal of a window is logged, not every one, so a flood cannot flood the log)."""
    at = now or clock.now()
    seen = hit(engine, key=f"public:ip:{ip}", window=window, now=at)
    if seen <= window.limit:
        return
    if seen == window.limit + 1:
        record(
            engine,
            kind=SecurityEventKind.RATE_LIMITED,
            ip=ip,
            method="GET",
            path=path,
            status=429,
            detail=f"more than {window.limit} public requests per {window.length}",
        )
    msg = "访问过于频繁,请稍后再试 (too many requests)"
    raise RateLimitedError(msg, retry_after=window.retry_after(at))


def purge(engine: Engine, *, retention_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete security events older than the retention period, stale counters and expired
    sessions. Returns the number of rows deleted per table."""
    at = now or clock.now()
    cutoff = at - timedelta(days=retention_days)
    with write_session(engine) as session:
        events_deleted = session.execute(
            delete(SecurityEvent).where(SecurityEvent.at < cutoff)  # type: ignore[arg-type]
        )
        counters_deleted = session.execute(
            delete(_COUNTER).where(_COUNTER.c.window_start < at - timedelta(days=1))
        )
        sessions_deleted = session.execute(
            delete(WebSession).where(WebSession.expires_at < at)  # type: ignore[arg-type]
        )
        return {
            "security_event": int(events_deleted.rowcount),  # type: ignore[attr-defined]
            "rate_counter": int(counters_deleted.rowcount),  # type: ignore[attr-defined]
            "web_session": int(sessions_deleted.rowcount),  # type: ignore[attr-defined]
        }


def total(session: Session, *, kind: SecurityEventKind | None = None) -> int:
    statement = select(func.count()).select_from(SecurityEvent)
    if kind is not None:
        statement = statement.where(SecurityEvent.kind == kind)  # type: ignore[arg-type]
    return int(session.execute(statement).scalar_one())
