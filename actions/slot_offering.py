"""Understanding "when" answers, finding open slots and reading the patient's pick.

Shared by the booking and reschedule forms: both ask for a time preference,
offer up to three real open slots as buttons, and accept a tap, "the first one",
"the 10:40 one" or a new time ("actually Friday") as the answer.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_down_events, backend_guard
from actions.common import (
    SlotKey,
    call_backend,
    format_date,
    format_short_when,
    format_time,
    format_when,
    hours_text,
    latest_intent,
    latest_text,
    yes_or_no,
)
from bot.settings import get_settings

logger = logging.getLogger(__name__)

SEARCH_DAYS_DEFAULT = 21
# Intents whose message may carry a "when" before it is asked; a question about
# the hours ("open on saturday?") is an interruption, not a booking time.
WHEN_CARRYING_INTENTS = {"book_appointment", "reschedule_appointment", "inform"}
MAX_OFFERED = 3
ORDINALS = {
    "1": 0,
    "one": 0,
    "first": 0,
    "1st": 0,
    "top": 0,
    "earliest": 0,
    "2": 1,
    "two": 1,
    "second": 1,
    "2nd": 1,
    "middle": 1,
    "3": 2,
    "three": 2,
    "third": 2,
    "3rd": 2,
    "last": -1,
}
TIME_IN_TEXT = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\b", re.I)


def parse_preference(text: str):  # -> bot.timeparse.WhenPreference
    """Read a free-text time preference relative to the clinic's now."""
    from bot.timeparse import parse_when

    return parse_when(text or "", get_settings().now())


def search_window(pref: Any) -> dict[str, Any]:
    """Turn a parsed preference into slot-search arguments."""
    today = get_settings().today()
    start = pref.start_date or today
    end = pref.end_date or (start + dt.timedelta(days=SEARCH_DAYS_DEFAULT))
    if start < today:
        start = today
    return {
        "start_date": start,
        "end_date": end,
        "earliest": pref.earliest,
        "latest": pref.latest,
        "exact_time": pref.exact_time,
    }


NO_WINDOW_TEXT = "in the next few weeks"
_PLURAL_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def describe_window(pref: Any, open_weekdays: frozenset | None = None) -> str:
    """Words that follow "Here are the first open times" / "there's nothing open".

    "on Tuesday, December 8, in the afternoon", "from Monday, December 7 to Saturday,
    December 12", "on or after Saturday, December 5", "in the morning", "in the next few
    weeks". A range never starts or ends on a day the clinic is closed (``open_weekdays``,
    Monday = 0; None when unknown).
    """
    parts = [
        _date_words(pref, open_weekdays),
        _weekday_words(pref, open_weekdays),
        pref.describe_time(),
    ]
    text = ", ".join(part for part in parts if part)
    return text or NO_WINDOW_TEXT


def _date_words(pref: Any, open_weekdays: frozenset | None) -> str:
    """The calendar part: one day, a range trimmed to open days, an open start or an end."""
    today = get_settings().today()
    start, end = pref.start_date, pref.end_date
    if start is not None and start < today and (end is None or end >= today):
        start = today  # what the search does too
    usable = set(open_weekdays or range(7)) & set(pref.weekdays or range(7))
    if start is not None and end is not None:
        while usable and end > start and end.weekday() not in usable:
            end -= dt.timedelta(days=1)
        while usable and start < end and start.weekday() not in usable:
            start += dt.timedelta(days=1)
        if start == end:
            return f"on {format_date(start, today)}"
        return f"from {format_date(start, today)} to {format_date(end, today)}"
    if start is not None:
        return "" if start <= today else f"on or after {format_date(start, today)}"
    if end is not None:
        return f"up to {format_date(end, today)}"
    return ""


def _weekday_words(pref: Any, open_weekdays: frozenset | None) -> str:
    """ "on Mondays or Fridays", "on weekdays" (closed days left out); "" for a single day."""
    days = [d for d in (pref.weekdays or ()) if not open_weekdays or d in open_weekdays]
    if not days or (pref.start_date is not None and pref.start_date == pref.end_date):
        return ""
    if days == [0, 1, 2, 3, 4]:
        return "on weekdays"
    names = [_PLURAL_DAYS[d] for d in days]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"on {joined}"


async def clinic_open_weekdays() -> frozenset | None:
    """The weekdays the clinic opens (Monday = 0), or None when clinic data cannot be read."""
    from bot.scheduling import get_scheduling_service

    async with backend_guard("clinic_open_weekdays") as guard:  # only wording depends on it
        clinic = await call_backend(get_scheduling_service().clinic_info)
    if guard.failed:
        return None
    return frozenset(day for day in range(7) if clinic.hours_on(day))


def encode_slots(slots: list[Any]) -> list[str]:
    """Slots as slot-key strings for the ``offered_slots`` slot."""
    return [SlotKey(slot.start, slot.provider_id).encode() for slot in slots]


def pick_from_text(text: str, offered: list[str]) -> str | None:
    """Map "2", "the first one", "the 10:40 one" or "thursday's" to an offered slot key."""
    keys = [k for k in (SlotKey.decode(o) for o in offered) if k is not None]
    if not keys:
        return None
    words = re.findall(r"[a-z0-9]+", text.lower())
    # A time mentioned that matches exactly one offered slot ("the 10:40 one").
    for match in TIME_IN_TEXT.finditer(text):
        hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
        if hour > 23 or minute > 59 or not (match.group(2) or match.group(3)):
            continue  # a bare "2" is the second option, not 2 o'clock
        candidates = []
        for key in keys:
            local = key.start
            hour_12 = local.hour % 12 or 12
            if minute == local.minute and (
                hour == local.hour
                or (hour == hour_12 and (not meridiem or meridiem.startswith("p") == (local.hour >= 12)))
            ):
                candidates.append(key)
        if len(candidates) == 1:
            return candidates[0].encode()
    # A bare number or ordinal ("2", "option 2", "the second one").
    if len(words) <= 4:
        for word in words:
            if word in ORDINALS:
                index = ORDINALS[word]
                if index < len(keys):
                    return keys[index].encode()
    # A weekday that matches exactly one offered slot ("the thursday one").
    for key in keys:
        day = key.start.strftime("%A").lower()
        same_day = [k for k in keys if k.start.date() == key.start.date()]
        if len(same_day) == 1 and (day in words or day[:3] in words):
            return key.encode()
    return None


async def find_slots(tracker: Tracker, pref: Any) -> list[Any]:
    """Search open slots for the form's visit type and provider preference."""
    from bot.scheduling import get_scheduling_service

    provider = tracker.get_slot("provider")
    window = search_window(pref)
    arguments = {
        "visit_type": tracker.get_slot("visit_type"),
        "provider_id": None if provider in (None, "any") else provider,
        "limit": MAX_OFFERED,
        # A known patient is never offered a time overlapping one of their own visits
        # (the one being moved does not count).
        "patient_id": tracker.get_slot("patient_id") or None,
        "ignore_appointment_id": tracker.get_slot("appointment_choice") or None,
    }
    weekdays = set(getattr(pref, "weekdays", ()) or ())
    if not weekdays:
        return await call_backend(get_scheduling_service().search_slots, **arguments, **window)
    # Only some weekdays ("mondays", "not friday"): search those days one by one.
    return await call_backend(_search_on_weekdays, arguments, window, weekdays)


def _search_on_weekdays(arguments: dict[str, Any], window: dict[str, Any], weekdays: set) -> list[Any]:
    """Collect up to three slots from the allowed weekdays inside the window (blocking)."""
    from bot.scheduling import get_scheduling_service

    service = get_scheduling_service()
    found: list[Any] = []
    day = window["start_date"]
    while day <= window["end_date"] and len(found) < MAX_OFFERED:
        if day.weekday() in weekdays:
            found += service.search_slots(
                **arguments,
                **{**window, "start_date": day, "end_date": day},
            )[: MAX_OFFERED - len(found)]
        day += dt.timedelta(days=1)
    return found


async def explain_empty(dispatcher: CollectingDispatcher, pref: Any) -> None:
    """Say why nothing was found: a closed day, or simply no open slot."""
    when_text = await explain_closed(dispatcher, pref)
    if when_text is not None:
        dispatcher.utter_message(response="utter_no_slots_found", when_text=when_text)


async def explain_closed(dispatcher: CollectingDispatcher, pref: Any) -> str | None:
    """Say so when the clinic is closed on the one day asked for (None); else the window's words, nothing said."""
    from bot.scheduling import get_scheduling_service

    service = get_scheduling_service()
    when_text = describe_window(pref, await clinic_open_weekdays())
    if pref.start_date and pref.start_date == pref.end_date:
        is_open = await call_backend(service.is_open_on, pref.start_date)
        if not is_open:
            clinic = await call_backend(service.clinic_info)
            dispatcher.utter_message(
                response="utter_closed_that_day",
                when_text=f"on {format_date(pref.start_date)}",
                hours_text=hours_text(clinic.opening_hours),
            )
            return None
    return when_text


class SlotOfferingValidator(abc.ABC):
    """Validation of ``time_preference`` and ``slot_choice`` for a form with a visit."""

    confirm_slot: str = "booking_confirmed"

    @abc.abstractmethod
    def name(self) -> str:
        """The form validation action's name (each form has its own)."""

    async def extract_time_preference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a "when" said before it was asked ("book me with Dr. Kim Friday morning")."""
        text = latest_text(tracker)
        if (
            not text
            or text.startswith("/")
            or latest_intent(tracker) not in WHEN_CARRYING_INTENTS
            or tracker.get_slot("time_preference")
            or tracker.get_slot("requested_slot") not in (None, "visit_type", "provider", "appointment_choice")
        ):
            return {}
        pref = parse_preference(text)
        if pref.matched and (pref.start_date or pref.asap):
            return {"time_preference": text}
        return {}

    async def validate_time_preference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Understand the preference and find real open slots for it, or re-ask."""
        return await self.apply_time_preference(str(value or ""), dispatcher, tracker)

    async def apply_time_preference(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Parse ``text``, search, and return the slots to set (or a re-ask)."""
        cleared = {"time_preference": None, "offered_slots": None, "slot_choice": None, self.confirm_slot: None}
        pref = parse_preference(text)
        problems = set(pref.problems)
        if problems & {"past_date", "past_time"}:
            dispatcher.utter_message(response="utter_time_in_past")
            return cleared
        if "too_far" in problems:
            limit = get_settings().today() + dt.timedelta(days=183)
            dispatcher.utter_message(response="utter_time_too_far", limit_text=format_date(limit))
            return cleared
        if not pref.matched or problems & {"invalid_date", "not_understood"}:
            dispatcher.utter_message(response="utter_time_not_understood")
            return cleared
        if not tracker.get_slot("visit_type"):
            return {**cleared, "time_preference": text}
        async with backend_guard(self.name(), dispatcher) as guard:
            slots = await find_slots(tracker, pref)
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        if not slots:
            async with backend_guard(self.name(), dispatcher) as guard:
                when_text = await explain_closed(dispatcher, pref)
            if guard.failed:
                return dict(BACKEND_DOWN_SLOTS)
            if when_text is None:
                return cleared
            return {**cleared, **(await self.nothing_open(dispatcher, tracker, when_text))}
        return {**cleared, "time_preference": text, "offered_slots": encode_slots(slots)}

    async def nothing_open(self, dispatcher: CollectingDispatcher, tracker: Tracker, when_text: str) -> dict[str, Any]:
        """Nothing open in the window (on a day the clinic opens): say so; the booking form offers the waitlist."""
        dispatcher.utter_message(response="utter_no_slots_found", when_text=when_text)
        return {}

    async def confirmation_or_new_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any] | bool:
        """Read a yes/no answer; a new "when" instead starts a new search; else re-ask."""
        answer = yes_or_no(value)
        if answer is not None:
            return answer
        text = str(value or "")
        pref = parse_preference(text)
        if pref.matched or "past_date" in pref.problems:
            return await self.apply_time_preference(text, dispatcher, tracker)
        dispatcher.utter_message(response="utter_yes_or_no")
        return {self.confirm_slot: None}

    async def validate_slot_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept an offered slot (tap, number, time); a new "when" starts a new search."""
        offered = tracker.get_slot("offered_slots") or []
        text = str(value or "")
        key = SlotKey.decode(text)
        if key is not None:
            # Only a slot we offered (a tap on a button); anything else is re-asked.
            if key.encode() not in offered or key.start <= get_settings().now():
                dispatcher.utter_message(response="utter_slot_choice_not_understood")
                return {"slot_choice": None}
            return {"slot_choice": key.encode()}
        picked = pick_from_text(text, offered)
        if picked:
            return {"slot_choice": picked}
        pref = parse_preference(text)
        if pref.matched or "past_date" in pref.problems:
            result = await self.apply_time_preference(text, dispatcher, tracker)
            return result
        dispatcher.utter_message(response="utter_slot_choice_not_understood")
        return {"slot_choice": None}


class ActionAskSlotChoice(Action):
    """Offers up to three open slots as buttons (searching again if needed)."""

    def name(self) -> str:
        """Rasa calls this to ask for ``slot_choice`` in any form."""
        return "action_ask_slot_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Show the offered slots, or search when a correction cleared them."""

        offered = tracker.get_slot("offered_slots") or []
        pref = parse_preference(tracker.get_slot("time_preference") or "")
        events: list[EventType] = []
        if not offered:
            async with backend_guard(self.name(), dispatcher) as guard:
                slots = await find_slots(tracker, pref)
            if guard.failed:
                return backend_down_events()
            if not slots:
                await explain_empty(dispatcher, pref)
                return [SlotSet("time_preference", None), SlotSet("requested_slot", "time_preference")]
            offered = encode_slots(slots)
            events.append(SlotSet("offered_slots", offered))
        providers: dict[str, str] = {}
        async with backend_guard(self.name()):  # without names the buttons show provider ids
            providers = await provider_names()
        buttons = []
        for encoded in offered:
            key = SlotKey.decode(encoded)
            if key is None:
                continue
            name = providers.get(key.provider_id, key.provider_id)
            buttons.append(
                {
                    "title": f"{format_short_when(key.start)} with {name}",
                    "payload": '/inform{"slot_choice":"' + key.encode() + '"}',
                }
            )
        dispatcher.utter_message(
            response="utter_offer_slots", buttons=buttons, when_text=describe_window(pref, await clinic_open_weekdays())
        )
        return events


def offer_new_times(dispatcher: CollectingDispatcher, exc: Exception, form: str, confirm_slot: str) -> list[EventType]:
    """The chosen time cannot be had: say why (the patient's own visit then, or taken) and search again."""
    from rasa_sdk.events import FollowupAction

    from bot.scheduling import OverlappingAppointment

    if isinstance(exc, OverlappingAppointment):
        logger.info("time overlaps the patient's %s; offering new times", exc.conflict.appointment_id)
        dispatcher.utter_message(response="utter_patient_time_conflict", conflict_text=conflict_text(exc.conflict))
    else:
        logger.info("slot no longer bookable (%s); offering new times", type(exc).__name__)
        dispatcher.utter_message(response="utter_slot_taken")
    return [
        SlotSet("slot_choice", None),
        SlotSet("offered_slots", None),
        SlotSet(confirm_slot, None),
        FollowupAction(form),
    ]


def conflict_text(appointment: Any) -> str:
    """ "your sick visit with Dr. Amina Patel on Thursday, December 3 at 10:00 AM"."""
    return (
        f"your {appointment.visit_type_name.lower()} with {appointment.provider_name}"
        f" on {format_when(appointment.start)}"
    )


def slot_summary(encoded: str | None, providers: dict[str, str]) -> dict[str, str]:
    """Values for confirmation messages: provider name and the spoken date and time."""
    key = SlotKey.decode(encoded)
    if key is None:
        return {"provider_name": "", "when_text": ""}
    return {"provider_name": providers.get(key.provider_id, key.provider_id), "when_text": format_when(key.start)}


async def provider_names() -> dict[str, str]:
    """Provider id -> display name, from clinic data."""
    from bot.scheduling import get_scheduling_service

    return {p.provider_id: p.display_name for p in await call_backend(get_scheduling_service().list_providers)}


async def visit_type_names() -> dict[str, str]:
    """Visit type code -> display name in lower case, for sentences."""
    from bot.scheduling import get_scheduling_service

    return {v.code: v.display_name.lower() for v in await call_backend(get_scheduling_service().list_visit_types)}


__all__ = [
    "ActionAskSlotChoice",
    "SlotOfferingValidator",
    "conflict_text",
    "describe_window",
    "offer_new_times",
    "format_time",
    "pick_from_text",
    "provider_names",
    "slot_summary",
    "visit_type_names",
]
