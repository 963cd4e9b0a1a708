"""What the patient reads: whole sentences, as the assistant would send them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from rasa.shared.core.domain import Domain

from bot.paths import DOMAIN_PATH


def demo_birth_dates() -> list[str]:
    """Every demo patient's date of birth, in the spellings a prompt could use."""
    seed = yaml.safe_load(Path("bot/seed_data/demo_clinic.yml").read_text(encoding="utf-8"))
    spellings = []
    for patient in seed["patients"]:
        born = patient["date_of_birth"]
        spellings += [f"{born:%m/%d/%Y}", f"{born.month}/{born.day}/{born.year}", born.isoformat()]
    return spellings


def test_no_prompt_shows_a_real_patients_date_of_birth() -> None:
    """Example dates of birth in prompts belong to nobody in the demo clinic."""
    responses = Domain.load(DOMAIN_PATH).responses
    texts = [variant.get("text", "") for variants in responses.values() for variant in variants]
    born = demo_birth_dates()
    assert len(born) >= 6
    leaks = [text for text in texts for dob in born if dob in text]
    assert leaks == []
    examples = [text for text in texts if re.search(r"\d{2}/\d{2}/\d{4}", text)]
    assert examples and all("07/04/1985" in text for text in examples)


# --- sentences built from clinic data -------------------------------------------------

import datetime as dt  # noqa: E402

import pytest  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.common import SlotKey, sentence_start, with_article  # noqa: E402
from actions.slot_offering import describe_window, parse_preference  # noqa: E402
from tests.actions.conftest import make_tracker  # noqa: E402

CLINIC_DAYS = frozenset(range(6))  # the demo clinic: Monday to Saturday, closed Sunday
ADDRESS = "Maple Grove Family Clinic, 120 Maple Grove Ave, Springfield"
BRING = "your insurance card, a photo ID and a list of the medicines you take"


def sentence(domain: dict[str, Any], message: dict[str, Any]) -> str:
    """The web-chat text of a response message, filled in as Rasa fills it."""
    variants = domain["responses"][message["response"]]
    text = next(v["text"] for v in variants if not v.get("channel"))
    return re.sub(r"\{(\w+)\}", lambda m: str(message[m.group(1)]), text)


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("sick visit", "a sick visit"),
        ("annual physical", "an annual physical"),
        ("follow-up visit", "a follow-up visit"),
        ("new patient visit", "a new patient visit"),
        ("skin check", "a skin check"),
        ("vaccination", "a vaccination"),
        ("urgent care visit", "an urgent care visit"),
        ("X-ray", "an X-ray"),
        ("hour-long visit", "an hour-long visit"),
        ("one-time check", "a one-time check"),
    ],
)
def test_indefinite_article(noun: str, expected: str) -> None:
    """ "a" or "an" by sound, so no reply says "a annual physical"."""
    assert with_article(noun) == expected
    assert sentence_start(with_article(noun)) == expected[0].upper() + expected[1:]


@pytest.mark.parametrize(
    ("said", "offer"),
    [
        (
            "tomorrow afternoon",
            "Here are the first open times on Thursday, December 3, in the afternoon. Which one works for you?",
        ),
        (
            "next week",
            "Here are the first open times from Monday, December 7 to Saturday, December 12. Which one works for you?",
        ),
        ("in the morning", "Here are the first open times in the morning. Which one works for you?"),
        ("asap", "Here are the first open times in the next few weeks. Which one works for you?"),
        (
            "I've had a fever since yesterday",
            "Here are the first open times in the next few weeks. Which one works for you?",
        ),
        ("from saturday", "Here are the first open times on or after Saturday, December 5. Which one works for you?"),
        ("this weekend", "Here are the first open times on Saturday, December 5. Which one works for you?"),
        (
            "by friday",
            "Here are the first open times from Wednesday, December 2 to Friday, December 4. Which one works for you?",
        ),
        (
            "after the 15th",
            "Here are the first open times on or after Wednesday, December 16. Which one works for you?",
        ),
        (
            "mondays or fridays after 2",
            "Here are the first open times on Mondays or Fridays, after 2 PM. Which one works for you?",
        ),
        (
            "next week, weekdays only, around 10",
            "Here are the first open times from Monday, December 7 to Friday, December 11, on weekdays,"
            " around 10 AM."
            " Which one works for you?",
        ),
        (
            "jan 5 at 9:30",
            "Here are the first open times on Tuesday, January 5, 2027, at 9:30 AM. Which one works for you?",
        ),
        (
            "any time this week",
            "Here are the first open times from Wednesday, December 2 to Saturday, December 5."
            " Which one works for you?",
        ),
    ],
)
def test_offer_sentence_reads_right(clinic_db: str, domain: dict[str, Any], said: str, offer: str) -> None:
    """Every kind of "when" fits the offer sentence; a range never ends on closed Sunday."""
    when_text = describe_window(parse_preference(said), CLINIC_DAYS)
    assert sentence(domain, {"response": "utter_offer_slots", "when_text": when_text}) == offer
    nothing = sentence(domain, {"response": "utter_no_slots_found", "when_text": when_text})
    assert nothing == f"Sorry, there's nothing open {when_text}. Could you give me another day or time?"
    assert " for " not in f" {when_text} " and not when_text.endswith(" on")


async def test_offer_from_the_action_names_the_window(clinic_db: str, domain: dict[str, Any]) -> None:
    """The offer the patient sees, with clinic hours read from the database."""
    from actions.slot_offering import ActionAskSlotChoice

    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"visit_type": "sick_visit", "provider": "any", "time_preference": "next week"})
    await ActionAskSlotChoice().run(dispatcher, tracker, domain)
    assert sentence(domain, dispatcher.messages[0]) == (
        "Here are the first open times from Monday, December 7 to Saturday, December 12. Which one works for you?"
    )


def first_slot(visit_type: str, provider: str, day: dt.date) -> SlotKey:
    """The first open slot of a provider on a day, as the form would hold it."""
    from bot.scheduling import get_scheduling_service

    slot = get_scheduling_service().search_slots(visit_type, provider_id=provider, start_date=day, end_date=day)[0]
    return SlotKey(slot.start, provider)


@pytest.mark.parametrize(
    ("visit_type", "provider", "expected"),
    [
        (
            "annual_physical",
            "patel",
            "Just to confirm: an annual physical with Dr. Amina Patel on Friday, December 4 at 8:00 AM."
            " Shall I book it?",
        ),
        (
            "sick_visit",
            "okafor",
            "Just to confirm: a sick visit with Sam Okafor, NP on Friday, December 4 at 8:00 AM. Shall I book it?",
        ),
    ],
)
async def test_booking_read_back(
    clinic_db: str, domain: dict[str, Any], visit_type: str, provider: str, expected: str
) -> None:
    """The read-back before booking uses the right article for every visit type."""
    from actions.booking import ActionAskBookingConfirmed

    key = first_slot(visit_type, provider, dt.date(2026, 12, 4))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"visit_type": visit_type, "slot_choice": key.encode()})
    await ActionAskBookingConfirmed().run(dispatcher, tracker, domain)
    assert [sentence(domain, m) for m in dispatcher.messages] == [expected]


@pytest.mark.parametrize(
    ("visit_type", "provider", "visit_words", "provider_name"),
    [
        ("sick_visit", "patel", "sick visit", "Dr. Amina Patel"),
        ("annual_physical", "okafor", "annual physical", "Sam Okafor, NP"),
    ],
)
async def test_booking_done_sentence(
    clinic_db: str, domain: dict[str, Any], visit_type: str, provider: str, visit_words: str, provider_name: str
) -> None:
    """ "You're booked! Your sick visit with ..." starts like a sentence, whatever the visit."""
    from actions.booking import ActionBookAppointment

    key = first_slot(visit_type, provider, dt.date(2026, 12, 4))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"visit_type": visit_type, "slot_choice": key.encode(), "patient_id": "P-1001", "booking_confirmed": True}
    )
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert sentence(domain, message) == (
        f"You're booked! Your {visit_words} with {provider_name} is on Friday, December 4 at 8:00 AM."
        f" We're at {ADDRESS}. Please arrive 10 minutes early and bring {BRING}."
        f" Your appointment number is {message['appointment_id']}."
    )


async def test_appointment_list_sentences(clinic_db: str, domain: dict[str, Any]) -> None:
    """Each listed visit starts with the right capitalised article."""
    from actions.appointments import ActionListAppointments
    from bot.scheduling import get_scheduling_service

    key = first_slot("annual_physical", "patel", dt.date(2026, 12, 4))
    get_scheduling_service().book("P-1002", "patel", "annual_physical", key.start)
    dispatcher = CollectingDispatcher()
    await ActionListAppointments().run(dispatcher, make_tracker({"patient_id": "P-1002"}), domain)
    assert sentence(domain, dispatcher.messages[0]) == (
        "Here is what you have booked.\n"
        "- Friday, December 4 at 8:00 AM. An annual physical with Dr. Amina Patel.\n"
        "- Saturday, December 5 at 10:00 AM. A follow-up visit with Dr. Grace Kim."
    )
