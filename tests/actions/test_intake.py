"""The intake form through rasa-sdk on a seeded clinic database: answers, go back, pause and resume, submit."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import textstat
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import slots as intake
from actions.intake.answers import parse_address, parse_change_request, parse_email, parse_us_phone
from actions.intake.form import ValidateIntakeForm
from actions.intake.record import answers_from_slots, slots_from_answers, summary_text
from actions.intake.submit import (
    ActionAskIntakeConfirmed,
    ActionAskIntakeInsuranceCarrier,
    ActionPauseIntake,
    ActionSubmitIntake,
)
from bot.log_privacy import patient_ref
from bot.paths import DOMAIN_PATH
from bot.records import get_records_service
from tests.actions.conftest import make_tracker, slot_events, texts

FORM = "intake_form"
CUSTOM_ASKS = {
    intake.CARRIER: ActionAskIntakeInsuranceCarrier,
    intake.CONFIRMED: ActionAskIntakeConfirmed,
}


@pytest.fixture(scope="module")
def intake_domain() -> dict[str, Any]:
    """The real domain, as the action server receives it (the intake form included)."""
    from rasa.shared.core.domain import Domain

    domain = Domain.load(DOMAIN_PATH)
    assert "intake_form" in domain.forms
    return domain.as_dict()


class Chat:
    """One conversation with the intake form, driven the way Rasa drives it.

    Rasa fills the requested slot with the message text (``from_text``), runs
    ``validate_intake_form``, asks the next slot (custom ask actions included)
    and, once ``requested_slot`` is None, runs ``action_submit_intake``.
    """

    def __init__(self, domain: dict[str, Any], sender: str = "test", **slots: Any) -> None:
        self.domain = domain
        self.sender = sender
        self.slots: dict[str, Any] = {"verification_attempts": 0.0, "identity_locked": False, **slots}
        self.replies: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.active = False

    @property
    def asking(self) -> str | None:
        """The question the form is waiting for (None once it has ended)."""
        return self.slots.get("requested_slot") if self.active else None

    async def start(self, text: str = "i want to fill out my intake form") -> list[str]:
        """Activate the form (what the start_intake rule does)."""
        self.active = True
        self.slots["requested_slot"] = None
        return await self._turn(text, "start_intake", {}, activation=True)

    async def say(self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None) -> list[str]:
        """Answer the current question."""
        assert self.active, "the form is not running"
        return await self._turn(text, intent, {self.slots["requested_slot"]: text}, entities=entities)

    async def _turn(
        self,
        text: str,
        intent: str,
        candidates: dict[str, Any],
        activation: bool = False,
        entities: list[dict[str, Any]] | None = None,
    ) -> list[str]:
        latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
        events = [{"event": "user", "text": text, "parse_data": latest}]
        if activation:
            events.append({"event": "active_loop", "name": FORM})
        events += [{"event": "slot", "name": "requested_slot", "value": self.slots.get("requested_slot")}]
        events += [{"event": "action", "name": FORM}]
        events += [{"event": "slot", "name": name, "value": value} for name, value in candidates.items()]
        tracker = make_tracker(
            {**self.slots, **candidates}, text=text, intent=intent, entities=entities, active_loop=FORM, events=events
        )
        tracker.sender_id = self.sender
        dispatcher = CollectingDispatcher()
        result = await ValidateIntakeForm().run(dispatcher, tracker, self.domain)
        self._apply(result)
        requested = self.slots.get("requested_slot")
        if requested is not None:
            await self._ask(requested, dispatcher)
        if self.slots.get("requested_slot") is None:
            self.active = False
            await self._run_action(ActionSubmitIntake(), dispatcher)
        self.messages = dispatcher.messages
        self.replies = texts(dispatcher)
        return self.replies

    async def _ask(self, slot: str, dispatcher: CollectingDispatcher) -> None:
        """Ask the next question like Rasa's form: a custom ask action, else the response."""
        if slot in CUSTOM_ASKS:
            await self._run_action(CUSTOM_ASKS[slot](), dispatcher)
        elif slot in ("patient_full_name",):
            dispatcher.utter_message(response="utter_ask_intake_form_patient_full_name")
        elif slot == "patient_dob":
            dispatcher.utter_message(response="utter_ask_patient_dob")
        else:
            dispatcher.utter_message(response=f"utter_ask_intake_form_{slot}")

    async def _run_action(self, action: Any, dispatcher: CollectingDispatcher) -> None:
        tracker = make_tracker(dict(self.slots), text="", intent="inform", active_loop=FORM if self.active else None)
        tracker.sender_id = self.sender
        self._apply(await action.run(dispatcher, tracker, self.domain))

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]


ANSWERS = {
    "intake_legal_name": "yes",
    "intake_preferred_name": "call me Jo",
    "intake_mobile": "my cell is 555 555 0123",
    "intake_email": "Jordan.Rivera@Example.com",
    "intake_address": "12 Oak St, Springfield, IL 62701",
    "intake_contact_name": "Maria Rivera",
    "intake_contact_phone": "(212) 555-0188",
    "intake_contact_relationship": "she's my mother",
    "intake_reason": "a cough that won't go away",
    "intake_medications": "none",
    "intake_allergies": "penicillin and peanuts",
    "intake_insurance_carrier": "yes",
    "intake_member_id": "W123456789",
    "intake_subscriber_relationship": "mine",
    "intake_consent_treatment": "yes",
    "intake_consent_text": "no",
    "intake_dob": "03/14/1990",
}


async def answer_until(chat: Chat, stop_at: str | None = None, answers: dict[str, str] | None = None) -> None:
    """Answer every question with ANSWERS until ``stop_at`` is asked (or the summary)."""
    answers = {**ANSWERS, **(answers or {})}
    for _ in range(30):
        slot = chat.asking
        if slot is None or slot == stop_at or slot == intake.CONFIRMED:
            return
        await chat.say(answers[slot], intent="affirm" if answers[slot] == "yes" else "inform")
    raise AssertionError("the form never ended")


async def verified_chat(domain: dict[str, Any], sender: str = "test") -> Chat:
    """A conversation of Jordan Rivera (P-1001), verified earlier in the session (e.g. at booking)."""
    chat = Chat(domain, sender=sender, patient_id="P-1001", patient_first_name="Jordan")
    await chat.start()
    return chat


# --- the whole form ---------------------------------------------------------------


async def test_identity_first_then_the_whole_form_then_a_stored_version_1(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    chat = Chat(intake_domain)
    await chat.start()
    assert chat.asking == "patient_full_name"
    await chat.say("Jordan Rivera")
    await chat.say("03/14/1990")
    assert chat.replies[:2] == ["utter_verified", "utter_intake_start"]
    assert chat.slots["intake_dob"] == "1990-03-14"  # just verified: not asked again
    assert chat.asking == "intake_legal_name"
    assert chat.slots["intake_name_on_file"] == "Jordan Rivera"
    await answer_until(chat)
    assert chat.asking == intake.CONFIRMED
    summary = chat.messages[-1]
    assert summary["response"] == "utter_ask_intake_form_intake_confirmed"
    assert "Goes by: Jo." in summary["summary_text"]
    assert "Insurance: Aetna, member ID W123456789." in summary["summary_text"]
    assert "Allergies: penicillin, peanuts." in summary["summary_text"]
    assert "Medicines: none." in summary["summary_text"]
    await chat.say("yes", intent="affirm")
    assert chat.asking is None
    assert chat.replies == ["utter_intake_done"]
    assert chat.slots["intake_legal_name"] is None and chat.slots["form_outcome"] is None

    stored = get_records_service().latest_intake("P-1001")
    assert stored is not None and stored.version == 1
    answers = stored.answers
    assert answers.legal_name == "Jordan Rivera" and answers.preferred_name == "Jo"
    assert answers.mobile == "+15555550123" and answers.email == "Jordan.Rivera@example.com"
    assert answers.emergency_contact.name == "Maria Rivera"
    assert answers.emergency_contact.phone == "+12125550188"
    assert answers.emergency_contact.relationship == "mother"
    assert answers.medications == () and answers.allergies == ("penicillin", "peanuts")
    assert answers.insurance is not None and answers.insurance.member_id == "W123456789"
    assert answers.consent_to_treatment is True and answers.consent_to_text is False
    assert get_records_service().load_intake_draft("P-1001") is None  # the draft went with the submission


async def test_a_second_submission_is_version_2(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    for expected_version, email in ((1, "jo@example.com"), (2, "skip")):
        chat = await verified_chat(intake_domain)
        assert chat.replies[0] == "utter_intake_start"
        await answer_until(chat, answers={"intake_email": email})
        await chat.say("yes", intent="affirm")
        stored = get_records_service().latest_intake("P-1001")
        assert stored.version == expected_version
    assert stored.answers.email is None
    assert [s.version for s in get_records_service().intake_history("P-1001")] == [1, 2]


async def test_self_pay_skips_the_insurance_details(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at=intake.CARRIER)
    assert chat.messages[-1]["response"] == "utter_ask_intake_insurance_on_file"
    assert chat.messages[-1]["carrier_name"] == "Aetna"
    await chat.say("no insurance, I'll pay myself")
    assert chat.slots[intake.CARRIER] == intake.SELF_PAY
    assert chat.asking == intake.CONSENT_TREATMENT
    await answer_until(chat)
    assert "Insurance: none, you pay for yourself." in chat.messages[-1]["summary_text"]
    await chat.say("yes", intent="affirm")
    stored = get_records_service().latest_intake("P-1001")
    assert stored.answers.insurance is None and stored.answers.self_pay
    assert get_records_service().coverage_for("P-1001") is None  # the intake ended the old coverage


# --- each answer -----------------------------------------------------------------


FILLED = {
    intake.LEGAL_NAME: "Jordan Rivera",
    intake.PREFERRED_NAME: "",
    intake.DOB: "1990-03-14",
    intake.MOBILE: "+15555550123",
    intake.EMAIL: "",
    intake.ADDRESS: "12 Oak St, Springfield, IL 62701",
    intake.CONTACT_NAME: "Maria Rivera",
    intake.CONTACT_PHONE: "+12125550188",
    intake.CONTACT_RELATIONSHIP: "mother",
    intake.REASON: "cough",
    intake.MEDICATIONS: [],
    intake.ALLERGIES: [],
    intake.CARRIER: "aetna",
    intake.MEMBER_ID: "W123456789",
    intake.SUBSCRIBER_RELATIONSHIP: "self",
    intake.CONSENT_TREATMENT: True,
    intake.CONSENT_TEXT: False,
}


async def answer(domain: dict[str, Any], slot: str, text: str, intent: str = "inform", **slots: Any) -> tuple:
    """Validate one answer for a verified patient whose form is running (earlier questions answered)."""
    before = (
        intake.ANSWER_SLOTS[: intake.ANSWER_SLOTS.index(slot)] if slot in intake.ANSWER_SLOTS else intake.ANSWER_SLOTS
    )
    earlier = {name: FILLED[name] for name in before if name in FILLED}
    base = {
        "patient_id": "P-1001",
        "patient_dob": "1990-03-14",
        "intake_loaded": True,
        "intake_name_on_file": "Jordan Rivera",
        **earlier,
        "requested_slot": slot,
        **slots,
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({**base, slot: text}, text=text, intent=intent, active_loop=FORM, just_set=[slot])
    events = await ValidateIntakeForm().run(dispatcher, tracker, domain)
    return texts(dispatcher), slot_events(events)


@pytest.mark.parametrize("text", ["555-01", "12345678901234", "call me maybe", "+44 20 7946 0958", "911"])
async def test_bad_phone_numbers_are_asked_again(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_mobile", text)
    assert slots["intake_mobile"] is None
    assert replies == ["utter_intake_phone_not_understood"]
    assert slots["requested_slot"] == "intake_mobile"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(212) 555-0123", "+12125550123"),
        ("my cell is 212.555.0123", "+12125550123"),
        ("+1 415 555 2671", "+14155552671"),
        ("555 555 0123", "+15555550123"),
    ],
)
async def test_good_phone_numbers_are_kept_in_e164(
    clinic_db: str, intake_domain: dict[str, Any], text: str, expected: str
) -> None:
    replies, slots = await answer(intake_domain, "intake_mobile", text)
    assert slots["intake_mobile"] == expected and replies == []


def test_fictional_555_area_code_only_in_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import reset_settings_cache

    monkeypatch.setenv("CLINIC_DEMO", "false")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "x" * 32)
    reset_settings_cache()
    try:
        assert parse_us_phone("555 555 0123") is None
        assert parse_us_phone("212 555 0123") == "+12125550123"
    finally:
        monkeypatch.undo()
        reset_settings_cache()


@pytest.mark.parametrize("text", ["jordan at example dot com", "jordan@", "jordan@example", "a@b@c.com", "yes"])
async def test_bad_emails_are_asked_again(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_email", text)
    assert slots["intake_email"] is None
    assert replies == ["utter_intake_email_not_understood"]


@pytest.mark.parametrize("text", ["skip", "none", "no", "I don't have one", "no email"])
async def test_email_can_be_skipped(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_email", text)
    assert slots["intake_email"] == intake.SKIPPED and replies == []
    assert slots["requested_slot"] == "intake_address"


async def test_email_is_read_out_of_a_sentence(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    _, slots = await answer(intake_domain, "intake_email", "it's Jo.Rivera@Mail.COM.")
    assert slots["intake_email"] == "Jo.Rivera@mail.com"


@pytest.mark.parametrize(
    "text, reply",
    [
        ("a long time ago", "utter_dob_not_understood"),
        ("03/15/1990", "utter_intake_dob_mismatch"),
        ("12/31/2099", "utter_dob_not_understood"),
    ],
)
async def test_bad_or_wrong_date_of_birth_is_asked_again(
    clinic_db: str, intake_domain: dict[str, Any], text: str, reply: str
) -> None:
    replies, slots = await answer(intake_domain, "intake_dob", text)
    assert slots["intake_dob"] is None and replies == [reply]


async def test_date_of_birth_checked_against_the_record_when_not_just_verified(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    # Verified at booking; booking forgets the date of birth, so the intake asks and checks it.
    chat = Chat(intake_domain, patient_id="P-1001", patient_first_name="Jordan")
    await chat.start()
    await answer_until(chat, stop_at="intake_dob")
    assert chat.asking == "intake_dob"
    await chat.say("March 15 1990")
    assert chat.replies[0] == "utter_intake_dob_mismatch" and chat.asking == "intake_dob"
    await chat.say("March 14 1990")
    assert chat.slots["intake_dob"] == "1990-03-14" and chat.asking == "intake_mobile"


@pytest.mark.parametrize(
    "text", ["none", "None.", "no known allergies", "NKDA", "nkda", "I'm not allergic to anything", "no allergies"]
)
async def test_no_known_allergies(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_allergies", text)
    assert slots["intake_allergies"] == [] and replies == []


@pytest.mark.parametrize("text", ["none", "no meds", "I don't take any medications", "nothing", "not taking anything"])
async def test_no_medications(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_medications", text)
    assert slots["intake_medications"] == [] and replies == []


async def test_medications_as_a_list(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    _, slots = await answer(intake_domain, "intake_medications", "I take lisinopril 10 mg, metformin and vitamin D")
    assert slots["intake_medications"] == ["lisinopril 10 mg", "metformin", "vitamin D"]
    replies, slots = await answer(intake_domain, "intake_medications", "idk")
    assert slots["intake_medications"] is None and replies == ["utter_intake_medications_not_understood"]


@pytest.mark.parametrize("text", ["oak street", "123", "Springfield", "12 Oak St", "skip"])
async def test_things_that_are_not_an_address(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    replies, slots = await answer(intake_domain, "intake_address", text)
    assert slots["intake_address"] is None
    assert replies in (["utter_intake_address_not_understood"], ["utter_intake_required"])


def test_addresses_understood_loosely() -> None:
    assert parse_address("12 Oak St, Springfield, IL 62701") == "12 Oak St, Springfield, IL 62701"
    assert parse_address("my address is 4 elm road springfield illinois") == "4 elm road springfield illinois"
    assert parse_address("PO Box 12, Springfield MA") is not None
    assert parse_address("77 Main Street Apt 4 Boston ma 02110") is not None
    assert parse_address("12 Oak Ct Springfield") is None  # no state, no ZIP


async def test_names(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    _, slots = await answer(intake_domain, "intake_legal_name", "yes", intent="affirm")
    assert slots["intake_legal_name"] == "Jordan Rivera"
    _, slots = await answer(intake_domain, "intake_legal_name", "my legal name is jordan a. rivera")
    assert slots["intake_legal_name"] == "Jordan A. Rivera"
    replies, slots = await answer(intake_domain, "intake_legal_name", "Jordan")
    assert slots["intake_legal_name"] is None and replies == ["utter_name_not_understood"]
    _, slots = await answer(intake_domain, "intake_preferred_name", "no thanks")
    assert slots["intake_preferred_name"] == intake.SKIPPED
    replies, slots = await answer(intake_domain, "intake_preferred_name", "yes")
    assert slots["intake_preferred_name"] is None and replies == ["utter_intake_preferred_name_which"]


async def test_contact_name_with_relationship_and_phone_in_one_message(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    _, slots = await answer(
        intake_domain, "intake_contact_name", "my wife Maria Rivera 212-555-0188", intake_mobile="+15555550123"
    )
    assert slots["intake_contact_name"] == "Maria Rivera"
    assert slots["intake_contact_relationship"] == "wife"
    assert slots["intake_contact_phone"] == "+12125550188"
    assert slots["requested_slot"] == "intake_reason"


async def test_contact_phone_cannot_be_the_patients_own(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    replies, slots = await answer(intake_domain, "intake_contact_phone", "555-555-0123", intake_mobile="+15555550123")
    assert slots["intake_contact_phone"] is None and replies == ["utter_intake_contact_phone_is_yours"]


async def test_insurance_by_entity_by_words_not_accepted_and_unknown(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    _, slots = await answer(
        intake_domain,
        "intake_insurance_carrier",
        "i have cigna",
    )
    assert slots["intake_insurance_carrier"] == "cigna"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "patient_id": "P-1001",
            "intake_loaded": True,
            "requested_slot": "intake_insurance_carrier",
            "intake_insurance_carrier": "bluecross ppo",
        },
        text="bluecross ppo",
        active_loop=FORM,
        entities=[{"entity": "insurance", "value": "bcbs"}],
        just_set=["intake_insurance_carrier"],
    )
    slots = slot_events(await ValidateIntakeForm().run(dispatcher, tracker, intake_domain))
    assert slots["intake_insurance_carrier"] == "bcbs"
    replies, slots = await answer(intake_domain, "intake_insurance_carrier", "Kaiser Permanente")
    assert slots["intake_insurance_carrier"] == "kaiser" and replies == ["utter_intake_carrier_not_accepted"]
    replies, slots = await answer(intake_domain, "intake_insurance_carrier", "Oscar Health")
    assert slots["intake_insurance_carrier"] == "Oscar Health" and replies == []
    replies, slots = await answer(intake_domain, "intake_insurance_carrier", "i don't know, my card is at home")
    assert slots["intake_insurance_carrier"] is None and replies == ["utter_intake_carrier_not_understood"]


async def test_member_id_and_whose_plan(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    _, slots = await answer(
        intake_domain, "intake_member_id", "my member id is xyz 123-45", intake_insurance_carrier="cigna"
    )
    assert slots["intake_member_id"] == "XYZ 123-45"
    replies, slots = await answer(intake_domain, "intake_member_id", "no idea", intake_insurance_carrier="cigna")
    assert slots["intake_member_id"] is None and replies == ["utter_intake_member_id_not_understood"]
    _, slots = await answer(
        intake_domain,
        "intake_subscriber_relationship",
        "my husband's",
        intake_insurance_carrier="cigna",
        intake_member_id="X123",
    )
    assert slots["intake_subscriber_relationship"] == "spouse"
    assert slots["requested_slot"] == "intake_subscriber_name"


async def test_yes_no_questions_take_only_yes_or_no(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    replies, slots = await answer(intake_domain, "intake_consent_text", "what?")
    assert slots["intake_consent_text"] is None and replies == ["utter_yes_or_no"]
    _, slots = await answer(intake_domain, "intake_consent_text", "/deny", intent="deny")
    assert slots["intake_consent_text"] is False
    _, slots = await answer(intake_domain, "intake_consent_treatment", "I agree")
    assert slots["intake_consent_treatment"] is True


# --- go back and change an answer --------------------------------------------------


@pytest.mark.parametrize(
    "text, field",
    [
        ("go back", "previous"),
        ("wait, go back", "previous"),
        ("change my email", "email"),
        ("wait my phone number is wrong", "mobile"),
        ("I gave the wrong address", "address"),
        ("can I change my emergency contact's phone number", "contact_phone"),
        ("fix my allergies please", "allergies"),
        ("oops my date of birth is wrong", "dob"),
        ("change my insurance", "insurance"),
        ("I need to change my medication dose", None),
        ("a cough that won't go away", None),
        ("my stomach is off", None),
    ],
)
def test_change_requests_are_recognised(text: str, field: str | None) -> None:
    assert parse_change_request(text) == field


async def test_go_back_asks_the_previous_question_again(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_address")
    await chat.say("go back")
    assert chat.replies[0] == "utter_intake_change_ok"
    assert chat.messages[0]["field_text"] == "your email"
    assert chat.asking == "intake_email" and chat.slots["intake_email"] is None
    await chat.say("new@example.com")
    assert chat.asking == "intake_address"


async def test_change_an_earlier_answer_then_continue_where_we_were(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_reason")
    await chat.say("wait my phone number is wrong")
    assert chat.asking == "intake_mobile" and chat.slots["intake_mobile"] is None
    assert chat.slots["intake_email"] is not None  # nothing else was forgotten
    await chat.say("212 555 0199")
    assert chat.slots["intake_mobile"] == "+12125550199"
    assert chat.asking == "intake_reason"
    # and the draft already has the new number
    draft = get_records_service().load_intake_draft("P-1001")
    assert draft.answers["mobile"] == "+12125550199" and draft.current_step == "intake_reason"


async def test_naming_a_question_not_answered_yet_is_just_an_answer(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_reason")
    await chat.say("my meds are wrong")
    assert chat.slots["intake_reason"] == "my meds are wrong"
    assert chat.asking == "intake_medications"


async def test_no_at_the_summary_asks_what_to_change(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat)
    await chat.say("no", intent="deny")
    assert chat.asking == "intake_edit"
    await chat.say("hmm")
    assert chat.replies[0] == "utter_intake_edit_not_understood" and chat.asking == "intake_edit"
    await chat.say("address")
    assert chat.asking == "intake_address"
    await chat.say("40 Pine Ave, Springfield, IL 62704")
    assert chat.asking == intake.CONFIRMED
    assert "Address: 40 Pine Ave, Springfield, IL 62704." in chat.messages[-1]["summary_text"]
    await chat.say("change my email")  # also works right at the summary
    assert chat.asking == "intake_email"
    await chat.say("skip")
    assert chat.asking == intake.CONFIRMED
    await chat.say("yes", intent="affirm")
    stored = get_records_service().latest_intake("P-1001")
    assert stored.answers.address == "40 Pine Ave, Springfield, IL 62704" and stored.answers.email is None


# --- pause and resume ----------------------------------------------------------------


async def test_pause_then_resume_in_a_later_conversation(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = Chat(intake_domain, sender="first-conversation")
    await chat.start()
    await chat.say("Jordan Rivera")
    await chat.say("03/14/1990")
    await answer_until(chat, stop_at="intake_reason")
    await chat.say("can we finish this later")
    assert chat.replies == ["utter_intake_paused"]
    assert chat.asking is None and chat.slots["intake_legal_name"] is None  # the form is closed and forgotten
    assert get_records_service().latest_intake("P-1001") is None  # nothing half-done is submitted

    later = Chat(intake_domain, sender="second-conversation")  # a new session: nobody verified yet
    await later.start()
    assert later.asking == "patient_full_name"
    await later.say("jordan rivera")
    await later.say("March 14, 1990")
    assert later.replies[:2] == ["utter_verified", "utter_intake_welcome_back"]
    assert later.asking == "intake_reason"
    assert later.slots["intake_contact_name"] == "Maria Rivera"
    assert later.slots["intake_mobile"] == "+15555550123"
    await answer_until(later)
    await later.say("yes", intent="affirm")
    assert get_records_service().latest_intake("P-1001").version == 1


@pytest.mark.parametrize("text", ["pause", "later", "stop for now", "I'll finish it later", "stop", "never mind"])
async def test_pause_words_keep_the_draft(clinic_db: str, intake_domain: dict[str, Any], text: str) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_email")
    await chat.say(text)
    assert chat.replies == ["utter_intake_paused"] and chat.asking is None
    again = await verified_chat(intake_domain)
    assert again.replies[0] == "utter_intake_welcome_back"
    assert again.asking == "intake_email"


async def test_leaving_with_goodbye_pauses(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_address")
    dispatcher = CollectingDispatcher()
    events = await ActionPauseIntake().run(
        dispatcher, make_tracker(dict(chat.slots), text="bye", intent="goodbye"), intake_domain
    )
    assert texts(dispatcher) == ["utter_intake_paused"]
    assert slot_events(events)["intake_loaded"] is None
    assert get_records_service().load_intake_draft("P-1001").current_step == "intake_address"


async def test_restart_in_the_same_conversation_resumes(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_medications")
    await chat.say("pause")
    await chat.start("ok let's finish my forms")
    assert chat.replies[0] == "utter_intake_welcome_back"
    assert chat.asking == "intake_medications"


# --- consent, backend down, logs --------------------------------------------------


async def test_no_consent_ends_politely_and_stores_nothing(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at=intake.CONSENT_TREATMENT)
    await chat.say("no", intent="deny")
    assert chat.replies == ["utter_intake_no_consent"]
    assert "(555) 010-2000" in chat.messages[0]["clinic_phone"]
    assert chat.asking is None
    assert get_records_service().latest_intake("P-1001") is None
    draft = get_records_service().load_intake_draft("P-1001")
    assert draft is not None and "consent_to_treatment" not in draft.answers


async def test_backend_down_at_the_start_says_so(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    from bot.records import SqlRecordsService, set_records_service

    set_records_service(SqlRecordsService("postgresql://postgres@127.0.0.1:1/nothing"))
    chat = await verified_chat(intake_domain)
    assert chat.replies == ["utter_backend_down"]
    assert chat.asking is None and chat.slots["form_outcome"] is None  # ended, and the next form starts clean


async def test_backend_down_while_saving_an_answer_ends_the_form(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    from bot.records import SqlRecordsService, set_records_service

    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_email")
    set_records_service(SqlRecordsService("postgresql://postgres@127.0.0.1:1/nothing"))
    await chat.say("jo@example.com")
    assert chat.replies == ["utter_backend_down"] and chat.asking is None


async def test_backend_down_at_submit_stores_nothing(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    from bot.records import SqlRecordsService, set_records_service

    chat = await verified_chat(intake_domain)
    await answer_until(chat)
    slots = {**chat.slots, intake.CONFIRMED: True, "requested_slot": None}
    set_records_service(SqlRecordsService("postgresql://postgres@127.0.0.1:1/nothing"))
    dispatcher = CollectingDispatcher()
    await ActionSubmitIntake().run(dispatcher, make_tracker(slots, text="yes", intent="affirm"), intake_domain)
    assert texts(dispatcher) == ["utter_backend_down"]
    set_records_service(None)
    assert get_records_service().latest_intake("P-1001") is None
    assert get_records_service().load_intake_draft("P-1001") is not None  # the answers are still there


async def test_logs_hold_ids_and_reasons_never_answers(
    clinic_db: str, intake_domain: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = Chat(intake_domain)
    await chat.start()
    await chat.say("Jordan Rivera")
    await chat.say("03/14/1990")
    await answer_until(chat)
    await chat.say("change my address")
    await chat.say("not an address")
    await chat.say("12 Oak St, Springfield, IL 62701")
    await chat.say("yes", intent="affirm")
    logged = caplog.text
    assert patient_ref("P-1001") in logged and "P-1001" not in logged  # record numbers as keyed references
    for secret in (
        "Rivera",
        "0123",
        "0188",
        "penicillin",
        "peanuts",
        "example.com",
        "Oak St",
        "cough",
        "W123456789",
        "1990",
        "mother",
    ):
        assert secret not in logged, secret


# --- the pieces ---------------------------------------------------------------------


def test_draft_answers_round_trip() -> None:
    values = dict(FILLED)
    answers = answers_from_slots(values)
    assert answers["no_known_allergies"] is True and answers["insurance"]["carrier"] == "aetna"
    assert slots_from_answers(answers) == values
    partial = answers_from_slots({intake.LEGAL_NAME: "Jordan Rivera", intake.CARRIER: intake.SELF_PAY})
    assert slots_from_answers(partial) == {intake.LEGAL_NAME: "Jordan Rivera", intake.CARRIER: intake.SELF_PAY}


def test_summary_reads_at_grade_six_or_below() -> None:
    values = {
        intake.LEGAL_NAME: "Jordan Rivera",
        intake.PREFERRED_NAME: "Jo",
        intake.DOB: "1990-03-14",
        intake.MOBILE: "+15555550123",
        intake.EMAIL: "jordan.rivera@example.com",
        intake.ADDRESS: "12 Oak St, Springfield, IL 62701",
        intake.CONTACT_NAME: "Maria Rivera",
        intake.CONTACT_PHONE: "+12125550188",
        intake.CONTACT_RELATIONSHIP: "mother",
        intake.REASON: "a cough that won't go away",
        intake.MEDICATIONS: ["lisinopril", "metformin"],
        intake.ALLERGIES: ["penicillin"],
        intake.CARRIER: "bcbs",
        intake.MEMBER_ID: "XYZ123456",
        intake.SUBSCRIBER_RELATIONSHIP: "spouse",
        intake.SUBSCRIBER_NAME: "Sam Rivera",
        intake.CONSENT_TREATMENT: True,
        intake.CONSENT_TEXT: True,
    }
    for variant in (values, {**values, intake.CARRIER: intake.SELF_PAY, intake.ALLERGIES: [], intake.EMAIL: ""}):
        text = (
            "Here is what you told me.\n" + summary_text(variant, "Blue Cross Blue Shield") + "\nIs all of this right?"
        )
        assert textstat.flesch_kincaid_grade(text) <= 6, text
        assert all(len(line) <= 80 for line in text.splitlines())


def test_emails_and_phones() -> None:
    assert parse_email("JO@EXAMPLE.COM") == "JO@example.com"
    assert parse_email("two@a.com and three@b.com") is None
    assert parse_us_phone("212-555-0123 or 212-555-0124") is None  # two numbers: which one?
    assert re.fullmatch(r"\+1\d{10}", parse_us_phone("(212) 555 0123") or "")


def intake_buttons() -> list[tuple]:
    """(slot, payload as sent) for every button of an intake question in the domain."""
    from rasa.shared.core.domain import Domain

    responses = Domain.load(DOMAIN_PATH).responses
    found = []
    for name, variants in responses.items():
        slot = name.replace("utter_ask_intake_form_", "") if name.startswith("utter_ask_intake_form_intake_") else None
        slot = intake.CARRIER if name == "utter_ask_intake_insurance_on_file" else slot
        for variant in variants if slot else []:
            for button in variant.get("buttons") or []:
                found.append((slot, button["payload"].replace("{{", "{").replace("}}", "}")))
    return found


async def test_every_intake_button_is_understood(clinic_db: str, intake_domain: dict[str, Any]) -> None:
    buttons = intake_buttons()
    assert len(buttons) >= 20
    for slot, payload in buttons:
        intent = payload[1:].split("{")[0]
        extra: dict[str, Any] = {intake.CONFIRMED: False} if slot == intake.EDIT else {}
        if slot == intake.CARRIER:
            extra[intake.COVERAGE_ON_FILE] = {
                "carrier": "aetna",
                "carrier_name": "Aetna",
                "member_id": "W123456789",
                "relationship": "self",
                "subscriber_name": "Jordan Rivera",
            }
        if slot == intake.SUBSCRIBER_RELATIONSHIP:
            extra[intake.CARRIER] = "aetna"
        replies, slots = await answer(intake_domain, slot, payload, intent=intent, **extra)
        if slot == intake.CONSENT_TREATMENT and payload == "/deny":
            assert replies == ["utter_intake_no_consent"]
            continue
        assert replies in ([], ["utter_intake_change_ok"]), (slot, payload, replies)
        if slot == intake.EDIT:
            assert slots[intake.EDIT] is None and slots[intake.CONFIRMED] is None
        elif payload == "/deny" and slot == intake.CARRIER:
            assert slots[intake.COVERAGE_ON_FILE] is None  # "no, it changed": ask which insurer
        else:
            assert slots[slot] is not None, (slot, payload)


async def test_a_field_name_read_as_another_intent_still_names_what_to_change(
    clinic_db: str, intake_domain: dict[str, Any]
) -> None:
    # "emergency contact" is read as an emergency and not put in the slot; at this question it names an answer.
    base = {
        "patient_id": "P-1001",
        "intake_loaded": True,
        **FILLED,
        intake.CONFIRMED: False,
        "requested_slot": intake.EDIT,
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(base, text="emergency contact", intent="report_emergency", active_loop=FORM)
    slots = slot_events(await ValidateIntakeForm().run(dispatcher, tracker, intake_domain))
    assert slots[intake.CONTACT_NAME] is None and slots[intake.CONTACT_PHONE] is None
    assert slots["requested_slot"] == intake.CONTACT_NAME
    # while a real emergency is left to the emergency rule: nothing validated, Rasa rejects the form
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(base, text="my chest hurts and my arm is numb", intent="report_emergency", active_loop=FORM)
    events = await ValidateIntakeForm().run(dispatcher, tracker, intake_domain)
    assert [e for e in events if e.get("name") != "requested_slot"] == [] and dispatcher.messages == []


async def test_a_wrong_answer_does_not_rewrite_the_draft(
    clinic_db: str, intake_domain: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    chat = await verified_chat(intake_domain)
    await answer_until(chat, stop_at="intake_email")
    caplog.clear()
    caplog.set_level(logging.INFO)
    await chat.say("not an email")
    assert "draft saved" not in caplog.text
    await chat.say("jo@example.com")
    assert f"draft saved for {patient_ref('P-1001')} at step intake_address" in caplog.text


@pytest.mark.parametrize(
    "slot, text",
    [
        ("intake_legal_name", "I don't know"),
        ("intake_legal_name", "my mom"),
        ("intake_contact_name", "my mom"),
        ("intake_contact_name", "my husband"),
        ("intake_contact_relationship", "i don't know"),
        ("intake_reason", "idk"),
        ("intake_subscriber_name", "the same"),
        ("intake_preferred_name", "whatever you like"),
    ],
)
async def test_non_answers_are_asked_again(clinic_db: str, intake_domain: dict[str, Any], slot: str, text: str) -> None:
    extra = (
        {intake.CARRIER: "cigna", intake.MEMBER_ID: "X123", intake.SUBSCRIBER_RELATIONSHIP: "spouse"}
        if slot == intake.SUBSCRIBER_NAME
        else {}
    )
    replies, slots = await answer(intake_domain, slot, text, **extra)
    assert slots[slot] is None and len(replies) == 1, (slot, text, replies)


def test_every_intake_question_has_exactly_one_row_in_the_table() -> None:
    from actions.intake.fields import FIELDS

    assert list(FIELDS) == intake.ASKED_SLOTS
