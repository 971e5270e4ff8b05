"""Alembic environment: runs against the connection or URL handed over by ``rural.migrate``."""

from alembic import context
from sqlalchemy import Connection

import rural.models  # noqa: F401  (registers every table)
from rural.db import make_engine
from rural.migrate import include_object
from rural.models import metadata

config = context.config


def _include_object(
    _obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    dialect = context.get_context().dialect.name
    return include_object(dialect, name, type_, reflected, compare_to)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
