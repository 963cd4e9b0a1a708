"""Identity verification shared by every form that touches a patient's record.

A patient is verified by full name and date of birth (three failed tries lock
verification for the conversation), or by what the channel itself proves: a
patient-portal token names the record (no questions asked), and on SMS the
sender's number is tried with the date of birth first (only the date of birth
is asked when that number is the one on record). Channel claims are signed by
our connectors (``bot/channel_identity.py``) and accepted only on their channel.
The verified record id lives in the ``patient_id`` slot, which the session
config never carries over, so a verified identity does not outlive the
conversation session.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_guard
from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    latest_text,
    safe_clinic_values,
)
from actions.form_answers import TakesDirectAnswers
from bot.answer_shapes import clean_full_name
from bot.answer_shapes import is_stop_request as is_stop_text
from bot.log_privacy import patient_ref
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_VERIFICATION_ATTEMPTS = 3
IDENTITY_SLOTS = ["patient_full_name", "patient_dob"]


def channel_claim(tracker: Tracker, kind: str) -> dict[str, Any] | None:
    """What the latest message's channel proves (signed by our connector), or None."""
    from bot.channel_identity import proven_identity

    latest = tracker.latest_message or {}
    return proven_identity(latest.get("metadata"), tracker.get_latest_input_channel(), kind)


def portal_record_id(tracker: Tracker) -> str | None:
    """The record id a valid patient-portal token named, on the portal channel only."""
    claim = channel_claim(tracker, "portal")
    record_id = (claim or {}).get("record_id")
    return str(record_id) if record_id else None


def sms_sender(tracker: Tracker) -> str | None:
    """The sender's number Twilio's signed webhook gave, on the SMS channel only."""
    claim = channel_claim(tracker, "sms")
    phone = (claim or {}).get("phone")
    return str(phone) if phone else None


GRANT_SLOT = "outreach_grant"


def granted_patient(tracker: Tracker, appointment_id: Any) -> str | None:
    """The patient a clinic text let this SMS sender act for, for ``appointment_id`` only; else None.

    A reminder went to the number on record about one visit, so answering it
    (confirm, move, cancel that visit) needs no name and date of birth. The
    grant (slot ``outreach_grant``, set by ``action_outreach_answer`` after it
    checked the text against the signed sender) covers that appointment on SMS
    and nothing else: other visits and records still need the identity check.
    """
    grant = tracker.get_slot(GRANT_SLOT)
    if not isinstance(grant, dict) or not appointment_id or not sms_sender(tracker):
        return None
    if grant.get("appointment_id") != appointment_id or not grant.get("patient_id"):
        return None
    return str(grant["patient_id"])


def acting_patient_id(tracker: Tracker) -> str | None:
    """The verified patient, or the patient a clinic text granted the chosen appointment to."""
    return tracker.get_slot("patient_id") or granted_patient(tracker, tracker.get_slot("appointment_choice"))


async def portal_patient_slots(tracker: Tracker) -> dict[str, Any]:
    """Slots that verify a portal patient (empty when not on the portal or no such record)."""
    from bot.records import get_records_service

    if tracker.get_slot("patient_id"):
        return {}
    record_id = portal_record_id(tracker)
    if not record_id:
        return {}
    async with backend_guard("portal_identity") as guard:  # a failure falls back to asking
        patient = await call_backend(get_records_service().get_patient, record_id)
    if guard.failed:
        return {}
    if patient is None:
        logger.warning("portal token names no known record")
        return {}
    logger.info("patient verified by portal token: %s", patient_ref(patient.patient_id))
    return {"patient_id": patient.patient_id, "patient_first_name": patient.first_name}


def is_stop_request(tracker: Tracker) -> bool:
    """Whether the patient asked to stop the form ("stop", "never mind", ...)."""
    return is_stop_text(latest_text(tracker))


class PatientFormValidator(TakesDirectAnswers, FormValidationAction, abc.ABC):
    """Base for forms that need a verified patient; abstract so rasa-sdk skips it."""

    #: Slots of the form that come after identity, in the order they are asked.
    @abc.abstractmethod
    def task_slots(self, tracker: Tracker) -> list[str]:
        """The form's own slots (besides identity) that are still required."""

    def identity_required(self, tracker: Tracker) -> bool:
        """Identity is asked only while no patient is verified in this session (or a text granted the visit)."""
        return not tracker.get_slot("patient_id") and not self.granted(tracker)

    def granted(self, tracker: Tracker) -> bool:
        """Whether a clinic text lets this form act on its visit without identity (only appointment forms)."""
        return False

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Skip identity for a verified patient; require nothing once locked out."""
        if tracker.get_slot("identity_locked") or tracker.get_slot("form_outcome"):
            return []
        slots = self.task_slots(tracker)
        if self.identity_required(tracker):
            slots = self.identity_position(slots, self.identity_slots(tracker))
        return slots

    def identity_slots(self, tracker: Tracker) -> list[str]:
        """Name and date of birth; on SMS, first the date of birth alone (tried with the number)."""
        if sms_sender(tracker) and not tracker.get_slot("mobile_identity_tried"):
            return ["patient_dob"]
        return list(IDENTITY_SLOTS)

    def identity_position(self, slots: list[str], identity: list[str]) -> list[str]:
        """Where identity questions go among the form's slots (first by default)."""
        return identity + slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Let the patient stop the form at any question; a portal patient is verified already."""
        if is_stop_request(tracker) and tracker.get_slot("requested_slot"):
            dispatcher.utter_message(response="utter_form_stopped")
            return [SlotSet("form_outcome", "stopped"), SlotSet("requested_slot", None)]
        verified = await portal_patient_slots(tracker)
        if not verified:
            return await super().run(dispatcher, tracker, domain)
        tracker = tracker.copy()
        tracker.slots.update(verified)
        events = await super().run(dispatcher, tracker, domain)
        return [SlotSet(name, value) for name, value in verified.items()] + events

    async def validate_patient_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept something that looks like a first and last name."""
        name = clean_full_name(value)
        if name is None:
            dispatcher.utter_message(response="utter_name_not_understood")
            return {"patient_full_name": None}
        dob_iso = tracker.get_slot("patient_dob")
        if dob_iso and tracker.get_slot("mobile_identity_tried") and not tracker.get_slot("patient_id"):
            return await self.verify(name, str(dob_iso), dispatcher, tracker)  # SMS: date of birth came first
        return {"patient_full_name": name}

    async def validate_patient_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Parse the date of birth and check name + date of birth against the records."""
        from bot.timeparse import parse_date_of_birth

        dob = parse_date_of_birth(str(value or ""), get_settings().today())
        if dob is None:
            dispatcher.utter_message(response="utter_dob_not_understood")
            return {"patient_dob": None}
        name = tracker.get_slot("patient_full_name")
        phone = sms_sender(tracker)
        if not name and phone and not tracker.get_slot("mobile_identity_tried"):
            return await self.verify_by_mobile(phone, dob.isoformat(), dispatcher, tracker)
        if not name:
            return {"patient_dob": dob.isoformat()}
        return await self.verify(name, dob.isoformat(), dispatcher, tracker)

    async def verify_by_mobile(
        self, phone: str, dob_iso: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """SMS: the sender's number plus date of birth; no match asks the full name next."""
        import datetime as dt

        from bot.records import get_records_service

        async with backend_guard(self.name(), dispatcher) as guard:
            patient = await call_backend(
                get_records_service().verify_by_mobile_and_dob,
                phone,
                dt.date.fromisoformat(dob_iso),
                actor=actor_of(tracker),
                channel=channel_of(tracker),
            )
        if guard.failed:
            return {"patient_dob": None, **BACKEND_DOWN_SLOTS}
        if patient is None:
            dispatcher.utter_message(response="utter_mobile_identity_no_match")
            return {"patient_dob": dob_iso, "mobile_identity_tried": True}
        logger.info("patient verified by mobile: %s", patient_ref(patient.patient_id))
        dispatcher.utter_message(response="utter_verified", first_name=patient.first_name)
        return {
            "patient_dob": dob_iso,
            "patient_id": patient.patient_id,
            "patient_first_name": patient.first_name,
            "mobile_identity_tried": True,
            "verification_attempts": 0.0,
        }

    async def verify(
        self, name: str, dob_iso: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Look the patient up; count failures and lock after the third."""
        import datetime as dt

        from bot.records import get_records_service

        async with backend_guard(self.name(), dispatcher) as guard:
            patient = await call_backend(
                get_records_service().verify_identity,
                name,
                dt.date.fromisoformat(dob_iso),
                actor=actor_of(tracker),
                channel=channel_of(tracker),
            )
        if guard.failed:
            return {"patient_full_name": None, "patient_dob": None, **BACKEND_DOWN_SLOTS}
        if patient is not None:
            logger.info("patient verified: %s", patient_ref(patient.patient_id))
            dispatcher.utter_message(response="utter_verified", first_name=patient.first_name)
            return {
                "patient_dob": dob_iso,
                "patient_full_name": name,
                "patient_id": patient.patient_id,
                "patient_first_name": patient.first_name,
                "verification_attempts": 0.0,
            }
        return await self.on_no_match(name, dob_iso, dispatcher, tracker)

    async def on_no_match(
        self, name: str, dob_iso: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """A name and date of birth that match no record: count it as a failed try."""
        return await self.record_failed_attempt(dispatcher, tracker)

    async def record_failed_attempt(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Count a failed verification; lock after the third one."""
        attempts = int(tracker.get_slot("verification_attempts") or 0) + 1
        logger.info("identity verification failed (attempt %d)", attempts)
        if attempts >= MAX_VERIFICATION_ATTEMPTS:
            dispatcher.utter_message(response="utter_verification_locked", **(await safe_clinic_values()))
            return {
                "patient_full_name": None,
                "patient_dob": None,
                "verification_attempts": float(attempts),
                "identity_locked": True,
                "form_outcome": "locked",
                "requested_slot": None,
            }
        dispatcher.utter_message(response="utter_verification_failed")
        return {"patient_full_name": None, "patient_dob": None, "verification_attempts": float(attempts)}


def reset_form_slots(names: list[str]) -> list[EventType]:
    """Clear a form's working slots after it finished, so the next run starts clean."""
    return [SlotSet(name, None) for name in names] + [SlotSet("form_outcome", None)]


def locked_out(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """True when verification is locked in this conversation; reminds the patient once per request."""
    if not tracker.get_slot("identity_locked") or tracker.get_slot("patient_id"):
        return False
    if tracker.get_slot("form_outcome") != "locked":
        dispatcher.utter_message(response="utter_verification_locked")
    return True
