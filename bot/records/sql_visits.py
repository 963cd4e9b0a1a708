"""SQL part of the records service for visits and their after-visit summaries.

Lists (instructions, medications, pending results) are stored as JSON text.
A pending result is stored either with ``expected_business_days`` (a number
or ``[fewest, most]``) or with a fixed ``expected_by_date``; the dates a
patient is told are computed from the visit date when read, counting Monday
to Friday as working days.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select

from bot.log_privacy import patient_ref
from bot.records.models import Visit
from bot.records.sqlbase import OUTCOME_INVALID_ID, OUTCOME_NOT_FOUND, OUTCOME_OK, SqlBase, loads, patient_key
from bot.records.values import FollowUp, PendingResult, VisitMedication, VisitSummary, add_business_days

logger = logging.getLogger("bot.records.sql")


def business_day_range(value: Any) -> tuple[int, int]:
    """``3`` -> (3, 3); ``[3, 5]`` -> (3, 5); anything else is a ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected_business_days must be a whole number or [fewest, most]")
    if isinstance(value, int):
        low = high = value
    elif (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        low, high = value
    else:
        raise ValueError("expected_business_days must be a whole number or [fewest, most]")
    if low < 0 or high < low:
        raise ValueError("expected_business_days must be 0 or more, fewest first")
    return int(low), int(high)


def pending_result(visit_id: str, visit_date: dt.date, item: dict[str, Any]) -> PendingResult:
    """A stored pending-result entry with its expected dates worked out from the visit date."""
    if item.get("expected_by_date"):
        expected = dt.date.fromisoformat(str(item["expected_by_date"]))
        return PendingResult(
            visit_id=visit_id,
            visit_date=visit_date,
            test=str(item["test"]),
            expected_from=expected,
            expected_by=expected,
            business_days=None,
        )
    low, high = business_day_range(item.get("expected_business_days"))
    return PendingResult(
        visit_id=visit_id,
        visit_date=visit_date,
        test=str(item["test"]),
        expected_from=add_business_days(visit_date, low),
        expected_by=add_business_days(visit_date, high),
        business_days=(low, high),
    )


class SqlVisits(SqlBase):
    """Visits and after-visit summaries on the clinic database."""

    def _summary(self, row: Visit) -> VisitSummary:
        follow_up = None
        if row.follow_up_text:
            days = row.follow_up_due_in_days
            follow_up = FollowUp(
                text=row.follow_up_text,
                due_in_days=days,
                due_date=row.visit_date + dt.timedelta(days=days) if days is not None else None,
            )
        return VisitSummary(
            visit_id=row.id,
            patient_id=row.patient_id,
            appointment_id=row.appointment_id,
            provider_id=row.provider_id,
            provider_name=row.provider_name,
            visit_date=row.visit_date,
            diagnosis_plain=row.diagnosis_plain,
            instructions=tuple(str(text) for text in loads(row.instructions_json, [])),
            medications=tuple(
                VisitMedication(name=str(item["name"]), how_to_take=str(item["how_to_take"]))
                for item in loads(row.medications_json, [])
            ),
            follow_up=follow_up,
            pending_results=tuple(
                pending_result(row.id, row.visit_date, item) for item in loads(row.pending_results_json, [])
            ),
            created_at=self._local(row.created_at),
        )

    def latest_visit(self, patient_id: str, *, actor: str = "system", channel: str = "unknown") -> VisitSummary | None:
        """The patient's most recent visit (latest date, then latest recorded), or None."""
        key = patient_key(patient_id)
        with self._session("latest_visit") as session:
            row = (
                session.execute(
                    select(Visit)
                    .where(Visit.patient_id == key)
                    .order_by(Visit.visit_date.desc(), Visit.created_at.desc(), Visit.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if key
                else None
            )
            outcome = OUTCOME_OK if row is not None else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "read:latest_visit", key, actor, channel, outcome)
            summary = self._summary(row) if row is not None else None
        logger.info(
            "latest visit read for %s: %s",
            patient_ref(key) if key else "(invalid id)",
            summary.visit_id if summary else outcome,
        )
        return summary

    def pending_results(
        self, patient_id: str, *, actor: str = "system", channel: str = "unknown"
    ) -> list[PendingResult]:
        """Pending results across the patient's visits, soonest expected first."""
        key = patient_key(patient_id)
        with self._session("pending_results") as session:
            rows = list(session.execute(select(Visit).where(Visit.patient_id == key)).scalars()) if key else []
            results = [
                pending_result(row.id, row.visit_date, item)
                for row in rows
                for item in loads(row.pending_results_json, [])
            ]
            outcome = OUTCOME_OK if results else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "read:pending_results", key, actor, channel, outcome)
        results.sort(key=lambda r: (r.expected_by, r.expected_from, r.visit_id, r.test))
        logger.info("pending results read for %s: %d", patient_ref(key) if key else "(invalid id)", len(results))
        return results
