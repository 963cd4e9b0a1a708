"""Channel bookkeeping in the clinic database: deliveries already answered.

SMS opt-outs live in :mod:`bot.sms_opt_out` (the outreach worker reads them too).

A delivery row keeps the reply we gave so that a redelivered webhook (Twilio retries, a widget that
re-sends after a network error) gets the same answer without running the
assistant twice. A unique constraint makes that race-safe across Rasa instances.
Delivery rows are pruned after :data:`DELIVERY_RETENTION`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.channel_tables import ChannelDelivery
from bot.db import session_scope

DELIVERY_RETENTION = dt.timedelta(days=2)
"""How long a delivery's reply is kept for redeliveries (Twilio retries within minutes)."""


@dataclass(frozen=True)
class DeliveryClaim:
    """Outcome of :func:`claim_delivery`: ours to process, or the earlier reply (None: still in progress)."""

    claimed: bool
    earlier_reply: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def claim_delivery(channel: str, delivery_key: str, url: str | None = None) -> DeliveryClaim:
    """Take a delivery for processing, or learn that it was taken before (and its reply)."""
    now = _now()
    try:
        with session_scope(url) as session:
            session.execute(delete(ChannelDelivery).where(ChannelDelivery.received_at < now - DELIVERY_RETENTION))
            session.add(ChannelDelivery(channel=channel, delivery_key=delivery_key, received_at=now))
        return DeliveryClaim(True)
    except IntegrityError:
        with session_scope(url) as session:
            reply = session.execute(
                select(ChannelDelivery.reply).where(
                    ChannelDelivery.channel == channel, ChannelDelivery.delivery_key == delivery_key
                )
            ).scalar()
        return DeliveryClaim(False, reply)


def finish_delivery(channel: str, delivery_key: str, reply: str, url: str | None = None) -> None:
    """Keep the reply a delivery got, for its redeliveries."""
    with session_scope(url) as session:
        row = session.execute(
            select(ChannelDelivery).where(
                ChannelDelivery.channel == channel, ChannelDelivery.delivery_key == delivery_key
            )
        ).scalar_one_or_none()
        if row is not None:
            row.reply = reply


def release_delivery(channel: str, delivery_key: str, url: str | None = None) -> None:
    """Forget a delivery that failed, so a redelivery is processed instead of lost."""
    with session_scope(url) as session:
        session.execute(
            delete(ChannelDelivery).where(
                ChannelDelivery.channel == channel, ChannelDelivery.delivery_key == delivery_key
            )
        )
