"""SQL part of the records service for staff work items: refill, callback and handoff requests.

All kinds share one table and one id space (``R-7K3Q9`` refills,
``C-4MX2P`` callbacks, ``H-8PQ3D`` chats handed to the front desk: short,
unguessable, easy to read aloud). Staff close
an item with :meth:`SqlWorkItems.mark_work_item_done`; closing twice is
harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.log_privacy import patient_ref
from bot.records.errors import InvalidPatientData, WorkItemNotFound
from bot.records.intake import clean_text
from bot.records.models import CALLBACK_REASONS, EMERGENCY_CATEGORIES, WORK_ITEM_KINDS
from bot.records.models import WorkItem as WorkItemRow
from bot.records.normalize import normalize_us_mobile
from bot.records.sqlbase import CHANNEL_MAX, SqlBase, clip
from bot.records.values import (
    CallbackRequest,
    EmergencyFlag,
    HandoffRequest,
    OutreachFailure,
    RefillRequest,
    WorkItem,
)

logger = logging.getLogger("bot.records.sql")

# No 0/O, 1/I/L: ids are read aloud and typed from SMS.
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ID_LENGTH = 5
NOTE_MAX = 500
CONVERSATION_MAX = 128
STATUS_OPEN = "open"
STATUS_DONE = "done"


def new_work_item_id(kind: str) -> str:
    """A fresh id such as ``R-7K3Q9`` (refill) or ``C-4MX2P`` (callback)."""
    return kind[0].upper() + "-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def _field(value: object, field: str, limit: int, required: bool = True) -> str | None:
    """Free text from a request, as a patient-data error naming ``field``."""
    try:
        return clean_text(value, field, limit, required)
    except InvalidPatientData as exc:
        raise InvalidPatientData(field, exc.reason) from exc


def _conversation(value: object, required: bool) -> str | None:
    """A conversation id as the tracker store keeps it (printable, no spaces), or None when absent."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise InvalidPatientData("conversation_id", "required")
        return None
    if len(text) > CONVERSATION_MAX or not text.isprintable() or any(c.isspace() for c in text):
        raise InvalidPatientData("conversation_id", f"at most {CONVERSATION_MAX} printable characters, no spaces")
    return text


def _required_conversation(value: object) -> str:
    """A conversation id that must be given (handoffs and emergencies belong to a conversation)."""
    text = _conversation(value, required=True)
    assert text is not None  # required=True raises instead of returning None
    return text


def _phone(value: object) -> str:
    """A callback number in E.164, as a patient-data error about ``phone``."""
    try:
        return normalize_us_mobile(value if isinstance(value, str) else "")
    except InvalidPatientData as exc:
        raise InvalidPatientData("phone", exc.reason) from exc


class SqlWorkItems(SqlBase):
    """Refill and callback requests on the clinic database."""

    def _item(self, row: WorkItemRow) -> WorkItem:
        done_at = self._local(row.done_at) if row.done_at is not None else None
        if row.kind == "refill":
            return RefillRequest(
                work_item_id=row.id,
                patient_id=row.patient_id,
                medication=row.medication,
                pharmacy=row.pharmacy,
                note=row.note,
                status=row.status,
                channel=row.channel,
                created_at=self._local(row.created_at),
                done_at=done_at,
            )
        if row.kind == "emergency":
            return EmergencyFlag(
                work_item_id=row.id,
                patient_id=row.patient_id,
                conversation_id=row.conversation_id,
                category=row.reason,
                flags=row.note or "",
                status=row.status,
                channel=row.channel,
                created_at=self._local(row.created_at),
                done_at=done_at,
            )
        if row.kind == "outreach":
            return OutreachFailure(
                work_item_id=row.id,
                patient_id=row.patient_id,
                note=row.note or "",
                status=row.status,
                channel=row.channel,
                created_at=self._local(row.created_at),
                done_at=done_at,
            )
        if row.kind == "handoff":
            return HandoffRequest(
                work_item_id=row.id,
                patient_id=row.patient_id,
                conversation_id=row.conversation_id,
                summary=row.note or "",
                status=row.status,
                channel=row.channel,
                created_at=self._local(row.created_at),
                done_at=done_at,
            )
        return CallbackRequest(
            work_item_id=row.id,
            patient_id=row.patient_id,
            name=row.caller_name,
            phone=row.phone,
            best_time=row.best_time,
            reason=row.reason,
            note=row.note,
            status=row.status,
            channel=row.channel,
            created_at=self._local(row.created_at),
            done_at=done_at,
            conversation_id=row.conversation_id,
        )

    @staticmethod
    def _open_item_of(session: Session, kind: str, conversation_id: str) -> WorkItemRow | None:
        """The open item of ``kind`` for a conversation (handoffs and emergencies keep one each)."""
        return (
            session.execute(
                select(WorkItemRow).where(
                    WorkItemRow.kind == kind,
                    WorkItemRow.status == STATUS_OPEN,
                    WorkItemRow.conversation_id == conversation_id,
                )
            )
            .scalars()
            .first()
        )

    @staticmethod
    def _unused_id(session: Session, kind: str) -> str:
        for _ in range(20):
            candidate = new_work_item_id(kind)
            if session.get(WorkItemRow, candidate) is None:
                return candidate
        raise RuntimeError("could not allocate a work item id")  # pragma: no cover

    def create_refill_request(
        self,
        patient_id: str,
        medication: str,
        pharmacy: str | None = None,
        note: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> RefillRequest:
        """Queue a refill request for a known patient."""
        values = dict(
            medication=_field(medication, "medication", 200),
            pharmacy=_field(pharmacy, "pharmacy", 200, required=False),
            note=_field(note, "note", NOTE_MAX, required=False),
        )
        current = self._now(now)
        with self._session("create_refill_request") as session:
            key = self._lock_patient(session, patient_id)
            row = WorkItemRow(
                id=self._unused_id(session, "refill"),
                kind="refill",
                patient_id=key,
                status=STATUS_OPEN,
                channel=clip(channel, CHANNEL_MAX, "unknown"),
                created_at=current,
                **values,
            )
            session.add(row)
            self._audit(session, "write:create_refill_request", key, actor, channel)
            session.flush()
            item = self._item(row)
        logger.info("refill request %s queued for %s via %s", item.work_item_id, patient_ref(key), item.channel)
        assert isinstance(item, RefillRequest)
        return item

    def create_callback_request(
        self,
        name: str,
        phone: str,
        reason: str,
        best_time: str | None = None,
        note: str | None = None,
        patient_id: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
        conversation_id: str | None = None,
    ) -> CallbackRequest:
        """Queue a call back for a patient or any caller (``patient_id`` only once verified)."""
        category = (reason or "").strip().lower()
        if category not in CALLBACK_REASONS:
            raise InvalidPatientData("reason", f"one of {', '.join(CALLBACK_REASONS)}")
        values = dict(
            caller_name=_field(name, "name", 200),
            phone=_phone(phone),
            best_time=_field(best_time, "best_time", 100, required=False),
            note=_field(note, "note", NOTE_MAX, required=False),
            reason=category,
            conversation_id=_conversation(conversation_id, required=False),
        )
        current = self._now(now)
        with self._session("create_callback_request") as session:
            key = self._lock_patient(session, patient_id) if patient_id else None
            row = WorkItemRow(
                id=self._unused_id(session, "callback"),
                kind="callback",
                patient_id=key,
                status=STATUS_OPEN,
                channel=clip(channel, CHANNEL_MAX, "unknown"),
                created_at=current,
                **values,
            )
            session.add(row)
            self._audit(session, "write:create_callback_request", key, actor, channel)
            session.flush()
            item = self._item(row)
        logger.info(
            "callback request %s (%s) queued for %s via %s",
            item.work_item_id,
            category,
            patient_ref(key) if key else "an unverified caller",
            item.channel,
        )
        assert isinstance(item, CallbackRequest)
        return item

    def create_handoff(
        self,
        conversation_id: str,
        summary: str,
        patient_id: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> HandoffRequest:
        """Queue a chat for the front desk; a chat already waiting keeps its one open item."""
        key_conversation = _required_conversation(conversation_id)
        text = _field(summary, "summary", NOTE_MAX)
        current = self._now(now)
        with self._session("create_handoff") as session:
            key = self._lock_patient(session, patient_id) if patient_id else None
            row = self._open_item_of(session, "handoff", key_conversation)
            if row is None:
                row = WorkItemRow(
                    id=self._unused_id(session, "handoff"),
                    kind="handoff",
                    patient_id=key,
                    status=STATUS_OPEN,
                    channel=clip(channel, CHANNEL_MAX, "unknown"),
                    created_at=current,
                    note=text,
                    reason="handoff",
                    conversation_id=key_conversation,
                )
                session.add(row)
            else:
                row.note = text
                row.patient_id = row.patient_id or key
            self._audit(session, "write:create_handoff", key, actor, channel)
            session.flush()
            item = self._item(row)
        logger.info(
            "handoff %s queued for %s via %s",
            item.work_item_id,
            patient_ref(key) if key else "an unverified caller",
            item.channel,
        )
        assert isinstance(item, HandoffRequest)
        return item

    def flag_emergency(
        self,
        conversation_id: str,
        category: str,
        flags: Sequence[str] = (),
        patient_id: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> EmergencyFlag:
        """Flag an answered emergency; a conversation keeps one open flag, and a crisis outranks medical."""
        key_conversation = _required_conversation(conversation_id)
        kind = (category or "").strip().lower()
        if kind not in EMERGENCY_CATEGORIES:
            raise InvalidPatientData("category", f"one of {', '.join(EMERGENCY_CATEGORIES)}")
        rule_ids = [str(f) for f in flags if isinstance(f, str) and f.replace("_", "").isalnum()]
        note = ", ".join(rule_ids) if rule_ids else "classifier"
        current = self._now(now)
        with self._session("flag_emergency") as session:
            key = self._lock_patient(session, patient_id) if patient_id else None
            row = self._open_item_of(session, "emergency", key_conversation)
            if row is None:
                row = WorkItemRow(
                    id=self._unused_id(session, "emergency"),
                    kind="emergency",
                    patient_id=key,
                    status=STATUS_OPEN,
                    channel=clip(channel, CHANNEL_MAX, "unknown"),
                    created_at=current,
                    reason=kind,
                    note=clip(note, NOTE_MAX, "classifier"),
                    conversation_id=key_conversation,
                )
                session.add(row)
            else:
                if kind == "crisis":
                    row.reason = "crisis"
                known = [f for f in (row.note or "").split(", ") if f and f != "classifier"]
                merged = list(dict.fromkeys(known + rule_ids)) or ["classifier"]
                row.note = clip(", ".join(merged), NOTE_MAX, "classifier")
                row.patient_id = row.patient_id or key
            self._audit(session, "write:flag_emergency", key, actor, channel)
            session.flush()
            item = self._item(row)
        assert isinstance(item, EmergencyFlag)
        logger.warning("emergency flag %s (%s) for staff via %s", item.work_item_id, item.category, item.channel)
        return item

    def flag_outreach_failure(
        self,
        patient_id: str,
        note: str,
        *,
        actor: str = "system",
        channel: str = "outreach",
        now: dt.datetime | None = None,
    ) -> OutreachFailure:
        """A staff item for a text that could not be sent; the caller's note holds no number and no words."""
        text = _field(note, "note", NOTE_MAX)
        current = self._now(now)
        with self._session("flag_outreach_failure") as session:
            key = self._lock_patient(session, patient_id)
            row = WorkItemRow(
                id=self._unused_id(session, "outreach"),
                kind="outreach",
                patient_id=key,
                status=STATUS_OPEN,
                channel=clip(channel, CHANNEL_MAX, "outreach"),
                created_at=current,
                note=text,
            )
            session.add(row)
            self._audit(session, "write:flag_outreach_failure", key, actor, channel)
            session.flush()
            item = self._item(row)
        assert isinstance(item, OutreachFailure)
        logger.warning("outreach work item %s for %s", item.work_item_id, patient_ref(key))
        return item

    def get_work_item(
        self,
        work_item_id: str,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> WorkItem:
        """One request by id, open or done; raises WorkItemNotFound."""
        key = (work_item_id or "").strip().upper()
        with self._session("get_work_item") as session:
            row = session.get(WorkItemRow, key) if key else None
            if row is None:
                raise WorkItemNotFound(key)
            self._audit(session, "read:get_work_item", row.patient_id, actor, channel)
            return self._item(row)

    def record_staff_access(
        self,
        operation: str,
        patient_id: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> None:
        """Audit a staff read that is not a records read (a transcript view); no content is stored."""
        with self._session("record_staff_access") as session:
            self._audit(session, clip(operation, 60, "read:unknown"), patient_id, actor, channel)

    def open_work_items(
        self,
        kind: str | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> list[WorkItem]:
        """Open requests, oldest first; one audit row per patient whose request is shown."""
        if kind is not None and kind not in WORK_ITEM_KINDS:
            raise ValueError(f"kind must be one of {', '.join(WORK_ITEM_KINDS)}")
        with self._session("open_work_items") as session:
            query = select(WorkItemRow).where(WorkItemRow.status == STATUS_OPEN)
            if kind is not None:
                query = query.where(WorkItemRow.kind == kind)
            rows = list(session.execute(query.order_by(WorkItemRow.created_at, WorkItemRow.id)).scalars())
            for patient in dict.fromkeys(row.patient_id for row in rows):
                self._audit(session, "read:open_work_items", patient, actor, channel)
            return [self._item(row) for row in rows]

    def mark_work_item_done(
        self,
        work_item_id: str,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> WorkItem:
        """Close a request; an already closed one is returned unchanged."""
        key = (work_item_id or "").strip().upper()
        current = self._now(now)
        with self._session("mark_work_item_done") as session:
            row = (
                session.execute(select(WorkItemRow).where(WorkItemRow.id == key).with_for_update()).scalar_one_or_none()
                if key
                else None
            )
            if row is None:
                raise WorkItemNotFound(key)
            changed = row.status != STATUS_DONE
            if changed:
                row.status = STATUS_DONE
                row.done_at = current
            self._audit(session, "write:mark_work_item_done", row.patient_id, actor, channel)
            session.flush()
            item = self._item(row)
        logger.info("work item %s %s", key, "done" if changed else "was already done")
        return item
