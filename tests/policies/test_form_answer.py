"""The form-answer policy: a reply of the asked shape goes to the form, whatever the classifier said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import DOMAIN_PATH
from bot.policies.form_answer import FormAnswerPolicy


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(DOMAIN_PATH)


@pytest.fixture
def policy(tmp_path: Path) -> FormAnswerPolicy:
    return FormAnswerPolicy.create(
        FormAnswerPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("form_answer"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def asked(
    domain: Domain,
    slot: str,
    text: str,
    intent: str,
    confidence: float = 0.6,
    entities: list[dict[str, Any]] | None = None,
    held: bool = False,
) -> DialogueStateTracker:
    """A booking form that asked ``slot`` and the patient's reply."""
    events = [
        ActionExecuted("action_listen"),
        UserUttered("book", {"name": "book_appointment", "confidence": 1.0}),
        ActionExecuted("booking_form"),
        ActiveLoop("booking_form"),
        SlotSet("requested_slot", slot),
        SlotSet("staff_holds", held),
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": intent, "confidence": confidence}, entities or []),
    ]
    return DialogueStateTracker.from_events("c1", events, domain.slots)


def predicted(policy: FormAnswerPolicy, domain: Domain, state: DialogueStateTracker) -> str | None:
    prediction = policy.predict_action_probabilities(state, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.probabilities.index(max(prediction.probabilities))]


@pytest.mark.parametrize(
    "slot, text, intent",
    [
        ("patient_full_name", "Tyler Brooks", "thank"),
        ("patient_full_name", "Tasha Green", "goodbye_not_a_way_out"),
        ("patient_full_name", "Brandon Hughes", "report_emergency"),
        ("patient_dob", "03/04/1985", "ask_clinic_hours"),
        ("patient_mobile", "555 201 7777", "thank"),
        ("patient_full_name", "Tasha Green", "goodbye"),
        ("time_preference", "soonest you have", "goodbye"),
        ("slot_choice", "ok thanks, the first one", "thank"),
    ],
)
def test_the_answer_goes_to_the_form(
    policy: FormAnswerPolicy, domain: Domain, slot: str, text: str, intent: str
) -> None:
    assert predicted(policy, domain, asked(domain, slot, text, intent)) == "booking_form"


@pytest.mark.parametrize(
    "slot, text, intent, entities",
    [
        ("patient_full_name", "thank you", "thank", []),
        ("patient_full_name", "talk to a person", "request_human", []),
        ("patient_full_name", "bye", "goodbye", []),
        ("time_preference", "what are your hours", "ask_clinic_hours", []),
        ("patient_full_name", "Chest Pain", "report_emergency", [{"entity": "red_flag", "value": "medical"}]),
        ("visit_type", "Tyler Brooks", "thank", []),  # not a free-answer slot
    ],
)
def test_ways_out_red_flags_and_other_slots_are_left_to_the_rules(
    policy: FormAnswerPolicy, domain: Domain, slot: str, text: str, intent: str, entities: list[dict[str, Any]]
) -> None:
    assert predicted(policy, domain, asked(domain, slot, text, intent, entities=entities)) is None


def test_a_confident_other_request_is_not_a_medicine(policy: FormAnswerPolicy, domain: Domain) -> None:
    hours = asked(domain, "refill_medication", "what time do you close", "ask_clinic_hours", confidence=0.95)
    assert predicted(policy, domain, hours) is None
    medicine = asked(domain, "refill_medication", "lisinopril 10mg", "thank", confidence=0.5)
    assert predicted(policy, domain, medicine) == "booking_form"
    pharmacy = asked(domain, "refill_pharmacy", "CVS on Main Street", "ask_clinic_location", confidence=0.9)
    assert predicted(policy, domain, pharmacy) == "booking_form"
    where = asked(domain, "refill_pharmacy", "where are you located?", "ask_clinic_location", confidence=0.9)
    assert predicted(policy, domain, where) is None
    thanks = asked(domain, "refill_pharmacy", "thanks", "thank", confidence=0.95)
    assert predicted(policy, domain, thanks) is None
    bye = asked(domain, "refill_pharmacy", "ok bye", "goodbye", confidence=0.5)
    assert predicted(policy, domain, bye) is None
    leaving = asked(domain, "time_preference", "ok bye, talk tomorrow", "goodbye", confidence=0.95)
    assert predicted(policy, domain, leaving) is None


def test_quiet_while_staff_hold_the_chat(policy: FormAnswerPolicy, domain: Domain) -> None:
    assert predicted(policy, domain, asked(domain, "patient_full_name", "Tyler Brooks", "thank", held=True)) is None
