"""Typed settings read from the environment (``RURAL_`` prefix), read once and passed down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rural.errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite:///data/rural.db"
PLACEHOLDER_SECRET = "changethis"  # noqa: S105 (refused outside development)


class Settings(BaseSettings):
    """Deployment settings. Every field can be set as ``RURAL_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RURAL_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://... for PostGIS",
    )
    environment: str = Field(default="development", description="development | production")
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="public address of the app, used in links inside saved maps",
    )
    tile_source: str = Field(
        default="none",
        description="basemap: none | tianditu | gaode | an intranet URL template with {z}/{x}/{y}",
    )
    tianditu_key: str = Field(default="", description="Tianditu tk key (secret, never logged)")
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    secret_key: SecretStr = Field(
        default=SecretStr(PLACEHOLDER_SECRET),
        description="signs API tokens (secret, never logged); must be set outside development",
    )
    access_token_minutes: int = Field(default=480, ge=1, description="API bearer token lifetime")
    session_hours: int = Field(default=12, ge=1, description="page login session lifetime")
    security_log_retention_days: int = Field(default=180, ge=1)
    security_log_purge_hours: float = Field(
        default=24,
        ge=0,
        description="the server purges the security log at start and then this often; 0 = never",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="per user name from one address per window"
    )
    login_max_failures_per_user: int = Field(
        default=50, ge=1, description="per user name from all addresses together per window"
    )
    login_max_failures_per_ip: int = Field(default=30, ge=1, description="per address per window")
    login_window_minutes: int = Field(default=15, ge=1)
    public_requests_per_minute: int = Field(
        default=60, ge=1, description="public board requests per address per window"
    )
    public_window_seconds: int = Field(default=60, ge=1, description="public board window")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "development" and (
            self.secret_key.get_secret_value() in ("", PLACEHOLDER_SECRET)
            or len(self.secret_key.get_secret_value()) < 32
        ):
            msg = (
                f"RURAL_SECRET_KEY must be set to a random value of at least 32 characters"
                f" when RURAL_ENVIRONMENT is {self.environment!r}"
            )
            raise ValueError(msg)
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use.

    A value that cannot be used raises :class:`SettingsError` naming the variables and why,
    without their values and without pydantic's error (which quotes them) attached."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = "_".join(str(part) for part in error.get("loc", ())).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"RURAL_{field}: {message}" if field else message)
    return "; ".join(lines)


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    raw = database_url[len(prefix) :].split("?", 1)[0]
    if raw in ("", ":memory:"):
        return None
    return Path(raw)
