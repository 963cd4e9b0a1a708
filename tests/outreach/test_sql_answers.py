"""Answers to texts on SQLite and PostgreSQL: which text is open, answers kept, offers booked exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.outreach.service import OfferGone, PromptNotFound
from bot.outreach.sql import SqlOutreachService
from bot.scheduling import AppointmentInfo, SqlSchedulingService
from tests.fixtures_db import NOW, local, race
from tests.outreach.sent_texts import sent_follow_up, sent_offer, sent_reminder

NUMBER = "+15555550123"
OTHER = "+15555550188"
SLOT = local(3, 9, 0)  # a sick visit with Dr. Patel is open then


def service(url: str) -> SqlOutreachService:
    return SqlOutreachService(url)


def book(url: str, patient: str = "P-1001", start: dt.datetime = SLOT) -> AppointmentInfo:
    return SqlSchedulingService(url).book(patient, "patel", "sick_visit", start, now=NOW)


def test_reminder_is_the_open_prompt_of_its_number_only(db_url: str) -> None:
    visit = book(db_url)
    outbox_id = sent_reminder(db_url, visit.appointment_id, "P-1001", NUMBER, NOW - dt.timedelta(hours=1))
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.outbox_id == outbox_id
    assert prompt.kind == "reminder" and prompt.appointment_id == visit.appointment_id
    assert prompt.provider_id == "patel" and prompt.start == SLOT
    assert service(db_url).open_prompt(OTHER, now=NOW) is None
    assert service(db_url).prompt(outbox_id, NUMBER).patient_id == "P-1001"
    with pytest.raises(PromptNotFound):
        service(db_url).prompt(outbox_id, OTHER)  # another number cannot answer it


def test_reminder_closes_when_the_visit_starts_moves_or_is_cancelled(db_url: str) -> None:
    visit = book(db_url)
    outbox_id = sent_reminder(db_url, visit.appointment_id, "P-1001", NUMBER, NOW - dt.timedelta(hours=1))
    assert service(db_url).open_prompt(NUMBER, now=SLOT + dt.timedelta(minutes=1)) is None
    service(db_url).record_answer(outbox_id, "confirmed", now=NOW)
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.answer == "confirmed"  # still open: the patient may move or cancel
    SqlSchedulingService(db_url).cancel(visit.appointment_id, "P-1001", now=NOW)
    assert service(db_url).open_prompt(NUMBER, now=NOW) is None


def test_only_the_latest_text_counts_and_old_texts_expire(db_url: str, scalar: Callable[..., object]) -> None:
    first = book(db_url)
    second = book(db_url, start=local(4, 9, 0))
    sent_reminder(db_url, first.appointment_id, "P-1001", NUMBER, NOW - dt.timedelta(hours=2))
    latest = sent_reminder(db_url, second.appointment_id, "P-1001", NUMBER, NOW - dt.timedelta(hours=1))
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.outbox_id == latest
    service(db_url).record_answer(latest, "cancelled", now=NOW)
    assert service(db_url).open_prompt(NUMBER, now=NOW) is None  # an older text is not answered by a "1"
    assert scalar("SELECT answer FROM outbox WHERE id = :i", i=latest) == "cancelled"
    assert service(db_url).open_prompt(NUMBER, now=NOW + dt.timedelta(days=8)) is None


def test_mark_recalled_keeps_the_first_time(db_url: str, scalar: Callable[..., object]) -> None:
    visit = book(db_url)
    outbox_id = sent_reminder(db_url, visit.appointment_id, "P-1001", NUMBER, NOW - dt.timedelta(hours=1))
    service(db_url).mark_recalled(outbox_id, now=NOW)
    service(db_url).mark_recalled(outbox_id, now=NOW + dt.timedelta(hours=1))
    assert scalar("SELECT COUNT(*) FROM outbox WHERE recalled_at IS NOT NULL") == 1
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.recalled_at == NOW  # the connector brings it in no more
    with pytest.raises(ValueError):
        service(db_url).record_answer(outbox_id, "maybe", now=NOW)


def test_follow_up_is_open_until_answered(db_url: str) -> None:
    outbox_id = sent_follow_up(db_url, "V-5001", "P-1001", NUMBER, NOW - dt.timedelta(hours=1))
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.kind == "follow_up" and prompt.visit_id == "V-5001"
    service(db_url).record_answer(outbox_id, "declined", now=NOW)
    assert service(db_url).open_prompt(NUMBER, now=NOW) is None


def test_accepting_an_offer_books_it_and_marks_the_entry(db_url: str, scalar: Callable[..., object]) -> None:
    outbox_id, entry_id = sent_offer(db_url, "P-1001", NUMBER, "patel", "sick_visit", SLOT, NOW)
    prompt = service(db_url).open_prompt(NUMBER, now=NOW)
    assert prompt is not None and prompt.kind == "waitlist_offer" and prompt.start == SLOT
    booked = service(db_url).accept_offer(outbox_id, now=NOW)
    assert booked.patient_id == "P-1001" and booked.start == SLOT and booked.provider_id == "patel"
    assert scalar("SELECT status FROM waitlist_entries WHERE id = :i", i=entry_id) == "booked"
    assert (
        scalar("SELECT booked_appointment_id FROM waitlist_entries WHERE id = :i", i=entry_id) == booked.appointment_id
    )
    assert scalar("SELECT status FROM waitlist_offers") == "accepted"
    assert scalar("SELECT answer FROM outbox WHERE id = :i", i=outbox_id) == "accepted"
    again = service(db_url).accept_offer(outbox_id, now=NOW)  # the same "yes" twice: one booking
    assert again.appointment_id == booked.appointment_id
    assert scalar("SELECT COUNT(*) FROM appointments WHERE provider_id = 'patel' AND status = 'booked'") == 1
    assert service(db_url).open_prompt(NUMBER, now=NOW) is None


def test_declining_keeps_the_patient_waiting(db_url: str, scalar: Callable[..., object]) -> None:
    outbox_id, entry_id = sent_offer(db_url, "P-1001", NUMBER, "patel", "sick_visit", SLOT, NOW)
    service(db_url).record_answer(outbox_id, "declined", now=NOW)
    assert scalar("SELECT status FROM waitlist_offers") == "declined"
    assert scalar("SELECT status FROM waitlist_entries WHERE id = :i", i=entry_id) == "waiting"
    with pytest.raises(OfferGone):
        service(db_url).accept_offer(outbox_id, now=NOW)
    assert scalar("SELECT COUNT(*) FROM appointments WHERE provider_id = 'patel' AND status = 'booked'") == 0


def test_an_offer_taken_by_someone_else_is_gone(db_url: str, scalar: Callable[..., object]) -> None:
    outbox_id, entry_id = sent_offer(db_url, "P-1001", NUMBER, "patel", "sick_visit", SLOT, NOW)
    book(db_url, patient="P-1002")  # booked in a chat meanwhile
    with pytest.raises(OfferGone):
        service(db_url).accept_offer(outbox_id, now=NOW)
    assert scalar("SELECT status FROM waitlist_offers") == "gone"
    assert scalar("SELECT answer FROM outbox WHERE id = :i", i=outbox_id) == "gone"
    assert scalar("SELECT status FROM waitlist_entries WHERE id = :i", i=entry_id) == "waiting"


def test_twenty_patients_racing_for_one_offered_time_give_one_booking(
    db_url: str, scalar: Callable[..., object]
) -> None:
    offers = [
        sent_offer(db_url, f"P-{3000 + i}", f"+1555556{i:04d}", "patel", "sick_visit", SLOT, NOW)[0] for i in range(20)
    ]
    calls = [(lambda o=o: SqlOutreachService(db_url).accept_offer(o, now=NOW)) for o in offers]
    results = race(calls)
    winners = [r for r in results if isinstance(r, AppointmentInfo)]
    gone = [r for r in results if isinstance(r, OfferGone)]
    assert len(winners) == 1, results
    assert len(gone) == 19, results
    assert scalar("SELECT COUNT(*) FROM appointments WHERE provider_id = 'patel' AND status = 'booked'") == 1
    assert scalar("SELECT COUNT(*) FROM waitlist_entries WHERE status = 'booked'") == 1
    assert scalar("SELECT COUNT(*) FROM waitlist_entries WHERE status = 'waiting'") == 19
    assert scalar("SELECT COUNT(*) FROM waitlist_offers WHERE status = 'accepted'") == 1
    assert scalar("SELECT COUNT(*) FROM waitlist_offers WHERE status = 'gone'") == 19
    assert scalar("SELECT patient_id FROM waitlist_entries WHERE status = 'booked'") == winners[0].patient_id
