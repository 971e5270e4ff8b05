"""Security records: the security log, rate-limit counters, personal access tokens and page
sessions. Counters and sessions live in the database so they hold across server processes."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from rural.enums import LabeledEnum
from rural.models.base import UTCDateTime, enum_type, utcnow


class SecurityEventKind(LabeledEnum):
    LOGIN = ("login", "登录成功")
    LOGIN_FAILED = ("login_failed", "登录失败")
    LOGIN_LOCKED = ("login_locked", "登录被限制")
    LOGOUT = ("logout", "退出登录")
    REFUSED = ("refused", "越权操作被拒绝")
    AUTH_FAILED = ("auth_failed", "凭据无效")
    CSRF_FAILED = ("csrf_failed", "表单校验失败")
    RATE_LIMITED = ("rate_limited", "访问过于频繁")
    TOKEN_CREATED = ("token_created", "创建访问令牌")
    TOKEN_REVOKED = ("token_revoked", "撤销访问令牌")


class SecurityEvent(SQLModel, table=True):
    """One entry of the security log, written in its own transaction (it survives the rollback
    of the refused action) and purged after the retention period."""

    __tablename__ = "security_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: SecurityEventKind = Field(sa_type=enum_type(SecurityEventKind), index=True)
    username: str | None = Field(default=None, max_length=50, index=True)
    ip: str | None = Field(default=None, max_length=64)
    method: str | None = Field(default=None, max_length=10)
    path: str | None = Field(default=None, max_length=300)
    status: int | None = None
    detail: str | None = Field(default=None, max_length=500)


class RateCounter(SQLModel, table=True):
    """A fixed-window counter (failed logins per user or address, public requests per address)."""

    __tablename__ = "rate_counter"

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    count: int = 0


class PersonalAccessToken(SQLModel, table=True):
    """A read-only token for GIS clients; only its SHA-256 is stored. Expires; revocable."""

    __tablename__ = "personal_access_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=50)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16, description="the first characters, to recognise it")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A page login: the cookie carries a random token, the table its SHA-256 and the CSRF
    token the session's forms must return."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user_expires", "user_id", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
