"""Insurance, costs, bills and after-visit questions through the REST channel."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e


def test_insurance_accepted_not_accepted_and_variants(chat: Conversation) -> None:
    chat.say("do u guys take blue cross")
    assert "Yes, we take Blue Cross Blue Shield" in chat.text
    chat.say("what about kaiser")
    assert "we don't take Kaiser Permanente" in chat.text
    chat.say("do you accept medi-cal?")
    assert "don't see" in chat.text and "can't say yes" in chat.text
    chat.say("is united healthcare ok")
    assert "Yes, we take UnitedHealthcare" in chat.text


def test_cost_without_and_with_coverage(chat: Conversation) -> None:
    chat.say("how much does a visit cost without insurance")
    assert "$180" in chat.text and "estimate" in chat.text
    chat.say("when is my appointment")  # verify as Jordan (Aetna on file, no copay on file)
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    chat.say("whats my copay")
    assert "We have Aetna on file" in chat.text and "not your copay" in chat.text


def test_billing_question_and_call_back(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("i got a bill and i dont get what the deductible is")
    assert "deductible is the amount you pay" in chat.text
    assert "billing team to call you" in chat.text
    chat.say("yes")
    assert "full name" in chat.text
    chat.say("Maria Lopez")
    chat.say("(555) 201-3344")
    chat.say("weekday mornings")
    assert "call you within one business day" in chat.text
    engine = sa.create_engine(assistant.clinic_database_url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM work_items WHERE kind = 'callback'")).scalar()
    engine.dispose()
    assert count >= 1


def test_next_steps_for_a_verified_patient(chat: Conversation) -> None:
    chat.say("what should i do now after my visit?")
    assert "full name" in chat.text and "bronchitis" not in chat.text
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    text = chat.text
    assert "Dr. Amina Patel" in text and "acute bronchitis" in text
    assert "inhaler twice a day" in text and "101°F" in text
    assert "chest X-ray result is not back yet" in text
    assert "Would you like to book it now?" in text
    chat.click(0)
    assert "Who would you like to see" in chat.text  # the follow-up visit type is already known


def test_test_results_for_an_unverified_patient_ask_for_identity_first(chat: Conversation) -> None:
    chat.say("are my xray results back")
    assert "full name" in chat.text and "X-ray" not in chat.text
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    assert "no test results waiting" in chat.text


def test_refill_request(chat: Conversation) -> None:
    chat.say("i need a refill please")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "Which medicine" in chat.text
    chat.say("albuterol")
    chat.say("walgreens on oak street")
    assert "refill request for albuterol" in chat.text


def test_a_medicine_named_in_the_refill_request_is_not_asked_again(chat: Conversation) -> None:
    chat.say("i need a refill on my inhaler")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "Which pharmacy" in chat.text and "Which medicine" not in chat.text
    chat.say("walgreens on oak street")
    assert "refill request for inhaler" in chat.text
