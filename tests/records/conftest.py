"""Database fixtures shared with the other backend test packages, plus a records reset.

The shared reset (``tests.fixtures_db.reset_database``) empties the patients,
which cascades to their coverage, intake, visits and work items; the audit
log and callbacks from unverified callers are emptied here too, so every
records test starts from exactly the seeded demo clinic.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.records import SqlRecordsService
from tests.fixtures_db import empty_db_url, migrated_url, reset_database, scalar  # noqa: F401

# Patient-owned rows go with the patients (ON DELETE CASCADE); these outlive them.
# The carrier list is left in place: the seed makes it match the data file.
RECORDS_RESET_SQL = (
    "DELETE FROM audit_log",
    "DELETE FROM work_items",
)


@pytest.fixture
def db_url(migrated_url: str) -> str:  # noqa: F811 - overrides the shared fixture for this package
    """A freshly seeded demo clinic (today = 2026-12-02) with empty records tables, on each backend."""
    with get_engine(migrated_url).begin() as conn:
        for statement in RECORDS_RESET_SQL:
            conn.execute(sa.text(statement))
    reset_database(migrated_url)
    return migrated_url


@pytest.fixture
def records(db_url: str) -> SqlRecordsService:
    """The SQL records service on the seeded test database."""
    return SqlRecordsService(db_url)
