"""Migration 0002 (records tables) on SQLite and PostgreSQL: up from 0001 with data, down, and up again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bot.records.models  # noqa: F401
import bot.scheduling.models  # noqa: F401
from bot.db import Base, get_engine
from bot.migrate import current_revision, downgrade, head_revision, upgrade
from bot.records import SqlRecordsService
from bot.seed import seed_demo_clinic
from tests.fixtures_db import TODAY

RECORDS_TABLES = {
    "insurance_carriers",
    "insurance_carrier_aliases",
    "coverages",
    "intake_submissions",
    "intake_drafts",
    "visits",
    "work_items",
    "audit_log",
}


def tables(url: str) -> set[str]:
    return set(sa.inspect(get_engine(url)).get_table_names())


def test_0002_matches_the_models_and_downgrades_cleanly(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0001")
    assert not RECORDS_TABLES & tables(empty_db_url)
    with get_engine(empty_db_url).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO patients (id, full_name, first_name, last_name, name_key, date_of_birth, created_at)"
                " VALUES ('P-1001', 'Jordan Rivera', 'Jordan', 'Rivera', 'jordan rivera', :dob, :now)"
            ),
            {"dob": dt.date(1990, 3, 14), "now": dt.datetime(2026, 12, 1, 12, 0)},
        )
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision() == "0005"
    assert RECORDS_TABLES <= tables(empty_db_url)
    with get_engine(empty_db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs = [
            d
            for d in compare_metadata(context, Base.metadata)
            if RECORDS_TABLES & set(repr(d).replace("'", " ").split())
        ]
    assert diffs == []

    seed_demo_clinic(empty_db_url, today=TODAY)
    records = SqlRecordsService(empty_db_url)
    assert records.latest_visit("P-1001") is not None
    records.create_refill_request("P-1001", "inhaler")

    downgrade(empty_db_url, "0001")
    assert current_revision(empty_db_url) == "0001"
    assert not RECORDS_TABLES & tables(empty_db_url)
    with get_engine(empty_db_url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM patients")).scalar() == 2  # 0001 data untouched

    upgrade(empty_db_url)
    assert RECORDS_TABLES <= tables(empty_db_url)
    seed_demo_clinic(empty_db_url, today=TODAY)
    assert records.coverage_for("P-1001") is not None


def test_0003s_adds_handoff_items_and_downgrades_cleanly(empty_db_url: str) -> None:
    upgrade(empty_db_url)  # the seed writes with today's models, then the database goes back
    seed_demo_clinic(empty_db_url, today=TODAY)
    downgrade(empty_db_url, "0002")
    with get_engine(empty_db_url).begin() as conn:  # a call back stored before 0003s
        conn.execute(
            sa.text(
                "INSERT INTO work_items (id, kind, status, channel, caller_name, phone, reason, created_at)"
                " VALUES ('C-22222', 'callback', 'open', 'sms', 'Maria Lopez', '+12125550199', 'billing', :now)"
            ),
            {"now": dt.datetime(2026, 12, 1, 12, 0)},
        )
    upgrade(empty_db_url, "0003s")
    assert current_revision(empty_db_url) == "0003s"
    records = SqlRecordsService(empty_db_url)
    handoff = records.create_handoff("rest-1", "Wanted: book a visit.")
    assert {i.work_item_id for i in records.open_work_items()} == {"C-22222", handoff.work_item_id}
    with get_engine(empty_db_url).begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(  # the database itself refuses a handoff without its conversation
            sa.text(
                "INSERT INTO work_items (id, kind, status, channel, note, created_at)"
                " VALUES ('H-22222', 'handoff', 'open', 'rest', 'x', :now)"
            ),
            {"now": dt.datetime(2026, 12, 1, 12, 0)},
        )

    downgrade(empty_db_url, "0002")
    with get_engine(empty_db_url).connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM work_items")).scalars().all() == ["C-22222"]
    upgrade(empty_db_url)
    assert records.get_work_item("C-22222").conversation_id is None


def test_0004_adds_emergency_flags_and_downgrades_cleanly(empty_db_url: str) -> None:
    upgrade(empty_db_url)  # the seed writes with today's models, then the database goes back
    seed_demo_clinic(empty_db_url, today=TODAY)
    downgrade(empty_db_url, "0003s")
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == "0005"
    records = SqlRecordsService(empty_db_url)
    flag = records.flag_emergency("rest-9", "crisis", ["suicidal_thoughts"])
    assert records.get_work_item(flag.work_item_id).category == "crisis"
    with get_engine(empty_db_url).begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(  # the database itself refuses an emergency without a known category
            sa.text(
                "INSERT INTO work_items (id, kind, status, channel, reason, conversation_id, created_at)"
                " VALUES ('E-22222', 'emergency', 'open', 'rest', 'other', 'rest-9', :now)"
            ),
            {"now": dt.datetime(2026, 12, 1, 12, 0)},
        )
    downgrade(empty_db_url, "0003s")
    with get_engine(empty_db_url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM work_items WHERE kind = 'emergency'")).scalar() == 0
