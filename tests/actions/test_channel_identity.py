"""Identity proven by the channel: a portal token verifies, an SMS number needs only the date of birth.

Claims are signed by the connectors (bot/channel_identity.py); a claim that is
unsigned, signed with another key, or arrives on another channel is ignored.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import ValidateIdentityForm
from bot.channel_identity import CHANNEL_IDENTITY_KEY, identity_metadata, proven_identity
from tests.actions.conftest import slot_events, texts

JORDAN_MOBILE = "+15555550123"


def channel_tracker(
    slots: dict[str, Any],
    text: str,
    channel: str,
    metadata: dict[str, Any] | None,
    just_set: list[str] | None = None,
) -> Tracker:
    """A tracker whose latest message came in on ``channel`` with ``metadata``."""
    latest = {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "entities": [], "metadata": metadata or {}}
    events = [
        {"event": "user", "text": text, "parse_data": latest, "input_channel": channel, "metadata": metadata or {}}
    ]
    events += [{"event": "slot", "name": name, "value": slots.get(name)} for name in (just_set or [])]
    return Tracker(
        sender_id="test",
        slots=dict(slots),
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "identity_form"},
        latest_action_name="action_listen",
    )


async def run_identity_form(tracker: Tracker, domain: dict[str, Any]) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await ValidateIdentityForm().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def asked(tracker: Tracker, domain: dict[str, Any], **slots: Any) -> list[str]:
    """The identity questions still to ask, once ``slots`` are applied."""
    tracker = tracker.copy()
    tracker.slots.update(slots)
    form = ValidateIdentityForm()
    return await form.required_slots(["patient_full_name", "patient_dob"], CollectingDispatcher(), tracker, domain)


def test_a_claim_is_accepted_only_signed_and_on_its_channel(clinic_db: str) -> None:
    metadata = identity_metadata("portal", record_id="P-1001")
    assert proven_identity(metadata, "portal", "portal") == {"kind": "portal", "record_id": "P-1001"}
    assert proven_identity(metadata, "socketio", "portal") is None  # a browser cannot claim the portal
    forged = {CHANNEL_IDENTITY_KEY: {**metadata[CHANNEL_IDENTITY_KEY], "record_id": "P-1002"}}
    assert proven_identity(forged, "portal", "portal") is None
    unsigned = {CHANNEL_IDENTITY_KEY: {"kind": "portal", "record_id": "P-1001"}}
    assert proven_identity(unsigned, "portal", "portal") is None


async def test_portal_patient_is_verified_without_questions(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker({}, "show my appointments", "portal", identity_metadata("portal", record_id="P-1002"))
    dispatcher, slots = await run_identity_form(tracker, domain)
    assert slots["patient_id"] == "P-1002"
    assert slots["patient_first_name"] == "Ana"
    assert slots.get("requested_slot") is None
    assert "utter_ask_identity_form_patient_full_name" not in texts(dispatcher)


async def test_portal_claim_from_a_web_chat_message_is_ignored(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker({}, "show my appointments", "socketio", identity_metadata("portal", record_id="P-1002"))
    _, slots = await run_identity_form(tracker, domain)
    assert not slots.get("patient_id")
    assert await asked(tracker, domain) == ["patient_full_name", "patient_dob"]


async def test_portal_token_for_an_unknown_record_falls_back_to_asking(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker({}, "show my appointments", "portal", identity_metadata("portal", record_id="P-9999"))
    _, slots = await run_identity_form(tracker, domain)
    assert not slots.get("patient_id")
    assert await asked(tracker, domain) == ["patient_full_name", "patient_dob"]


async def test_sms_asks_only_the_date_of_birth_first(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker({}, "my appointments", "sms", identity_metadata("sms", phone=JORDAN_MOBILE))
    assert await asked(tracker, domain) == ["patient_dob"]


async def test_sms_number_and_date_of_birth_verify(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker(
        {"patient_dob": "03/14/1990", "requested_slot": "patient_dob"},
        "03/14/1990",
        "sms",
        identity_metadata("sms", phone=JORDAN_MOBILE),
        just_set=["patient_dob"],
    )
    dispatcher, slots = await run_identity_form(tracker, domain)
    assert slots["patient_id"] == "P-1001"
    assert "utter_verified" in texts(dispatcher)


async def test_sms_wrong_date_of_birth_asks_the_name_next(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker(
        {"patient_dob": "01/01/1991", "requested_slot": "patient_dob"},
        "01/01/1991",
        "sms",
        identity_metadata("sms", phone=JORDAN_MOBILE),
        just_set=["patient_dob"],
    )
    dispatcher, slots = await run_identity_form(tracker, domain)
    assert not slots.get("patient_id")
    assert slots["mobile_identity_tried"] is True
    assert "utter_mobile_identity_no_match" in texts(dispatcher)
    assert await asked(tracker, domain, **slots) == ["patient_full_name", "patient_dob"]


async def test_sms_name_after_a_failed_number_check_verifies(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = channel_tracker(
        {
            "patient_dob": "1990-03-14",
            "mobile_identity_tried": True,
            "patient_full_name": "Jordan Rivera",
            "requested_slot": "patient_full_name",
        },
        "Jordan Rivera",
        "sms",
        identity_metadata("sms", phone="+15555550999"),
        just_set=["patient_full_name"],
    )
    _, slots = await run_identity_form(tracker, domain)
    assert slots["patient_id"] == "P-1001"
