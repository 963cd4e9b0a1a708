"""SQL part of the records service for insurance: the clinic's carrier list and patients' coverage.

Carriers and the words patients use for them come from the clinic data file
(``bot/seed_data/demo_clinic.yml``, loaded by ``bot.seed``); self-pay prices
are the visit types' prices, kept once with the visit types. Coverage is
versioned: a change adds a version and deactivates the previous one, and a
partial unique index allows one active version per patient.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.log_privacy import patient_ref
from bot.records.intake import InsuranceAnswer
from bot.records.models import Coverage, InsuranceCarrier, InsuranceCarrierAlias
from bot.records.normalize import fold
from bot.records.sqlbase import OUTCOME_INVALID_ID, OUTCOME_NOT_FOUND, OUTCOME_OK, SqlBase, patient_key
from bot.records.values import CarrierInfo, CoverageInfo, SelfPayPrice
from bot.scheduling.models import VisitType

logger = logging.getLogger("bot.records.sql")


def best_alias_match(text: str, aliases: dict[str, str]) -> str | None:
    """The carrier code whose longest alias appears as whole words in ``text``; None if none or a tie."""
    words = fold(text or "").split()
    if not words:
        return None
    padded = f" {' '.join(words)} "
    best_length = 0
    best: set[str] = set()
    for alias, code in aliases.items():
        if alias and f" {alias} " in padded:
            length = len(alias)
            if length > best_length:
                best_length, best = length, {code}
            elif length == best_length:
                best.add(code)
    return next(iter(best)) if len(best) == 1 else None


class SqlInsurance(SqlBase):
    """Carriers, self-pay prices and coverage on the clinic database."""

    @staticmethod
    def _carriers(session: Session, code: str | None = None) -> list[CarrierInfo]:
        """Active carriers (or the one with ``code``), accepted first, in the file's order."""
        query = select(InsuranceCarrier).where(InsuranceCarrier.active.is_(True))
        alias_query = select(InsuranceCarrierAlias.carrier_code, InsuranceCarrierAlias.alias)
        if code is not None:
            query = query.where(InsuranceCarrier.code == code)
            alias_query = alias_query.where(InsuranceCarrierAlias.carrier_code == code)
        aliases: dict[str, list[str]] = defaultdict(list)
        for carrier_code, alias in session.execute(alias_query):
            aliases[carrier_code].append(alias)
        rows = session.execute(
            query.order_by(InsuranceCarrier.accepted.desc(), InsuranceCarrier.sort_order, InsuranceCarrier.code)
        ).scalars()
        return [
            CarrierInfo(
                code=row.code,
                display_name=row.display_name,
                accepted=bool(row.accepted),
                note=row.note,
                aliases=tuple(sorted(aliases.get(row.code, []))),
            )
            for row in rows
        ]

    @staticmethod
    def _alias_map(session: Session) -> dict[str, str]:
        """Folded alias -> code, for active carriers."""
        return dict(
            session.execute(
                select(InsuranceCarrierAlias.alias, InsuranceCarrierAlias.carrier_code)
                .join(InsuranceCarrier, InsuranceCarrier.code == InsuranceCarrierAlias.carrier_code)
                .where(InsuranceCarrier.active.is_(True))
            ).all()
        )

    def _resolve_carrier(self, session: Session, text: str) -> InsuranceCarrier | None:
        """The active carrier meant by a code or by what a patient wrote, or None."""
        key = (text or "").strip().lower()
        row = session.get(InsuranceCarrier, key) if key else None
        if row is None or not row.active:
            code = best_alias_match(text, self._alias_map(session))
            row = session.get(InsuranceCarrier, code) if code else None
        return row if row is not None and row.active else None

    def list_carriers(self) -> list[CarrierInfo]:
        """Every active carrier, accepted ones first."""
        with self._session("list_carriers") as session:
            return self._carriers(session)

    def carrier(self, code: str) -> CarrierInfo | None:
        """One active carrier by its code (case-insensitive), or None."""
        key = (code or "").strip().lower()
        if not key:
            return None
        with self._session("carrier") as session:
            found = self._carriers(session, key)
        return found[0] if found else None

    def match_carrier(self, text: str) -> CarrierInfo | None:
        """The carrier whose longest alias appears in ``text`` as whole words; None if none or ambiguous."""
        with self._session("match_carrier") as session:
            row = self._resolve_carrier(session, text)
            found = self._carriers(session, row.code) if row is not None else []
        return found[0] if found else None

    def self_pay_prices(self) -> list[SelfPayPrice]:
        """Active visit types that have a self-pay price, in the clinic's order."""
        with self._session("self_pay_prices") as session:
            rows = session.execute(
                select(VisitType)
                .where(VisitType.active.is_(True), VisitType.self_pay_price_cents.is_not(None))
                .order_by(VisitType.sort_order, VisitType.code)
            ).scalars()
            return [
                SelfPayPrice(visit_type=row.code, display_name=row.display_name, price_cents=row.self_pay_price_cents)
                for row in rows
            ]

    def _coverage_info(self, session: Session, row: Coverage) -> CoverageInfo:
        carrier = session.get(InsuranceCarrier, row.carrier_code) if row.carrier_code else None
        return CoverageInfo(
            patient_id=row.patient_id,
            version=row.version,
            carrier_code=row.carrier_code,
            carrier_name=carrier.display_name if carrier is not None else row.carrier_name,
            accepted=bool(carrier.accepted) if carrier is not None and carrier.active else None,
            plan_name=row.plan_name,
            member_id=row.member_id,
            subscriber_name=row.subscriber_name,
            relationship=row.relationship,
            primary_care_copay_cents=row.primary_care_copay_cents,
            specialist_copay_cents=row.specialist_copay_cents,
            active=bool(row.active),
            source=row.source,
            created_at=self._local(row.created_at),
        )

    @staticmethod
    def _active_coverage(session: Session, patient_id: str) -> Coverage | None:
        return session.execute(
            select(Coverage).where(Coverage.patient_id == patient_id, Coverage.active.is_(True))
        ).scalar_one_or_none()

    def coverage_for(self, patient_id: str, *, actor: str = "system", channel: str = "unknown") -> CoverageInfo | None:
        """The patient's active coverage version, or None."""
        key = patient_key(patient_id)
        with self._session("coverage_for") as session:
            row = self._active_coverage(session, key) if key else None
            outcome = OUTCOME_OK if row is not None else (OUTCOME_NOT_FOUND if key else OUTCOME_INVALID_ID)
            self._audit(session, "read:coverage_for", key, actor, channel, outcome)
            info = self._coverage_info(session, row) if row is not None else None
        logger.info("coverage read for %s: %s", patient_ref(key) if key else "(invalid id)", outcome)
        return info

    def _record_intake_coverage(
        self,
        session: Session,
        patient_id: str,
        insurance: InsuranceAnswer | None,
        submission_id: int,
        now: dt.datetime,
    ) -> str:
        """Bring the coverage in line with an intake (patient row already locked); what changed."""
        current = self._active_coverage(session, patient_id)
        if insurance is None:
            if current is None:
                return "none"
            current.active = False
            return "ended"
        carrier = self._resolve_carrier(session, insurance.carrier)
        carrier_code = carrier.code if carrier is not None else None
        carrier_name = carrier.display_name if carrier is not None else insurance.carrier
        if current is not None and (
            current.carrier_code == carrier_code
            and (carrier_code is not None or fold(current.carrier_name) == fold(carrier_name))
            and current.member_id == insurance.member_id
            and current.subscriber_name == insurance.subscriber_name
            and current.relationship == insurance.relationship
            and insurance.plan_name in (None, current.plan_name)
        ):
            return "unchanged"
        if current is not None:
            # Deactivate first: the partial unique index allows one active version.
            session.execute(
                update(Coverage)
                .where(Coverage.id == current.id)
                .values(active=False)
                .execution_options(synchronize_session="fetch")
            )
        version = (
            session.execute(select(func.max(Coverage.version)).where(Coverage.patient_id == patient_id)).scalar() or 0
        ) + 1
        session.add(
            Coverage(
                patient_id=patient_id,
                version=version,
                carrier_code=carrier_code,
                carrier_name=carrier_name,
                plan_name=insurance.plan_name,
                member_id=insurance.member_id,
                subscriber_name=insurance.subscriber_name,
                relationship=insurance.relationship,
                primary_care_copay_cents=None,
                specialist_copay_cents=None,
                active=True,
                source="intake",
                intake_submission_id=submission_id,
                created_at=now,
            )
        )
        session.flush()
        return f"version {version}" + ("" if carrier_code else " (carrier not on the clinic's list)")
