"""The intake form's validation: one generic check per answer (rows in ``fields.py``), go back, pause, drafts."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_guard
from actions.common import call_backend, latest_text
from actions.identity import IDENTITY_SLOTS, PatientFormValidator
from actions.intake.answers import choice_or_text, field_of, field_slots, is_pause_request, parse_change_request
from actions.intake.fields import ACTION, FIELDS, Field, Filled, Reask, Turn, audit_kwargs, cleared_for_change
from actions.intake.record import answers_from_slots, slots_from_answers
from actions.intake.slots import (
    ANSWER_SLOTS,
    ASKED_SLOTS,
    CARRIER,
    CONFIRMED,
    COVERAGE_ON_FILE,
    DOB,
    EDIT,
    FORM,
    INTAKE_SLOTS,
    LOADED,
    NAME_ON_FILE,
    REQUESTED_SLOT,
    SELF_PAY,
    SKIPPED,
    SLOT_TEXT,
    intake_steps,
    next_step,
)
from actions.intake.vocabulary import PREVIOUS, REQUIRED_SKIP
from bot.log_privacy import patient_ref

logger = logging.getLogger(__name__)


def is_activation(tracker: Tracker) -> bool:
    """Whether the form was (re)started by this message: its activation follows the last user message."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            return True
    return False


class ValidateIntakeForm(PatientFormValidator):
    """Checks each intake answer, handles go back / pause, and keeps the draft up to date."""

    def name(self) -> str:
        """The intake form's validation action."""
        return ACTION

    def task_slots(self, tracker: Tracker) -> list[str]:
        """The intake questions that apply to the answers so far."""
        return intake_steps(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "Pause", "later" or "stop" end the form for now; the draft already holds every answer."""
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and is_pause_request(latest_text(tracker)):
            return self.pause(dispatcher, tracker, requested)
        # Skip PatientFormValidator.run: its "stop" says nothing about saved answers.
        return await super(PatientFormValidator, self).run(dispatcher, tracker, domain)

    def pause(self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str) -> list[EventType]:
        """Stop here; say the answers are saved when there are any."""
        patient_id = tracker.get_slot("patient_id")
        if patient_id and tracker.get_slot(LOADED):
            logger.info("intake paused by %s at %s", patient_ref(patient_id), requested)
            dispatcher.utter_message(response="utter_intake_paused")
            outcome = "paused"
        else:
            dispatcher.utter_message(response="utter_form_stopped")
            outcome = "stopped"
        return [SlotSet(requested, None), SlotSet("form_outcome", outcome), SlotSet(REQUESTED_SLOT, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Validate this message's answer (or take a change request), then load or save the draft."""
        updates: dict[str, Any] = {}

        def apply(values: dict[str, Any]) -> None:
            updates.update(values)
            tracker.slots.update(values)

        # What the answers were before this message (its own answer is not one yet).
        just_said = tracker.slots_to_validate()
        before = {slot: None if slot in just_said else tracker.get_slot(slot) for slot in ANSWER_SLOTS}
        starting = is_activation(tracker)
        if starting:
            # A (re)started form begins from the saved draft, never from leftovers.
            apply(dict.fromkeys(INTAKE_SLOTS))
        loaded = bool(tracker.get_slot(LOADED))
        requested = tracker.get_slot(REQUESTED_SLOT)
        change = self.change_request(dispatcher, tracker, requested) if loaded and requested in ASKED_SLOTS else None
        if change is not None:
            apply(change)
        else:
            candidates = tracker.slots_to_validate()
            if loaded and requested == EDIT and EDIT not in candidates and field_of(latest_text(tracker)):
                # "address" or "emergency contact" read as a question or an emergency: here it names an answer.
                candidates[EDIT] = latest_text(tracker)
            for slot, value in candidates.items():
                if slot in FIELDS and loaded and not starting:
                    answer = choice_or_text(value) if isinstance(value, str) else value
                    apply(await self.validate_answer(FIELDS[slot], answer, dispatcher, tracker))
                elif slot in IDENTITY_SLOTS and not tracker.get_slot("patient_id"):
                    # Identity is checked until verified; afterwards leftovers are not checked again.
                    apply(await getattr(self, f"validate_{slot}")(value, dispatcher, tracker, domain))
        patient_id = tracker.get_slot("patient_id")
        async with backend_guard(ACTION, dispatcher) as guard:
            if patient_id and not tracker.get_slot(LOADED) and not tracker.get_slot("form_outcome"):
                apply(await self.start(dispatcher, tracker, patient_id))
            elif (
                loaded
                and not tracker.get_slot("form_outcome")
                and any(tracker.get_slot(slot) != before[slot] for slot in ANSWER_SLOTS)
            ):
                await self.save_draft(tracker, patient_id)
        if guard.failed:
            apply(BACKEND_DOWN_SLOTS)
        return [SlotSet(slot, value) for slot, value in updates.items()]

    async def validate_answer(
        self, field: Field, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The one check every answer goes through: skip rules, then the row's parser."""
        text = str(value or "").strip()
        if field.required and REQUIRED_SKIP.fullmatch(text.lower()):
            return self.reask(dispatcher, tracker, field.slot, Reask("utter_intake_required", "skip"))
        if field.skip is not None and field.skip(text, tracker):
            return {field.slot: SKIPPED}
        result = field.parse(value, Turn(tracker, dispatcher))
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            result = field.invalid
        if isinstance(result, Reask):
            return self.reask(dispatcher, tracker, field.slot, result)
        if isinstance(result, Filled):
            return dict(result.slots)
        return {field.slot: result, **dict.fromkeys(field.clears)}

    async def start(self, dispatcher: CollectingDispatcher, tracker: Tracker, patient_id: str) -> dict[str, Any]:
        """Fill the form from the patient's draft (welcome back) or start it fresh."""
        from bot.records import UnknownPatient, get_records_service

        service = get_records_service()
        who = audit_kwargs(tracker)
        patient = await call_backend(service.get_patient, patient_id, **who)
        if patient is None:
            raise UnknownPatient(patient_id)
        draft = await call_backend(service.load_intake_draft, patient_id, **who)
        coverage = await call_backend(service.coverage_for, patient_id, **who)
        values: dict[str, Any] = dict.fromkeys(ASKED_SLOTS)
        resumed: dict[str, Any] = {}
        if draft is not None:
            resumed = slots_from_answers(draft.answers)
            values.update(resumed)
        if values[DOB] is None and tracker.get_slot("patient_dob"):
            values[DOB] = tracker.get_slot("patient_dob")  # just verified: nothing to ask again
        on_file = None
        if coverage is not None and coverage.active:
            on_file = {
                "carrier": coverage.carrier_code or coverage.carrier_name,
                "carrier_name": coverage.carrier_name,
                "member_id": coverage.member_id,
                "relationship": coverage.relationship,
                "subscriber_name": coverage.subscriber_name,
            }
        values.update(
            {
                LOADED: True,
                NAME_ON_FILE: patient.full_name,
                COVERAGE_ON_FILE: on_file,
                "patient_first_name": patient.first_name,
            }
        )
        if resumed:
            logger.info("intake resumed from draft for %s at %s", patient_ref(patient_id), next_step(values))
            dispatcher.utter_message(response="utter_intake_welcome_back", first_name=patient.first_name)
        else:
            logger.info("intake started for %s", patient_ref(patient_id))
            dispatcher.utter_message(response="utter_intake_start")
        return values

    async def save_draft(self, tracker: Tracker, patient_id: str) -> None:
        """Keep the answers so far, so a pause or a lost connection loses nothing."""
        from bot.records import get_records_service

        answers = answers_from_slots(tracker.slots)
        step = next_step(tracker.slots) or CONFIRMED
        await call_backend(get_records_service().save_intake_draft, patient_id, answers, step, **audit_kwargs(tracker))

    def change_request(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str
    ) -> dict[str, Any] | None:
        """Clear the answer the patient wants to change ("go back", "my email is wrong"); None if not one."""
        named = parse_change_request(latest_text(tracker))
        if named is None:
            return None
        values = tracker.slots
        steps = intake_steps(values)
        if named == PREVIOUS:
            if requested == EDIT:
                return {EDIT: None, CONFIRMED: None}
            position = steps.index(requested) if requested in steps else len(steps)
            earlier = [slot for slot in steps[:position] if values.get(slot) is not None and slot in ANSWER_SLOTS]
            if not earlier:
                dispatcher.utter_message(response="utter_intake_first_question")
                return {requested: None}
            targets = [earlier[-1]]
        else:
            targets = [slot for slot in field_slots(named) if slot in steps]
            if named == "member_id" and values.get(CARRIER) == SELF_PAY:
                targets = [CARRIER]
        answered = [slot for slot in targets if values.get(slot) is not None]
        if not answered:
            return None  # not answered yet: read the message as an answer
        logger.info("intake: patient %s changes %s", patient_ref(tracker.get_slot("patient_id")), ",".join(answered))
        dispatcher.utter_message(response="utter_intake_change_ok", field_text=SLOT_TEXT[answered[0]])
        return {requested: None, **cleared_for_change(targets), CONFIRMED: None, EDIT: None}

    @staticmethod
    def reask(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, why: Reask) -> dict[str, Any]:
        """Say what was wrong and ask again (the form repeats the question)."""
        logger.info("intake: %s asked again for %s (%s)", slot, patient_ref(tracker.get_slot("patient_id")), why.reason)
        dispatcher.utter_message(response=why.response)
        return {slot: None}
