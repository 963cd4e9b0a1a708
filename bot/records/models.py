"""Tables of the records backend: patients and the counter behind their record ids.

Later record kinds (coverage, visits, after-visit summaries) belong here as
new tables keyed by ``patients.id``.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, String

from bot.db import Base, UtcDateTime

PATIENT_COUNTER = "patient"
FIRST_PATIENT_NUMBER = 1001


class Patient(Base):
    """A patient's identity: record id (``P-1001``), name, date of birth, mobile (E.164)."""

    __tablename__ = "patients"
    __table_args__ = (
        # One record per person: same first and last name (folded) and date of birth.
        Index("uq_patients_identity", "name_key", "date_of_birth", unique=True),
        Index("ix_patients_mobile", "mobile"),
    )

    id = Column(String(16), primary_key=True)
    full_name = Column(String(200), nullable=False)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    # "first last", case-, accent- and punctuation-folded: what identity checks compare.
    name_key = Column(String(200), nullable=False)
    date_of_birth = Column(Date, nullable=False)
    mobile = Column(String(20), nullable=True)
    created_at = Column(UtcDateTime, nullable=False)


class RecordCounter(Base):
    """The last number handed out for a kind of record id; its row lock serializes new ids."""

    __tablename__ = "record_counters"

    name = Column(String(40), primary_key=True)
    last_value = Column(Integer, nullable=False)
