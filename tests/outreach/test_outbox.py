"""The outbox sender in-process: claiming, composing, sending through a local Twilio stand-in, retries, doubt.

Real clinic databases (SQLite, and PostgreSQL when marked) seeded with the demo
clinic; Twilio is :class:`tests.channels.fake_twilio.FakeTwilio` on a thread.
The clinic clock is passed in; leases and retry waits run on the real clock, so
"time passing" for them is written into the row (``lease_until`` in the past).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from bot import sms_opt_out
from bot.db import get_engine, session_scope
from bot.outreach.models import OutboxMessage
from bot.outreach.outbox import LEASE, MAX_ATTEMPTS, OutboxSender, number_key, real_now
from bot.records import get_records_service
from bot.settings import reset_settings_cache
from bot.sms_gateway import send_sms
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.fixtures_db import local, race

ANA = "P-1002"
ANA_MOBILE = "+15555550188"
MORNING = local(2, 10)  # Wednesday 10:00, clinic time: not quiet
EARLY = local(2, 9)


@pytest.fixture
def twilio(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """Settings on the test database and a Twilio stand-in."""
    fake = FakeTwilio().start()
    for name, value in {
        "CLINIC_DATABASE_URL": db_url,
        "CHANNEL_ID_SECRET": "outbox-test-secret",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        yield fake
    finally:
        fake.stop()
        reset_settings_cache()


@pytest.fixture
def reminder(db_url: str, twilio: FakeTwilio) -> Callable[..., int]:
    """Plan a reminder of Ana's visit (send_at and dedupe key as given); its outbox id."""

    def plan(send_at: dt.datetime = EARLY, key: str = "reminder:test") -> int:
        with session_scope(db_url) as session:
            appointment = session.execute(
                sa.text("SELECT id FROM appointments WHERE patient_id = :p AND status = 'booked'"), {"p": ANA}
            ).scalar_one()
            now = real_now()
            row = OutboxMessage(
                dedupe_key=key,
                kind="reminder",
                patient_id=ANA,
                appointment_id=appointment,
                send_at=send_at,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return int(row.id)

    return plan


def _row(url: str, outbox_id: int) -> OutboxMessage:
    with session_scope(url) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


def _expire(url: str, outbox_id: int) -> None:
    """Let the real clock pass a lease or a retry wait."""
    with get_engine(url).begin() as conn:
        conn.execute(
            sa.update(OutboxMessage.__table__)
            .where(OutboxMessage.__table__.c.id == outbox_id)
            .values(lease_until=real_now() - dt.timedelta(seconds=1))
        )


def test_a_due_reminder_is_sent_once_with_its_words_and_recorded(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    counts = OutboxSender().run_once(MORNING)
    assert counts["sent"] == 1
    [message] = twilio.sent
    assert message.to == ANA_MOBILE and message.from_ == FROM_NUMBER
    assert "Dr. Grace Kim" in message.body and "10:00 AM" in message.body and "Maple Grove" in message.body
    row = _row(db_url, outbox_id)
    assert (row.status, row.provider_sids, row.body) == ("sent", message.sid, message.body)
    assert row.number_key == number_key(ANA_MOBILE) and row.lease_owner is None
    assert OutboxSender().run_once(MORNING)["claimed"] == 0  # nothing sent twice
    assert len(twilio.sent) == 1


def test_a_row_not_yet_due_waits(db_url, twilio, reminder) -> None:
    outbox_id = reminder(send_at=local(2, 11))
    assert OutboxSender().run_once(MORNING)["claimed"] == 0
    assert _row(db_url, outbox_id).status == "planned" and twilio.sent == []


def test_two_senders_racing_for_one_row_claim_it_once(db_url, twilio, reminder) -> None:
    reminder()
    senders = [OutboxSender(owner=f"worker-{i}") for i in range(4)]
    results = race([lambda s=s: s.claim(MORNING)[0] for s in senders])
    jobs = [job for result in results for job in result]  # type: ignore[union-attr]
    assert len(jobs) == 1
    owner = next(s for s, result in zip(senders, results, strict=True) if result)
    owner.deliver(jobs[0], __import__("collections").Counter())
    assert len(twilio.sent) == 1


def test_a_cancelled_visit_drops_its_reminder(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    with get_engine(db_url).begin() as conn:
        conn.execute(sa.text("UPDATE appointments SET status = 'cancelled' WHERE patient_id = :p"), {"p": ANA})
    assert OutboxSender().run_once(MORNING)["dropped"] == 1
    row = _row(db_url, outbox_id)
    assert (row.status, row.status_reason) == ("dropped", "visit_cancelled") and twilio.sent == []


def test_no_consent_skips_the_text(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    with get_engine(db_url).begin() as conn:
        conn.execute(sa.text("UPDATE patients SET sms_consent_at = NULL WHERE id = :p"), {"p": ANA})
    OutboxSender().run_once(MORNING)
    row = _row(db_url, outbox_id)
    assert (row.status, row.status_reason) == ("skipped", "no_consent") and twilio.sent == []


def test_an_opted_out_number_is_skipped(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    sms_opt_out.set_opted_out(ANA_MOBILE, True)
    try:
        OutboxSender().run_once(MORNING)
    finally:
        sms_opt_out.set_opted_out(ANA_MOBILE, False)  # the opt-out list outlives the database reset
    row = _row(db_url, outbox_id)
    assert (row.status, row.status_reason) == ("skipped", "opted_out") and twilio.sent == []


def test_quiet_hours_move_the_text_to_eight_in_the_morning(db_url, twilio, reminder) -> None:
    outbox_id = reminder(send_at=local(2, 19, 30))
    counts = OutboxSender().run_once(local(2, 21))
    assert counts["quiet_hours"] == 1 and twilio.sent == []
    row = _row(db_url, outbox_id)
    assert row.status == "planned" and row.send_at == local(3, 8).astimezone(dt.timezone.utc)
    assert OutboxSender().run_once(local(3, 7, 59))["claimed"] == 0
    counts = OutboxSender().run_once(local(3, 8))
    assert counts["sent"] == 1 and len(twilio.sent) == 1, counts


def test_without_twilio_settings_texts_wait_unclaimed(db_url, twilio, reminder, monkeypatch) -> None:
    outbox_id = reminder()
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    reset_settings_cache()
    assert OutboxSender().run_once(MORNING)["claimed"] == 0
    row = _row(db_url, outbox_id)
    assert (row.status, row.attempts) == ("planned", 0)


def test_twilio_refusals_are_retried_with_backoff_then_staff_are_told(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    twilio.fail_next(MAX_ATTEMPTS, status=400, code=21211)
    sender = OutboxSender()
    for attempt in range(1, MAX_ATTEMPTS):
        assert sender.run_once(MORNING)["retry"] == 1
        row = _row(db_url, outbox_id)
        assert (row.status, row.attempts) == ("planned", attempt)
        assert row.lease_until is not None and row.lease_until > real_now()  # waits before the next try
        assert sender.run_once(MORNING)["claimed"] == 0
        _expire(db_url, outbox_id)
    assert sender.run_once(MORNING)["failed"] == 1
    row = _row(db_url, outbox_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS) and row.work_item_id
    item = get_records_service().get_work_item(row.work_item_id)
    assert item.kind == "outreach" and item.patient_id == ANA and item.status == "open"
    assert f"outbox {outbox_id}" in item.note and "21211" in item.note  # type: ignore[union-attr]
    assert ANA_MOBILE not in item.note and "Ana" not in item.note  # type: ignore[union-attr]
    assert twilio.sent == []


def test_a_heartbeat_renews_the_leases_in_hand(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    sender = OutboxSender()
    [job] = sender.claim(MORNING)[0]
    _expire(db_url, outbox_id)
    assert sender.renew_leases() == 1
    assert _row(db_url, outbox_id).lease_until > real_now() + LEASE / 2  # type: ignore[operator]
    assert OutboxSender().claim(MORNING)[0] == []  # not in doubt: its worker is alive


def _died_mid_send(db_url: str, outbox_id: int, body: str | None = None) -> str:
    """A worker claimed the row and died (its lease ran out); the stored body."""
    OutboxSender(owner="dead-worker").claim(MORNING)
    if body is not None:
        with get_engine(db_url).begin() as conn:
            table = OutboxMessage.__table__
            conn.execute(sa.update(table).where(table.c.id == outbox_id).values(body=body))
    _expire(db_url, outbox_id)
    stored = _row(db_url, outbox_id).body
    assert stored
    return stored


def test_in_doubt_a_text_already_in_twilios_log_is_not_sent_again(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    body = _died_mid_send(db_url, outbox_id)
    [sid] = send_sms(ANA_MOBILE, body).message_sids  # it left before the worker died
    counts = OutboxSender().run_once(MORNING)
    assert counts["in_doubt"] == 1 and counts["reconciled"] == 1
    assert len(twilio.sent) == 1
    row = _row(db_url, outbox_id)
    assert (row.status, row.provider_sids) == ("sent", sid)


def test_in_doubt_only_the_missing_parts_are_sent(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    long_body = " ".join(f"Sentence {i} of a long reminder from the clinic." for i in range(20))
    body = _died_mid_send(db_url, outbox_id, long_body)
    first = send_sms(ANA_MOBILE, body, parts=[0]).message_sids  # part 1 left, then the worker died
    OutboxSender().run_once(MORNING)
    bodies = [m.body for m in twilio.sent]
    assert len(bodies) >= 3 and len(set(bodies)) == len(bodies)  # every part exactly once
    assert " ".join(bodies) == long_body
    row = _row(db_url, outbox_id)
    assert row.status == "sent" and row.provider_sids.split()[0] == first[0]  # type: ignore[union-attr]
    assert len(row.provider_sids.split()) == len(bodies)  # type: ignore[union-attr]


def test_in_doubt_and_not_in_the_log_it_is_composed_again_and_sent_once(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    _died_mid_send(db_url, outbox_id)
    sender = OutboxSender()
    assert sender.run_once(MORNING)["not_sent_before"] == 1
    assert _row(db_url, outbox_id).status == "planned" and twilio.sent == []
    assert sender.run_once(MORNING)["sent"] == 1 and len(twilio.sent) == 1


def test_in_doubt_with_the_log_unreadable_nothing_is_sent_blindly(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    _died_mid_send(db_url, outbox_id)
    twilio.log_fails = True
    assert OutboxSender().run_once(MORNING)["retry"] == 1
    row = _row(db_url, outbox_id)
    assert (row.status, row.attempts, row.lease_owner) == ("sending", 1, None)
    assert row.lease_until is not None and row.lease_until > real_now()
    assert twilio.sent == []
    twilio.log_fails = False
    _expire(db_url, outbox_id)
    sender = OutboxSender()
    sender.run_once(MORNING)  # the log answers now: not there, so composed again
    assert sender.run_once(MORNING)["sent"] == 1 and len(twilio.sent) == 1


def test_a_refusal_where_nothing_left_plans_the_row_again(db_url, twilio, reminder) -> None:
    outbox_id = reminder()
    twilio.fail_next(1, status=500, code=20500)
    sender = OutboxSender()
    sender.run_once(MORNING)
    row = _row(db_url, outbox_id)
    assert (row.status, row.attempts) == ("planned", 1)  # refused outright: nothing left, planned again


def test_a_send_that_timed_out_is_in_doubt_and_not_sent_twice(db_url, twilio, reminder, monkeypatch) -> None:
    outbox_id = reminder()
    monkeypatch.setenv("BACKEND_TIMEOUT_SECONDS", "1")
    reset_settings_cache()
    twilio.send_delay = 2.0  # Twilio takes the text but answers after our timeout
    sender = OutboxSender()
    assert sender.run_once(MORNING)["retry"] == 1
    row = _row(db_url, outbox_id)
    assert (row.status, row.status_reason, row.attempts) == ("sending", "retry_in_doubt", 1)
    twilio.send_delay = 0.0
    assert sender.run_once(MORNING)["claimed"] == 0  # waits before the next try
    _expire(db_url, outbox_id)
    counts = sender.run_once(MORNING)
    assert counts["reconciled"] == 1 and len(twilio.sent) == 1
    assert _row(db_url, outbox_id).status == "sent"
