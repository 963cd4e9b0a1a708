"""Bring the clinic database schema up to date, without an ``alembic.ini``.

``python -m bot.migrate`` upgrades ``CLINIC_DATABASE_URL`` to the latest
revision; ``python -m bot.migrate revision --autogenerate -m "add coverage"``
drafts a new migration in ``bot/migrations/versions`` (review it by hand).
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

logger = logging.getLogger(__name__)

# Alembic's ``context`` is process-global, so migrations in one process take turns;
# across processes the migration environment's database locks take over.
_alembic_lock = threading.Lock()


def make_config(url: str | None = None) -> Config:
    """An Alembic config pointing at ``bot/migrations`` (URL passed as an attribute, never logged)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply every pending migration (default database: ``CLINIC_DATABASE_URL``)."""
    with _alembic_lock:
        command.upgrade(make_config(url), revision)


def downgrade(url: str | None, revision: str) -> None:
    """Revert to ``revision`` (``base`` empties the database); for development only."""
    with _alembic_lock:
        command.downgrade(make_config(url), revision)


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from bot.db import create_clinic_engine
    from bot.settings import get_settings

    engine = create_clinic_engine(url or get_settings().clinic_database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision in ``bot/migrations/versions``."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(make_config()).get_current_head()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``upgrade`` (default), ``downgrade REV``, ``current``, ``revision -m MSG``."""
    parser = argparse.ArgumentParser(prog="python -m bot.migrate", description=__doc__)
    parser.add_argument("--url", help="database URL (default: CLINIC_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("upgrade", help="apply pending migrations")
    down = sub.add_parser("downgrade", help="revert to a revision")
    down.add_argument("revision")
    sub.add_parser("current", help="print the database's revision")
    rev = sub.add_parser("revision", help="draft a new migration")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command in (None, "upgrade"):
        upgrade(args.url)
    elif args.command == "downgrade":
        downgrade(args.url, args.revision)
    elif args.command == "current":
        print(current_revision(args.url) or "(empty)")
    else:
        command.revision(make_config(args.url), message=args.message, autogenerate=args.autogenerate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
