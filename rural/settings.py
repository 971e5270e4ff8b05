"""Typed settings read from the environment (``RURAL_`` prefix), read once and passed down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/rural.db"


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    raw = database_url[len(prefix) :].split("?", 1)[0]
    if raw in ("", ":memory:"):
        return None
    return Path(raw)
