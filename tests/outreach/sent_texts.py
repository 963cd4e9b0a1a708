"""Rows of texts the clinic already sent (a reminder, a waitlist offer, a follow-up), written straight into a database.

The worker writes these rows when Twilio accepts a text; tests of the answers
start from that point without running it. ``number_key`` is the same keyed hash
the worker stores (``settings``: the server's channel secret, when it is not this
process's), so a reply from ``number`` finds its text.
"""

from __future__ import annotations

import datetime as dt
import uuid

from bot.channel_identity import keyed_hash
from bot.db import session_scope
from bot.outreach.models import (
    KIND_FOLLOW_UP,
    KIND_REMINDER,
    KIND_WAITLIST_OFFER,
    OUTBOX_SENT,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from bot.outreach.outbox import NUMBER_KEY_PURPOSE
from bot.settings import Settings


def _row(
    kind: str, patient_id: str, number: str, sent_at: dt.datetime, settings: Settings | None, **fields: object
) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=f"test:{kind}:{uuid.uuid4().hex}",
        kind=kind,
        patient_id=patient_id,
        send_at=sent_at,
        status=OUTBOX_SENT,
        attempts=1,
        body="(a text)",
        number_key=keyed_hash(number.strip(), NUMBER_KEY_PURPOSE, settings),
        sent_at=sent_at,
        created_at=sent_at,
        updated_at=sent_at,
        **fields,
    )


def sent_reminder(
    url: str,
    appointment_id: str,
    patient_id: str,
    number: str,
    sent_at: dt.datetime,
    settings: Settings | None = None,
) -> int:
    """A reminder of ``appointment_id`` sent to ``number``; its outbox id."""
    with session_scope(url) as session:
        row = _row(KIND_REMINDER, patient_id, number, sent_at, settings, appointment_id=appointment_id)
        session.add(row)
        session.flush()
        return int(row.id)


def sent_follow_up(
    url: str,
    visit_id: str,
    patient_id: str,
    number: str,
    sent_at: dt.datetime,
    settings: Settings | None = None,
) -> int:
    """A follow-up offer for the visit ``visit_id`` sent to ``number``; its outbox id."""
    with session_scope(url) as session:
        row = _row(KIND_FOLLOW_UP, patient_id, number, sent_at, settings, visit_id=visit_id)
        session.add(row)
        session.flush()
        return int(row.id)


def sent_offer(
    url: str,
    patient_id: str,
    number: str,
    provider_id: str,
    visit_type: str,
    start: dt.datetime,
    sent_at: dt.datetime,
    freed_appointment_id: str = "A-FREED",
    settings: Settings | None = None,
) -> tuple[int, int]:
    """A waiting entry, an open offer of ``start`` and its sent text; (outbox id, entry id)."""
    with session_scope(url) as session:
        entry = WaitlistEntry(
            patient_id=patient_id,
            provider_id=provider_id,
            visit_type_code=visit_type,
            from_date=start.date(),
            to_date=start.date() + dt.timedelta(days=7),
            status="waiting",
            channel="sms",
            joined_at=sent_at,
            updated_at=sent_at,
        )
        session.add(entry)
        session.flush()
        offer = WaitlistOffer(
            entry_id=entry.id,
            freed_appointment_id=freed_appointment_id,
            provider_id=provider_id,
            visit_type_code=visit_type,
            start_at=start,
            status="open",
            created_at=sent_at,
        )
        session.add(offer)
        session.flush()
        row = _row(KIND_WAITLIST_OFFER, patient_id, number, sent_at, settings, offer_id=offer.id, expires_at=start)
        session.add(row)
        session.flush()
        return int(row.id), int(entry.id)
