"""Booking conversations against the real running assistant (REST channel)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.scheduling.sql import SqlSchedulingService
from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e

THURSDAY = dt.date(2026, 12, 3)  # "tomorrow" for CLINIC_TODAY=2026-12-02


def slot_buttons(chat: Conversation) -> list:
    """Buttons that offer a slot."""
    return [b for b in chat.buttons if "slot_choice" in b["payload"]]


def test_greeting_names_the_clinic(chat: Conversation) -> None:
    chat.say("hi")
    assert "Maple Grove Family Clinic" in chat.text


def test_book_a_sick_visit_end_to_end(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("hi i need an appointment")
    assert "What is the visit for" in chat.text
    chat.say("sore throat since monday")
    assert "Who would you like to see" in chat.text
    chat.say("anyone is fine")
    assert "When would you like to come in" in chat.text
    chat.say("tomorrow afternoon")
    offered = slot_buttons(chat)
    assert 1 <= len(offered) <= 3
    assert all("Thu Dec 3" in b["title"] for b in offered), offered
    assert all(int(b["title"].split(", ")[1].split(":")[0]) in (12, 1, 2, 3, 4) for b in offered)
    chat.click(0)
    assert "full name" in chat.text
    chat.say("Jordan Rivera")
    assert "date of birth" in chat.text
    chat.say("03/14/1990")
    assert "Thanks, Jordan" in chat.text
    assert "Shall I book it?" in chat.text
    chat.say("yes")
    assert "You're booked!" in chat.text
    assert "120 Maple Grove Ave" in chat.text
    assert "insurance card" in chat.text

    service = SqlSchedulingService(assistant.clinic_database_url)
    upcoming = service.upcoming_appointments("P-1001", now=dt.datetime(2026, 12, 2, 8, tzinfo=service_tz()))
    booked = [a for a in upcoming if a.start.date() == THURSDAY and a.visit_type == "sick_visit"]
    assert len(booked) == 1
    assert booked[0].start.hour >= 12
    assert booked[0].appointment_id in chat.text


def service_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def test_visit_type_provider_and_time_in_one_message(chat: Conversation) -> None:
    chat.say("can i book a skin check with dr kim next week")
    offered = slot_buttons(chat)
    assert offered, chat.text
    assert all("Kim" in b["title"] for b in offered)
    assert all(any(day in b["title"] for day in ("Dec 7", "Dec 8", "Dec 9", "Dec 10", "Dec 11")) for b in offered)


def test_correction_mid_form_changes_provider(chat: Conversation) -> None:
    chat.say("I want to book a follow up")
    chat.say("dr patel")
    chat.say("next tuesday morning")
    assert slot_buttons(chat) and all("Patel" in b["title"] for b in slot_buttons(chat))
    chat.say("actually make it Dr. Kim")
    offered = slot_buttons(chat)
    assert offered, chat.text
    assert all("Kim" in b["title"] for b in offered), offered


def test_past_date_is_re_asked(chat: Conversation) -> None:
    chat.say("book an appointment")
    chat.say("annual physical")
    chat.say("no preference")
    chat.say("yesterday")
    assert "already passed" in chat.text
    chat.say("blue elephants")
    assert "didn't catch when" in chat.text


def test_closed_sunday_is_explained(chat: Conversation) -> None:
    chat.say("i need a sick visit")
    chat.say("anyone")
    chat.say("sunday")
    assert "closed" in chat.text.lower()
    chat.say("friday morning")
    assert slot_buttons(chat)


def test_unknown_provider_is_re_asked(chat: Conversation) -> None:
    chat.say("i'd like to book a follow-up")
    chat.say("dr house")
    assert "don't know a provider" in chat.text
    assert "Dr. Amina Patel" in chat.text


def test_slot_taken_meanwhile_offers_new_times(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("i need an appointment")
    chat.say("vaccination")
    chat.say("dr patel")
    chat.say("friday at 2pm")
    first = slot_buttons(chat)[0]
    chat.click(0)
    chat.say("Jordan Rivera")
    chat.say("March 14 1990")
    assert "Shall I book it?" in chat.text
    # Someone else takes that exact slot before the patient confirms.
    from actions.common import SlotKey

    payload = first["payload"]
    key = SlotKey.decode(payload.split('"slot_choice":"')[1].split('"')[0])
    service = SqlSchedulingService(assistant.clinic_database_url)
    service.book(
        patient_id="P-1002",
        provider_id=key.provider_id,
        visit_type="vaccination",
        start=key.start,
        now=dt.datetime(2026, 12, 2, 8, tzinfo=service_tz()),
    )
    chat.say("yes")
    assert "just taken" in chat.text
    again = slot_buttons(chat)
    assert again and first["payload"] not in [b["payload"] for b in again]


def test_new_patient_is_registered_during_booking(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("hi, i'm new and want to become a patient")
    chat.say("new patient visit")
    chat.say("anyone")
    chat.say("next wednesday")
    chat.click(0)
    chat.say("Maria Lopez")
    chat.say("7/4/1985")
    assert "first visit" in chat.text
    chat.say("yes")
    assert "mobile number" in chat.text
    chat.say("my cell is (555) 201-9999")
    assert "Shall I book it?" in chat.text
    chat.say("yes")
    assert "You're booked!" in chat.text


def test_stop_mid_form(chat: Conversation) -> None:
    chat.say("book appt")
    chat.say("never mind")
    assert "Nothing has been booked" in chat.text


def test_hours_question_inside_the_form_returns_to_it(chat: Conversation) -> None:
    chat.say("need an appointment")
    chat.say("what time do you open on saturday?")
    assert "Saturday" in chat.text
    assert "What is the visit for" in chat.text
