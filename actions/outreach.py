"""Answers to the texts the clinic sends first: a reminder, a waitlist offer, a follow-up offer.

``OutreachAnswerPolicy`` runs this action for a reply the SMS connector marked
as answering a clinic text. The text is checked against the signed SMS sender
(``service.prompt``), so nobody can answer another patient's text. Then:

- reminder: confirm; move (the reschedule form starts with the visit chosen);
  cancel after one yes; "I can't come" asks move or cancel. The text went to
  the number on record about one visit, so acting on THAT visit needs no name
  and date of birth (a narrow grant, ``actions.identity.granted_patient``);
- waitlist offer: yes books it if nobody was first, no keeps the patient waiting;
- follow-up offer: yes starts the booking form (identity as usual), no closes it.

An answer to a text that no longer asks anything gets a plain reply and changes nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import call_backend, format_when, latest_text, safe_clinic_values, yes_or_no
from actions.identity import GRANT_SLOT, sms_sender
from bot.settings import get_settings

logger = logging.getLogger(__name__)

STEP_SLOT = "outreach_step"
STEP_ANSWER = "answer"  # the next reply answers the text itself
STEP_CONFIRM_CANCEL = "confirm_cancel"  # "Cancel your visit ...? Reply YES or NO"
STEP_MOVE_OR_CANCEL = "move_or_cancel"  # "Do you want to move your visit or cancel it?"

_CANCEL = re.compile(r"\b(cancel\w*|call (it )?off)\b", re.I)
_MOVE = re.compile(
    r"\b(move|moving|resched\w*|re-sched\w*|change|another (day|time)|different (day|time)|instead|"
    r"earlier|later)\b",
    re.I,
)
_CANT = re.compile(r"\b(can'?t|cant|cannot|can not|won'?t|unable|not able)\b", re.I)
_CONFIRM = re.compile(r"\b(i'?ll be there|i will be there|will be there|see you|confirm\w*|will do)\b", re.I)


def reminder_choice(intent: str | None, text: str, step: str | None) -> str:
    """What a reply to a reminder asks: confirm, move, ask_cancel, cancel_now, keep, move_or_cancel, unclear."""
    answer = True if intent == "affirm" else False if intent == "deny" else yes_or_no(text)
    if step == STEP_CONFIRM_CANCEL:
        if _MOVE.search(text) or intent == "reschedule_appointment":
            return "move"
        if answer is True or intent == "cancel_appointment":
            return "cancel_now"
        return "keep" if answer is False else "unclear"
    if intent == "cancel_appointment" or _CANCEL.search(text):
        return "ask_cancel"
    if intent == "reschedule_appointment" or _MOVE.search(text):
        return "move"
    if _CANT.search(text) or answer is False:
        return "move_or_cancel"
    if answer is True or intent == "thank" or _CONFIRM.search(text):
        return "confirm"
    if intent == "inform" and _names_a_day(text):
        return "move"
    return "unclear"


def yes_no_choice(intent: str | None, text: str) -> bool | None:
    """A yes or no to an offer ("1" arrives as /affirm, "2" as /deny)."""
    if intent == "affirm" or intent == "book_appointment":
        return True
    if intent == "deny":
        return False
    return yes_or_no(text)


def numbered_answer(kind: str, intent: str | None, text: str) -> tuple[str | None, str]:
    """A bare number sent after "Reply 1 to ..." picks the clinic text's own choice (its payload's intent)."""
    from bot.outreach.texts import buttons_of
    from bot.sms_text import choice_from_digit

    payload = choice_from_digit(text, list(buttons_of(kind)))
    if not payload or not payload.startswith("/"):
        return intent, text
    return payload[1:].split("{", 1)[0], payload


def _names_a_day(text: str) -> bool:
    """Whether the reply names when ("Friday", "next week"): then it is a wish for a new time."""
    from actions.slot_offering import parse_preference

    pref = parse_preference(text)
    return bool(pref.matched) and not set(pref.problems) & {"invalid_date", "not_understood"}


def _when(start: Any) -> str:
    """The visit's day and time in clinic time."""
    return format_when(start.astimezone(get_settings().tz))


def _outreach() -> Any:
    from bot.outreach.service import get_outreach_service

    return get_outreach_service()


async def record_visit_answer(tracker: Tracker, answer: str) -> None:
    """Keep "moved" or "cancelled" on the reminder whose grant covered the visit just changed (never fails the turn)."""
    grant = tracker.get_slot(GRANT_SLOT)
    if not isinstance(grant, dict) or grant.get("appointment_id") != tracker.get_slot("appointment_choice"):
        return
    async with backend_guard("outreach_record_answer"):
        await call_backend(_outreach().record_answer, int(grant["outbox_id"]), answer)


class ActionOutreachAnswer(Action):
    """Acts on the patient's answer to a clinic text (see the module docstring)."""

    def name(self) -> str:
        """Predicted by bot.policies.outreach_answer.OutreachAnswerPolicy."""
        return "action_outreach_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Find the text answered, check it is the sender's and still open, then act on the answer."""
        from bot.outreach.service import PromptNotFound

        latest = tracker.latest_message or {}
        metadata = latest.get("metadata") or {}
        outbox_id = (metadata.get("outreach") or {}).get("outbox_id")
        step = None
        grant = tracker.get_slot(GRANT_SLOT)
        if not isinstance(outbox_id, int) and isinstance(grant, dict):
            outbox_id, step = grant.get("outbox_id"), tracker.get_slot(STEP_SLOT)
        sender = sms_sender(tracker)
        done = [SlotSet(STEP_SLOT, None), SlotSet(GRANT_SLOT, None)]
        if not isinstance(outbox_id, int) or not sender:
            await self.closed(dispatcher)
            return done
        async with backend_guard(self.name(), dispatcher, refusals=(PromptNotFound,)) as guard:
            prompt = await call_backend(_outreach().prompt, outbox_id, sender)
            current = await call_backend(_outreach().open_prompt, sender)
            await call_backend(_outreach().mark_recalled, outbox_id)
        if guard.refusal is not None:
            logger.warning("outreach answer: outbox %s was not sent to this sender", outbox_id)
            await self.closed(dispatcher)
            return done
        if guard.failed:
            return done
        is_open = current is not None and current.outbox_id == prompt.outbox_id
        intent = (latest.get("intent") or {}).get("name")
        text = latest_text(tracker)
        if step == STEP_ANSWER:
            intent, text = numbered_answer(prompt.kind, intent, text)
        if prompt.kind == "waitlist_offer":
            return done + await self.offer(dispatcher, prompt, intent, text, is_open)
        if not is_open:
            logger.info("outreach answer: outbox %s no longer open", outbox_id)
            await self.closed(dispatcher)
            return done
        if prompt.kind == "reminder":
            return done + await self.reminder(dispatcher, prompt, intent, text, step)
        return done + await self.follow_up(dispatcher, prompt, intent, text)

    @staticmethod
    async def closed(dispatcher: CollectingDispatcher) -> None:
        """The text no longer asks anything: say so, change nothing."""
        dispatcher.utter_message(response="utter_outreach_closed", **(await safe_clinic_values()))

    @staticmethod
    def _grant(prompt: Any, step: str) -> list[EventType]:
        """Remember the text being answered (and, for a reminder, the one visit it covers)."""
        grant = {
            "outbox_id": prompt.outbox_id,
            "patient_id": prompt.patient_id,
            "appointment_id": prompt.appointment_id,
        }
        return [SlotSet(GRANT_SLOT, grant), SlotSet(STEP_SLOT, step)]

    async def reminder(
        self, dispatcher: CollectingDispatcher, prompt: Any, intent: str | None, text: str, step: str | None
    ) -> list[EventType]:
        """Confirm, move, cancel (after a yes) or ask which."""
        from bot.scheduling import SchedulingError, get_scheduling_service

        choice = reminder_choice(intent, text, step)
        logger.info("outreach answer to reminder %s: %s", prompt.outbox_id, choice)
        when_text = _when(prompt.start)
        if choice == "confirm":
            async with backend_guard(self.name(), dispatcher) as guard:
                await call_backend(_outreach().record_answer, prompt.outbox_id, "confirmed")
            if not guard.failed:
                dispatcher.utter_message(response="utter_outreach_confirmed", when_text=when_text)
            return []
        if choice == "ask_cancel":
            dispatcher.utter_message(response="utter_outreach_ask_cancel", when_text=when_text)
            return self._grant(prompt, STEP_CONFIRM_CANCEL)
        if choice == "move_or_cancel":
            dispatcher.utter_message(response="utter_outreach_move_or_cancel")
            return self._grant(prompt, STEP_MOVE_OR_CANCEL)
        if choice == "keep":
            dispatcher.utter_message(response="utter_outreach_cancel_kept", when_text=when_text)
            return []
        if choice == "move":
            events = self._grant(prompt, STEP_ANSWER)[:1] + [
                SlotSet("appointment_choice", prompt.appointment_id),
                SlotSet("visit_type", prompt.visit_type),
                SlotSet("provider", prompt.provider_id),
            ]
            if _names_a_day(text):
                events.append(SlotSet("time_preference", text))  # "can I come Friday instead"
            return [*events, FollowupAction("reschedule_form")]
        if choice == "cancel_now":
            async with backend_guard(self.name(), dispatcher, refusals=(SchedulingError,)) as guard:
                await call_backend(
                    get_scheduling_service().cancel, appointment_id=prompt.appointment_id, patient_id=prompt.patient_id
                )
                await call_backend(_outreach().record_answer, prompt.outbox_id, "cancelled")
            if guard.refusal is not None:
                dispatcher.utter_message(response="utter_appointment_changed_meanwhile")
            elif not guard.failed:
                logger.info("appointment %s cancelled by a reminder answer", prompt.appointment_id)
                dispatcher.utter_message(response="utter_outreach_cancelled", when_text=when_text)
            return []
        if step == STEP_CONFIRM_CANCEL:
            dispatcher.utter_message(response="utter_outreach_ask_cancel", when_text=when_text)
            return self._grant(prompt, STEP_CONFIRM_CANCEL)
        dispatcher.utter_message(response="utter_outreach_reminder_not_understood")
        return self._grant(prompt, STEP_ANSWER)

    async def offer(
        self, dispatcher: CollectingDispatcher, prompt: Any, intent: str | None, text: str, is_open: bool
    ) -> list[EventType]:
        """Yes books the time unless someone was first; no keeps the patient on the waitlist."""
        from bot.outreach.service import OfferGone, PromptNotFound

        answer = yes_no_choice(intent, text)
        logger.info("outreach answer to offer %s: %s", prompt.outbox_id, answer)
        if answer is None:
            if not is_open:
                await self.closed(dispatcher)
                return []
            dispatcher.utter_message(response="utter_outreach_offer_not_understood")
            return self._grant(prompt, STEP_ANSWER)
        if answer is False:
            if is_open:
                async with backend_guard(self.name(), dispatcher) as guard:
                    await call_backend(_outreach().record_answer, prompt.outbox_id, "declined")
                if guard.failed:
                    return []
            dispatcher.utter_message(response="utter_outreach_offer_declined")
            return []
        # A "yes" to a closed offer still asks accept_offer: the same yes twice is answered
        # with the booking, a late one with "gone".
        async with backend_guard(self.name(), dispatcher, refusals=(OfferGone, PromptNotFound)) as guard:
            booked = await call_backend(_outreach().accept_offer, prompt.outbox_id, "sms")
        if guard.refusal is not None:
            dispatcher.utter_message(response="utter_outreach_offer_gone")
            return []
        if guard.failed:
            return []
        dispatcher.utter_message(
            response="utter_outreach_offer_booked",
            visit_type_name=booked.visit_type_name.lower(),
            provider_name=booked.provider_name,
            when_text=_when(booked.start),
            **(await safe_clinic_values()),
        )
        return []

    async def follow_up(
        self, dispatcher: CollectingDispatcher, prompt: Any, intent: str | None, text: str
    ) -> list[EventType]:
        """Yes starts booking the follow-up with its provider; no closes the offer."""
        answer = yes_no_choice(intent, text)
        logger.info("outreach answer to follow-up %s: %s", prompt.outbox_id, answer)
        if answer is None:
            dispatcher.utter_message(response="utter_outreach_follow_up_not_understood")
            return self._grant(prompt, STEP_ANSWER)
        async with backend_guard(self.name(), dispatcher) as guard:
            await call_backend(_outreach().record_answer, prompt.outbox_id, "accepted" if answer else "declined")
        if guard.failed:
            return []
        if not answer:
            dispatcher.utter_message(response="utter_outreach_follow_up_declined")
            return []
        return [
            SlotSet("visit_type", prompt.visit_type or "follow_up"),
            SlotSet("provider", prompt.provider_id),
            FollowupAction("booking_form"),
        ]
