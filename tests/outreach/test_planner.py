"""Planning texts from the clinic database: reminders, quiet hours, consent, moves, the waitlist, follow-ups.

On the seeded demo clinic (today Wednesday 2026-12-02, 08:00): Ana Souza
(P-1002) has a follow-up with Dr. Kim on Saturday 2026-12-05 at 10:00
(A-7K3Q9); Jordan Rivera's visit of 2026-11-25 asked for a follow-up in 14 days.
The clinic texts reminders two days before at 10:00 and the same day at 08:00,
never between 20:00 and 08:00.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from bot.db import get_engine, session_scope
from bot.outreach.content import NotSendable, Outgoing, compose
from bot.outreach.models import OutboxMessage, WaitlistEntry
from bot.outreach.planner import plan
from bot.records.sql import SqlRecordsService
from bot.scheduling.sql import SqlSchedulingService
from tests.fixtures_db import NOW, TZ, local, race

UTC = dt.timezone.utc


def rows(url: str, **where: Any) -> list[dict[str, Any]]:
    """Outbox rows as dicts, oldest first, filtered by column values."""
    query = sa.select(OutboxMessage.__table__).order_by(OutboxMessage.send_at, OutboxMessage.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    with get_engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def as_local(moment: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) moment in clinic time."""
    return moment.replace(tzinfo=UTC).astimezone(TZ) if moment.tzinfo is None else moment.astimezone(TZ)


def join(
    url: str, patient_id: str, provider: str | None, visit_type: str, days: tuple[int, int], at: dt.datetime
) -> int:
    """A waiting entry written directly (the joining conversation is tested elsewhere)."""
    with session_scope(url) as session:
        entry = WaitlistEntry(
            patient_id=patient_id,
            provider_id=provider,
            visit_type_code=visit_type,
            from_date=dt.date(2026, 12, days[0]),
            to_date=dt.date(2026, 12, days[1]),
            status="waiting",
            channel="test",
            joined_at=at,
            updated_at=at,
        )
        session.add(entry)
        session.flush()
        return int(entry.id)


def new_patient(url: str, name: str, mobile: str, consent: bool = True) -> str:
    """Register a patient; with ``consent`` they agreed to texts."""
    patient = SqlRecordsService(url).register_patient(name, dt.date(1985, 1, 1), mobile)
    if consent:
        with get_engine(url).begin() as conn:
            conn.execute(
                sa.text("UPDATE patients SET sms_consent_at = :at WHERE id = :id"),
                {"at": dt.datetime(2026, 12, 1, 12, 0), "id": patient.patient_id},
            )
    return patient.patient_id


def test_reminders_follow_the_offsets_and_planning_twice_adds_nothing(db_url: str) -> None:
    report = plan(NOW, db_url)
    reminders = rows(db_url, kind="reminder")
    assert [(r["appointment_id"], as_local(r["send_at"])) for r in reminders] == [
        ("A-7K3Q9", local(3, 10)),  # two days before, at 10:00
        ("A-7K3Q9", local(5, 8)),  # the morning of the visit
    ]
    assert {r["status"] for r in reminders} == {"planned"}
    assert report.reminders == 2
    assert plan(NOW, db_url).total == 0
    assert len(rows(db_url)) == len(rows(db_url, status="planned"))


def test_jordans_follow_up_is_offered_the_day_it_falls_due_and_old_notes_are_not_announced(db_url: str) -> None:
    plan(NOW, db_url)
    (follow_up,) = rows(db_url, kind="follow_up")
    assert follow_up["patient_id"] == "P-1001" and follow_up["visit_id"] == "V-4RJ2X"
    assert as_local(follow_up["send_at"]) == local(9, 10)  # 2026-11-25 + 14 days, at 10:00
    assert rows(db_url, kind="notes_ready") == []  # the visit was a week ago


def test_a_follow_up_already_booked_is_not_offered(db_url: str) -> None:
    SqlSchedulingService(db_url).book("P-1001", "patel", "follow_up", local(8, 9), now=NOW)
    plan(NOW, db_url)
    assert rows(db_url, kind="follow_up") == []


def test_a_visit_booked_late_gets_its_passed_reminder_at_once_and_only_one(db_url: str) -> None:
    visit = SqlSchedulingService(db_url).book("P-1001", "patel", "sick_visit", local(3, 14), now=NOW)
    plan(NOW, db_url)
    mine = rows(db_url, appointment_id=visit.appointment_id)
    assert [as_local(r["send_at"]) for r in mine] == [NOW, local(3, 8)]


def test_quiet_hours_hold_a_late_reminder_until_morning_and_do_not_double_it(db_url: str) -> None:
    evening = local(2, 21, 30)
    visit = SqlSchedulingService(db_url).book("P-1001", "patel", "sick_visit", local(3, 14), now=NOW)
    plan(evening, db_url)
    mine = rows(db_url, appointment_id=visit.appointment_id)
    assert [as_local(r["send_at"]) for r in mine] == [local(3, 8)]  # the morning reminder covers it


def test_a_reminder_that_could_only_go_out_after_the_visit_starts_is_not_planned(db_url: str) -> None:
    visit = SqlSchedulingService(db_url).book("P-1001", "patel", "sick_visit", local(3, 8), now=NOW)
    plan(local(2, 22), db_url)  # quiet until 08:00, the visit starts at 08:00
    assert rows(db_url, appointment_id=visit.appointment_id) == []


def test_a_cancelled_visit_drops_its_reminders_and_a_moved_one_gets_new_ones(db_url: str) -> None:
    scheduling = SqlSchedulingService(db_url)
    first = scheduling.book("P-1001", "patel", "sick_visit", local(4, 14), now=NOW)
    plan(NOW, db_url)
    moved = scheduling.reschedule(first.appointment_id, "P-1001", local(7, 9), now=NOW)
    scheduling.cancel("A-7K3Q9", "P-1002", now=NOW)
    plan(NOW, db_url)
    assert {(r["status"], r["status_reason"]) for r in rows(db_url, appointment_id=first.appointment_id)} == {
        ("dropped", "visit_moved")
    }
    assert {(r["status"], r["status_reason"]) for r in rows(db_url, appointment_id="A-7K3Q9")} == {
        ("dropped", "visit_cancelled")
    }
    assert [as_local(r["send_at"]) for r in rows(db_url, appointment_id=moved.appointment_id)] == [
        local(5, 10),
        local(7, 8),
    ]


def test_a_patient_without_texting_consent_gets_rows_staff_can_read_but_no_text(db_url: str) -> None:
    patient = new_patient(db_url, "Maria Lopez", "+12125550199", consent=False)
    visit = SqlSchedulingService(db_url).book(patient, "okafor", "sick_visit", local(4, 14), now=NOW)
    plan(NOW, db_url)
    assert {(r["status"], r["status_reason"]) for r in rows(db_url, appointment_id=visit.appointment_id)} == {
        ("skipped", "no_consent")
    }


def test_a_freed_time_is_offered_to_the_waitlist_in_order_of_joining_once(db_url: str) -> None:
    early = new_patient(db_url, "Maria Lopez", "+12125550199")
    late = new_patient(db_url, "Sam Lee", "+12125550142")
    other_doctor = new_patient(db_url, "Kai Moss", "+12125550177")
    out_of_range = new_patient(db_url, "Lea Park", "+12125550166")
    first_entry = join(db_url, early, "kim", "follow_up", (3, 9), local(1, 9))
    second_entry = join(db_url, late, None, "skin_check", (5, 5), local(1, 10))
    join(db_url, other_doctor, "patel", "follow_up", (3, 9), local(1, 8))
    join(db_url, out_of_range, "kim", "follow_up", (7, 9), local(1, 8))
    SqlSchedulingService(db_url).cancel("A-7K3Q9", "P-1002", now=NOW)  # Dr. Kim, Saturday 10:00, 20 min
    report = plan(NOW, db_url)
    offers = rows(db_url, kind="waitlist_offer")
    assert report.offers == 2
    assert [r["patient_id"] for r in sorted(offers, key=lambda r: r["id"])] == [early, late]
    with get_engine(db_url).connect() as conn:
        entries = conn.execute(
            sa.text("SELECT entry_id, provider_id, visit_type_code, status FROM waitlist_offers ORDER BY id")
        ).all()
    assert [tuple(e) for e in entries] == [
        (first_entry, "kim", "follow_up", "open"),
        (second_entry, "kim", "skin_check", "open"),
    ]
    assert plan(NOW, db_url).offers == 0


def test_two_planners_at_once_plan_each_text_once(db_url: str) -> None:
    new_patient(db_url, "Maria Lopez", "+12125550199")
    join(db_url, "P-1001", "kim", "follow_up", (3, 9), local(1, 9))
    SqlSchedulingService(db_url).cancel("A-7K3Q9", "P-1002", now=NOW)
    results = race([lambda: plan(NOW, db_url) for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)]
    keys = [r["dedupe_key"] for r in rows(db_url)]
    assert len(keys) == len(set(keys))
    assert len(rows(db_url, kind="waitlist_offer")) == 1


def test_no_outreach_section_means_nothing_is_texted_first(db_url: str) -> None:
    with get_engine(db_url).begin() as conn:
        conn.execute(sa.text("DELETE FROM outreach_policy"))
    assert plan(NOW, db_url).total == 0
    assert rows(db_url) == []


def test_compose_says_date_time_provider_and_address_and_stops_when_the_visit_moves(db_url: str) -> None:
    plan(NOW, db_url)
    with session_scope(db_url) as session:
        row = session.get(OutboxMessage, rows(db_url, kind="reminder")[0]["id"])
        text = compose(session, row, NOW)
    assert isinstance(text, Outgoing)
    assert text.number == "+15555550188"
    for part in ("Ana", "follow-up", "Dr. Grace Kim", "Saturday, December 5", "10:00 AM", "120 Maple Grove Ave"):
        assert part in text.body
    assert "1) Confirm" in text.body and "3) Cancel the visit" in text.body
    SqlSchedulingService(db_url).cancel("A-7K3Q9", "P-1002", now=NOW)
    with session_scope(db_url) as session:
        row = session.get(OutboxMessage, rows(db_url, kind="reminder")[0]["id"])
        assert compose(session, row, NOW) == NotSendable("dropped", "visit_cancelled")
