"""Plumbing shared by the SQL records implementation: transactions, time, audit rows, patient locks.

Every SQL mixin of :class:`bot.records.sql.SqlRecordsService` derives from
:class:`SqlBase`. A write for a patient first locks the patient's row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already serializes writers), so per-patient counters such as intake and
coverage versions are assigned one writer at a time. The audit row of an
operation is added in the operation's own transaction: both commit or
neither does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.records.errors import BackendUnavailable, RecordsError, UnknownPatient, WriteConflict
from bot.records.models import AuditEvent, Patient
from bot.settings import get_settings

logger = logging.getLogger("bot.records.sql")

ACTOR_MAX = 80
CHANNEL_MAX = 40
OPERATION_MAX = 60
_PATIENT_ID = re.compile(r"^P-\d{1,12}$")

OUTCOME_OK = "ok"
OUTCOME_NOT_FOUND = "not_found"
OUTCOME_NO_MATCH = "no_match"
OUTCOME_INVALID_ID = "invalid_id"


def patient_key(patient_id: object) -> str | None:
    """A record id as stored (``P-1001``), or None when the value is not shaped like one.

    Only id-shaped values ever reach the audit log, so a name typed where an
    id belongs is never written down.
    """
    if not isinstance(patient_id, str):
        return None
    key = patient_id.strip().upper()
    return key if _PATIENT_ID.match(key) else None


def clip(value: str | None, limit: int, default: str) -> str:
    """A short label (actor, channel) trimmed to its column; blank becomes ``default``."""
    text = " ".join((value or "").split())
    return text[:limit] or default


def dumps(value: Any) -> str:
    """JSON text for a column (stable key order, non-ASCII kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | None, default: Any) -> Any:
    """A JSON column's value; ``default`` for an empty column."""
    return json.loads(text) if text else default


class SqlBase:
    """A records backend on the clinic database at ``url`` (default: ``CLINIC_DATABASE_URL`` at call time)."""

    def __init__(self, url: str | None = None) -> None:
        """Remember where the database is; the engine is created on first use."""
        self._url_override = url

    @property
    def url(self) -> str:
        """The database URL this service uses right now."""
        return self._url_override or get_settings().clinic_database_url

    @staticmethod
    def _now(now: dt.datetime | None = None) -> dt.datetime:
        """An aware clinic-local moment (default: the clinic's now); naive input is read as clinic time."""
        tz = get_settings().tz
        value = now if now is not None else get_settings().now()
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)

    @staticmethod
    def _local(moment: dt.datetime) -> dt.datetime:
        """A stored UTC moment in the clinic's zone, for the values handed out."""
        return moment.astimezone(get_settings().tz)

    @contextlib.contextmanager
    def _session(self, operation: str, conflict: Callable[[], RecordsError] | None = None) -> Iterator[Session]:
        """A transaction whose database failures surface as records errors."""
        try:
            with session_scope(self.url) as session:
                yield session
        except RecordsError:
            raise
        except IntegrityError as exc:
            logger.info("%s: refused by a uniqueness guard", operation)
            raise (conflict() if conflict else WriteConflict("a concurrent change won; try again")) from exc
        except (DBAPIError, PoolTimeoutError) as exc:
            reason = type(getattr(exc, "orig", None) or exc).__name__
            logger.error("%s: records database unavailable (%s)", operation, reason)
            raise BackendUnavailable("the records database is unavailable") from exc

    @staticmethod
    def _audit(
        session: Session,
        operation: str,
        patient_id: str | None,
        actor: str | None,
        channel: str | None,
        outcome: str = OUTCOME_OK,
    ) -> None:
        """Add the audit row of an access, in the caller's transaction."""
        session.add(
            AuditEvent(
                occurred_at=dt.datetime.now(dt.timezone.utc),
                actor=clip(actor, ACTOR_MAX, "system"),
                operation=operation[:OPERATION_MAX],
                patient_id=patient_key(patient_id),
                channel=clip(channel, CHANNEL_MAX, "unknown"),
                outcome=outcome,
            )
        )

    @staticmethod
    def _lock_patient(session: Session, patient_id: object) -> str:
        """Lock the patient's row until commit (serializes per-patient writes); raises UnknownPatient."""
        key = patient_key(patient_id)
        if key is not None:
            found = session.execute(select(Patient.id).where(Patient.id == key).with_for_update()).scalar_one_or_none()
            if found is not None:
                return key
        raise UnknownPatient(key or "(not a record id)")
