"""The outbox sender: takes due rows of ``outbox``, composes them and hands them to Twilio, exactly once.

Run by ``python -m bot worker`` (:mod:`bot.outreach.worker`); several workers
and several Rasa instances may share one clinic database (SQLite or PostgreSQL).

**The guarantee.** Each planned text is handed to Twilio once per part (a long
text is several SMS parts), even with several workers at once, a worker killed
at any point (``kill -9`` mid-send included) and restarts, provided Twilio's
message log answers for a text whose send was in doubt. How:

- A worker *claims* a row in one transaction: a conditional ``UPDATE`` from
  ``planned`` (and due: ``send_at`` <= the clinic clock) to ``sending`` with
  its name and a lease (:data:`LEASE`, real clock); only one worker's update
  matches (PostgreSQL also skips rows another worker has locked). A heartbeat
  renews the leases of rows in hand, so a slow Twilio call keeps its lease.
- In that transaction the row is composed from the current records
  (:func:`bot.outreach.content.compose`): a visit moved or cancelled, consent
  withdrawn or the quiet hours mean it is dropped, skipped or moved on, never
  sent. Otherwise the body and a keyed hash of the number are stored and the
  attempt's start is written before anything leaves.
- The text leaves through :func:`bot.sms_gateway.send_sms` after the commit;
  the result is written under the same lease.
- A row still ``sending`` when its lease ran out belongs to a worker that died
  (or lost its database) mid-send: it is *in doubt*. Before sending it again a
  worker reads Twilio's message log for that number since the attempt began
  (:func:`bot.sms_gateway.sent_parts_since`) and sends only the parts that are
  not there (at once, quiet hours or not: half a text is worse). When the log
  cannot be read nothing is sent: it waits and tries again (:data:`BACKOFF`),
  each try counted. A failed send whose outcome is unknown (a timeout, a part
  accepted before another was refused) is in doubt the same way.

**Not promised:** that Twilio delivers to the handset (its own retries and
carrier filtering are beyond this); exactly once when Twilio's log is wrong or
slower to show a message than :data:`LEASE` plus a worker's restart; exactly
once when a worker keeps sending while cut off from the database longer than
:data:`LEASE` (its heartbeat cannot renew, another worker takes the row over);
the exact minute a text goes out (a worker takes due rows each round, about a
second apart).

Failures: Twilio refusing or unreachable is retried with :data:`BACKOFF`; after
:data:`MAX_ATTEMPTS` tries the row is ``failed`` and a staff work item (kind
``outreach``) says which text, never the number or the words. Without Twilio
settings rows wait, unclaimed. Logs carry outbox ids and counts only.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.channel_identity import keyed_hash
from bot.db import session_scope
from bot.outreach.content import NotSendable, compose
from bot.outreach.models import (
    OUTBOX_FAILED,
    OUTBOX_PLANNED,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_SKIPPED,
    OutboxMessage,
)
from bot.outreach.policy import Policy, load_policy
from bot.records.models import Patient
from bot.settings import get_settings
from bot.sms_gateway import (
    SmsNotConfigured,
    SmsOptedOut,
    SmsSendFailed,
    message_parts,
    missing_settings,
    send_sms,
    sent_parts_since,
)

logger = logging.getLogger(__name__)

NUMBER_KEY_PURPOSE = "outreach-number"
"""The keyed-hash purpose of ``outbox.number_key``: the SMS side hashes a sender's number the same way."""
LEASE = dt.timedelta(seconds=15)
HEARTBEAT_SECONDS = 5.0
BACKOFF = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(minutes=30),
)
MAX_ATTEMPTS = 5
BATCH = 20
NOT_CONFIGURED_LOG_SECONDS = 60.0


def number_key(number: str) -> str:
    """The stored stand-in for the number a text went to (``outbox.number_key``)."""
    return keyed_hash(number.strip(), NUMBER_KEY_PURPOSE)


def real_now() -> dt.datetime:
    """The real clock (UTC): leases and retry waits expire even when the clinic clock is fixed."""
    return dt.datetime.now(dt.timezone.utc)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def worker_name() -> str:
    """This worker's name in ``lease_owner``: host, process and a random tail (a restarted pid is new)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Job:
    """A claimed row to send: ``in_doubt_since`` set when an earlier attempt may have sent parts of it."""

    outbox_id: int
    kind: str
    patient_id: str
    appointment_id: str | None
    number: str
    body: str
    attempts: int
    in_doubt_since: dt.datetime | None = None


class OutboxSender:
    """Claims due outbox rows under a lease and sends them; one per worker process."""

    def __init__(self, url: str | None = None, owner: str | None = None, batch: int = BATCH) -> None:
        """Work on the clinic database at ``url`` (default ``CLINIC_DATABASE_URL``)."""
        self._url = url
        self.owner = owner or worker_name()
        self.batch = batch
        self._held: set[int] = set()
        self._held_lock = threading.Lock()
        self._not_configured_logged = 0.0

    @property
    def url(self) -> str:
        """The clinic database this sender works on."""
        return self._url or get_settings().clinic_database_url

    # -- claiming

    def _candidates(self, session: Session, clinic_now: dt.datetime, now: dt.datetime) -> list[int]:
        """Ids of rows due (or in doubt with an expired lease), oldest first; PostgreSQL skips locked rows."""
        query = (
            select(OutboxMessage.id)
            .where(or_(_due(clinic_now, now), _in_doubt(now)))
            .order_by(OutboxMessage.send_at, OutboxMessage.id)
            .limit(self.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(session.execute(query).scalars())

    def claim(self, clinic_now: dt.datetime | None = None) -> tuple[list[Job], collections.Counter[str]]:
        """Take up to :attr:`batch` rows; rows not to be sent are settled here. Jobs and counts."""
        clinic_now = clinic_now or get_settings().now()
        counts: collections.Counter[str] = collections.Counter()
        jobs: list[Job] = []
        tz = get_settings().tz
        with session_scope(self.url) as session:
            now = real_now()
            policy = load_policy(session)
            for outbox_id in self._candidates(session, clinic_now, now):
                taken = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == outbox_id, _due(clinic_now, now))
                    .values(
                        status=OUTBOX_SENDING,
                        lease_owner=self.owner,
                        lease_until=now + LEASE,
                        attempt_started_at=now,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:
                    job = self._compose(session, outbox_id, clinic_now, now, counts, policy, tz)
                else:
                    job = self._take_in_doubt(session, outbox_id, now, counts)
                if job is not None:
                    jobs.append(job)
        with self._held_lock:
            self._held.update(job.outbox_id for job in jobs)
        return jobs, counts

    def _compose(
        self,
        session: Session,
        outbox_id: int,
        clinic_now: dt.datetime,
        now: dt.datetime,
        counts: collections.Counter[str],
        policy: Policy | None,
        tz: ZoneInfo,
    ) -> Job | None:
        """The claimed row's text, or the row settled (dropped, skipped, moved out of quiet hours)."""
        row = session.get(OutboxMessage, outbox_id, populate_existing=True)
        assert row is not None  # just updated in this transaction
        outcome = compose(session, row, clinic_now.astimezone(dt.timezone.utc))
        if isinstance(outcome, NotSendable):
            _settle(row, outcome.status, outcome.reason, now)
            counts[outcome.status] += 1
            logger.info("outbox %d %s (%s)", row.id, outcome.status, outcome.reason)
            return None
        if policy is not None and policy.is_quiet(clinic_now, tz):
            _settle(row, OUTBOX_PLANNED, "quiet_hours", now)
            row.send_at = policy.next_allowed(clinic_now, tz)
            counts["quiet_hours"] += 1
            logger.info("outbox %d waits for the end of the quiet hours", row.id)
            return None
        row.body = outcome.body
        row.number_key = number_key(outcome.number)
        row.status_reason = None
        return Job(row.id, row.kind, row.patient_id, row.appointment_id, outcome.number, outcome.body, row.attempts)

    def _take_in_doubt(
        self, session: Session, outbox_id: int, now: dt.datetime, counts: collections.Counter[str]
    ) -> Job | None:
        """Take over a row whose worker died mid-send (or lost the database); None when not ours."""
        taken = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, _in_doubt(now))
            .values(lease_owner=self.owner, lease_until=now + LEASE, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            return None
        row = session.get(OutboxMessage, outbox_id, populate_existing=True)
        assert row is not None
        patient = session.get(Patient, row.patient_id)
        number = patient.mobile if patient is not None and patient.mobile else None
        if row.body is None or row.attempt_started_at is None or row.number_key is None:
            _settle(row, OUTBOX_PLANNED, None, now)  # taken but never composed: nothing can have left
            return None
        if number is None or number_key(number) != row.number_key:
            # The number on record changed since: the old one cannot be checked in the log.
            _settle(row, OUTBOX_SKIPPED, "in_doubt_number_changed", now)
            counts[OUTBOX_SKIPPED] += 1
            return None
        counts["in_doubt"] += 1
        logger.info("outbox %d was in doubt (its worker stopped mid-send); checking Twilio's log", row.id)
        return Job(
            row.id,
            row.kind,
            row.patient_id,
            row.appointment_id,
            number,
            row.body,
            row.attempts,
            in_doubt_since=row.attempt_started_at,
        )

    # -- sending

    def deliver(self, job: Job, counts: collections.Counter[str]) -> None:
        """Send a claimed row (only its missing parts when in doubt) and write what happened."""
        known: dict[int, str] = {}
        parts: list[int] | None = None
        if job.in_doubt_since is not None:
            try:
                known = sent_parts_since(job.number, job.body, job.in_doubt_since)
            except SmsNotConfigured:
                self._release(job, counts, "not_configured")
                return
            except SmsSendFailed as exc:
                self._failed_try(job, counts, str(exc), in_doubt=True)
                return
            pieces = message_parts(job.body)
            if len(known) >= len(pieces):
                counts["reconciled"] += 1
                self._finish(job, counts, OUTBOX_SENT, None, [known[i] for i in sorted(known)])
                return
            if not known:
                self._release(job, counts, "not_sent_before")  # composed again next round: the records may have moved
                return
            parts = [i for i in range(len(pieces)) if i not in known]
        try:
            sent = send_sms(job.number, job.body, parts=parts)
        except SmsOptedOut:
            self._finish(job, counts, OUTBOX_SKIPPED, "opted_out")
        except SmsNotConfigured:
            self._release(job, counts, "not_configured")
        except SmsSendFailed as exc:
            self._failed_try(job, counts, str(exc), in_doubt=bool(known) or exc.sent_sids != () or exc.unknown)
        else:
            sids = dict(known)
            indexes = parts if parts is not None else range(len(sent.message_sids))
            sids.update(zip(indexes, sent.message_sids, strict=True))
            self._finish(job, counts, OUTBOX_SENT, None, [sids[i] for i in sorted(sids)])

    def _owned(self, session: Session, job: Job) -> OutboxMessage | None:
        """The row of ``job`` if this worker still holds its lease."""
        row = session.get(OutboxMessage, job.outbox_id, populate_existing=True, with_for_update=True)
        if row is None or row.status != OUTBOX_SENDING or row.lease_owner != self.owner:
            logger.warning("outbox %d: lease lost before the result was written", job.outbox_id)
            return None
        return row

    def _forget(self, job: Job) -> None:
        with self._held_lock:
            self._held.discard(job.outbox_id)

    def _finish(
        self,
        job: Job,
        counts: collections.Counter[str],
        status: str,
        reason: str | None,
        sids: list[str] | None = None,
    ) -> None:
        """Write a final status under our lease."""
        self._forget(job)
        now = real_now()
        with session_scope(self.url) as session:
            row = self._owned(session, job)
            if row is None:
                counts["lease_lost"] += 1
                return
            _settle(row, status, reason, now)
            if status == OUTBOX_SENT:
                row.sent_at = get_settings().now()
                row.provider_sids = " ".join(sids or ())
        counts[status] += 1
        logger.info("outbox %d %s%s", job.outbox_id, status, f" ({reason})" if reason else "")

    def _release(self, job: Job, counts: collections.Counter[str], why: str) -> None:
        """Give a row back (no try counted): planned again, or still in doubt when parts may have left."""
        self._forget(job)
        now = real_now()
        with session_scope(self.url) as session:
            row = self._owned(session, job)
            if row is None:
                return
            if job.in_doubt_since is not None and why != "not_sent_before":
                row.lease_owner, row.lease_until = None, now  # still in doubt: the next taker reads the log first
            else:
                _settle(row, OUTBOX_PLANNED, None, now)
        counts[why] += 1
        if why == "not_configured":
            self._log_not_configured()

    def _failed_try(self, job: Job, counts: collections.Counter[str], why: str, in_doubt: bool) -> None:
        """A try that failed: wait (:data:`BACKOFF`) and try again, or give up after :data:`MAX_ATTEMPTS`."""
        self._forget(job)
        attempts = job.attempts + 1
        work_item_id = None
        if attempts >= MAX_ATTEMPTS:
            work_item_id = self._tell_staff(job, attempts, why)
        now = real_now()
        with session_scope(self.url) as session:
            row = self._owned(session, job)
            if row is None:
                counts["lease_lost"] += 1
                return
            row.attempts = attempts
            if work_item_id is not None:
                _settle(row, OUTBOX_FAILED, "send_failed", now)
                row.work_item_id = work_item_id
            elif in_doubt:
                # Parts may have left: stay "sending" with no owner; the next try reads Twilio's log first.
                row.lease_owner, row.lease_until, row.status_reason = None, now + backoff(attempts), "retry_in_doubt"
                row.updated_at = now
            else:
                _settle(row, OUTBOX_PLANNED, "retry", now)
                row.lease_until = now + backoff(attempts)  # "not before" for a planned row
        if work_item_id is not None:
            counts[OUTBOX_FAILED] += 1
            logger.error("outbox %d failed after %d tries; staff work item %s", job.outbox_id, attempts, work_item_id)
        else:
            counts["retry"] += 1
            logger.warning(
                "outbox %d not sent (try %d of %d); trying again later", job.outbox_id, attempts, MAX_ATTEMPTS
            )

    def _tell_staff(self, job: Job, attempts: int, why: str) -> str | None:
        """A staff work item for a text that could not be sent; None when the records cannot be written now."""
        from bot.records import get_records_service

        what = {"reminder": "Reminder", "waitlist_offer": "Waitlist offer", "follow_up": "Follow-up offer"}.get(
            job.kind, "Text"
        )
        visit = f" for visit {job.appointment_id}" if job.appointment_id else ""
        note = f"{what} (outbox {job.outbox_id}){visit} not sent after {attempts} tries: {why}"
        try:
            item = get_records_service().flag_outreach_failure(job.patient_id, note[:500])
        except Exception as exc:  # noqa: BLE001 - any failure: the row stays and the next try tells staff
            logger.error("outbox %d: staff work item not written (%s)", job.outbox_id, type(exc).__name__)
            return None
        return item.work_item_id

    def _log_not_configured(self) -> None:
        if time.monotonic() - self._not_configured_logged >= NOT_CONFIGURED_LOG_SECONDS:
            self._not_configured_logged = time.monotonic()
            missing = ", ".join(missing_settings(get_settings()))
            logger.warning("SMS sending is off: %s not set; texts wait in the outbox", missing)

    # -- rounds and leases

    def sending_configured(self) -> bool:
        """Whether Twilio settings are there; without them rows are not even claimed."""
        if missing_settings(get_settings()):
            self._log_not_configured()
            return False
        return True

    def run_once(
        self, clinic_now: dt.datetime | None = None, stop: Callable[[], bool] | None = None
    ) -> collections.Counter[str]:
        """One round: claim a batch and send it; ``stop()`` true hands the rest back. Counts by outcome."""
        if not self.sending_configured():
            return collections.Counter()
        jobs, counts = self.claim(clinic_now)
        counts["claimed"] = len(jobs)
        for index, job in enumerate(jobs):
            if stop is not None and stop():
                for rest in jobs[index:]:
                    self._release(rest, counts, "stopping")
                break
            self.deliver(job, counts)
        return counts

    def renew_leases(self) -> int:
        """Extend the leases of the rows this worker holds (the heartbeat); how many."""
        with self._held_lock:
            held = list(self._held)
        if not held:
            return 0
        now = real_now()
        with session_scope(self.url) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(held),
                    OutboxMessage.status == OUTBOX_SENDING,
                    OutboxMessage.lease_owner == self.owner,
                )
                .values(lease_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)


def _due(clinic_now: dt.datetime, now: dt.datetime) -> ColumnElement[bool]:
    """Planned, due by the clinic clock, and not waiting for a retry (real clock)."""
    return and_(
        OutboxMessage.status == OUTBOX_PLANNED,
        OutboxMessage.send_at <= clinic_now.astimezone(dt.timezone.utc),
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def _in_doubt(now: dt.datetime) -> ColumnElement[bool]:
    """Sending, but its lease ran out: the worker died, lost the database, or waits to retry."""
    return and_(OutboxMessage.status == OUTBOX_SENDING, OutboxMessage.lease_until < now)


def _settle(row: OutboxMessage, status: str, reason: str | None, now: dt.datetime) -> None:
    """Set a row's status and let go of it (no owner, no lease, no attempt running)."""
    row.status = status
    row.status_reason = reason
    row.lease_owner = None
    row.lease_until = None
    row.attempt_started_at = None if status == OUTBOX_PLANNED else row.attempt_started_at
    row.updated_at = now
