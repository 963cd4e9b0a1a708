"""Joining the waitlist in a conversation: offered by the booking form, asked for directly, consent, leaving."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ActionBookAppointment, ValidateBookingForm
from actions.waitlist import (
    ActionAskWaitlistAnswer,
    ActionJoinWaitlist,
    ActionLeaveWaitlist,
    ValidateWaitlistConsentForm,
    ValidateWaitlistForm,
)
from bot.db import get_engine
from bot.outreach.service import get_outreach_service, set_outreach_service
from bot.outreach.sql import SqlOutreachService
from tests.actions.conftest import make_tracker, slot_events, texts

TODAY = dt.date(2026, 12, 2)  # a Wednesday, as in conftest
ROMERO_SATURDAY = {"visit_type": "sick_visit", "provider": "romero"}  # Dr. Romero never works Saturdays


@pytest.fixture(autouse=True)
def outreach(clinic_db: str) -> Any:
    set_outreach_service(None)
    yield get_outreach_service()
    set_outreach_service(None)


def execute(url: str, sql: str, **params: object) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(sa.text(sql), params)


# What the validator sees when the booking action started the waitlist form (a FollowupAction).
BOOKED_THEN_FORM = [
    {"event": "user", "text": "yes"},
    {"event": "action", "name": "action_book_appointment"},
    {"event": "action", "name": "waitlist_form"},
]
WAITLIST_FORM_ORDER = ["waitlist_visit_type", "waitlist_provider", "waitlist_days", "patient_full_name", "patient_dob"]


def next_asked(before: dict[str, Any], slots: dict[str, Any]) -> str | None:
    """The slot the waitlist form asks next: the validator's pick, or Rasa's (the first empty one in domain order)."""
    if "requested_slot" in slots:
        return slots["requested_slot"]
    filled = {**before, **slots}
    return next((s for s in WAITLIST_FORM_ORDER if filled.get(s) is None), None)


def followups(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


def waiting_rows(url: str) -> list[tuple[Any, ...]]:
    with get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT patient_id, visit_type_code, provider_id, from_date, to_date FROM waitlist_entries"
                    " WHERE status = 'waiting'"
                )
            )
        ]


async def run_form(validator: Any, domain: dict[str, Any], form: str, slots: dict[str, Any], text: str, **kw: Any):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, text=text, active_loop=form, **kw)
    events = await validator.run(dispatcher, tracker, domain)
    return dispatcher, events, slot_events(events)


async def booking(domain: dict[str, Any], slots: dict[str, Any], text: str, requested: str, **kw: Any):
    kw.setdefault("just_set", [requested])
    return await run_form(
        ValidateBookingForm(), domain, "booking_form", {**slots, "requested_slot": requested}, text, **kw
    )


async def run_action(action: Any, domain: dict[str, Any], slots: dict[str, Any], text: str = "", **kw: Any):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(slots, text=text, **kw), domain)
    return dispatcher, events


# -- offered in the booking form


async def test_nothing_open_offers_the_waitlist_for_that_wish(domain: dict[str, Any]) -> None:
    dispatcher, _, slots = await booking(
        domain, {**ROMERO_SATURDAY, "time_preference": "saturday"}, "saturday", "time_preference"
    )
    assert texts(dispatcher) == ["utter_nothing_open"]
    assert slots["waitlist_offered"] == "sick_visit|romero|2026-12-05..2026-12-05"
    assert slots["requested_slot"] == "waitlist_answer"

    dispatcher, _ = await run_action(ActionAskWaitlistAnswer(), domain, {"waitlist_offered": slots["waitlist_offered"]})
    offer = dispatcher.messages[0]
    assert offer["response"] == "utter_ask_waitlist_answer"
    assert (offer["visit_text"], offer["provider_text"]) == ("a sick visit", "Dr. Luis Romero")
    assert offer["days_text"] == "on Saturday, December 5"


async def test_a_closed_day_is_not_a_reason_to_wait(domain: dict[str, Any]) -> None:
    dispatcher, _, slots = await booking(
        domain, {**ROMERO_SATURDAY, "time_preference": "sunday"}, "sunday", "time_preference"
    )
    assert texts(dispatcher) == ["utter_closed_that_day"]
    assert not slots.get("waitlist_offered")


async def test_yes_ends_booking_and_starts_the_waitlist_form_with_the_wish(domain: dict[str, Any]) -> None:
    offered = {**ROMERO_SATURDAY, "waitlist_offered": "sick_visit|romero|2026-12-05..2026-12-05"}
    for answer, intent in (("yes please", "affirm"), ("/affirm", "affirm"), ("sí", "affirm"), ("👍", "affirm")):
        _, _, slots = await booking(
            domain, {**offered, "waitlist_answer": answer}, answer, "waitlist_answer", intent=intent
        )
        assert slots["form_outcome"] == "waitlist" and slots["requested_slot"] is None, answer
    _, events = await run_action(ActionBookAppointment(), domain, {**offered, "form_outcome": "waitlist"})
    assert "waitlist_form" in followups(events)
    slots = slot_events(events)
    assert (slots["waitlist_visit_type"], slots["waitlist_provider"]) == ("sick_visit", "romero")
    assert slots["waitlist_days"] == "2026-12-05..2026-12-05"
    assert slots["waitlist_offered"] is None and slots["form_outcome"] is None


async def test_no_or_another_time_drops_the_offer(domain: dict[str, Any]) -> None:
    offered = {**ROMERO_SATURDAY, "waitlist_offered": "sick_visit|romero|2026-12-05..2026-12-05"}
    dispatcher, _, slots = await booking(
        domain, {**offered, "waitlist_answer": "nope"}, "nope", "waitlist_answer", intent="deny"
    )
    assert texts(dispatcher) == ["utter_waitlist_declined"]
    assert slots["waitlist_offered"] is None and slots["requested_slot"] == "time_preference"
    dispatcher, _, slots = await booking(
        domain, {**offered, "waitlist_answer": "how about tuesday"}, "how about tuesday", "waitlist_answer"
    )
    assert slots["waitlist_offered"] is None
    assert slots["offered_slots"] and slots["requested_slot"] == "slot_choice"
    _, _, slots = await booking(
        domain, {**offered, "waitlist_answer": "ok monday then"}, "ok monday then", "waitlist_answer", intent="affirm"
    )
    assert slots["waitlist_offered"] is None and slots.get("form_outcome") is None
    assert slots["offered_slots"] and slots["requested_slot"] == "slot_choice"
    dispatcher, _, slots = await booking(domain, {**offered, "waitlist_answer": "hmm"}, "hmm", "waitlist_answer")
    assert texts(dispatcher) == ["utter_yes_or_no"] and slots["requested_slot"] == "waitlist_answer"


@pytest.mark.parametrize("reply", ["none of those work", "anything sooner?", "is there nothing earlier", "no"])
async def test_turning_the_times_down_offers_the_waitlist_until_the_first_time(
    domain: dict[str, Any], reply: str
) -> None:
    offered = ["2026-12-09T09:00|patel", "2026-12-09T09:20|patel"]
    base = {"visit_type": "follow_up", "provider": "patel", "time_preference": "asap", "offered_slots": offered}
    intent = "deny" if reply == "no" else "inform"
    dispatcher, _, slots = await booking(domain, {**base, "slot_choice": reply}, reply, "slot_choice", intent=intent)
    assert slots["waitlist_offered"] == "follow_up|patel|2026-12-02..2026-12-08"
    assert slots["requested_slot"] == "waitlist_answer"
    assert dispatcher.messages == []


async def test_anything_sooner_after_a_later_week_looks_before_it_first(domain: dict[str, Any]) -> None:
    offered = ["2026-12-14T09:00|patel", "2026-12-14T09:20|patel"]
    base = {
        "visit_type": "follow_up",
        "provider": "patel",
        "time_preference": "the week of december 14",
        "offered_slots": offered,
    }
    text = "hmm thats a while away, anything sooner?"
    _, _, slots = await booking(domain, {**base, "slot_choice": text}, text, "slot_choice", intent="inform")
    assert not slots.get("waitlist_offered")
    earlier = [o for o in slots["offered_slots"] if o < "2026-12-14"]
    assert earlier and earlier == slots["offered_slots"]  # only times before the week first offered


async def test_a_pick_or_a_new_day_is_not_a_turn_down(domain: dict[str, Any]) -> None:
    offered = ["2026-12-09T09:00|patel", "2026-12-09T09:20|patel"]
    base = {"visit_type": "follow_up", "provider": "patel", "time_preference": "asap", "offered_slots": offered}
    _, _, slots = await booking(domain, {**base, "slot_choice": "the earlier one"}, "the earlier one", "slot_choice")
    assert not slots.get("waitlist_offered")
    _, _, slots = await booking(domain, {**base, "slot_choice": "2"}, "2", "slot_choice")
    assert slots["slot_choice"] == offered[1] and not slots.get("waitlist_offered")


async def test_asking_for_the_waitlist_at_any_booking_question(domain: dict[str, Any]) -> None:
    offered = ["2026-12-09T09:00|patel"]
    base = {"visit_type": "follow_up", "provider": "any", "time_preference": "next week", "offered_slots": offered}
    text = "can you just put me on the waitlist"
    _, _, slots = await booking(domain, {**base, "slot_choice": text}, text, "slot_choice", intent="join_waitlist")
    assert slots["form_outcome"] == "waitlist" and slots["requested_slot"] is None
    assert slots["waitlist_offered"].startswith("follow_up||2026-12-07..")


# -- asked for directly


async def test_direct_request_with_everything_named(domain: dict[str, Any]) -> None:
    text = "put me on the waitlist for a sick visit with dr patel next week"
    entities = [{"entity": "visit_type", "value": "sick_visit"}, {"entity": "provider", "value": "patel"}]
    _, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        {"patient_id": "P-1001"},
        text,
        intent="join_waitlist",
        entities=entities,
        events=[],
    )
    assert (slots["waitlist_visit_type"], slots["waitlist_provider"]) == ("sick_visit", "patel")
    assert slots["waitlist_days"] == "2026-12-07..2026-12-13"
    assert slots["requested_slot"] is None


async def test_direct_request_asks_what_then_who(domain: dict[str, Any]) -> None:
    _, _, slots = await run_form(
        ValidateWaitlistForm(), domain, "waitlist_form", {}, "put me on the waitlist", intent="join_waitlist", events=[]
    )
    assert next_asked({}, slots) == "waitlist_visit_type"
    wish = {"waitlist_visit_type": "skin_check", "waitlist_provider": "any", "waitlist_days": "2026-12-03..2026-12-09"}
    _, _, slots = await run_form(ValidateWaitlistForm(), domain, "waitlist_form", wish, "yes", events=BOOKED_THEN_FORM)
    assert next_asked(wish, slots) == "patient_full_name"


@pytest.mark.parametrize(
    ("answer", "expected", "said"),
    [
        ("whenever", "2026-12-02..2026-12-15", []),
        ("any time is fine", "2026-12-02..2026-12-15", []),
        ("cualquier día", "2026-12-02..2026-12-15", []),
        ("dec 10 to dec 20", "2026-12-10..2026-12-20", []),
        ("🤷", None, ["utter_waitlist_days_not_understood"]),
        ("last week", None, ["utter_waitlist_days_past"]),
        ("december 10 to april 30", None, ["utter_waitlist_days_too_long"]),
    ],
)
async def test_which_days(domain: dict[str, Any], answer: str, expected: str | None, said: list[str]) -> None:
    slots_before = {"waitlist_visit_type": "sick_visit", "waitlist_provider": "any", "requested_slot": "waitlist_days"}
    dispatcher, _, slots = await run_form(ValidateWaitlistForm(), domain, "waitlist_form", slots_before, answer)
    assert slots["waitlist_days"] == expected
    assert texts(dispatcher) == said


async def test_provider_who_does_not_offer_the_visit_type(domain: dict[str, Any]) -> None:
    slots_before = {"waitlist_visit_type": "skin_check", "requested_slot": "waitlist_provider"}
    dispatcher, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        slots_before,
        "dr romero",
        entities=[{"entity": "provider", "value": "romero"}],
    )
    assert slots["waitlist_provider"] is None
    assert texts(dispatcher) == ["utter_provider_does_not_offer"]


async def test_identity_is_checked_in_the_waitlist_form(domain: dict[str, Any]) -> None:
    wish = {"waitlist_visit_type": "sick_visit", "waitlist_provider": "any", "waitlist_days": "2026-12-03..2026-12-09"}
    _, _, slots = await run_form(
        ValidateWaitlistForm(), domain, "waitlist_form", {**wish, "requested_slot": "patient_full_name"}, "Ana Souza"
    )
    assert slots["patient_full_name"] == "Ana Souza"
    assert next_asked({**wish, "patient_full_name": "Ana Souza"}, slots) == "patient_dob"
    dispatcher, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        {**wish, "patient_full_name": "Ana Souza", "requested_slot": "patient_dob"},
        "11/02/1978",
    )
    assert slots["patient_id"] == "P-1002" and slots["requested_slot"] is None


# -- joining, consent, leaving

WISH = {
    "waitlist_visit_type": "sick_visit",
    "waitlist_provider": "patel",
    "waitlist_days": "2026-12-07..2026-12-13",
}


async def test_join_with_consent_on_file(domain: dict[str, Any], clinic_db: str) -> None:
    dispatcher, events = await run_action(ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1001"})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_waitlist_joined"
    assert message["provider_text"] == "Dr. Amina Patel"
    assert message["days_text"] == "between Monday, December 7 and Sunday, December 13"
    assert waiting_rows(clinic_db) == [("P-1001", "sick_visit", "patel", "2026-12-07", "2026-12-13")]
    assert slot_events(events)["waitlist_visit_type"] is None


async def test_consent_asked_once_then_joined(domain: dict[str, Any], clinic_db: str) -> None:
    execute(clinic_db, "UPDATE patients SET sms_consent_at = NULL")
    dispatcher, events = await run_action(ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1002"})
    assert dispatcher.messages == []
    assert "waitlist_consent_form" in followups(events)
    assert slot_events(events)["waitlist_mobile_ending"] == "0188"
    assert waiting_rows(clinic_db) == []

    asked = {**WISH, "patient_id": "P-1002", "waitlist_mobile_ending": "0188", "requested_slot": "waitlist_consent"}
    dispatcher, _, slots = await run_form(
        ValidateWaitlistConsentForm(), domain, "waitlist_consent_form", asked, "maybe later?"
    )
    assert texts(dispatcher) == ["utter_yes_or_no"] and slots["waitlist_consent"] is None
    _, _, slots = await run_form(
        ValidateWaitlistConsentForm(), domain, "waitlist_consent_form", asked, "yes that's my cell"
    )
    assert slots["waitlist_consent"] is True

    dispatcher, _ = await run_action(
        ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1002", "waitlist_consent": True}
    )
    assert texts(dispatcher) == ["utter_waitlist_joined"]
    assert get_outreach_service().has_text_consent("P-1002")
    assert len(waiting_rows(clinic_db)) == 1


async def test_no_to_texts_means_not_joined(domain: dict[str, Any], clinic_db: str) -> None:
    execute(clinic_db, "UPDATE patients SET sms_consent_at = NULL")
    dispatcher, _ = await run_action(
        ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1002", "waitlist_consent": False}
    )
    assert texts(dispatcher) == ["utter_waitlist_not_joined"]
    assert "(555) 010-2000" in dispatcher.messages[0]["clinic_phone"]
    assert waiting_rows(clinic_db) == [] and not get_outreach_service().has_text_consent("P-1002")


async def test_no_mobile_on_record(domain: dict[str, Any], clinic_db: str) -> None:
    execute(clinic_db, "UPDATE patients SET mobile = NULL, sms_consent_at = NULL WHERE id = 'P-1002'")
    dispatcher, _ = await run_action(ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1002"})
    assert texts(dispatcher) == ["utter_waitlist_no_mobile"]
    assert waiting_rows(clinic_db) == []


async def test_a_range_the_database_refuses_asks_the_days_again(domain: dict[str, Any], clinic_db: str) -> None:
    slots = {**WISH, "waitlist_days": "2026-12-03..2027-03-30", "patient_id": "P-1001"}
    dispatcher, events = await run_action(ActionJoinWaitlist(), domain, slots)
    assert texts(dispatcher) == ["utter_waitlist_days_too_long"]
    assert "waitlist_form" in followups(events)
    assert waiting_rows(clinic_db) == []


async def test_database_down_is_said_plainly(domain: dict[str, Any]) -> None:
    set_outreach_service(SqlOutreachService("postgresql://postgres@127.0.0.1:1/nothing"))
    dispatcher, events = await run_action(ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1001"})
    assert texts(dispatcher) == ["utter_backend_down"]
    assert slot_events(events)["waitlist_visit_type"] is None


async def test_leave_the_waitlist(domain: dict[str, Any], clinic_db: str) -> None:
    dispatcher, _ = await run_action(ActionLeaveWaitlist(), domain, {"patient_id": "P-1001"})
    assert texts(dispatcher) == ["utter_waitlist_none"]
    await run_action(ActionJoinWaitlist(), domain, {**WISH, "patient_id": "P-1001"})
    dispatcher, _ = await run_action(ActionLeaveWaitlist(), domain, {"patient_id": "P-1001"})
    assert texts(dispatcher) == ["utter_waitlist_left"]
    assert waiting_rows(clinic_db) == []


async def test_a_request_without_days_asks_for_them_without_complaint(domain: dict[str, Any]) -> None:
    dispatcher, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        {},
        "waitlist for dr kim pls",
        intent="join_waitlist",
        entities=[{"entity": "provider", "value": "kim"}],
        events=[],
    )
    assert dispatcher.messages == []
    assert slots["waitlist_provider"] == "kim" and "waitlist_days" not in slots


async def test_a_visit_type_the_named_provider_does_not_offer(domain: dict[str, Any]) -> None:
    before = {"waitlist_provider": "kim", "requested_slot": "waitlist_visit_type"}
    dispatcher, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        before,
        "sick visit",
        entities=[{"entity": "visit_type", "value": "sick_visit"}],
    )
    assert slots["waitlist_visit_type"] == "sick_visit" and slots["waitlist_provider"] is None
    assert texts(dispatcher) == ["utter_provider_does_not_offer"]


async def test_a_question_about_hours_is_not_an_answer(domain: dict[str, Any]) -> None:
    before = {"requested_slot": "waitlist_visit_type"}
    dispatcher, _, slots = await run_form(
        ValidateWaitlistForm(), domain, "waitlist_form", before, "what are your hours", intent="ask_clinic_hours"
    )
    assert dispatcher.messages == [] and "waitlist_visit_type" not in slots


async def test_a_new_request_forgets_a_wish_left_behind(domain: dict[str, Any]) -> None:
    stale = {"waitlist_visit_type": "skin_check", "waitlist_provider": "kim", "waitlist_days": "2026-12-03..2026-12-04"}
    _, _, slots = await run_form(
        ValidateWaitlistForm(),
        domain,
        "waitlist_form",
        stale,
        "put me on the waitlist",
        intent="join_waitlist",
        # Rasa starts a form by handing it the slots already filled, as candidates.
        events=[
            {"event": "user", "text": "put me on the waitlist"},
            {"event": "action", "name": "waitlist_form"},
            *({"event": "slot", "name": name, "value": value} for name, value in stale.items()),
        ],
    )
    assert next_asked({}, slots) == "waitlist_visit_type"
    assert all(slots[name] is None for name in stale)
    from_booking = {**stale, "patient_id": "P-1001"}
    _, _, slots = await run_form(
        ValidateWaitlistForm(), domain, "waitlist_form", from_booking, "yes", events=BOOKED_THEN_FORM
    )
    assert slots.get("waitlist_visit_type", "skin_check") == "skin_check" and slots["requested_slot"] is None


async def test_a_name_with_no_record_hears_what_the_waitlist_needs(domain: dict[str, Any]) -> None:
    wish = {"waitlist_visit_type": "sick_visit", "waitlist_provider": "any", "waitlist_days": "2026-12-03..2026-12-09"}
    before = {**wish, "patient_full_name": "Nobody Newman", "requested_slot": "patient_dob"}
    dispatcher, _, slots = await run_form(ValidateWaitlistForm(), domain, "waitlist_form", before, "01/01/1990")
    assert texts(dispatcher) == ["utter_verification_failed", "utter_waitlist_needs_record"]
    assert slots["patient_full_name"] is None and slots["verification_attempts"] == 1.0


@pytest.mark.parametrize(
    ("form", "validator", "requested"),
    [
        ("booking_form", ValidateBookingForm(), "waitlist_answer"),
        ("waitlist_consent_form", ValidateWaitlistConsentForm(), "waitlist_consent"),
        ("waitlist_form", ValidateWaitlistForm(), "waitlist_days"),
    ],
)
async def test_an_emergency_is_never_taken_as_an_answer(
    domain: dict[str, Any], form: str, validator: Any, requested: str
) -> None:
    before = {
        **ROMERO_SATURDAY,
        "waitlist_offered": "sick_visit|romero|2026-12-05..2026-12-05",
        "waitlist_visit_type": "sick_visit",
        "waitlist_provider": "any",
        "requested_slot": requested,
    }
    text = "my chest hurts really bad and i cant breathe"
    dispatcher, _, slots = await run_form(validator, domain, form, before, text, intent="report_emergency")
    assert requested not in slots and dispatcher.messages == []
