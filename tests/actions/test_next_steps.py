"""After-visit answers for a verified patient, in plain words, and staff work items."""

from __future__ import annotations

import re
from typing import Any

import textstat
from rasa_sdk.executor import CollectingDispatcher

from actions.callbacks import ActionSubmitCallback, ValidateCallbackForm
from actions.next_steps import ActionAfterIdentity, ActionSubmitRefill
from bot.records import get_records_service
from tests.actions.conftest import make_tracker, slot_events, texts


def asked(intent: str, text: str) -> list[dict[str, Any]]:
    """Events of a conversation where the patient asked something, then verified."""
    return [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        {"event": "user", "text": "Jordan Rivera", "parse_data": {"intent": {"name": "inform"}}},
        {"event": "user", "text": "03/14/1990", "parse_data": {"intent": {"name": "inform"}}},
    ]


def rendered(dispatcher: CollectingDispatcher, domain: dict[str, Any], slots: dict[str, Any]) -> list[str]:
    """The texts the patient would read (templates filled with values and slots)."""
    out = []
    for message in dispatcher.messages:
        template = domain["responses"][message["response"]][0]["text"]
        values = {**slots, **{k: v for k, v in message.items() if isinstance(v, str)}}
        out.append(re.sub(r"\{(\w+)\}", lambda m, values=values: str(values.get(m.group(1), "")), template))
    return out


CLINIC_SLOTS = {"clinic_phone": "(555) 010-2000", "clinic_name": "Maple Grove Family Clinic"}


async def test_next_steps_in_short_plain_messages(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"patient_id": "P-1001"}, events=asked("ask_next_steps", "what do i do now after my visit"))
    await ActionAfterIdentity().run(dispatcher, tracker, domain)
    names = texts(dispatcher)
    assert names[:2] == ["utter_next_steps_intro", "utter_next_steps_diagnosis"]
    assert names.count("utter_next_steps_instruction") == 4
    assert "utter_result_pending" in names and names[-1] == "utter_offer_follow_up"
    said = rendered(dispatcher, domain, CLINIC_SLOTS)
    joined = "\n".join(said)
    assert "Dr. Amina Patel" in joined and "chest cold" in joined and "inhaler" in joined
    assert "101°F" in joined and "chest X-ray" in joined and "911" in joined
    for text in said:
        assert textstat.flesch_kincaid_grade(text) <= 6, text


async def test_no_visit_on_record_is_said_plainly(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"patient_id": "P-1002"}, events=asked("ask_next_steps", "next steps?"))
    await ActionAfterIdentity().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_no_visit_on_record"]


async def test_pending_results_with_expected_dates(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"patient_id": "P-1001"}, events=asked("ask_test_results", "is my xray back"))
    await ActionAfterIdentity().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_result_pending", "utter_results_how_you_hear"]
    assert dispatcher.messages[0]["test_name"] == "chest X-ray"
    assert dispatcher.messages[0]["expected_text"].startswith("between ")


async def test_nothing_is_disclosed_without_verification(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAfterIdentity().run(dispatcher, make_tracker({}, events=asked("ask_next_steps", "next steps")), domain)
    assert dispatcher.messages == []


async def test_refill_request_becomes_a_work_item(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"patient_id": "P-1001"}, events=asked("request_refill", "refill my inhaler"))
    events = await ActionAfterIdentity().run(dispatcher, tracker, domain)
    assert {"event": "followup", "name": "refill_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    dispatcher = CollectingDispatcher()
    slots = {"patient_id": "P-1001", "refill_medication": "albuterol inhaler", "refill_pharmacy": "CVS on Main St"}
    await ActionSubmitRefill().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_refill_queued"]
    items = get_records_service().open_work_items("refill")
    assert [(i.patient_id, i.medication, i.pharmacy) for i in items] == [
        ("P-1001", "albuterol inhaler", "CVS on Main St")
    ]


async def test_billing_callback_for_a_verified_patient(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"patient_id": "P-1001"})
    required = await ValidateCallbackForm().required_slots([], dispatcher, tracker, domain)
    assert required == ["callback_phone", "callback_best_time"]
    slots = {
        "patient_id": "P-1001",
        "callback_phone": "+15555550123",
        "callback_best_time": "mornings",
        "callback_reason": "billing",
    }
    events = await ActionSubmitCallback().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_callback_queued"]
    assert slot_events(events)["callback_phone"] is None
    items = get_records_service().open_work_items("callback")
    assert len(items) == 1 and items[0].reason == "billing" and items[0].patient_id == "P-1001"


async def test_callback_phone_is_validated(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"callback_phone": "call me maybe", "requested_slot": "callback_phone"},
        text="call me maybe",
        active_loop="callback_form",
        just_set=["callback_phone"],
    )
    events = await ValidateCallbackForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["callback_phone"] is None
    assert texts(dispatcher) == ["utter_mobile_not_understood"]


def asked_with(intent: str, text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Like ``asked``, with the entities the request carried."""
    events = asked(intent, text)
    events[0]["parse_data"]["entities"] = entities
    return events


async def test_another_doctors_advice_is_never_answered_with_our_notes(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "outside_clinician", "value": "specialist"}, {"entity": "visit_type", "value": "follow_up"}]
    events = asked_with(
        "ask_next_steps", "my cardiologist said i need a follow up, what were the instructions", entities
    )
    await ActionAfterIdentity().run(dispatcher, make_tracker({"patient_id": "P-1001"}, events=events), domain)
    assert texts(dispatcher) == ["utter_next_steps_outside_clinician"]


async def test_a_provider_without_a_visit_gets_the_latest_visit_named_not_told(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    events = asked_with("ask_next_steps", "what did dr kim say", [{"entity": "provider", "value": "kim"}])
    await ActionAfterIdentity().run(dispatcher, make_tracker({"patient_id": "P-1001"}, events=events), domain)
    assert texts(dispatcher) == ["utter_next_steps_other_provider"]
    assert dispatcher.messages[0]["provider_name"] == "Dr. Amina Patel"
    same = CollectingDispatcher()
    events = asked_with("ask_next_steps", "what did dr patel say", [{"entity": "provider", "value": "patel"}])
    await ActionAfterIdentity().run(same, make_tracker({"patient_id": "P-1001"}, events=events), domain)
    assert texts(same)[:2] == ["utter_next_steps_intro", "utter_next_steps_diagnosis"]


async def test_a_medicine_named_in_the_refill_request_is_not_asked_again(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    entities = [{"entity": "medicine", "value": "lisinopril", "text": "lisinopril"}]
    events = asked_with("request_refill", "can I get a refill of my lisinopril? I'm almost out", entities)
    result = await ActionAfterIdentity().run(
        CollectingDispatcher(), make_tracker({"patient_id": "P-1002"}, events=events), domain
    )
    assert slot_events(result)["refill_medication"] == "lisinopril"
    assert result[-1] == {"event": "followup", "name": "refill_form", "timestamp": None}
    plain = await ActionAfterIdentity().run(
        CollectingDispatcher(),
        make_tracker({"patient_id": "P-1002"}, events=asked("request_refill", "refill please")),
        domain,
    )
    assert "refill_medication" not in slot_events(plain)
