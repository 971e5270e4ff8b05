"""People: users, their passwords (Argon2), sign-in with database rate limits, page sessions and
personal access tokens. Every change to a user lands in the change log in the same transaction.

A user's role, unit and line are read from the database on every request (``actor_for``), so
a reassigned or deactivated cadre loses access at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from rural import audit, clock, codes, security_log
from rural.enums import ChangeAction, Line, Role
from rural.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    StaleVersionError,
    ValidationError,
)
from rural.models import (
    PersonalAccessToken,
    SecurityEvent,
    SecurityEventKind,
    Unit,
    User,
    WebSession,
)
from rural.permissions import Action, Actor, Domain, Policy, default_policy

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,50}$")
TOKEN_PREFIX = "rpat_"  # noqa: S105 (a marker, not a secret)
# What the change log keeps of a user (never the password hash).
USER_FIELDS = ["username", "display_name", "role", "unit_code", "line", "phone", "active"]


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (same time either way)."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches a stored hash (False when there is none)."""
    if not password_hash:
        return False
    return bool(_hasher().verify(password, password_hash))


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        msg = (
            f"密码长度须为 {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} 个字符"
            f" (password: {len(password)} characters)"
        )
        raise ValidationError(msg, field="password", value=f"{len(password)} characters")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def actor_for(user: User) -> Actor:
    """The domain rule's view of a user, as stored now."""
    return Actor(
        username=user.username,
        role=user.role,
        unit_code=user.unit_code,
        line=user.line,
        active=user.active,
    )


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does: bearer tokens carry it, so a reset revokes them."""
    return sha256(user.password_hash or "")[:16]


# ---------------------------------------------------------------- users


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        msg = f"用户 {user_id} 不存在 (user {user_id} not found)"
        raise NotFoundError(msg)
    return user


def user_by_name(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(session: Session, *, actor: Actor, policy: Policy | None = None) -> list[User]:
    """The users whose unit the actor may manage."""
    rule = policy or default_policy()
    users = session.exec(select(User).order_by(col(User.unit_code), col(User.username))).all()
    return [
        u
        for u in users
        if rule.allows(actor, Action.MANAGE_USERS, unit_code=u.unit_code, domain=Domain.USERS)
    ]


def _check_unit(session: Session, unit_code: str) -> None:
    try:
        codes.validate(unit_code)
    except ValidationError as exc:
        msg = f"unit_code: {exc}"
        raise ValidationError(msg, field="unit_code", value=unit_code) from None
    if session.get(Unit, unit_code) is None:
        msg = f"单位 {unit_code} 不存在 (unit_code {unit_code!r} not found)"
        raise ValidationError(msg, field="unit_code", value=unit_code)


def _check_line(role: Role, line: Line | None) -> None:
    if role == Role.DEPARTMENT_STAFF and line is None:
        msg = "条线部门人员须指定条线 (line is required for department_staff)"
        raise ValidationError(msg, field="line", value=None)
    if role != Role.DEPARTMENT_STAFF and line is not None:
        msg = f"只有条线部门人员有条线 (line is only for department_staff, not {role.value})"
        raise ValidationError(msg, field="line", value=line.value)


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: Role,
    unit_code: str,
    password: str,
    line: Line | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    policy: Policy | None = None,
) -> User:
    """Create a user bound to ``unit_code`` (and everything beneath it). The caller commits."""
    # Hash first: before any query, so a SQLite write transaction is not held while hashing.
    password_hash = hash_password(password)
    if not USERNAME_RE.match(username):
        msg = f"用户名须为 2-50 位字母、数字或 _.@- (username {username!r})"
        raise ValidationError(msg, field="username", value=username)
    _check_unit(session, unit_code)
    (policy or default_policy()).check(
        actor, Action.MANAGE_USERS, unit_code=unit_code, domain=Domain.USERS
    )
    _check_line(role, line)
    if user_by_name(session, username) is not None:
        msg = f"用户名 {username} 已存在 (username {username!r} is taken)"
        raise ConflictError(msg)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        unit_code=unit_code,
        line=line,
        phone=phone,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action=ChangeAction.CREATE,
        object_type="user",
        object_id=user.username,
        new=audit.snapshot(user, USER_FIELDS),
    )
    return user


@dataclass(frozen=True)
class UserChanges:
    """What an administrator changes about a user; None leaves a field as it is."""

    active: bool | None = None
    password: str | None = None
    role: Role | None = None
    unit_code: str | None = None
    line: Line | None = None
    clear_line: bool = False
    display_name: str | None = None
    phone: str | None = None


def update_user(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    changes: UserChanges,
    expected_version: int,
    note: str | None = None,
    policy: Policy | None = None,
) -> User:
    """Deactivate, reactivate, reset the password, change the unit, role or line of a user.

    The actor must manage users in the user's current unit and, when moving them, in the new
    one. Checks the version (StaleVersionError), writes version + 1 and a change-log row.
    """
    rule = policy or default_policy()
    new_hash = hash_password(changes.password) if changes.password is not None else None
    user = get_user(session, user_id)
    rule.check(actor, Action.MANAGE_USERS, unit_code=user.unit_code, domain=Domain.USERS)
    if changes.unit_code is not None and changes.unit_code != user.unit_code:
        _check_unit(session, changes.unit_code)
        rule.check(actor, Action.MANAGE_USERS, unit_code=changes.unit_code, domain=Domain.USERS)
    if user.version != expected_version:
        msg = f"用户 {user.username} 已被他人修改 (version {expected_version} is stale)"
        raise StaleVersionError(msg, current_version=user.version)
    if changes.active is False and user.username == actor.username:
        msg = "不能停用自己的账号 (you cannot deactivate yourself)"
        raise ConflictError(msg)
    old = audit.snapshot(user, USER_FIELDS)
    role = changes.role or user.role
    line = None if changes.clear_line else (changes.line or user.line)
    if role != Role.DEPARTMENT_STAFF and changes.line is None:
        line = None
    _check_line(role, line)
    values: dict[str, Any] = {"role": role, "line": line}
    for name in ("active", "unit_code", "display_name", "phone"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = value
    if new_hash is not None:
        values["password_hash"] = new_hash
    user.sqlmodel_update(values)
    user.version = expected_version + 1
    session.add(user)
    session.flush()
    before, after = audit.diff(old, audit.snapshot(user, USER_FIELDS))
    if changes.password is not None:
        before["password"], after["password"] = "******", "(reset)"
    audit.record(
        session,
        actor=actor.username,
        action=ChangeAction.UPDATE,
        object_type="user",
        object_id=user.username,
        old=before,
        new=after,
        note=note,
    )
    if new_hash is not None:
        _end_credentials(session, user)
    return user


def _end_credentials(session: Session, user: User) -> None:
    """After a password reset nothing issued before it works: every page session of the user
    ends and every personal access token is revoked (API bearer tokens carry a fingerprint of
    the password hash and fail by themselves)."""
    now = clock.now()
    for web in session.exec(
        select(WebSession).where(
            WebSession.user_id == user.id, col(WebSession.revoked_at).is_(None)
        )
    ):
        web.revoked_at = now
        session.add(web)
    for token in session.exec(
        select(PersonalAccessToken).where(
            PersonalAccessToken.user_id == user.id, col(PersonalAccessToken.revoked_at).is_(None)
        )
    ):
        token.revoked_at = now
        session.add(token)


# ---------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed per window: for one name from one address (the lock a guesser
    meets), for one name from all addresses together (guessing spread over many machines), and
    from one address for all names. A guesser at one machine locks the name there only; guessing
    from many machines locks the name everywhere except at addresses its owner logged in from in
    the last 30 days (:data:`KNOWN_ADDRESS_DAYS`), so the owner still logs in from their own."""

    max_failures: int = 5
    max_failures_per_user: int = 50
    max_failures_per_ip: int = 30
    window: timedelta = timedelta(minutes=15)


KNOWN_ADDRESS_DAYS = timedelta(days=30)


def _known_address(engine: Engine, name: str, ip: str, *, since: datetime) -> bool:
    """Whether the user logged in from ``ip`` since ``since`` (from the security log)."""
    stmt = (
        select(SecurityEvent.id)
        .where(
            SecurityEvent.kind == SecurityEventKind.LOGIN,
            func.lower(col(SecurityEvent.username)) == name,
            SecurityEvent.ip == ip,
            col(SecurityEvent.at) >= since,
        )
        .limit(1)
    )
    with Session(engine) as session:
        return session.exec(stmt).first() is not None


def authenticate(
    engine: Engine,
    *,
    username: str,
    password: str,
    ip: str,
    limits: LoginLimits,
    via: str = "api",
) -> User:
    """The active user with this name and password, or raise.

    Refuses (RateLimitedError, without checking the password) once the name from this address,
    the name from everywhere, or the address has had too many failures in the current window
    (:class:`LoginLimits`). Logs every outcome in the security log.
    """
    name = username.lower()
    pair_key, total_key, ip_key = f"login:user:{name}@{ip}", f"login:user:{name}", f"login:ip:{ip}"
    counted = {  # key -> window
        pair_key: security_log.Window(limits.max_failures, limits.window),
        total_key: security_log.Window(limits.max_failures_per_user, limits.window),
        ip_key: security_log.Window(limits.max_failures_per_ip, limits.window),
    }
    now = clock.now()
    tallies = {
        key: security_log.current(engine, key=key, window=window, now=now)
        for key, window in counted.items()
    }
    full = [key for key, tally in tallies.items() if tally.count >= counted[key].limit]
    if full == [total_key] and _known_address(engine, name, ip, since=now - KNOWN_ADDRESS_DAYS):
        full = []  # guessing from everywhere does not lock the owner out of their own machine
    if full:
        security_log.record(
            engine,
            kind=SecurityEventKind.LOGIN_LOCKED,
            username=username,
            ip=ip,
            path=via,
            status=429,
            detail="failures in window: "
            + ", ".join(f"{key} {tallies[key].count}/{counted[key].limit}" for key in full),
        )
        msg = "登录失败次数过多,请稍后再试 (too many failed logins)"
        retry = max(tallies[key].retry_after(counted[key], now) for key in full)
        raise RateLimitedError(msg, retry_after=retry)
    with Session(engine) as session:
        user = user_by_name(session, username)
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    ok, _ = _hasher().verify_and_update(password, stored)
    if user is None or not ok or not user.active:
        for key, window in counted.items():
            security_log.hit(engine, key=key, window=window, now=now)
        reason = "unknown user" if user is None else "inactive" if ok else "wrong password"
        security_log.record(
            engine,
            kind=SecurityEventKind.LOGIN_FAILED,
            username=username,
            ip=ip,
            path=via,
            status=401,
            detail=reason,
        )
        msg = "用户名或密码错误 (wrong user name or password)"
        raise AuthenticationError(msg)
    security_log.reset(engine, key=pair_key)
    security_log.record(
        engine, kind=SecurityEventKind.LOGIN, username=user.username, ip=ip, path=via, status=200
    )
    return user


# ---------------------------------------------------------------- page sessions


def open_session(session: Session, *, user: User, hours: int) -> tuple[str, WebSession]:
    """A new page session; returns the raw cookie value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    web = WebSession(
        token_hash=sha256(raw),
        user_id=user.id or 0,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=clock.now() + timedelta(hours=hours),
    )
    session.add(web)
    session.flush()
    return raw, web


def resolve_session(session: Session, raw: str) -> tuple[WebSession, User] | None:
    """The live session and its active user for a cookie value, else None."""
    web = session.exec(select(WebSession).where(WebSession.token_hash == sha256(raw))).first()
    if web is None or web.revoked_at is not None or web.expires_at <= clock.now():
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.active:
        return None
    return web, user


def close_session(session: Session, *, raw: str) -> None:
    web = session.exec(select(WebSession).where(WebSession.token_hash == sha256(raw))).first()
    if web is not None and web.revoked_at is None:
        web.revoked_at = clock.now()
        session.add(web)


def csrf_matches(web: WebSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(web.csrf_token, submitted or "")


# ---------------------------------------------------------------- personal access tokens


def create_token(
    session: Session, *, user: User, name: str, days: int = 90
) -> tuple[str, PersonalAccessToken]:
    """A new read-only personal access token; the raw value is returned once, never stored."""
    if not 1 <= days <= 366:
        msg = f"有效期须为 1-366 天 (days: {days})"
        raise ValidationError(msg, field="days", value=days)
    clean = name.strip()
    if not 1 <= len(clean) <= 50:
        msg = "令牌名称须为 1-50 个字符 (name)"
        raise ValidationError(msg, field="name", value=name)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken(
        user_id=user.id or 0,
        name=clean,
        token_hash=sha256(raw),
        prefix=raw[:12],
        expires_at=clock.now() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=user.username,
        action=ChangeAction.CREATE,
        object_type="personal_access_token",
        object_id=token.id or 0,
        new={"name": clean, "prefix": token.prefix, "expires_at": token.expires_at.isoformat()},
    )
    return raw, token


def list_tokens(session: Session, *, user: User) -> list[PersonalAccessToken]:
    statement = (
        select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == user.id)
        .order_by(col(PersonalAccessToken.id))
    )
    return list(session.exec(statement))


def revoke_token(session: Session, *, user: User, token_id: int) -> PersonalAccessToken:
    """Revoke one of the user's own tokens (another user's token is 'not found')."""
    token = session.get(PersonalAccessToken, token_id)
    if token is None or token.user_id != user.id:
        msg = f"令牌 {token_id} 不存在 (token {token_id} not found)"
        raise NotFoundError(msg)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.add(token)
        audit.record(
            session,
            actor=user.username,
            action=ChangeAction.UPDATE,
            object_type="personal_access_token",
            object_id=token_id,
            old={"revoked_at": None},
            new={"revoked_at": token.revoked_at.isoformat()},
        )
    return token


def resolve_token(session: Session, raw: str) -> User | None:
    """The active user behind a live personal access token, else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = session.exec(
        select(PersonalAccessToken).where(PersonalAccessToken.token_hash == sha256(raw))
    ).first()
    if token is None or token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    user = session.get(User, token.user_id)
    return user if user is not None and user.active else None
