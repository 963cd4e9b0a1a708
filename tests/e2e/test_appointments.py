"""Listing, cancelling and moving appointments: only for a verified patient."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.sql import SqlSchedulingService
from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=TZ)


def verify_as_ana(chat: Conversation) -> None:
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "Thanks, Ana" in chat.text


def test_list_appointments_of_a_verified_patient(chat: Conversation) -> None:
    chat.say("when is my next appointment?")
    assert "full name" in chat.text
    assert "Kim" not in chat.text
    verify_as_ana(chat)
    assert "Saturday, December 5 at 10:00 AM" in chat.text
    assert "Dr. Grace Kim" in chat.text


def test_unverified_patient_learns_nothing_and_is_locked_out(chat: Conversation) -> None:
    chat.say("do i have any appointments coming up")
    for _ in range(3):
        assert "Kim" not in chat.text and "December" not in chat.text
        chat.say("Ana Souza")
        chat.say("01/01/1970")
    assert "couldn't confirm who you are" in chat.text
    assert "(555) 010-2000" in chat.text
    chat.say("show my appointments")
    assert "Kim" not in chat.text and "December" not in chat.text
    assert "couldn't confirm who you are" in chat.text


def book_for_jordan(assistant: RunningAssistant) -> object:
    service = SqlSchedulingService(assistant.clinic_database_url)
    slot = service.search_slots(
        "follow_up", provider_id="okafor", start_date=dt.date(2026, 12, 9), end_date=dt.date(2026, 12, 9), now=NOW
    )[0]
    return service.book(patient_id="P-1001", provider_id="okafor", visit_type="follow_up", start=slot.start, now=NOW)


def test_cancel_after_confirmation(chat: Conversation, assistant: RunningAssistant) -> None:
    appointment = book_for_jordan(assistant)
    chat.say("i need to cancel my appointment")
    chat.say("jordan rivera")
    chat.say("3/14/1990")
    labels = [b["title"] for b in chat.buttons]
    assert any("Okafor" in label for label in labels), labels
    index = next(i for i, b in enumerate(chat.buttons) if appointment.appointment_id in b["payload"])
    chat.click(index)
    assert "Do you want to cancel it? It is your follow-up" in chat.text
    chat.say("no")
    assert "kept your appointment" in chat.text
    service = SqlSchedulingService(assistant.clinic_database_url)
    assert service.get_appointment(appointment.appointment_id, "P-1001").status == "booked"

    chat.say("cancel my appointment please")  # still verified in this session
    index = next(i for i, b in enumerate(chat.buttons) if appointment.appointment_id in b["payload"])
    chat.click(index)
    chat.say("yes")
    assert "is cancelled" in chat.text
    assert service.get_appointment(appointment.appointment_id, "P-1001").status == "cancelled"


def test_reschedule_moves_the_appointment(chat: Conversation, assistant: RunningAssistant) -> None:
    appointment = book_for_jordan(assistant)
    chat.say("can i move my appointment")
    chat.say("Jordan Rivera")
    chat.say("1990-03-14")
    index = next(i for i, b in enumerate(chat.buttons) if appointment.appointment_id in b["payload"])
    chat.click(index)
    assert "When would you like" in chat.text
    chat.say("thursday next week in the afternoon")
    slots = [b for b in chat.buttons if "slot_choice" in b["payload"]]
    assert slots and all("Dec 10" in b["title"] for b in slots), chat.text
    chat.click(0)
    assert "Should I move it?" in chat.text
    chat.say("yes")
    assert "Done!" in chat.text
    service = SqlSchedulingService(assistant.clinic_database_url)
    old = service.get_appointment(appointment.appointment_id, "P-1001")
    assert old.status != "booked"
    moved = [a for a in service.upcoming_appointments("P-1001", now=NOW) if a.start.date() == dt.date(2026, 12, 10)]
    assert len(moved) == 1 and moved[0].start.hour >= 12


def age_conversation(tracker_db: str, sender: str, seconds: float) -> None:
    """Make every stored event of a conversation ``seconds`` older (the patient went quiet)."""
    import json
    import sqlite3

    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute("SELECT id, data FROM events WHERE sender_id = ?", (sender,)).fetchall()
        for row_id, data in rows:
            event = json.loads(data)
            event["timestamp"] = event["timestamp"] - seconds
            connection.execute(
                "UPDATE events SET timestamp = ?, data = ? WHERE id = ?",
                (event["timestamp"], json.dumps(event), row_id),
            )


def test_identity_does_not_outlive_the_session(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("show my appointments")
    verify_as_ana(chat)
    assert chat.tracker()["slots"]["patient_id"] == "P-1002"
    chat.say("thanks")
    assert chat.tracker()["slots"]["patient_id"] == "P-1002"  # still the same session
    # The patient goes quiet for 20 minutes (sessions expire after 15).
    age_conversation(assistant.env["TRACKER_STORE_URL"].removeprefix("sqlite:///"), chat.sender, 20 * 60)
    chat.say("show my appointments")
    assert "full name" in chat.text
    assert "Kim" not in chat.text
    assert chat.tracker()["slots"]["patient_id"] is None
