"""SQL part of the records service for intake forms: versioned submissions and resumable drafts.

A submission never overwrites: each one is stored as the patient's next
version, assigned under the patient's row lock (and guarded by a unique
``(patient_id, version)`` constraint). The same transaction deletes the
patient's draft, updates the coverage on record and writes the audit row, so
a failure leaves everything as it was. Drafts hold whatever the patient has
answered so far, one per patient, and expire after ``DRAFT_MAX_AGE``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from bot.log_privacy import patient_ref
from bot.records.errors import InvalidIntake
from bot.records.intake import IntakeAnswers
from bot.records.models import IntakeDraft as DraftRow
from bot.records.models import IntakeSubmission as SubmissionRow
from bot.records.sql_coverage import SqlInsurance
from bot.records.sqlbase import (
    CHANNEL_MAX,
    OUTCOME_INVALID_ID,
    OUTCOME_NOT_FOUND,
    OUTCOME_OK,
    clip,
    dumps,
    loads,
    patient_key,
)
from bot.records.values import IntakeDraft, IntakeSubmission

logger = logging.getLogger("bot.records.sql")

DRAFT_MAX_AGE = dt.timedelta(days=30)
DRAFT_MAX_BYTES = 32_000
STEP_MAX = 60
OUTCOME_EXPIRED = "expired"


def _json_default(value: object) -> str:
    """Dates and times in draft answers are kept as ISO strings."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def draft_json(answers: Mapping[str, Any]) -> str:
    """The draft's answers as JSON text; InvalidIntake if they are not plain data or too large."""
    if not isinstance(answers, Mapping) or not all(isinstance(key, str) for key in answers):
        raise InvalidIntake("answers", "a mapping with text keys is required")
    try:
        text = json.dumps(dict(answers), ensure_ascii=False, sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise InvalidIntake("answers", "only text, numbers, yes/no, dates, lists and mappings") from exc
    if len(text.encode("utf-8")) > DRAFT_MAX_BYTES:
        raise InvalidIntake("answers", "too large")
    return text


class SqlIntake(SqlInsurance):
    """Intake submissions and drafts on the clinic database."""

    def _submission(self, row: SubmissionRow) -> IntakeSubmission:
        return IntakeSubmission(
            submission_id=row.id,
            patient_id=row.patient_id,
            version=row.version,
            submitted_at=self._local(row.submitted_at),
            channel=row.channel,
            answers=IntakeAnswers.from_dict(loads(row.answers_json, {})),
        )

    def _draft(self, row: DraftRow) -> IntakeDraft:
        return IntakeDraft(
            patient_id=row.patient_id,
            answers=loads(row.answers_json, {}),
            current_step=row.current_step,
            channel=row.channel,
            created_at=self._local(row.created_at),
            updated_at=self._local(row.updated_at),
        )

    def submit_intake(
        self,
        patient_id: str,
        answers: IntakeAnswers,
        channel: str = "unknown",
        *,
        actor: str = "system",
        now: dt.datetime | None = None,
    ) -> IntakeSubmission:
        """Validate and store the intake as the next version; the draft goes and the coverage follows."""
        if not isinstance(answers, IntakeAnswers):
            raise InvalidIntake("answers", "complete IntakeAnswers are required")
        current = self._now(now)
        clean = answers.validated(current.date())
        payload = dumps(clean.to_dict())
        with self._session("submit_intake") as session:
            key = self._lock_patient(session, patient_id)
            version = (
                session.execute(select(func.max(SubmissionRow.version)).where(SubmissionRow.patient_id == key)).scalar()
                or 0
            ) + 1
            row = SubmissionRow(
                patient_id=key,
                version=version,
                submitted_at=current,
                channel=clip(channel, CHANNEL_MAX, "unknown"),
                answers_json=payload,
            )
            session.add(row)
            session.flush()
            draft = session.get(DraftRow, key)
            if draft is not None:
                session.delete(draft)
            coverage = self._record_intake_coverage(session, key, clean.insurance, row.id, current)
            self._audit(session, "write:submit_intake", key, actor, channel)
            session.flush()
            info = self._submission(row)
        logger.info(
            "intake version %d stored for %s via %s (draft %s, coverage %s)",
            info.version,
            patient_ref(key),
            info.channel,
            "cleared" if draft is not None else "none",
            coverage,
        )
        return info

    def latest_intake(
        self, patient_id: str, *, actor: str = "system", channel: str = "unknown"
    ) -> IntakeSubmission | None:
        """The patient's newest intake version, or None."""
        key = patient_key(patient_id)
        with self._session("latest_intake") as session:
            row = (
                session.execute(
                    select(SubmissionRow)
                    .where(SubmissionRow.patient_id == key)
                    .order_by(SubmissionRow.version.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if key
                else None
            )
            outcome = OUTCOME_OK if row is not None else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "read:latest_intake", key, actor, channel, outcome)
            return self._submission(row) if row is not None else None

    def intake_history(
        self, patient_id: str, *, actor: str = "system", channel: str = "unknown"
    ) -> list[IntakeSubmission]:
        """Every intake version of the patient, oldest first."""
        key = patient_key(patient_id)
        with self._session("intake_history") as session:
            rows = (
                list(
                    session.execute(
                        select(SubmissionRow).where(SubmissionRow.patient_id == key).order_by(SubmissionRow.version)
                    ).scalars()
                )
                if key
                else []
            )
            outcome = OUTCOME_OK if rows else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "read:intake_history", key, actor, channel, outcome)
            return [self._submission(row) for row in rows]

    def save_intake_draft(
        self,
        patient_id: str,
        answers: Mapping[str, Any],
        current_step: str,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> IntakeDraft:
        """Create or replace the patient's draft with the answers so far and the step to resume at."""
        payload = draft_json(answers)
        step = " ".join((current_step or "").split())
        if not step or len(step) > STEP_MAX:
            raise InvalidIntake("current_step", f"a step name of 1 to {STEP_MAX} characters is required")
        current = self._now(now)
        with self._session("save_intake_draft") as session:
            key = self._lock_patient(session, patient_id)
            row = session.get(DraftRow, key)
            if row is None:
                row = DraftRow(patient_id=key, created_at=current)
                session.add(row)
            row.answers_json = payload
            row.current_step = step
            row.channel = clip(channel, CHANNEL_MAX, "unknown")
            row.updated_at = current
            self._audit(session, "write:save_intake_draft", key, actor, channel)
            session.flush()
            info = self._draft(row)
        logger.info("intake draft saved for %s at step %s", patient_ref(key), step)
        return info

    def load_intake_draft(
        self,
        patient_id: str,
        *,
        actor: str = "system",
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> IntakeDraft | None:
        """The patient's draft; one older than DRAFT_MAX_AGE is deleted and not returned."""
        key = patient_key(patient_id)
        current = self._now(now)
        with self._session("load_intake_draft") as session:
            row = session.get(DraftRow, key) if key else None
            if row is None:
                self._audit(
                    session,
                    "read:load_intake_draft",
                    key,
                    actor,
                    channel,
                    OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID,
                )
                return None
            if row.updated_at < current - DRAFT_MAX_AGE:
                session.delete(row)
                self._audit(session, "read:load_intake_draft", key, actor, channel, OUTCOME_EXPIRED)
                logger.info("intake draft of %s expired and deleted", patient_ref(key))
                return None
            self._audit(session, "read:load_intake_draft", key, actor, channel)
            return self._draft(row)

    def discard_intake_draft(self, patient_id: str, *, actor: str = "system", channel: str = "unknown") -> bool:
        """Delete the patient's draft; whether there was one."""
        key = patient_key(patient_id)
        with self._session("discard_intake_draft") as session:
            row = session.get(DraftRow, key) if key else None
            if row is not None:
                session.delete(row)
            outcome = OUTCOME_OK if row is not None else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "write:discard_intake_draft", key, actor, channel, outcome)
        logger.info(
            "intake draft of %s: %s",
            patient_ref(key) if key else "(invalid id)",
            "discarded" if row is not None else "none to discard",
        )
        return row is not None
