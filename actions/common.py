"""Shared helpers for the custom actions: backend access with timeouts, wording of
dates and slots, and the clinic facts that fill response templates.

Actions talk to the backends only through the service interfaces in ``bot/``;
every call runs in a worker thread under a timeout well inside Rasa's 60 s
conversation lock, so a slow database can never let two messages of one
conversation be processed at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.clinic_facts import safe_clinic_values
from bot.settings import get_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

YES_WORDS = re.compile(
    r"^\s*(y|ya|yas|yes+|yeah|yep|yup|sure|ok(ay)?|k|correct|right|confirm(ed)?|book it|"
    r"please do|go ahead|sounds good|perfect|s[ií]|claro|that works|works for me)\b",
    re.I,
)
NO_WORDS = re.compile(r"^\s*(n|no+|nope|nah|not really|don'?t|do not|wrong|incorrect)\b", re.I)


def yes_or_no(value: Any) -> bool | None:
    """Read a yes/no answer given as a bool or in words."""
    if isinstance(value, bool):
        return value
    text = str(value or "")
    if YES_WORDS.match(text):
        return True
    if NO_WORDS.match(text):
        return False
    return None


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class BackendCallFailed(Exception):
    """A backend could not answer in time or at all; the patient gets a clear message."""


async def call_backend(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking backend call in a thread with the configured timeout."""
    timeout = get_settings().backend_timeout_seconds
    try:
        return await asyncio.wait_for(asyncio.to_thread(func, *args, **kwargs), timeout)
    except asyncio.TimeoutError as exc:
        logger.error("backend call %s timed out after %.1fs", getattr(func, "__name__", "?"), timeout)
        raise BackendCallFailed("timeout") from exc


def format_time(value: dt.time | dt.datetime) -> str:
    """Say a time the way a US clinic writes it: 9:00 AM, 2:40 PM."""
    text = value.strftime("%I:%M %p")
    return text[1:] if text.startswith("0") else text


def format_date(value: dt.date, reference: dt.date | None = None) -> str:
    """Say a date in plain words: Thursday, December 3 (", 2027" when not ``reference``'s year)."""
    text = f"{WEEKDAY_NAMES[value.weekday()]}, {value.strftime('%B')} {value.day}"
    if reference is not None and value.year != reference.year:
        text += f", {value.year}"
    return text


# Words that start with a vowel letter but a "you" sound, and the reverse.
_A_BEFORE_VOWEL = ("uni", "use", "usu", "uro", "eu", "one", "once")
_AN_BEFORE_CONSONANT = ("hour", "honest", "honor", "heir")


def with_article(noun: str) -> str:
    """ "a sick visit", "an annual physical", "an X-ray": the noun with the right indefinite article."""
    noun = (noun or "").strip()
    if not noun:
        return ""
    lower = noun.lower()
    vowel = lower[0] in "aeiou" and not lower.startswith(_A_BEFORE_VOWEL)
    if lower.startswith(_AN_BEFORE_CONSONANT) or (lower[0] == "x" and not lower[1:2].isalpha()):
        vowel = True
    return f"{'an' if vowel else 'a'} {noun}"


def sentence_start(text: str) -> str:
    """Capitalise the first letter only ("an annual physical" -> "An annual physical")."""
    return text[:1].upper() + text[1:]


def format_when(value: dt.datetime) -> str:
    """Say a date and time together: Thursday, December 3 at 2:40 PM."""
    return f"{format_date(value.date())} at {format_time(value)}"


def format_short_when(value: dt.datetime) -> str:
    """A compact label for a button: Thu Dec 3, 2:40 PM."""
    return f"{value.strftime('%a %b')} {value.day}, {format_time(value)}"


@dataclass(frozen=True)
class SlotKey:
    """An offered slot as carried in a slot value or button payload: start + provider."""

    start: dt.datetime
    provider_id: str

    def encode(self) -> str:
        """Serialize as ``2026-12-03T14:40|patel`` (clinic local time)."""
        return f"{self.start.strftime('%Y-%m-%dT%H:%M')}|{self.provider_id}"

    @staticmethod
    def decode(value: Any) -> SlotKey | None:
        """Parse an encoded slot key; None when the text is not one."""
        if not isinstance(value, str) or "|" not in value:
            return None
        start_text, _, provider_id = value.strip().partition("|")
        try:
            start = dt.datetime.strptime(start_text.strip(), "%Y-%m-%dT%H:%M")
        except ValueError:
            return None
        provider_id = provider_id.strip()
        if not provider_id or not provider_id.replace("_", "").isalnum():
            return None
        return SlotKey(start.replace(tzinfo=get_settings().tz), provider_id)


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message (never logged)."""
    return (tracker.latest_message or {}).get("text") or ""


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of an entity in the latest message, skipping negated mentions ("not Dr. Patel")."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return [
        str(e["value"]) for e in entities if e.get("entity") == entity and e.get("role") != "not" and e.get("value")
    ]


def latest_intent(tracker: Tracker) -> str:
    """The intent name of the latest user message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def channel_of(tracker: Tracker) -> str:
    """The input channel of the conversation, for audit columns."""
    return tracker.get_latest_input_channel() or "unknown"


PHONE_IN_TEXT = re.compile(r"\+?1?[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}")


def mobile_from_text(text: Any) -> str | None:
    """The US phone number in an answer like "my cell is (555) 201-9999", in E.164, or None."""
    from bot.records import InvalidPatientData, normalize_us_mobile

    found = PHONE_IN_TEXT.search(str(text or ""))
    try:
        return normalize_us_mobile(found.group(0).strip() if found else "")
    except InvalidPatientData:
        return None


def actor_of(tracker: Tracker) -> str:
    """Who reads or writes patient data, for the audit log: the conversation, hashed."""
    from bot.records import assistant_actor

    return assistant_actor(tracker.sender_id or "unknown")


def hours_text(opening_hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]]) -> str:
    """Describe opening hours compactly: Monday to Friday 8:00 AM to 5:00 PM, ..."""
    groups: list[tuple[int, int, tuple[tuple[dt.time, dt.time], ...]]] = []
    for weekday in range(7):
        blocks = tuple(opening_hours.get(weekday) or ())
        if groups and groups[-1][2] == blocks and groups[-1][1] == weekday - 1:
            groups[-1] = (groups[-1][0], weekday, blocks)
        else:
            groups.append((weekday, weekday, blocks))
    parts = []
    for first, last, blocks in groups:
        days = WEEKDAY_NAMES[first] if first == last else f"{WEEKDAY_NAMES[first]} to {WEEKDAY_NAMES[last]}"
        if not blocks:
            parts.append(f"closed {days}")
            continue
        times = " and ".join(f"{format_time(start)} to {format_time(end)}" for start, end in blocks)
        parts.append(f"{days} {times}")
    return "; ".join(parts)


async def tell_backend_down(dispatcher: CollectingDispatcher) -> None:
    """Say "I can't do that right now, call us" once per turn, however many lookups failed."""
    if any(message.get("response") == "utter_backend_down" for message in dispatcher.messages):
        return
    dispatcher.utter_message(response="utter_backend_down", **(await safe_clinic_values()))
