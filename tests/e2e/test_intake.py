"""Intake through the REST channel: pause, resume in a later conversation, change an answer, submit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e


def answer_until(chat: Conversation, answers: dict, stop_at: str = "", limit: int = 30) -> None:
    """Answer each question by the first key found in the assistant's last message."""
    for _ in range(limit):
        text = chat.text.lower()
        if stop_at and stop_at in text:
            return
        key = next((k for k in answers if k in text), None)
        assert key is not None, f"unexpected question: {chat.text!r}"
        chat.say(answers[key])


ANSWERS = {
    "full legal name": "yes",
    "another name you like": "skip",
    "date of birth": "03/14/1990",
    "mobile phone": "(212) 555-0175",
    "what is your email": "jordan.rivera@example.com",
    "home address": "12 Oak Street, Springfield, IL 62704",
    "call in an emergency": "Maria Rivera",
    "their phone number": "(212) 555-0188",
    "related to you": "sister",
    "main reason for your visit": "yearly checkup",
    "what medicines": "none",
    "allergic": "penicillin",
    "still your insurance": "yes",
    "member id": "W123456789",
    "whose name is the plan": "mine",
    "consent to treatment": "yes",
    "text messages": "yes",
}


def test_intake_pause_resume_change_and_submit(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("i want to fill out my new patient paperwork")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    answer_until(chat, ANSWERS, stop_at="mobile phone")
    chat.say("12345")  # invalid answers get a clear re-ask
    assert "does not look like a US phone number" in chat.text
    chat.say("(212) 555-0175")
    chat.say("jordan at example")
    assert "does not look like an email" in chat.text
    answer_until(chat, ANSWERS, stop_at="main reason for your visit")
    chat.say("pause")
    assert "saved" in chat.text.lower()

    later = Conversation(assistant.rasa_url)  # a later conversation
    later.say("can i finish my intake form")
    later.say("Jordan Rivera")
    later.say("03/14/1990")
    assert "welcome back" in later.text.lower()
    later.say("change my email")
    assert "email" in later.text.lower()
    later.say("j.rivera@example.org")
    answer_until(later, ANSWERS, stop_at="is all of this right")
    assert "j.rivera@example.org" in later.text
    later.say("yes")
    engine = sa.create_engine(assistant.clinic_database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT version FROM intake_submissions WHERE patient_id = 'P-1001'")).all()
        drafts = connection.execute(sa.text("SELECT count(*) FROM intake_drafts WHERE patient_id = 'P-1001'")).scalar()
    engine.dispose()
    assert [r[0] for r in rows] == [1]
    assert drafts == 0
