"""The intake form's own questions that need data (insurer on file, the summary) and its end (submit or pause)."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_down_events, backend_guard
from actions.common import call_backend, channel_of, safe_clinic_values
from actions.identity import IDENTITY_SLOTS, locked_out
from actions.intake.fields import audit_kwargs
from actions.intake.record import answers_from_slots, summary_text
from actions.intake.slots import CARRIER, CONFIRMED, COVERAGE_ON_FILE, INTAKE_SLOTS, LOADED, REQUESTED_SLOT, SELF_PAY
from bot.log_privacy import patient_ref

logger = logging.getLogger(__name__)


class ActionAskIntakeInsuranceCarrier(Action):
    """Asks about insurance, offering the one on record when there is one."""

    def name(self) -> str:
        """Found by the form before ``utter_ask_intake_form_intake_insurance_carrier``."""
        return "action_ask_intake_form_intake_insurance_carrier"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "We have Aetna on file. Is that still your insurance?" or the open question."""
        on_file = tracker.get_slot(COVERAGE_ON_FILE)
        if isinstance(on_file, dict) and on_file.get("carrier_name"):
            dispatcher.utter_message(
                response="utter_ask_intake_insurance_on_file", carrier_name=on_file["carrier_name"]
            )
        else:
            dispatcher.utter_message(response="utter_ask_intake_form_intake_insurance_carrier")
        return []


class ActionAskIntakeConfirmed(Action):
    """Reads all answers back before anything is submitted."""

    def name(self) -> str:
        """Found by the form before ``utter_ask_intake_form_intake_confirmed``."""
        return "action_ask_intake_form_intake_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The summary in short lines, with yes/no buttons."""
        from bot.records import get_records_service

        carrier = tracker.get_slot(CARRIER)
        carrier_name = str(carrier or "")
        if carrier and carrier != SELF_PAY:
            async with backend_guard(self.name(), dispatcher) as guard:
                info = await call_backend(get_records_service().carrier, carrier)
            if guard.failed:
                return backend_down_events()
            if info is not None:
                carrier_name = info.display_name
        dispatcher.utter_message(
            response="utter_ask_intake_form_intake_confirmed", summary_text=summary_text(tracker.slots, carrier_name)
        )
        return []


def clear_intake() -> list[EventType]:
    """Forget the form's answers and identity answers (the draft keeps what is needed)."""
    return [SlotSet(slot, None) for slot in INTAKE_SLOTS + IDENTITY_SLOTS + ["form_outcome", REQUESTED_SLOT]]


class ActionSubmitIntake(Action):
    """Submits a confirmed intake; after a pause, a stop or a no it only tidies up."""

    def name(self) -> str:
        """Runs when the intake form ends."""
        return "action_submit_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Store the confirmed answers as the patient's next intake version, or nothing."""
        from bot.records import IntakeAnswers, InvalidIntake, get_records_service

        done = clear_intake()
        patient_id = tracker.get_slot("patient_id")
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome"):
            return done
        if tracker.get_slot(CONFIRMED) is not True or not patient_id:
            return done
        async with backend_guard(self.name(), dispatcher, refusals=(InvalidIntake,)) as guard:
            answers = IntakeAnswers.from_dict(answers_from_slots(tracker.slots))
            submission = await call_backend(
                get_records_service().submit_intake,
                patient_id,
                answers,
                channel_of(tracker),
                actor=audit_kwargs(tracker)["actor"],
            )
        if isinstance(guard.refusal, InvalidIntake):
            # Each answer was checked as it came, so this is a bug, not the patient's fault.
            logger.error(
                "intake of %s refused by the records service at %s", patient_ref(patient_id), guard.refusal.field
            )
            dispatcher.utter_message(response="utter_intake_not_sent", **(await safe_clinic_values()))
            return done
        if guard.failed:
            return done
        logger.info("intake version %d submitted for %s", submission.version, patient_ref(patient_id))
        first_name = tracker.get_slot("patient_first_name") or "and welcome"
        dispatcher.utter_message(response="utter_intake_done", first_name=first_name)
        return done


class ActionPauseIntake(Action):
    """Ends the intake form for now when the patient leaves (goodbye); the draft stays."""

    def name(self) -> str:
        """Used by the rule for "goodbye" during the intake form."""
        return "action_pause_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say the answers are saved (when there are any) and clear the form's slots."""
        if tracker.get_slot("patient_id") and tracker.get_slot(LOADED):
            logger.info("intake paused by %s on goodbye", patient_ref(tracker.get_slot("patient_id")))
            dispatcher.utter_message(response="utter_intake_paused")
        else:
            dispatcher.utter_message(response="utter_form_stopped")
        return clear_intake()
