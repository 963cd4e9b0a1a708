"""Database fixtures for the outreach tests (SQLite and a throwaway PostgreSQL, like scheduling's)."""

from tests.fixtures_db import db_url, empty_db_url, migrated_url, scalar  # noqa: F401
