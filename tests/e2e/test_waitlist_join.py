"""Joining the waitlist with a running assistant over the REST channel: from booking, directly, with consent."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e


def query(assistant: RunningAssistant, sql: str, **params: object) -> list[tuple[Any, ...]]:
    with get_engine(assistant.clinic_database_url).begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def waiting(assistant: RunningAssistant, patient_id: str) -> list[tuple[Any, ...]]:
    return query(
        assistant,
        "SELECT visit_type_code, provider_id, from_date, to_date FROM waitlist_entries"
        " WHERE patient_id = :p AND status = 'waiting' ORDER BY id",
        p=patient_id,
    )


@pytest.fixture(autouse=True)
def empty_waitlist(assistant: RunningAssistant) -> None:
    query(assistant, "DELETE FROM waitlist_entries")
    query(assistant, "UPDATE patients SET sms_consent_at = '2026-12-01 15:00:00.000000'")


def test_booking_with_nothing_open_offers_the_waitlist(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("i need to book a sick visit")
    chat.say("dr romero")
    assert "When would you like" in chat.text
    chat.say("saturday")  # Dr. Romero does not work Saturdays; the clinic is open
    assert "nothing open on Saturday, December 5" in chat.text
    assert "waitlist for a sick visit with Dr. Luis Romero on Saturday, December 5" in chat.text
    assert [b["title"] for b in chat.buttons] == ["Yes, add me", "No, thanks"]
    chat.click(0)
    assert "full name" in chat.text
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "You're on the waitlist for a sick visit with Dr. Luis Romero on Saturday, December 5" in chat.text
    assert "take me off the waitlist" in chat.text
    assert waiting(assistant, "P-1001") == [("sick_visit", "romero", "2026-12-05", "2026-12-05")]


def test_turning_the_times_down_then_yes(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("can i get a follow up with dr okafor")
    chat.say("next wednesday")
    assert "Here are the first open times" in chat.text
    chat.say("none of those work for me")
    assert "waitlist for a follow-up visit with Sam Okafor, NP" in chat.text
    chat.say("yes")
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "You're on the waitlist" in chat.text
    assert waiting(assistant, "P-1002") == [("follow_up", "okafor", "2026-12-09", "2026-12-09")]


def test_direct_request_after_verification(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("when is my next appointment?")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "Thanks, Jordan" in chat.text
    chat.say("put me on the waitlist for a sick visit with dr patel next week")
    assert "You're on the waitlist for a sick visit with Dr. Amina Patel" in chat.text
    assert waiting(assistant, "P-1001") == [("sick_visit", "patel", "2026-12-07", "2026-12-13")]
    chat.say("take me off the waitlist")
    assert "You're off the waitlist" in chat.text
    assert waiting(assistant, "P-1001") == []


def test_consent_is_asked_once_for_a_patient_without_it(chat: Conversation, assistant: RunningAssistant) -> None:
    query(assistant, "UPDATE patients SET sms_consent_at = NULL WHERE id = 'P-1002'")
    chat.say("can you let me know if something opens up earlier")
    assert "What kind of visit" in chat.text
    chat.say("an annual physical")
    chat.say("anyone")
    assert "Which days" in chat.text
    chat.say("whenever")
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "ending in 0188" in chat.text
    assert "+1555" not in chat.text and "555-0188" not in chat.text
    assert waiting(assistant, "P-1002") == []
    chat.say("yes")
    assert "You're on the waitlist for an annual physical with any provider" in chat.text
    assert waiting(assistant, "P-1002") == [("annual_physical", None, "2026-12-02", "2026-12-15")]
    assert query(assistant, "SELECT sms_consent_at IS NOT NULL FROM patients WHERE id = 'P-1002'") == [(1,)]


def test_no_to_texts_leaves_the_list_alone(chat: Conversation, assistant: RunningAssistant) -> None:
    query(assistant, "UPDATE patients SET sms_consent_at = NULL WHERE id = 'P-1002'")
    chat.say("Ana Souza wants the waitlist for dr kim pls")
    chat.say("skin check")
    chat.say("any time")
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "ending in 0188" in chat.text
    chat.say("no")
    assert "I haven't put you on the waitlist" in chat.text
    assert waiting(assistant, "P-1002") == []


def test_questions_in_between_are_answered_and_the_question_comes_back(
    chat: Conversation, assistant: RunningAssistant
) -> None:
    query(assistant, "UPDATE patients SET sms_consent_at = NULL WHERE id = 'P-1001'")
    chat.say("book a sick visit with dr romero")
    chat.say("saturday")
    assert "Want that?" in chat.text
    chat.say("what time do you close on saturday")
    assert "12:00 PM" in chat.text and "Want that?" in chat.text
    chat.say("yes")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "ending in 0123" in chat.text
    chat.say("where are you located")
    assert "120 Maple Grove Ave" in chat.text and "ending in 0123" in chat.text
    chat.say("ok yes")
    assert "You're on the waitlist" in chat.text
    assert waiting(assistant, "P-1001") == [("sick_visit", "romero", "2026-12-05", "2026-12-05")]


def test_an_emergency_stops_the_waitlist_question(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("i want a follow up with dr romero on saturday")
    if "Want that?" not in chat.text:  # the date came with provider and visit type: asked again
        chat.say("saturday")
    assert "Want that?" in chat.text
    chat.say("my chest hurts really bad and my left arm is numb")
    assert "911" in chat.text
    assert waiting(assistant, "P-1001") == [] and waiting(assistant, "P-1002") == []


def test_a_request_cut_short_is_forgotten(chat: Conversation) -> None:
    chat.say("waitlist please")
    chat.say("skin check")
    assert "Who would you like to see?" in chat.text
    chat.say("bye")
    chat.say("can you put me on the wait list")
    assert "What kind of visit" in chat.text


def test_a_verified_patient_joins_from_booking_at_once(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("show my appointments")
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "Thanks, Ana" in chat.text
    chat.say("i need to book a vaccination with dr romero")
    chat.say("this saturday")
    assert "Want that?" in chat.text
    chat.click(0)
    assert "You're on the waitlist for a vaccination with Dr. Luis Romero on Saturday, December 5" in chat.text
    assert waiting(assistant, "P-1002") == [("vaccination", "romero", "2026-12-05", "2026-12-05")]
