"""The SQL (SQLite or PostgreSQL) implementation of :class:`RecordsService`.

Identity lives here; insurance, intake, visits, work items and the audit
trail come from the ``sql_*`` mixins, all on :class:`bot.records.sqlbase.SqlBase`.

New record ids come from a counter row that each registration updates first:
the update's row lock (PostgreSQL) or ``BEGIN IMMEDIATE`` (SQLite) makes
concurrent registrations take turns, so ids never collide and the duplicate
check that follows sees every committed patient. A unique index on the
folded name and date of birth is the second guard.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.log_privacy import patient_ref
from bot.records.errors import InvalidPatientData, PatientAlreadyExists
from bot.records.intake import MAX_AGE_YEARS, validate_date_of_birth
from bot.records.models import FIRST_PATIENT_NUMBER, PATIENT_COUNTER, Patient, RecordCounter
from bot.records.normalize import name_key, normalize_us_mobile, parse_name
from bot.records.service import PatientRef, RecordsService
from bot.records.sql_audit import SqlAudit
from bot.records.sql_intake import SqlIntake
from bot.records.sql_visits import SqlVisits
from bot.records.sql_work_items import SqlWorkItems
from bot.records.sqlbase import OUTCOME_NO_MATCH, OUTCOME_NOT_FOUND, OUTCOME_OK, patient_key
from bot.settings import get_settings

logger = logging.getLogger(__name__)

__all__ = ["MAX_AGE_YEARS", "SqlRecordsService", "allocate_counter_floor", "patient_number", "validate_date_of_birth"]


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _ref(patient: Patient) -> PatientRef:
    return PatientRef(patient_id=patient.id, full_name=patient.full_name, first_name=patient.first_name)


def patient_number(patient_id: str) -> int | None:
    """The number in a record id (``P-1001`` -> 1001), or None for other shapes."""
    prefix, _, digits = (patient_id or "").partition("-")
    return int(digits) if prefix == "P" and digits.isdigit() else None


def allocate_counter_floor(session: Session, minimum: int) -> None:
    """Make sure the patient counter is at least ``minimum`` (seeded ids stay unique)."""
    counter = session.get(RecordCounter, PATIENT_COUNTER)
    if counter is None:
        session.add(RecordCounter(name=PATIENT_COUNTER, last_value=minimum))
    elif counter.last_value < minimum:
        counter.last_value = minimum


class SqlRecordsService(SqlIntake, SqlVisits, SqlWorkItems, SqlAudit, RecordsService):
    """Patient records on the clinic database at ``url`` (default: ``CLINIC_DATABASE_URL`` at call time)."""

    def _unique(self, session: Session, *conditions: object) -> PatientRef | None:
        """The single patient matching ``conditions``; None for none or several (never guess)."""
        rows = session.execute(select(Patient).where(*conditions).limit(2)).scalars().all()
        return _ref(rows[0]) if len(rows) == 1 else None

    def verify_identity(
        self,
        full_name: str,
        date_of_birth: dt.date,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> PatientRef | None:
        """Match folded first and last name plus date of birth to exactly one patient."""
        key = name_key(full_name)
        dob = _as_date(date_of_birth)
        if key is None or dob is None:
            logger.info("identity check by name: not a usable name or date")
            return None
        with self._session("verify_identity") as session:
            ref = self._unique(session, Patient.name_key == key, Patient.date_of_birth == dob)
            self._audit(
                session,
                "read:verify_identity",
                ref.patient_id if ref else None,
                actor,
                channel,
                OUTCOME_OK if ref else OUTCOME_NO_MATCH,
            )
        logger.info("identity check by name: %s", patient_ref(ref.patient_id) if ref else "no match")
        return ref

    def verify_by_mobile_and_dob(
        self,
        mobile: str,
        date_of_birth: dt.date,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> PatientRef | None:
        """Match the E.164 mobile plus date of birth to exactly one patient."""
        dob = _as_date(date_of_birth)
        try:
            number = normalize_us_mobile(mobile)
        except InvalidPatientData:
            number = None
        if number is None or dob is None:
            logger.info("identity check by mobile: not a usable number or date")
            return None
        with self._session("verify_by_mobile_and_dob") as session:
            ref = self._unique(session, Patient.mobile == number, Patient.date_of_birth == dob)
            self._audit(
                session,
                "read:verify_by_mobile_and_dob",
                ref.patient_id if ref else None,
                actor,
                channel,
                OUTCOME_OK if ref else OUTCOME_NO_MATCH,
            )
        logger.info("identity check by mobile: %s", patient_ref(ref.patient_id) if ref else "no match")
        return ref

    def get_patient(self, patient_id: str, *, actor: str = "system", channel: str = "unknown") -> PatientRef | None:
        """The patient with this record id, or None."""
        key = (patient_id or "").strip().upper()
        if not key:
            return None
        with self._session("get_patient") as session:
            patient = session.get(Patient, key)
            self._audit(
                session,
                "read:get_patient",
                patient_key(key),
                actor,
                channel,
                OUTCOME_OK if patient is not None else OUTCOME_NOT_FOUND,
            )
            return _ref(patient) if patient is not None else None

    def _next_patient_number(self, session: Session) -> int:
        """Take the next record number; the counter update locks until commit."""
        bumped = session.execute(
            update(RecordCounter)
            .where(RecordCounter.name == PATIENT_COUNTER)
            .values(last_value=RecordCounter.last_value + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount == 0:
            # Only without the migration's counter row; rebuild it from the ids in use.
            highest = max(
                (patient_number(pid) or 0 for pid in session.execute(select(Patient.id)).scalars()),
                default=FIRST_PATIENT_NUMBER - 1,
            )
            allocate_counter_floor(session, max(highest, FIRST_PATIENT_NUMBER - 1) + 1)
            session.flush()
        counter = session.get(RecordCounter, PATIENT_COUNTER, populate_existing=True)
        assert counter is not None
        number = counter.last_value
        while session.get(Patient, f"P-{number}") is not None:
            number += 1
        if number != counter.last_value:
            counter.last_value = number
        return number

    def register_patient(
        self,
        full_name: str,
        date_of_birth: dt.date,
        mobile: str,
        today: dt.date | None = None,
        *,
        actor: str = "system",
        channel: str = "unknown",
    ) -> PatientRef:
        """Validate and store a new patient with the next ``P-`` record id."""
        name = parse_name(full_name)
        if not isinstance(date_of_birth, (dt.date, dt.datetime)):
            raise InvalidPatientData("date_of_birth", "a date is required")
        dob = validate_date_of_birth(date_of_birth, today or get_settings().today())
        number_e164 = normalize_us_mobile(mobile)
        now = get_settings().now()
        with self._session(
            "register_patient",
            conflict=lambda: PatientAlreadyExists("a patient with that name and date of birth exists"),
        ) as session:
            number = self._next_patient_number(session)
            duplicate = session.execute(
                select(func.count())
                .select_from(Patient)
                .where(Patient.name_key == name.key, Patient.date_of_birth == dob)
            ).scalar_one()
            if duplicate:
                logger.info("registration refused: identity already registered")
                raise PatientAlreadyExists("a patient with that name and date of birth exists")
            patient = Patient(
                id=f"P-{number}",
                full_name=name.full_name,
                first_name=name.first_name,
                last_name=name.last_name,
                name_key=name.key,
                date_of_birth=dob,
                mobile=number_e164,
                created_at=now,
            )
            session.add(patient)
            self._audit(session, "write:register_patient", patient.id, actor, channel)
            session.flush()
            ref = _ref(patient)
        logger.info("registered patient %s", patient_ref(ref.patient_id))
        return ref
