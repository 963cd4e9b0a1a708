"""Alembic environment for the clinic database (scheduling, records and channel tables).

The URL comes from ``config.attributes["url"]`` when :mod:`bot.migrate` passes
one, else from ``sqlalchemy.url``, else from ``CLINIC_DATABASE_URL``. A
connection in ``config.attributes["connection"]`` is used as is. Otherwise all
pending migrations run in one transaction, behind an advisory lock on
PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` does the same), so two processes
starting at once migrate once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import bot.channel_tables  # noqa: F401  (registers the channel tables)
import bot.outreach.models  # noqa: F401  (registers the outreach tables)
import bot.records.models  # noqa: F401  (registers the records tables)
import bot.scheduling.models  # noqa: F401  (registers the scheduling tables)
from bot.db import Base, create_clinic_engine
from bot.settings import get_settings

# Arbitrary constant shared by every process migrating this database.
MIGRATION_LOCK_KEY = 727_001

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The database to migrate."""
    return (
        config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or get_settings().clinic_database_url
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL instead of running it (``alembic upgrade --sql``)."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run pending migrations against the live database."""
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_clinic_engine(_url())
    try:
        with engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
