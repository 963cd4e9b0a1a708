"""Alembic migrations (``bot.migrate``) on empty SQLite and PostgreSQL databases."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bot.records.models  # noqa: F401
import bot.scheduling.models  # noqa: F401
from bot.db import Base, get_engine
from bot.migrate import current_revision, downgrade, head_revision, upgrade
from bot.settings import PROJECT_ROOT

OUR_TABLES = {
    "clinic",
    "clinic_closures",
    "opening_hours",
    "providers",
    "visit_types",
    "provider_visit_types",
    "provider_schedules",
    "appointments",
    "patients",
    "record_counters",
    "insurance_carriers",
    "insurance_carrier_aliases",
    "coverages",
    "intake_submissions",
    "intake_drafts",
    "visits",
    "work_items",
    "audit_log",
}
HEAD = "0005"  # 0002 -> 0003 (channel tables) -> 0003s (staff handoffs) -> 0004 (emergency flags) -> 0005 (outreach)


def table_names(url: str) -> set[str]:
    return set(sa.inspect(get_engine(url)).get_table_names())


def schema_diff(url: str) -> list:
    """Differences between the migrated schema and the models (ours only)."""
    with get_engine(url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if OUR_TABLES & set(repr(d).replace("'", " ").split())]


def test_upgrade_from_empty_matches_the_models(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision() == HEAD
    assert OUR_TABLES <= table_names(empty_db_url)
    assert schema_diff(empty_db_url) == []
    with get_engine(empty_db_url).connect() as conn:
        counter = conn.execute(sa.text("SELECT last_value FROM record_counters WHERE name = 'patient'")).scalar()
    assert counter == 1000


def test_upgrade_is_repeatable_and_downgrade_empties(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == HEAD
    downgrade(empty_db_url, "base")
    assert current_revision(empty_db_url) is None
    assert not (OUR_TABLES & table_names(empty_db_url))
    upgrade(empty_db_url)
    assert OUR_TABLES <= table_names(empty_db_url)


@pytest.mark.slow
def test_concurrent_upgrades_migrate_once(empty_db_url: str) -> None:
    """Instances starting together (``make run`` twice) all come up; the schema is built once."""
    command = [sys.executable, "-m", "bot.migrate", "--url", empty_db_url, "upgrade"]
    processes = [
        subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    assert sum("Running upgrade  -> 0001" in out for out in outputs) == 1, outputs
    assert sum("Running upgrade 0001 -> 0002" in out for out in outputs) == 1, outputs
    assert current_revision(empty_db_url) == HEAD


def test_upgrades_in_threads_take_turns(empty_db_url: str) -> None:
    """Alembic's context is process-global; ``upgrade`` serializes callers in one process."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(empty_db_url)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert current_revision(empty_db_url) == HEAD
