"""Tables of outreach: the outbox of texts the clinic sends first, the waitlist and its offers.

Every outgoing text is first a row of ``outbox`` (planned by :mod:`bot.outreach.planner`,
sent by :mod:`bot.outreach.outbox` in ``python -m bot worker``). A row's
``dedupe_key`` is unique, so planning the same reminder twice, from two workers
at once, still gives one row. Rows never hold a phone number: the number is read
from the patient's record when the text is sent and kept only as a keyed hash
(``number_key``) so a reply can be matched to the text it answers.

Like appointments, these tables point at patients and appointments without
foreign keys: scheduling and records are separate services.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)

from bot.db import Base, UtcDateTime

# What a row is for.
KIND_REMINDER = "reminder"
KIND_WAITLIST_OFFER = "waitlist_offer"
KIND_FOLLOW_UP = "follow_up"
KIND_NOTES_READY = "notes_ready"
OUTBOX_KINDS = (KIND_REMINDER, KIND_WAITLIST_OFFER, KIND_FOLLOW_UP, KIND_NOTES_READY)
# Kinds the patient is asked to answer (the SMS conversation picks them up).
ANSWERABLE_KINDS = (KIND_REMINDER, KIND_WAITLIST_OFFER, KIND_FOLLOW_UP)

# Where a row is in its life.
OUTBOX_PLANNED = "planned"  # waiting for send_at (or for the next try)
OUTBOX_SENDING = "sending"  # a worker holds it (lease_until); after a crash: in doubt
OUTBOX_SENT = "sent"  # Twilio accepted every part
OUTBOX_DROPPED = "dropped"  # no longer wanted: the visit was moved or cancelled, the offer ended
OUTBOX_SKIPPED = "skipped"  # not sendable: no consent, no mobile, opted out, too late
OUTBOX_FAILED = "failed"  # Twilio refused it on every try; a staff work item says so
OUTBOX_STATUSES = (OUTBOX_PLANNED, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_DROPPED, OUTBOX_SKIPPED, OUTBOX_FAILED)

# What the patient answered (reminders: confirmed / moved / cancelled; offers: accepted / declined / gone).
ANSWER_CONFIRMED = "confirmed"
ANSWER_MOVED = "moved"
ANSWER_CANCELLED = "cancelled"
ANSWER_ACCEPTED = "accepted"
ANSWER_DECLINED = "declined"
ANSWER_GONE = "gone"
OUTBOX_ANSWERS = (ANSWER_CONFIRMED, ANSWER_MOVED, ANSWER_CANCELLED, ANSWER_ACCEPTED, ANSWER_DECLINED, ANSWER_GONE)

WAITLIST_WAITING = "waiting"
WAITLIST_BOOKED = "booked"
WAITLIST_LEFT = "left"
WAITLIST_EXPIRED = "expired"
WAITLIST_STATUSES = (WAITLIST_WAITING, WAITLIST_BOOKED, WAITLIST_LEFT, WAITLIST_EXPIRED)

OFFER_OPEN = "open"
OFFER_ACCEPTED = "accepted"
OFFER_GONE = "gone"
OFFER_DECLINED = "declined"
OFFER_STATUSES = (OFFER_OPEN, OFFER_ACCEPTED, OFFER_GONE, OFFER_DECLINED)


def _values(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OutreachPolicy(Base):
    """The clinic's rules for texting first (one row, id 1; from the clinic data file).

    ``reminders_json`` lists reminder offsets as ``[{"days_before": 2, "at": "10:00"}, ...]``;
    quiet hours run from ``quiet_start`` to ``quiet_end`` clinic time (across midnight when
    start > end); nothing is sent inside them.
    """

    __tablename__ = "outreach_policy"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id = Column(Integer, primary_key=True, autoincrement=False)
    reminders_json = Column(Text, nullable=False)
    quiet_start = Column(Time, nullable=False)
    quiet_end = Column(Time, nullable=False)
    follow_up_offer_at = Column(Time, nullable=True)  # None: follow-ups are not offered
    notes_ready_at = Column(Time, nullable=True)  # None: no "your notes are ready" texts
    waitlist_offers = Column(Integer, nullable=False, default=1, server_default="1")  # 0: waitlist off


class OutboxMessage(Base):
    """One text the clinic means to send, and what became of it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        CheckConstraint(_values("kind", OUTBOX_KINDS), name="kind_values"),
        CheckConstraint(_values("status", OUTBOX_STATUSES), name="status_values"),
        CheckConstraint(f"answer IS NULL OR {_values('answer', OUTBOX_ANSWERS)}", name="answer_values"),
        Index("ix_outbox_status_send_at", "status", "send_at"),
        Index("ix_outbox_appointment", "appointment_id"),
        Index("ix_outbox_number_sent", "number_key", "sent_at"),
    )

    id = Column(Integer, primary_key=True)
    dedupe_key = Column(String(120), nullable=False)
    kind = Column(String(20), nullable=False)
    patient_id = Column(String(40), nullable=False)
    appointment_id = Column(String(16), nullable=True)  # reminders: the visit
    visit_id = Column(String(16), nullable=True)  # follow-ups and notes: the visit that took place
    offer_id = Column(Integer, ForeignKey("waitlist_offers.id", ondelete="CASCADE"), nullable=True)
    # When it is due (UTC), already moved out of quiet hours; a retry moves it on.
    send_at = Column(UtcDateTime, nullable=False)
    # The moment the visit starts (reminders) or the offered slot (offers): past it, the text is pointless.
    expires_at = Column(UtcDateTime, nullable=True)
    status = Column(String(10), nullable=False, default=OUTBOX_PLANNED, server_default=OUTBOX_PLANNED)
    status_reason = Column(String(40), nullable=True)  # a code, never patient data ("opted_out", "visit_moved")
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    lease_owner = Column(String(64), nullable=True)
    lease_until = Column(UtcDateTime, nullable=True)
    attempt_started_at = Column(UtcDateTime, nullable=True)
    # The text as sent (written when a worker takes the row, so a send in doubt can be matched).
    body = Column(Text, nullable=True)
    number_key = Column(String(64), nullable=True)
    provider_sids = Column(Text, nullable=True)  # Twilio's message ids, space separated
    sent_at = Column(UtcDateTime, nullable=True)
    recalled_at = Column(UtcDateTime, nullable=True)  # shown in the patient's SMS conversation
    answer = Column(String(10), nullable=True)
    answered_at = Column(UtcDateTime, nullable=True)
    work_item_id = Column(String(16), nullable=True)  # the staff item when sending failed for good
    created_at = Column(UtcDateTime, nullable=False)
    updated_at = Column(UtcDateTime, nullable=False)


class WaitlistEntry(Base):
    """A patient waiting for an earlier time: a visit type, a provider (or any), a range of days."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(_values("status", WAITLIST_STATUSES), name="status_values"),
        CheckConstraint("to_date >= from_date", name="date_order"),
        Index("ix_waitlist_status_joined", "status", "joined_at"),
        Index("ix_waitlist_patient", "patient_id"),
    )

    id = Column(Integer, primary_key=True)
    patient_id = Column(String(40), nullable=False)
    provider_id = Column(String(40), nullable=True)  # None: any provider who offers the visit type
    visit_type_code = Column(String(40), nullable=False)
    from_date = Column(Date, nullable=False)
    to_date = Column(Date, nullable=False)
    status = Column(String(10), nullable=False, default=WAITLIST_WAITING, server_default=WAITLIST_WAITING)
    channel = Column(String(40), nullable=False)
    joined_at = Column(UtcDateTime, nullable=False)
    booked_appointment_id = Column(String(16), nullable=True)
    updated_at = Column(UtcDateTime, nullable=False)


class FreedSlot(Base):
    """A booked time that became free (a cancel or a move), handled once for the waitlist."""

    __tablename__ = "freed_slots"

    appointment_id = Column(String(16), primary_key=True)  # the cancelled or moved-away appointment
    provider_id = Column(String(40), nullable=False)
    visit_type_code = Column(String(40), nullable=False)
    start_at = Column(UtcDateTime, nullable=False)
    found_at = Column(UtcDateTime, nullable=False)
    offers = Column(Integer, nullable=False, default=0, server_default="0")


class WaitlistOffer(Base):
    """A freed time offered to one waitlisted patient; the first "yes" of all offers of it books it."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        UniqueConstraint("entry_id", "provider_id", "start_at", name="uq_waitlist_offers_entry_slot"),
        CheckConstraint(_values("status", OFFER_STATUSES), name="status_values"),
        Index("ix_waitlist_offers_slot", "provider_id", "start_at"),
    )

    id = Column(Integer, primary_key=True)
    entry_id = Column(Integer, ForeignKey("waitlist_entries.id", ondelete="CASCADE"), nullable=False)
    freed_appointment_id = Column(String(16), nullable=False)
    provider_id = Column(String(40), nullable=False)
    visit_type_code = Column(String(40), nullable=False)
    start_at = Column(UtcDateTime, nullable=False)
    status = Column(String(10), nullable=False, default=OFFER_OPEN, server_default=OFFER_OPEN)
    created_at = Column(UtcDateTime, nullable=False)
    answered_at = Column(UtcDateTime, nullable=True)
    appointment_id = Column(String(16), nullable=True)  # the booking when accepted
