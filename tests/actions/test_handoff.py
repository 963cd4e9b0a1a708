"""A way to a person: in opening hours the chat goes to the front desk with a short
summary and the assistant goes quiet; outside them the patient is offered a call back."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallback, ActionHandoff, ActionOfferPerson, handoff_summary
from bot.records import get_records_service
from bot.settings import reset_settings_cache
from tests.actions.conftest import make_tracker, slot_events, texts

SECRET_WORDS = "Jordan Rivera 03/14/1990 chest hurts since Tuesday"


def user(intent: str, text: str = "...") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def fallback() -> dict[str, Any]:
    return {"event": "action", "name": "action_fallback"}


@pytest.fixture
def clock(clinic_db: str, monkeypatch: pytest.MonkeyPatch):
    """Set the clinic's clock (CLINIC_TODAY is a Wednesday: open 8:00-17:00)."""

    def set_time(value: str) -> None:
        monkeypatch.setenv("CLINIC_TIME", value)
        reset_settings_cache()

    yield set_time
    reset_settings_cache()


async def run_fallback(events: list[dict[str, Any]], domain: dict[str, Any]):
    dispatcher = CollectingDispatcher()
    result = await ActionFallback().run(dispatcher, make_tracker(events=events), domain)
    return dispatcher, result


async def test_first_miss_re_asks(domain: dict[str, Any]) -> None:
    dispatcher, events = await run_fallback(
        [user("nlu_fallback"), fallback(), user("greet"), user("nlu_fallback")], domain
    )
    assert texts(dispatcher) == ["utter_default"] and events == []
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="out_of_scope", events=[user("greet"), user("out_of_scope")])
    await ActionFallback().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_out_of_scope"]


async def test_second_miss_in_a_row_offers_a_person(domain: dict[str, Any]) -> None:
    dispatcher, events = await run_fallback([user("out_of_scope"), fallback(), user("nlu_fallback")], domain)
    assert texts(dispatcher) == ["utter_still_not_understood"]
    assert slot_events(events)["callback_reason"] == "handoff"
    assert {"event": "followup", "name": "action_offer_person"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]


@pytest.mark.parametrize(
    "time, response", [("10:00", "utter_offer_person_open"), ("19:30", "utter_offer_callback_closed")]
)
async def test_the_offer_depends_on_opening_hours(clock, domain: dict[str, Any], time: str, response: str) -> None:
    clock(time)
    dispatcher = CollectingDispatcher()
    events = await ActionOfferPerson().run(dispatcher, make_tracker(), domain)
    assert texts(dispatcher) == [response]
    assert slot_events(events)["callback_reason"] == "handoff"
    assert "staff_holds" not in slot_events(events)  # only an offer: nobody holds the chat yet
    if time == "19:30":
        assert dispatcher.messages[0]["next_open_text"] == "Thursday, December 3 at 8:00 AM"


async def test_in_hours_the_chat_goes_to_the_front_desk(clock, domain: dict[str, Any]) -> None:
    clock("10:00")
    tracker = make_tracker(
        {"patient_id": "P-1001", "visit_type": "sick_visit", "provider": "patel"},
        text=SECRET_WORDS,
        intent="request_human",
        active_loop="booking_form",
        events=[user("book_appointment", SECRET_WORDS), user("request_human", "a person please")],
    )
    tracker.sender_id = "rest-handoff-1"
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_handoff_started"]
    assert dispatcher.messages[0]["closes_at_text"] == "5:00 PM"
    slots = slot_events(events)
    assert slots["staff_holds"] is True and slots["handoff_id"].startswith("H-")
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    [item] = get_records_service().open_work_items("handoff")
    assert (item.work_item_id, item.conversation_id, item.patient_id) == (
        slots["handoff_id"],
        "rest-handoff-1",
        "P-1001",
    )
    assert item.summary.startswith("Wanted: book a visit. Why a person: asked for a person.")
    assert "identity verified (P-1001)" in item.summary and "visit type, provider" in item.summary
    assert "Missing: preferred time, time slot" in item.summary
    assert not any(word in item.summary for word in SECRET_WORDS.split() + ["sick_visit", "patel"])


async def test_out_of_hours_a_call_back_is_offered_and_a_yes_starts_it(clock, domain: dict[str, Any]) -> None:
    clock("19:30")
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker(intent="request_human"), domain)
    assert texts(dispatcher) == ["utter_offer_callback_closed"]
    assert get_records_service().open_work_items() == []
    assert "staff_holds" not in slot_events(events)
    yes = await ActionHandoff().run(CollectingDispatcher(), make_tracker(intent="affirm"), domain)
    assert {"event": "followup", "name": "callback_form"} in [{k: e.get(k) for k in ("event", "name")} for e in yes]


async def test_without_the_database_the_patient_gets_the_phone(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    reset_settings_cache()
    from bot.records import set_records_service
    from bot.scheduling import set_scheduling_service

    set_scheduling_service(None)
    set_records_service(None)
    try:
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, make_tracker(intent="request_human"), domain)
        assert texts(dispatcher) == ["utter_handoff_unavailable"] and events == []
    finally:
        set_scheduling_service(None)
        set_records_service(None)
        reset_settings_cache()


def test_summary_of_a_lock_out_and_of_two_misses() -> None:
    locked = make_tracker(
        {"identity_locked": True}, events=[user("list_appointments", SECRET_WORDS), user("request_human")]
    )
    assert handoff_summary(locked) == (
        "Wanted: see their appointments. Why a person: identity check locked after 3 failed tries. "
        "Done: identity check locked. Missing: identity."
    )
    missed = make_tracker(
        events=[
            user("nlu_fallback", SECRET_WORDS),
            fallback(),
            user("nlu_fallback", "zz"),
            fallback(),
            {"event": "action", "name": "action_offer_person"},
            user("affirm", "yes"),
        ]
    )
    summary = handoff_summary(missed)
    assert summary.startswith("Wanted: not said. Why a person: the assistant did not understand them twice.")
    assert "Jordan" not in summary and len(summary) <= 500


async def test_a_staff_hold_outlives_the_session_and_nothing_else_does(clinic_db: str, domain: dict[str, Any]) -> None:
    from actions.session import ActionSessionStart

    held = make_tracker({"staff_holds": True, "handoff_id": "H-7K3Q9", "patient_id": "P-1001"})
    slots = slot_events(await ActionSessionStart().run(CollectingDispatcher(), held, domain))
    assert (slots["staff_holds"], slots["handoff_id"]) == (True, "H-7K3Q9")
    assert "patient_id" not in slots
    free = slot_events(
        await ActionSessionStart().run(CollectingDispatcher(), make_tracker({"staff_holds": False}), domain)
    )
    assert "staff_holds" not in free and "handoff_id" not in free


def test_asking_after_one_miss_is_asking() -> None:
    tracker = make_tracker(events=[user("nlu_fallback", "zz"), fallback(), user("request_human", "a person")])
    assert "Why a person: asked for a person." in handoff_summary(tracker)
