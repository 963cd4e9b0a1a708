"""Channel tables (SMS opt-outs, answered deliveries) live in the core because the migrations own the schema.

:mod:`bot.migrations.env` registers every table on :data:`bot.db.Base` and the
core never imports ``channels``; :mod:`channels.store` reads and writes these
rows. A phone number is kept only as a keyed hash, never in the clear.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Text, UniqueConstraint

from bot.db import Base, UtcDateTime


class SmsOptOut(Base):
    """A phone number (as a keyed hash) that asked for no more texts."""

    __tablename__ = "sms_opt_outs"

    number_key = Column(String(64), primary_key=True)
    opted_out_at = Column(UtcDateTime, nullable=False)


class ChannelDelivery(Base):
    """One inbound delivery (an SMS MessageSid, a portal message id) and the reply it got."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        UniqueConstraint("channel", "delivery_key", name="uq_channel_deliveries_channel_key"),
        Index("ix_channel_deliveries_received_at", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    delivery_key = Column(String(64), nullable=False)
    received_at = Column(UtcDateTime, nullable=False)
    # None while the first delivery is still being answered.
    reply = Column(Text, nullable=True)
