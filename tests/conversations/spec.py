"""The conversation file format (``tests/conversations/*.yml``), checked on load.

A file is a mapping with ``conversations:``, a list of conversations. Each
conversation is a patient's chat from the first message to an outcome; see
``tests/conversations/README.md`` for the format with examples. Unknown keys
are errors, so a typo in a file fails loudly instead of testing nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Extra, root_validator, validator

HERE = Path(__file__).resolve().parent
DEMO_PATIENTS = {"jordan": "P-1001", "ana": "P-1002"}
EMERGENCY_RESPONSES = ("utter_emergency", "utter_emergency_crisis")


def _names(value: Any) -> list[str]:
    """One response name or a list of them, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid


class Offers(_Strict):
    """What the offered time buttons must look like (every offered slot is checked)."""

    from_day: dt.date | None = None  # no slot before this day
    to_day: dt.date | None = None  # no slot after this day
    after: str | None = None  # "HH:MM": no slot starts before this time
    before: str | None = None  # "HH:MM": no slot starts at or after this time
    not_only_after: str | None = None  # "HH:MM": at least one slot starts before this time
    provider: str | None = None  # provider display name part, e.g. "Kim"
    days_at_least: int | None = None  # distinct days among the offered slots


class Turn(_Strict):
    """One thing the patient does (types or taps) and what the assistant must answer."""

    patient: str | None = None  # what the patient types
    tap: int | str | None = None  # a button of the last answer: its title (part of it) or 1-based number
    says: list[str] = []  # each of these responses produced one of this turn's messages
    says_any: list[str] = []  # at least one of these did
    not_says: list[str] = []  # none of these did
    asks_for: str | None = None  # a form question for this slot (utter_ask_<slot> / utter_ask_<form>_<slot>)
    contains: list[str] = []  # these words appear in the answer (case-insensitive)
    not_contains: list[str] = []
    buttons_include: list[str] = []  # button titles (part of, case-insensitive)
    offers: Offers | None = None

    _lists = validator(
        "says", "says_any", "not_says", "contains", "not_contains", "buttons_include", pre=True, allow_reuse=True
    )(_names)

    @root_validator(skip_on_failure=True)
    def _one_action(cls, values: dict) -> dict:  # noqa: N805 - pydantic validator
        """Exactly one of ``patient`` and ``tap``."""
        if (values.get("patient") is None) == (values.get("tap") is None):
            raise ValueError("a turn has exactly one of 'patient' (typed text) or 'tap' (a button)")
        return values


class SeededAppointment(_Strict):
    """An upcoming visit the runner books for a made-up patient before the chat starts."""

    visit_type: str = "follow_up"
    provider: str = "okafor"
    day: dt.date


class SeededPatient(_Strict):
    """A made-up existing patient the runner creates (with an appointment) before the chat."""

    name: str
    born: dt.date
    mobile: str | None = None
    appointment: SeededAppointment | None = None


class Booked(_Strict):
    """The visit the conversation booked (read back from the clinic database)."""

    visit_type: str | None = None  # sick_visit, annual_physical, new_patient, follow_up, skin_check, vaccination
    provider: str | None = None  # patel, romero, kim, okafor
    patient: str | None = None  # the patient's full name on the record
    day: dt.date | None = None
    not_day: dt.date | None = None
    from_day: dt.date | None = None
    to_day: dt.date | None = None
    after: str | None = None  # "HH:MM" local: starts at or after
    before: str | None = None  # "HH:MM" local: starts before


class Rescheduled(_Strict):
    """The seeded appointment was moved (and the new one is booked)."""

    day: dt.date | None = None
    after: str | None = None
    before: str | None = None


OUTCOME_WORDS = ("nothing_booked", "cancelled", "rescheduled", "unchanged", "answered")
WORK_ITEM_KINDS = ("handoff", "callback", "refill", "emergency")


class Outcome(_Strict):
    """What a patient would call success, checked in the clinic database where it matters."""

    booked: Booked | None = None
    nothing_booked: bool = False  # no visit booked for anyone in this chat
    cancelled: bool = False  # the seeded appointment is cancelled
    rescheduled: Rescheduled | None = None
    unchanged: bool = False  # the seeded appointment is still booked as it was
    work_item: Literal["handoff", "callback", "refill", "emergency"] | None = None
    answered: bool = False  # nothing to check in the database: the turns say it all

    @root_validator(skip_on_failure=True)
    def _something(cls, values: dict) -> dict:  # noqa: N805 - pydantic validator
        """An outcome must say something."""
        if not any(values.get(k) for k in values):
            raise ValueError("the outcome is empty")
        return values


class Conversation(_Strict):
    """One patient conversation, first message to outcome."""

    id: str
    wants: str  # one line: what the patient wants, in plain words
    covers: str | None = None  # which issue case this is ("Why" in issue part 9), if any
    patient: Literal["none", "jordan", "ana"] | SeededPatient = "none"
    channel: Literal["rest"] = "rest"
    emergency: bool = False  # the 911/988 answer is expected somewhere in this chat
    # A known gap, in one line: the test is expected to fail (strictly: once the
    # assistant gets it right, the test fails until this line is removed).
    known_gap: str | None = None
    never_says: list[str] = []  # checked on every turn
    turns: list[Turn]
    outcome: Outcome
    source: str = ""  # filled in by the loader: file name

    _never = validator("never_says", pre=True, allow_reuse=True)(_names)

    @validator("outcome", pre=True)
    def _outcome_word(cls, value: Any) -> Any:  # noqa: N805 - pydantic validator
        """``outcome: nothing_booked`` etc. as a bare word."""
        if isinstance(value, str):
            if value not in OUTCOME_WORDS:
                raise ValueError(f"unknown outcome {value!r}; use one of {', '.join(OUTCOME_WORDS)} or a mapping")
            return {value: True} if value != "rescheduled" else {"rescheduled": {}}
        if isinstance(value, dict) and value.get("rescheduled") is True:
            value = {**value, "rescheduled": {}}
        return value

    @validator("turns")
    def _not_empty(cls, value: list[Turn]) -> list[Turn]:  # noqa: N805 - pydantic validator
        """A conversation has at least one turn and starts with the patient typing."""
        if not value or value[0].patient is None:
            raise ValueError("a conversation starts with the patient typing something")
        return value

    @property
    def patient_id(self) -> str | None:
        """The demo patient's record id (seeded patients get theirs at run time)."""
        return DEMO_PATIENTS.get(self.patient) if isinstance(self.patient, str) else None


def load_file(path: Path) -> list[Conversation]:
    """The conversations of one file, each validated."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    items = document.get("conversations") or []
    conversations = []
    for index, item in enumerate(items):
        try:
            conversation = Conversation.parse_obj({**item, "source": path.name})
        except Exception as exc:  # noqa: BLE001 - say which entry is wrong
            label = item.get("id") if isinstance(item, dict) else f"#{index + 1}"
            raise ValueError(f"{path.name}: conversation {label}: {exc}") from exc
        conversations.append(conversation)
    return conversations


def load_all(folder: Path = HERE) -> list[Conversation]:
    """Every conversation in every ``*.yml`` file of the folder, file by file; ids must be unique."""
    conversations: list[Conversation] = []
    for path in sorted(folder.glob("*.yml")):
        conversations.extend(load_file(path))
    seen: dict[str, str] = {}
    for conversation in conversations:
        if conversation.id in seen:
            raise ValueError(f"id {conversation.id!r} is used in {seen[conversation.id]} and {conversation.source}")
        seen[conversation.id] = conversation.source
    return conversations
