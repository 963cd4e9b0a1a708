"""Joining and leaving the waitlist in a conversation, and the yes to texts it needs.

When the booking form finds nothing open, or the patient turns the offered
times down, the form offers the waitlist for what they asked (visit type,
provider, days). A patient may also ask for it directly ("put me on the
waitlist"). Offers go out by text, so joining needs a verified patient with a
mobile on record who agreed to texts: the consent is asked once, showing only
the number's last four digits.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_guard
from actions.common import (
    SlotKey,
    call_backend,
    channel_of,
    entity_values,
    format_date,
    latest_intent,
    latest_text,
    safe_clinic_values,
    with_article,
    yes_or_no,
)
from actions.form_answers import form_answers_directly
from actions.identity import PatientFormValidator, locked_out, reset_form_slots
from actions.slot_offering import (
    SlotOfferingValidator,
    parse_preference,
    pick_from_text,
    provider_names,
    visit_type_names,
)
from actions.symptoms import SICK_VISIT, describes_symptoms
from bot.log_privacy import patient_ref
from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 14  # "whenever": the next two weeks
MAX_DAYS = 60  # the longest range one entry may cover (the SQL refuses longer ones too)
WAITLIST_SLOTS = ["waitlist_visit_type", "waitlist_provider", "waitlist_days", "waitlist_consent"]
WAITLIST_FORM_SLOTS = [*WAITLIST_SLOTS, "waitlist_mobile_ending", "waitlist_answer", "patient_full_name", "patient_dob"]
ANY_PROVIDER = re.compile(r"\b(any|anyone|anybody|whoever|no pref|doesn'?t matter|dont care|don'?t mind)\b", re.I)
ANY_TIME = re.compile(
    r"\b(whenever|any ?time|any ?day|anything|no pref|doesn'?t matter|dont care|don'?t mind|asap|soon|cualquier)\b",
    re.I,
)
# Answered by rules while a form is open (data/rules/waitlist.yml, interruptions.yml, handoff.yml): never an answer.
FORM_INTERRUPTIONS = (
    "ask_clinic_hours",
    "ask_clinic_location",
    "ask_insurance_accepted",
    "ask_visit_cost",
    "bot_challenge",
    "request_human",
    "report_emergency",
    "ask_medical_advice",
    "goodbye",
    "thank",
)
# The booking form's list (domain/booking.yml, &interruptions) also switches to cancelling.
BOOKING_INTERRUPTIONS = (*FORM_INTERRUPTIONS, "cancel_appointment")
# "none of those work", "anything sooner?", "is there nothing earlier", "can't make those".
SOONER = re.compile(r"\b(sooner|earlier|nothing before|before that)\b", re.I)
TURNED_DOWN = re.compile(
    r"\b(none|neither|sooner|earlier|nothing before|(do|does|did)n'?t work|not work|can'?t (make|do)|"
    r"too late|too far|no good|not good)\b",
    re.I,
)


# -- the wish: what, with whom, which days


def encode_wish(visit_type: str | None, provider: str | None, first: dt.date, last: dt.date) -> str:
    """A wish as one slot value: ``sick_visit|patel|2026-12-03..2026-12-16`` (empty for unknown)."""
    return f"{visit_type or ''}|{provider or ''}|{first.isoformat()}..{last.isoformat()}"


def decode_days(value: Any) -> tuple[dt.date, dt.date] | None:
    """The range of an encoded ``2026-12-03..2026-12-16``, or None."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", str(value or "").strip())
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1)), dt.date.fromisoformat(match.group(2))
    except ValueError:
        return None


def range_of(pref: Any, first_offered: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days to wait for: the dates asked for; else up to the day before the first time offered; else 2 weeks."""
    today = get_settings().today()
    if pref is not None and pref.start_date is not None and not pref.problems:
        start = max(pref.start_date, today)
        end = pref.end_date or start + dt.timedelta(days=DEFAULT_DAYS - 1)
        end = max(end, start)
        return start, min(end, start + dt.timedelta(days=MAX_DAYS - 1))
    if first_offered is not None:
        return today, max(today, first_offered - dt.timedelta(days=1))
    return today, today + dt.timedelta(days=DEFAULT_DAYS - 1)


def earlier_days(text: str, offered: list[Any], asked: str | None) -> str | None:
    """For "anything sooner?" after a search that began later than today: the days before the first time offered.

    None when the reply does not ask for sooner, or the search already began
    today (nothing sooner is open: the waitlist is the answer).
    """
    if not SOONER.search(text):
        return None
    today = get_settings().today()
    began = parse_preference(asked).start_date if asked else None
    if began is None or began <= today:
        return None
    days = [k.start.date() for k in (SlotKey.decode(o) for o in offered) if k is not None]
    if not days or min(days) <= today:
        return None
    last = min(days) - dt.timedelta(days=1)
    if last == today:
        return f"on {format_date(today)}"
    return f"between {format_date(today)} and {format_date(last)}"


def range_text(first: dt.date, last: dt.date) -> str:
    """ "on Thursday, December 3" or "between Thursday, December 3 and Wednesday, December 16"."""
    today = get_settings().today()
    if first == last:
        return f"on {format_date(first, today)}"
    return f"between {format_date(first, today)} and {format_date(last, today)}"


def booking_wish(tracker: Tracker, offered_too: bool = True) -> str:
    """What the booking form was looking for, as a wish (the days from the patient's words or the times offered)."""
    pref_text = tracker.get_slot("time_preference") or ""
    pref = parse_preference(pref_text) if pref_text else None
    offered_slots = (tracker.get_slot("offered_slots") or []) if offered_too else []
    offered = [k for k in (SlotKey.decode(o) for o in offered_slots) if k is not None]
    first_offered = min(k.start.date() for k in offered) if offered else None
    first, last = range_of(pref, first_offered)
    provider = tracker.get_slot("provider")
    return encode_wish(tracker.get_slot("visit_type"), None if provider == "any" else provider, first, last)


async def wish_words(visit_type: str | None, provider: str | None, first: dt.date, last: dt.date) -> dict[str, str]:
    """The wish in words: "a sick visit", "Dr. Amina Patel" or "any provider", the days."""
    types = await visit_type_names()
    names = await provider_names() if provider else {}
    return {
        "visit_text": with_article(types.get(visit_type or "", "visit")),
        "provider_text": names.get(provider, provider) if provider else "any provider",
        "days_text": range_text(first, last),
    }


# -- in the booking form


class OffersWaitlist(SlotOfferingValidator, PatientFormValidator):
    """The booking form's waitlist question: offered when nothing suits, and "put me on the waitlist" at any question.

    A yes ends the booking form with ``form_outcome`` "waitlist"; the booking action
    then starts the waitlist form with the wish (:func:`start_waitlist_form`).
    """

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "Can you put me on the waitlist?" at any question of the form joins with what is known so far."""
        if (
            latest_intent(tracker) == "join_waitlist"
            and tracker.get_slot("requested_slot")
            and form_answers_directly(tracker)
        ):
            return [
                SlotSet("waitlist_offered", tracker.get_slot("waitlist_offered") or booking_wish(tracker)),
                SlotSet("form_outcome", "waitlist"),
                SlotSet("requested_slot", None),
            ]
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask the waitlist question (before the time) only while it is on offer."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if not tracker.get_slot("waitlist_offered") or "time_preference" not in slots:
            return [s for s in slots if s != "waitlist_answer"]
        slots = [s for s in slots if s != "waitlist_answer"]
        index = slots.index("time_preference")
        return slots[:index] + ["waitlist_answer"] + slots[index:]

    async def extract_waitlist_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to the waitlist question, whatever its intent."""
        if tracker.get_slot("requested_slot") != "waitlist_answer" or not form_answers_directly(tracker):
            return {}
        if latest_intent(tracker) in BOOKING_INTERRUPTIONS:
            return {}  # a rule of the booking form answers it, then the question comes again
        return {"waitlist_answer": latest_text(tracker) or "?"}

    async def validate_waitlist_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes joins; no asks for another time; a new "when" searches again."""
        text = str(value or "")
        intent = latest_intent(tracker)
        dropped = {"waitlist_answer": None, "waitlist_offered": None}
        pref = parse_preference(text)
        if pref.start_date is not None or "past_date" in pref.problems:  # "ok monday then": a new search
            return {**dropped, **(await self.apply_time_preference(text, dispatcher, tracker))}
        answer = yes_or_no(text)
        if intent == "join_waitlist" or (answer is None and intent == "affirm"):
            answer = True
        if answer is None and intent == "deny":
            answer = False
        if answer is True:
            return {"waitlist_answer": text, "form_outcome": "waitlist", "requested_slot": None}
        if answer is False:
            dispatcher.utter_message(response="utter_waitlist_declined")
            return dropped
        if pref.matched:  # "afternoons are better": a new search
            return {**dropped, **(await self.apply_time_preference(text, dispatcher, tracker))}
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"waitlist_answer": None}

    async def validate_slot_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "None of those work" / "anything sooner?" offers the waitlist; anything else is a pick or a new time."""
        text = str(value or "")
        offered = tracker.get_slot("offered_slots") or []
        if (
            offered
            and SlotKey.decode(text) is None
            and not pick_from_text(text, offered)
            and not parse_preference(text).start_date
            and (TURNED_DOWN.search(text) or latest_intent(tracker) == "deny")
        ):
            earlier = earlier_days(text, offered, tracker.get_slot("time_preference"))
            if earlier is not None:  # "anything sooner?": look before the first time offered, then the waitlist
                return {"slot_choice": None, **(await self.apply_time_preference(earlier, dispatcher, tracker))}
            return {"slot_choice": None, "waitlist_offered": booking_wish(tracker)}
        return await super().validate_slot_choice(value, dispatcher, tracker, domain)

    async def nothing_open(self, dispatcher: CollectingDispatcher, tracker: Tracker, when_text: str) -> dict[str, Any]:
        """Nothing open for the wish: say so; the waitlist question comes next."""
        dispatcher.utter_message(response="utter_nothing_open", when_text=when_text)
        return {"waitlist_offered": booking_wish(tracker, offered_too=False)}


class ActionAskWaitlistAnswer(Action):
    """Offers the waitlist for what the patient asked for."""

    def name(self) -> str:
        """Asked by the booking form for ``waitlist_answer``."""
        return "action_ask_waitlist_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "I can put you on the waitlist for a sick visit with Dr. Amina Patel between ... Want that?"."""
        visit_type, provider, days = _split_wish(tracker.get_slot("waitlist_offered"))
        first, last = days or range_of(None)
        async with backend_guard(self.name()) as guard:  # without names the offer still reads well
            words = await wish_words(visit_type, provider, first, last)
        if guard.failed:
            words = {"visit_text": "a visit", "provider_text": "any provider", "days_text": range_text(first, last)}
        dispatcher.utter_message(response="utter_ask_waitlist_answer", **words)
        return []


def _split_wish(value: Any) -> tuple[str | None, str | None, tuple[dt.date, dt.date] | None]:
    parts = str(value or "").split("|")
    if len(parts) != 3:
        return None, None, None
    return parts[0] or None, parts[1] or None, decode_days(parts[2])


def start_waitlist_form(tracker: Tracker) -> list[EventType]:
    """After the booking form ended with a yes to the waitlist: the waitlist form, with the wish filled in."""
    visit_type, provider, days = _split_wish(tracker.get_slot("waitlist_offered"))
    days_value = f"{days[0].isoformat()}..{days[1].isoformat()}" if days else None
    return [
        SlotSet("waitlist_offered", None),
        SlotSet("waitlist_answer", None),
        SlotSet("waitlist_visit_type", visit_type),
        SlotSet("waitlist_provider", provider or ("any" if visit_type else None)),
        SlotSet("waitlist_days", days_value),
        SlotSet("waitlist_consent", None),
        FollowupAction("waitlist_form"),
    ]


# -- the waitlist form


def _started_by_booking(tracker: Tracker) -> bool:
    """Whether the booking action started this form (with its wish) since the patient's last message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_book_appointment":
            return True
    return False


class ExtractsIdentity:
    """Name and date of birth as answers in the waitlist forms (their mappings name the other forms only)."""

    async def extract_patient_full_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "what is your full name?"."""
        return _answer_to(tracker, "patient_full_name")

    async def extract_patient_dob(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "what is your date of birth?"."""
        return _answer_to(tracker, "patient_dob")


def _answer_to(tracker: Tracker, slot: str) -> dict[str, Any]:
    """``{slot: text}`` when the latest message answers the question for ``slot``."""
    text = latest_text(tracker).strip()
    if tracker.get_slot("requested_slot") != slot or not text or text.startswith("/"):
        return {}
    if latest_intent(tracker) in FORM_INTERRUPTIONS:
        return {}  # a rule answers it, then the form asks again
    if not form_answers_directly(tracker):
        return {}
    return {slot: text}


class ValidateWaitlistForm(ExtractsIdentity, PatientFormValidator):
    """What to wait for (visit type, provider, days), then who the patient is."""

    def name(self) -> str:
        """The waitlist form's validation action."""
        return "validate_waitlist_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """A new request starts from its own words: a wish left by a form that was cut short is forgotten."""
        if tracker.get_slot("requested_slot") is None and not _started_by_booking(tracker):
            stale = [slot for slot in WAITLIST_SLOTS if tracker.get_slot(slot) is not None]
            if stale:
                tracker = tracker.copy()
                tracker.slots.update(dict.fromkeys(stale))
                # Rasa hands filled slots to the form as candidates when it starts: not these.
                tail = len(tracker.events)
                while tail and tracker.events[tail - 1].get("event") == "slot":
                    tail -= 1
                tracker.events = tracker.events[:tail] + [
                    e for e in tracker.events[tail:] if e.get("name") not in stale
                ]
                return [SlotSet(slot, None) for slot in stale] + await super().run(dispatcher, tracker, domain)
        return await super().run(dispatcher, tracker, domain)

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Visit type, provider and days; identity comes after them."""
        return ["waitlist_visit_type", "waitlist_provider", "waitlist_days"]

    def identity_position(self, slots: list[str], identity: list[str]) -> list[str]:
        """Ask what they wait for first, then who they are."""
        return slots + identity

    async def on_no_match(
        self, name: str, dob_iso: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """No record: a failed try, and a word for a new patient (the waitlist needs a record with a mobile)."""
        result = await self.record_failed_attempt(dispatcher, tracker)
        if not result.get("identity_locked") and not tracker.get_slot("verification_attempts"):
            dispatcher.utter_message(response="utter_waitlist_needs_record", **(await safe_clinic_values()))
        return result

    async def extract_waitlist_visit_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A visit type named in any message of the form ("for a sick visit", a button), or the answer to it."""
        if tracker.get_slot("waitlist_visit_type"):
            return {}
        named = entity_values(tracker, "visit_type")
        if named:
            return {"waitlist_visit_type": named[0]}
        return _answer_to(tracker, "waitlist_visit_type")

    async def extract_waitlist_provider(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A provider named in any message of the form, or the answer to its question."""
        if tracker.get_slot("waitlist_provider"):
            return {}
        named = entity_values(tracker, "provider")
        if named:
            return {"waitlist_provider": named[0]}
        return _answer_to(tracker, "waitlist_provider")

    async def extract_waitlist_days(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Days said when asking to join ("... next week"), or the answer to "which days?"."""
        if tracker.get_slot("waitlist_days"):
            return {}
        text = latest_text(tracker).strip()
        if latest_intent(tracker) == "join_waitlist" and text and not text.startswith("/"):
            pref = parse_preference(text)
            if pref.start_date is not None or set(pref.problems) & {"past_date", "too_far"}:
                return {"waitlist_days": text}
            return {}
        return _answer_to(tracker, "waitlist_days")

    async def validate_waitlist_visit_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A known visit type (by code or name; a complaint is a sick visit), else ask again with buttons."""
        async with backend_guard(self.name(), dispatcher) as guard:
            known = await visit_type_names()
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        text = str(value or "").strip()
        code = text if text in known else next((c for c, n in known.items() if n and n in text.lower()), None)
        if code is None and SICK_VISIT in known and describes_symptoms(tracker):
            code = SICK_VISIT
        if code is None:
            dispatcher.utter_message(response="utter_visit_type_not_understood")
            return {"waitlist_visit_type": None}
        provider = tracker.get_slot("waitlist_provider")
        if provider and provider != "any" and "waitlist_provider" not in tracker.slots_to_validate():
            # Named before the visit type ("waitlist for dr kim"): check it offers this visit.
            checked = await self.validate_waitlist_provider(provider, dispatcher, tracker, domain, visit_type=code)
            return {"waitlist_visit_type": code, **checked}
        return {"waitlist_visit_type": code}

    async def validate_waitlist_provider(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        visit_type: str | None = None,
    ) -> dict[str, Any]:
        """A known provider who offers the visit type, or "any"; else say who can."""
        from bot.scheduling import get_scheduling_service

        text = str(value or "").strip()
        visit_type = visit_type or tracker.get_slot("waitlist_visit_type")
        async with backend_guard(self.name(), dispatcher) as guard:
            names = await provider_names()
            offering = await call_backend(get_scheduling_service().providers_for, visit_type) if visit_type else []
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        code = text if text in names or text == "any" else None
        if code is None and ANY_PROVIDER.search(text):
            code = "any"
        if code is None:
            dispatcher.utter_message(response="utter_provider_not_found", providers_text=", ".join(names.values()))
            return {"waitlist_provider": None}
        if code != "any" and visit_type and code not in {p.provider_id for p in offering}:
            types = await visit_type_names()
            dispatcher.utter_message(
                response="utter_provider_does_not_offer",
                provider_name=names.get(code, code),
                alternatives_text=(
                    f"For {with_article(types.get(visit_type, 'visit'))} you can wait for "
                    f"{', '.join(p.display_name for p in offering)}, or anyone. Who would you like?"
                ),
            )
            return {"waitlist_provider": None}
        return {"waitlist_provider": code}

    async def validate_waitlist_days(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Days from the patient's words ("next week"; "whenever": the next two weeks), kept as a range."""
        text = str(value or "").strip()
        known = decode_days(text)
        if known is not None:
            return {"waitlist_days": text}
        pref = parse_preference(text)
        problems = set(pref.problems)
        if problems & {"past_date", "past_time"}:
            dispatcher.utter_message(response="utter_waitlist_days_past")
            return {"waitlist_days": None}
        if "too_far" in problems or (
            pref.start_date and pref.end_date and (pref.end_date - pref.start_date).days >= MAX_DAYS
        ):
            dispatcher.utter_message(response="utter_waitlist_days_too_long")
            return {"waitlist_days": None}
        if pref.start_date is None and not (pref.matched or ANY_TIME.search(text)):
            dispatcher.utter_message(response="utter_waitlist_days_not_understood")
            return {"waitlist_days": None}
        first, last = range_of(pref)
        return {"waitlist_days": f"{first.isoformat()}..{last.isoformat()}"}


class ValidateWaitlistConsentForm(FormValidationAction):
    """The one question about texts: yes or no."""

    def name(self) -> str:
        """The consent form's validation action."""
        return "validate_waitlist_consent_form"

    async def extract_waitlist_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "is it OK to text you?"."""
        if tracker.get_slot("requested_slot") != "waitlist_consent" or not form_answers_directly(tracker):
            return {}
        intent = latest_intent(tracker)
        if intent in FORM_INTERRUPTIONS:
            return {}  # a rule answers it, then the question comes again
        answer = yes_or_no(latest_text(tracker))
        if answer is None and intent in ("affirm", "deny"):
            answer = intent == "affirm"
        if answer is None:
            dispatcher.utter_message(response="utter_yes_or_no")
            return {"waitlist_consent": None, "waitlist_mobile_ending": tracker.get_slot("waitlist_mobile_ending")}
        return {"waitlist_consent": answer}


class ActionJoinWaitlist(Action):
    """Puts the verified patient on the waitlist, asking for consent to texts first when needed."""

    def name(self) -> str:
        """Runs when the waitlist form or the consent form is complete."""
        return "action_join_waitlist"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Join, or ask for consent, or explain why not; the form's slots are cleared when done."""
        from bot.outreach.service import NoTextConsent, get_outreach_service

        done = reset_form_slots(WAITLIST_FORM_SLOTS)
        patient_id = tracker.get_slot("patient_id")
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome") or not patient_id:
            return done
        visit_type = tracker.get_slot("waitlist_visit_type")
        provider = tracker.get_slot("waitlist_provider")
        provider = None if provider in (None, "any") else provider
        days = decode_days(tracker.get_slot("waitlist_days"))
        if not visit_type or days is None:
            dispatcher.utter_message(response="utter_default")
            return done
        consent = tracker.get_slot("waitlist_consent")
        clinic = await safe_clinic_values()
        if consent is False:
            dispatcher.utter_message(response="utter_waitlist_not_joined", **clinic)
            return done
        service = get_outreach_service()
        async with backend_guard(self.name(), dispatcher, refusals=(NoTextConsent, ValueError)) as guard:
            if consent is True:
                await call_backend(service.give_text_consent, patient_id)
            entry = await call_backend(
                service.join_waitlist, patient_id, visit_type, provider, days[0], days[1], channel_of(tracker)
            )
            words = await wish_words(entry.visit_type, entry.provider_id, entry.from_date, entry.to_date)
        if guard.failed:
            return done
        refusal = guard.refusal
        if isinstance(refusal, NoTextConsent):
            return self._no_consent(dispatcher, refusal, consent, clinic, done)
        if refusal is not None and str(refusal).startswith("the range"):  # WaitlistRangeError: ask the days again
            dispatcher.utter_message(response="utter_waitlist_days_too_long")
            return [SlotSet("waitlist_days", None), FollowupAction("waitlist_form")]
        if refusal is not None:  # UnknownWaitlistChoice: the clinic's list changed meanwhile
            dispatcher.utter_message(response="utter_waitlist_choice_gone")
            return [
                SlotSet("waitlist_visit_type", None),
                SlotSet("waitlist_provider", None),
                FollowupAction("waitlist_form"),
            ]
        logger.info("waitlist joined by %s (entry %s)", patient_ref(patient_id), entry.entry_id)
        dispatcher.utter_message(response="utter_waitlist_joined", **words)
        return done

    @staticmethod
    def _no_consent(
        dispatcher: CollectingDispatcher,
        refusal: Exception,
        consent: bool | None,
        clinic: dict[str, str],
        done: list[EventType],
    ) -> list[EventType]:
        """No mobile: say whom to call. No consent yet: ask once, with the number's last four digits."""
        reason, *rest = (*refusal.args, "")
        if reason == "no_consent" and consent is None and rest and rest[0]:
            return [
                SlotSet("waitlist_mobile_ending", str(rest[0])),
                SlotSet("waitlist_consent", None),
                FollowupAction("waitlist_consent_form"),
            ]
        dispatcher.utter_message(response="utter_waitlist_no_mobile", **clinic)
        return done


class ValidateWaitlistLeaveForm(ExtractsIdentity, PatientFormValidator):
    """Leaving the waitlist needs only who the patient is."""

    def name(self) -> str:
        """The leave form's validation action."""
        return "validate_waitlist_leave_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Nothing besides identity."""
        return []


class ActionLeaveWaitlist(Action):
    """Takes the verified patient off every waitlist entry they have."""

    def name(self) -> str:
        """Runs when the leave form is complete."""
        return "action_leave_waitlist"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Leave each waiting entry and say so; nothing to leave is said too."""
        from bot.outreach.service import get_outreach_service

        done = reset_form_slots(["patient_full_name", "patient_dob"])
        patient_id = tracker.get_slot("patient_id")
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome") or not patient_id:
            return done
        service = get_outreach_service()
        async with backend_guard(self.name(), dispatcher) as guard:
            entries = await call_backend(service.waitlist_of, patient_id)
            for entry in entries:
                await call_backend(service.leave_waitlist, patient_id, entry.entry_id)
        if guard.failed:
            return done
        if not entries:
            dispatcher.utter_message(response="utter_waitlist_none")
            return done
        logger.info("%s left the waitlist (%d entries)", patient_ref(patient_id), len(entries))
        dispatcher.utter_message(response="utter_waitlist_left")
        return done


__all__ = [
    "ActionAskWaitlistAnswer",
    "ActionJoinWaitlist",
    "ActionLeaveWaitlist",
    "OffersWaitlist",
    "ValidateWaitlistConsentForm",
    "ValidateWaitlistForm",
    "ValidateWaitlistLeaveForm",
    "start_waitlist_form",
]
