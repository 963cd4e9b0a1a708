"""Database fixtures shared with the other backend test packages."""

from tests.fixtures_db import db_url, empty_db_url, migrated_url, scalar  # noqa: F401
