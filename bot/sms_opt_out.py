"""The SMS opt-out list: numbers that texted STOP, kept only as keyed hashes.

The SMS connector writes it (STOP, START) and :func:`bot.sms_gateway.send_sms`
reads it before every text, whoever sends it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.channel_identity import keyed_hash
from bot.channel_tables import SmsOptOut
from bot.db import session_scope

OPT_OUT_PURPOSE = "sms-opt-out"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def number_key(number: str) -> str:
    """The stored stand-in for a phone number in the opt-out list."""
    return keyed_hash(number.strip(), OPT_OUT_PURPOSE)


def is_opted_out(number: str, url: str | None = None) -> bool:
    """Whether this number asked for no more texts."""
    with session_scope(url) as session:
        return session.get(SmsOptOut, number_key(number)) is not None


def set_opted_out(number: str, opted_out: bool, url: str | None = None) -> None:
    """Record an opt-out (STOP) or an opt-in (START); both are idempotent."""
    key = number_key(number)
    if not opted_out:
        with session_scope(url) as session:
            session.execute(delete(SmsOptOut).where(SmsOptOut.number_key == key))
        return
    try:
        with session_scope(url) as session:
            if session.get(SmsOptOut, key) is None:
                session.add(SmsOptOut(number_key=key, opted_out_at=_now()))
    except IntegrityError:
        pass  # the same number opted out at the same moment elsewhere: done either way
