"""The audit log: a row for every read and write of a patient's data, and never the data itself."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.log_privacy import patient_ref
from bot.records import InsuranceAnswer, SqlRecordsService, assistant_actor
from bot.records.errors import UnknownPatient
from tests.fixtures_db import NOW
from tests.records.helpers import ACTOR, PERSONAL_STRINGS, jordan_answers, submit_time

JORDAN_DOB = dt.date(1990, 3, 14)


def audit_rows(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id"))]


def exercise_everything(records: SqlRecordsService, actor: str = ACTOR, channel: str = "webchat") -> None:
    """Call every method that touches Jordan's data, with personal data in the arguments."""
    kw = {"actor": actor, "channel": channel}
    records.verify_identity("Jordan Rivera", JORDAN_DOB, **kw)
    records.verify_by_mobile_and_dob("+15555550123", JORDAN_DOB, **kw)
    records.get_patient("P-1001", **kw)
    records.coverage_for("P-1001", **kw)
    records.save_intake_draft(
        "P-1001", {"legal_name": "Jordan Rivera", "dob": "1990-03-14"}, "allergies", now=NOW, **kw
    )
    records.load_intake_draft("P-1001", now=NOW, **kw)
    records.submit_intake(
        "P-1001",
        jordan_answers(insurance=InsuranceAnswer("Cigna", "W123456789X")),
        channel,
        actor=actor,
        now=submit_time(),
    )
    records.latest_intake("P-1001", **kw)
    records.intake_history("P-1001", **kw)
    records.discard_intake_draft("P-1001", **kw)
    records.latest_visit("P-1001", **kw)
    records.pending_results("P-1001", **kw)
    refill = records.create_refill_request("P-1001", "albuterol inhaler", "CVS", "penicillin allergy", now=NOW, **kw)
    records.create_callback_request(
        "Jordan Rivera", "555-555-0123", "billing", "after 5", "bronchitis bill", "P-1001", now=NOW, **kw
    )
    records.create_callback_request("Pat Caller", "5555550199", "handoff", now=NOW, **kw)
    records.open_work_items(**kw)
    records.mark_work_item_done(refill.work_item_id, now=NOW, **kw)


EXPECTED_P1001 = [
    "read:verify_identity",
    "read:verify_by_mobile_and_dob",
    "read:get_patient",
    "read:coverage_for",
    "write:save_intake_draft",
    "read:load_intake_draft",
    "write:submit_intake",
    "read:latest_intake",
    "read:intake_history",
    "write:discard_intake_draft",
    "read:latest_visit",
    "read:pending_results",
    "write:create_refill_request",
    "write:create_callback_request",
    "read:open_work_items",
    "write:mark_work_item_done",
]


def test_every_read_and_write_is_audited(records: SqlRecordsService) -> None:
    exercise_everything(records)
    trail = records.audit_trail("P-1001", actor="staff:privacy-officer", channel="admin")
    assert [entry.operation for entry in trail] == EXPECTED_P1001
    assert {(e.actor, e.channel, e.patient_id) for e in trail} == {(ACTOR, "webchat", "P-1001")}
    # The submit already removed the draft, so the discard found none.
    assert [e.operation for e in trail if e.outcome != "ok"] == ["write:discard_intake_draft"]
    assert all(e.occurred_at.tzinfo is not None for e in trail)
    assert [e.occurred_at for e in trail] == sorted(e.occurred_at for e in trail)
    # Reading the trail is itself recorded, after the read.
    again = records.audit_trail("P-1001")
    assert again[-1].operation == "read:audit_trail"
    assert (again[-1].actor, again[-1].channel) == ("staff:privacy-officer", "admin")
    assert records.audit_trail("P-1001", limit=2)[-1].operation == "read:audit_trail"


def test_failed_lookups_are_audited_without_an_identity(records: SqlRecordsService, db_url: str) -> None:
    assert records.verify_identity("Jordan Rivera", dt.date(1990, 3, 15)) is None
    assert records.latest_visit("P-1002") is None
    assert records.coverage_for("Jordan Rivera") is None  # a name where an id belongs
    rows = audit_rows(db_url)
    assert [(r[3], r[4], r[5], r[6]) for r in rows] == [
        ("read:verify_identity", None, "unknown", "no_match"),
        ("read:latest_visit", "P-1002", "unknown", "not_found"),
        ("read:coverage_for", None, "unknown", "invalid_id"),
    ]
    assert all(r[2] == "system" for r in rows)


def test_the_audit_log_holds_no_patient_data(records: SqlRecordsService, db_url: str) -> None:
    exercise_everything(records, actor=assistant_actor("rest:jordan-rivera-5555550123"))
    records.coverage_for("Jordan Rivera 1990-03-14 W123456789")
    records.audit_trail("P-1001")
    text = repr(audit_rows(db_url)).lower()
    assert "p-1001" in text
    for personal in PERSONAL_STRINGS:
        assert personal.lower() not in text, personal


def test_logs_hold_no_patient_data(records: SqlRecordsService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    exercise_everything(records)
    assert patient_ref("P-1001") in caplog.text and "P-1001" not in caplog.text  # keyed references only
    for personal in PERSONAL_STRINGS:
        assert personal.lower() not in caplog.text.lower(), personal


def test_assistant_actor_is_an_opaque_stable_hash() -> None:
    actor = assistant_actor("sms:abc123")
    assert actor.startswith("assistant:") and len(actor) == len("assistant:") + 16
    assert actor == assistant_actor("sms:abc123") != assistant_actor("sms:abc124")
    assert "abc123" not in actor


def test_a_rolled_back_write_leaves_no_audit_row(records: SqlRecordsService, scalar: Callable) -> None:
    with pytest.raises(UnknownPatient):
        records.create_refill_request("P-9999", "inhaler")
    assert scalar("SELECT COUNT(*) FROM audit_log") == 0
