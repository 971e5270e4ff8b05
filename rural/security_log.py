"""The security log (logins, failed logins, refused actions) and the database rate limiter.

Each entry is written in its own transaction, so it survives the rollback of the action it
records. Counters live in the database (not in process memory), so a limit holds across every
server process. Entries are kept for a configurable period and then purged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, func, literal, select
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
    """``limit`` events per ``length``, counted from the first event of a window: a window
    opens with the first event after the previous one closed."""

    limit: int
    length: timedelta


@dataclass(frozen=True)
class Tally:
    """The events counted under a key in its open window (0 and None when none is open)."""

    count: int
    window_start: datetime | None

    def retry_after(self, window: Window, now: datetime) -> int:
        """Seconds until the window closes (at least 1)."""
        end = (self.window_start or now) + window.length
        return max(1, math.ceil((end - now).total_seconds()))


def hit(engine: Engine, *, key: str, window: Window, now: datetime | None = None) -> Tally:
    """Count one event under ``key`` (one atomic upsert; a closed window restarts at 1)."""
    at = now or clock.now()
    started = _COUNTER.c.window_start
    live = started > at - window.length
    with write_session(engine) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert = insert(_COUNTER).values(key=key, window_start=at, count=1)
        stmt = upsert.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((live, _COUNTER.c.count + 1), else_=1),
                "window_start": case((live, started), else_=literal(at, started.type)),
            },
        ).returning(_COUNTER.c.count, started)
        row = session.execute(stmt).one()
        return Tally(int(row[0]), row[1])


def current(engine: Engine, *, key: str, window: Window, now: datetime | None = None) -> Tally:
    """The events under ``key`` in its open window, without counting one."""
    at = now or clock.now()
    with Session(engine) as session:
        row = session.execute(
            select(_COUNTER.c.count, _COUNTER.c.window_start).where(
                _COUNTER.c.key == key, _COUNTER.c.window_start > at - window.length
            )
        ).one_or_none()
    return Tally(0, None) if row is None else Tally(int(row[0]), row[1])


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
    if seen.count <= window.limit:
        return
    if seen.count == window.limit + 1:
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
    raise RateLimitedError(msg, retry_after=seen.retry_after(window, at))


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
