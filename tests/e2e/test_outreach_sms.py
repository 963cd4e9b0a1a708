"""Answers to clinic texts through the real SMS webhook of a running assistant.

Rows of sent texts (a reminder, a waitlist offer) are written into the
assistant's clinic database as the worker leaves them; then the patient texts
back through signed Twilio webhooks: "1" confirms, "can I move it to friday"
starts the reschedule with the visit chosen and no name question, "3" then
"yes" cancels, STOP and a bare CANCEL still opt out, and 20 patients answering
"yes" to one offered time at once give exactly one booking.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.scheduling.sql import SqlSchedulingService
from tests.channels.adapters import PUBLIC_URL, SmsAdapter, new_number
from tests.channels.contract import CHANNEL_ID_SECRET, Reply, channel_settings
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.e2e.harness import RunningAssistant, start_assistant
from tests.fixtures_db import local
from tests.outreach.sent_texts import sent_follow_up, sent_offer, sent_reminder

pytestmark = [pytest.mark.e2e, pytest.mark.model]

NOW = local(2, 10, 0)  # the assistant's fixed clock (tests/e2e/harness.py)
SENT = NOW - dt.timedelta(minutes=5)
_patients = itertools.count()


def outreach_env(fake_twilio: FakeTwilio) -> dict[str, str]:
    """SMS configured against the local Twilio stand-in, with a known channel secret."""
    return {
        "CLINIC_PUBLIC_URL": PUBLIC_URL,
        "CHANNEL_ID_SECRET": CHANNEL_ID_SECRET,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake_twilio.url,
    }


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilio) -> Iterator[RunningAssistant]:
    var_dir: Path = tmp_path_factory.mktemp("outreach-var")
    running = start_assistant(var_dir, outreach_env(fake_twilio))
    try:
        yield running
    finally:
        running.stop()


def next_open_time(assistant: RunningAssistant) -> dt.datetime:
    """An open sick-visit time with Dr. Patel in the days ahead, a different one each call."""
    slots = SqlSchedulingService(assistant.clinic_database_url).search_slots(
        "sick_visit", "patel", start_date=dt.date(2026, 12, 3), end_date=dt.date(2026, 12, 18), limit=3, now=NOW
    )
    return slots[0].start


@pytest.fixture
def sms(assistant: RunningAssistant) -> SmsAdapter:
    return SmsAdapter(assistant)


def query(url: str, sql: str, **params: object) -> object:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def reminded_visit(assistant: RunningAssistant, number: str) -> tuple[str, int]:
    """A patient's visit at the next open time and its reminder, sent to ``number``: (appointment, outbox id)."""
    url = assistant.clinic_database_url
    patient = f"P-{5000 + next(_patients)}"  # one patient per visit: no overlaps between tests
    visit = SqlSchedulingService(url).book(
        patient, "patel", "sick_visit", next_open_time(assistant), channel="test", now=NOW
    )
    outbox_id = sent_reminder(url, visit.appointment_id, patient, number, SENT, settings=channel_settings())
    return visit.appointment_id, outbox_id


def answer_of(assistant: RunningAssistant, outbox_id: int) -> object:
    return query(assistant.clinic_database_url, "SELECT answer FROM outbox WHERE id = :i", i=outbox_id)


def status_of(assistant: RunningAssistant, appointment_id: str) -> object:
    return query(assistant.clinic_database_url, "SELECT status FROM appointments WHERE id = :i", i=appointment_id)


def asks_identity(reply: Reply) -> bool:
    words = reply.text.lower()
    return "date of birth" in words or "full name" in words


def test_one_confirms_the_reminded_visit(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    number = new_number()
    appointment_id, outbox_id = reminded_visit(assistant, number)
    reply = sms.send(number, "1")
    assert reply.status == 200
    assert "see you on" in reply.text.lower(), reply.text
    assert answer_of(assistant, outbox_id) == "confirmed"
    assert status_of(assistant, appointment_id) == "booked"


def test_words_confirm_too_and_other_questions_leave_the_text_open(
    assistant: RunningAssistant, sms: SmsAdapter
) -> None:
    number = new_number()
    _, outbox_id = reminded_visit(assistant, number)
    reply = sms.send(number, "what are your hours?")
    assert "see you on" not in reply.text.lower(), reply.text
    assert answer_of(assistant, outbox_id) is None
    other = new_number()
    _, second = reminded_visit(assistant, other)
    assert "see you on" in sms.send(other, "I'll be there").text.lower()
    assert answer_of(assistant, second) == "confirmed"


def test_moving_starts_the_reschedule_with_the_visit_chosen_and_no_identity_questions(
    assistant: RunningAssistant, sms: SmsAdapter
) -> None:
    number = new_number()
    appointment_id, outbox_id = reminded_visit(assistant, number)
    reply = sms.send(number, "can I move it to friday")
    assert not asks_identity(reply), reply.text
    assert reply.choices, reply.text  # Friday's open times, as numbered choices
    assert "friday" in reply.text.lower(), reply.text
    confirm = sms.send(number, "1")
    assert not asks_identity(confirm), confirm.text
    done = sms.send(number, "yes")
    assert "done" in done.text.lower(), done.text
    assert status_of(assistant, appointment_id) == "rescheduled"
    assert answer_of(assistant, outbox_id) == "moved"
    # The grant covered that one visit: anything else still needs the identity check.
    listing = sms.send(number, "what appointments do I have")
    assert asks_identity(listing), listing.text


def test_three_then_yes_cancels_and_no_keeps(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    number = new_number()
    appointment_id, outbox_id = reminded_visit(assistant, number)
    question = sms.send(number, "3")
    assert "reply yes to cancel" in question.text.lower(), question.text
    assert status_of(assistant, appointment_id) == "booked"
    done = sms.send(number, "yes")
    assert "cancelled" in done.text.lower(), done.text
    assert status_of(assistant, appointment_id) == "cancelled"
    assert answer_of(assistant, outbox_id) == "cancelled"

    keeper = new_number()
    kept_id, kept_outbox = reminded_visit(assistant, keeper)
    assert "reply yes to cancel" in sms.send(keeper, "cant make it, cancel please").text.lower()
    assert "kept" in sms.send(keeper, "no").text.lower()
    assert status_of(assistant, kept_id) == "booked"
    assert answer_of(assistant, kept_outbox) is None


def test_after_an_unclear_answer_a_number_still_answers_the_reminder(
    assistant: RunningAssistant, sms: SmsAdapter
) -> None:
    number = new_number()
    _, outbox_id = reminded_visit(assistant, number)
    assert "reply 1 to confirm" in sms.send(number, "hmm").text.lower()
    assert answer_of(assistant, outbox_id) is None
    assert "see you on" in sms.send(number, "1").text.lower()
    assert answer_of(assistant, outbox_id) == "confirmed"


def test_i_cant_come_asks_move_or_cancel(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    number = new_number()
    appointment_id, _ = reminded_visit(assistant, number)
    reply = sms.send(number, "no I can't come")
    assert reply.choices == ["Move it", "Cancel it"], reply.text
    assert "reply yes to cancel" in sms.send(number, "2").text.lower()
    assert status_of(assistant, appointment_id) == "booked"


@pytest.mark.parametrize("keyword, words", [("STOP", "unsubscribed"), ("CANCEL", "to cancel a visit by text")])
def test_carrier_keywords_keep_their_meaning(
    assistant: RunningAssistant, sms: SmsAdapter, keyword: str, words: str
) -> None:
    number = new_number()
    appointment_id, outbox_id = reminded_visit(assistant, number)
    reply = sms.send(number, keyword)
    assert reply.status == 200 and reply.texts, reply.raw
    assert words in reply.text.lower(), reply.text
    assert "reply yes to cancel" not in reply.text.lower()
    assert status_of(assistant, appointment_id) == "booked"  # a bare CANCEL is the opt-out, not the visit
    assert answer_of(assistant, outbox_id) is None
    assert sms.send(number, "1").texts == []  # opted out: silence
    assert answer_of(assistant, outbox_id) is None


def test_a_red_flag_after_a_reminder_is_an_emergency_first(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    number = new_number()
    appointment_id, outbox_id = reminded_visit(assistant, number)
    reply = sms.send(number, "I have crushing chest pain and can't breathe")
    assert "911" in reply.text, reply.text
    assert "reply yes to cancel" not in reply.text.lower() and "move" not in reply.text.lower()
    assert status_of(assistant, appointment_id) == "booked"
    assert answer_of(assistant, outbox_id) is None


def test_no_to_an_offer_keeps_the_patient_waiting(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    url = assistant.clinic_database_url
    number = new_number()
    outbox_id, entry_id = sent_offer(
        url, "P-4900", number, "patel", "sick_visit", next_open_time(assistant), SENT, settings=channel_settings()
    )
    reply = sms.send(number, "2")
    assert "stay on the waitlist" in reply.text.lower(), reply.text
    assert answer_of(assistant, outbox_id) == "declined"
    assert query(url, "SELECT status FROM waitlist_entries WHERE id = :i", i=entry_id) == "waiting"


def test_yes_to_a_follow_up_starts_booking_it_with_identity(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    number = new_number()
    outbox_id = sent_follow_up(
        assistant.clinic_database_url, "V-4RJ2X", "P-1001", number, SENT, settings=channel_settings()
    )
    reply = sms.send(number, "1")
    assert answer_of(assistant, outbox_id) == "accepted"
    tracker = http_tracker(assistant, number)
    assert tracker["slots"]["visit_type"] == "follow_up" and tracker["slots"]["provider"] == "patel"
    assert tracker["active_loop"].get("name") == "booking_form", reply.text
    declined = new_number()
    other = sent_follow_up(
        assistant.clinic_database_url, "V-4RJ2X", "P-1001", declined, SENT, settings=channel_settings()
    )
    assert "no follow-up for now" in sms.send(declined, "no thanks").text.lower()
    assert answer_of(assistant, other) == "declined"


def http_tracker(assistant: RunningAssistant, number: str) -> dict:
    """The SMS conversation's tracker through the HTTP API (open on loopback in the demo)."""
    from channels import kit
    from tests.e2e.harness import get_json

    conversation = kit.conversation_id("sms", number, channel_settings())
    return get_json(f"{assistant.rasa_url}/conversations/{conversation}/tracker")


def test_twenty_yes_answers_to_one_offered_time_give_one_booking(assistant: RunningAssistant, sms: SmsAdapter) -> None:
    url = assistant.clinic_database_url
    start = next_open_time(assistant)
    numbers = [new_number() for _ in range(20)]
    for i, number in enumerate(numbers):
        sent_offer(url, f"P-{4000 + i}", number, "patel", "sick_visit", start, SENT, settings=channel_settings())
    barrier = threading.Barrier(len(numbers))
    replies: list[Reply | None] = [None] * len(numbers)

    def answer(index: int) -> None:
        barrier.wait()
        replies[index] = sms.send(numbers[index], "yes")

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(len(numbers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    texts = [r.text.lower() for r in replies if r is not None]
    assert len(texts) == 20
    booked = [t for t in texts if "you're booked" in t]
    gone = [t for t in texts if "just taken" in t and "still on the waitlist" in t]
    assert len(booked) == 1, texts
    assert len(gone) == 19, texts
    assert query(url, "SELECT COUNT(*) FROM appointments WHERE reason = 'waitlist' AND status = 'booked'") == 1
    assert query(url, "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'booked'") == 1
    assert (
        query(url, "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'waiting' AND patient_id LIKE 'P-40%'") == 19
    )


def test_a_clinic_database_that_is_down_leaves_the_turn_to_go_on_without_the_text() -> None:
    import asyncio

    from bot.outreach.service import OutreachUnavailable, set_outreach_service
    from bot.outreach.sql import SqlOutreachService
    from channels.sms import SmsInput
    from tests.fixtures_db import CLOSED_PORT_URL

    down = SqlOutreachService(CLOSED_PORT_URL)
    with pytest.raises(OutreachUnavailable):
        down.open_prompt("+15555550123")
    set_outreach_service(down)
    try:
        assert asyncio.run(SmsInput()._unanswered_prompt("+15555550123")) is None
    finally:
        set_outreach_service(None)


def wait_for_text(fake_twilio: FakeTwilio, number: str, timeout: float = 90) -> str:
    """The body of the first text the worker sent to ``number``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = fake_twilio.sent_to(number)
        if sent:
            return sent[0].body
        time.sleep(0.2)
    raise AssertionError("the worker sent no text in time")


def test_a_reminder_the_worker_sent_is_answered_by_number(
    assistant: RunningAssistant, fake_twilio: FakeTwilio, sms: SmsAdapter
) -> None:
    from benchmarks.outreach_reminders import add_visits

    url = assistant.clinic_database_url
    [(_, number, appointment_id), (_, other, other_id)] = add_visits(url, 2, dt.date(2026, 12, 3), first=70)
    body = wait_for_text(fake_twilio, number)  # booked late: the reminder goes out at once
    assert "1) Confirm" in body and "3) Cancel" in body
    assert "see you on" in sms.send(number, "1").text.lower()
    outbox = "SELECT answer FROM outbox WHERE appointment_id = :a AND status = 'sent'"
    assert query(url, outbox, a=appointment_id) == "confirmed"
    wait_for_text(fake_twilio, other)
    assert "reply yes to cancel" in sms.send(other, "3").text.lower()
    assert "cancelled" in sms.send(other, "yes").text.lower()
    assert status_of(assistant, other_id) == "cancelled"
    assert query(url, outbox, a=other_id) == "cancelled"
