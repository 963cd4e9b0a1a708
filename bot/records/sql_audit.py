"""SQL part of the records service for reading the audit log."""

from __future__ import annotations

from sqlalchemy import select

from bot.records.models import AuditEvent
from bot.records.sqlbase import OUTCOME_INVALID_ID, OUTCOME_OK, SqlBase, patient_key
from bot.records.values import AuditEntry


class SqlAudit(SqlBase):
    """The audit trail of a patient's data on the clinic database."""

    def audit_trail(
        self,
        patient_id: str,
        *,
        actor: str = "system",
        channel: str = "unknown",
        limit: int = 500,
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries for the patient, oldest first; this read is logged after it."""
        key = patient_key(patient_id)
        with self._session("audit_trail") as session:
            rows = (
                list(
                    session.execute(
                        select(AuditEvent)
                        .where(AuditEvent.patient_id == key)
                        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
                        .limit(max(limit, 0))
                    ).scalars()
                )
                if key
                else []
            )
            entries = [
                AuditEntry(
                    occurred_at=self._local(row.occurred_at),
                    actor=row.actor,
                    operation=row.operation,
                    patient_id=row.patient_id,
                    channel=row.channel,
                    outcome=row.outcome,
                )
                for row in reversed(rows)
            ]
            self._audit(session, "read:audit_trail", key, actor, channel, OUTCOME_OK if key else OUTCOME_INVALID_ID)
        return entries
