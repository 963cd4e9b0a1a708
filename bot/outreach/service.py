"""What conversations and the staff page ask of outreach, behind one interface.

Actions reach outreach only through :class:`OutreachService` (like scheduling and
records), so the SQL behind it can move. The SMS connector asks for the open
question a text asked a number (:meth:`OutreachService.open_prompt`), and the
actions record the answer, book a waitlist offer or join the waitlist.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field

from bot.scheduling.service import AppointmentInfo

PROMPT_WINDOW = dt.timedelta(days=7)
"""How long a text's question stays open for a reply (a reminder also ends when its visit starts)."""


class OutreachError(Exception):
    """Base of outreach errors."""


class PromptNotFound(OutreachError):
    """No such text was sent to this patient, or it no longer asks anything."""


class OfferGone(OutreachError):
    """The offered time was taken (by another waitlisted patient or anyone else), or the offer ended."""


class NoTextConsent(OutreachError):
    """The patient has not agreed to texts from the clinic (or has no mobile on record)."""


class OutreachUnavailable(OutreachError):
    """The clinic database could not be reached."""


@dataclass(frozen=True)
class Prompt:
    """A text the clinic sent that asks for an answer, as the patient's SMS conversation needs it."""

    outbox_id: int
    kind: str  # "reminder", "waitlist_offer" or "follow_up"
    patient_id: str
    sent_at: dt.datetime
    appointment_id: str | None = None  # reminder: the visit it is about
    offer_id: int | None = None  # waitlist_offer
    visit_id: str | None = None  # follow_up: the visit whose summary asked for it
    provider_id: str | None = None
    visit_type: str | None = None
    start: dt.datetime | None = None  # the visit (reminder) or the offered time (offer)
    due_date: dt.date | None = None  # follow_up: when it falls due
    answer: str | None = None  # what the patient answered so far, if anything
    recalled_at: dt.datetime | None = None  # when a reply carrying it was first stored in the SMS conversation
    values: dict[str, str] = field(default_factory=dict)  # what the text was filled with (first_name, day, time, ...)


@dataclass(frozen=True)
class WaitlistEntryInfo:
    """A patient's place on the waitlist."""

    entry_id: int
    patient_id: str
    visit_type: str
    provider_id: str | None  # None: any provider offering the visit type
    from_date: dt.date
    to_date: dt.date
    status: str  # waiting, booked, left, expired
    joined_at: dt.datetime
    booked_appointment_id: str | None = None


@dataclass(frozen=True)
class ReminderView:
    """One planned or sent text for the staff page (no phone number, no text)."""

    outbox_id: int
    kind: str
    patient_id: str
    appointment_id: str | None
    visit_start: dt.datetime | None
    provider_id: str | None
    send_at: dt.datetime
    status: str  # planned, sending, sent, dropped, skipped, failed
    status_reason: str | None
    answer: str | None  # confirmed, moved, cancelled, accepted, declined, gone, or None (no answer yet)
    attempts: int
    sent_at: dt.datetime | None
    visit_id: str | None = None  # follow-ups and "notes ready": the visit that took place


class OutreachService(abc.ABC):
    """Outreach as conversations and staff see it; times default to ``get_settings().now()``."""

    @abc.abstractmethod
    def open_prompt(self, number: str, now: dt.datetime | None = None) -> Prompt | None:
        """The latest text sent to ``number`` (E.164) in :data:`PROMPT_WINDOW` that asks for an answer.

        A reminder whose visit has started, an offer no longer open, a follow-up
        already answered, or a text already answered is not open.
        """

    @abc.abstractmethod
    def prompt(self, outbox_id: int, number: str) -> Prompt:
        """The text ``outbox_id`` if it was sent to ``number``; else PromptNotFound (no other patient's texts)."""

    @abc.abstractmethod
    def mark_recalled(self, outbox_id: int, now: dt.datetime | None = None) -> None:
        """Note that the text was brought into the patient's SMS conversation."""

    @abc.abstractmethod
    def record_answer(self, outbox_id: int, answer: str, now: dt.datetime | None = None) -> None:
        """Keep the patient's answer to a reminder or offer (``confirmed``, ``moved``, ``cancelled``, ``declined``).

        The staff page shows it; a second answer replaces the first.
        """

    @abc.abstractmethod
    def accept_offer(self, outbox_id: int, channel: str = "sms", now: dt.datetime | None = None) -> AppointmentInfo:
        """Book the offered time for the offer's patient, or raise :class:`OfferGone`.

        Exactly one of all the patients offered one time gets it, however their
        answers race: the booking itself is the scheduler's race-safe insert; the
        winner's waitlist entry is marked booked, every later "yes" gets OfferGone
        and stays on the list.
        """

    @abc.abstractmethod
    def join_waitlist(
        self,
        patient_id: str,
        visit_type: str,
        provider_id: str | None,
        from_date: dt.date,
        to_date: dt.date,
        channel: str,
        now: dt.datetime | None = None,
    ) -> WaitlistEntryInfo:
        """Put the patient on the waitlist (the same wish twice keeps one entry, with the wider range).

        Raises NoTextConsent when the patient has no mobile on record or has not
        agreed to texts (offers go out by text): give consent first.
        """

    @abc.abstractmethod
    def give_text_consent(self, patient_id: str, now: dt.datetime | None = None) -> None:
        """Record that the patient agreed to texts the clinic sends first."""

    @abc.abstractmethod
    def has_text_consent(self, patient_id: str) -> bool:
        """Whether the patient agreed to texts and has a mobile on record."""

    @abc.abstractmethod
    def waitlist_of(self, patient_id: str) -> list[WaitlistEntryInfo]:
        """The patient's waiting entries, oldest first."""

    @abc.abstractmethod
    def leave_waitlist(self, patient_id: str, entry_id: int, now: dt.datetime | None = None) -> None:
        """Take one of the patient's entries off the waitlist."""

    @abc.abstractmethod
    def upcoming_texts(self, days: int = 7, now: dt.datetime | None = None) -> list[ReminderView]:
        """Staff view: texts planned for the next ``days`` days and those sent in the last ``days``, by time."""

    @abc.abstractmethod
    def waitlist(self) -> list[WaitlistEntryInfo]:
        """Staff view: everyone waiting, in order of joining."""


_service: OutreachService | None = None


def get_outreach_service() -> OutreachService:
    """The process-wide outreach service (SQL on the clinic database unless set otherwise)."""
    global _service
    if _service is None:
        from bot.outreach.sql import SqlOutreachService

        _service = SqlOutreachService()
    return _service


def set_outreach_service(service: OutreachService | None) -> None:
    """Replace the service (None: back to the SQL default)."""
    global _service
    _service = service
