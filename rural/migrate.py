"""Alembic migrations, driven from code (no alembic.ini): upgrade, heads, current revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (creating every table on an empty database)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) in heads()


def include_object(
    dialect_name: str, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """What autogenerate compares: not PostGIS's own tables, not GiST indexes off PostgreSQL."""
    if type_ == "table" and reflected and compare_to is None:
        return False
    gist = type_ == "index" and bool(name) and str(name).endswith("_geom_gist")
    return not (gist and dialect_name != "postgresql")


def pending_model_changes(engine: Engine) -> list[Any]:
    """Differences between the models and the migrated database (empty when in step)."""
    from rural.models import metadata

    with engine.connect() as connection:
        dialect = connection.dialect.name

        def _include(
            _obj: object, name: str | None, type_: str, reflected: bool, other: object
        ) -> bool:
            return include_object(dialect, name, type_, reflected, other)

        context = MigrationContext.configure(
            connection, opts={"include_object": _include, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))
