"""Tables of the scheduling backend: the clinic, its providers, visit types,
opening hours, provider schedules and appointments.

Wall-clock times of schedules and opening hours are clinic-local ``TIME``
values (a 08:00 opening stays 08:00 across daylight-saving changes); moments
(appointment start and end, audit stamps) are naive UTC through
:class:`bot.db.UtcDateTime`.

``appointments.patient_id`` deliberately has no foreign key to ``patients``:
scheduling and records are separate services, and either may move to an EHR
on its own.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import relationship

from bot.db import Base, UtcDateTime

STATUS_BOOKED = "booked"
STATUS_CANCELLED = "cancelled"
STATUS_RESCHEDULED = "rescheduled"
STATUS_COMPLETED = "completed"
STATUS_NO_SHOW = "no_show"
APPOINTMENT_STATUSES = (
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_RESCHEDULED,
    STATUS_COMPLETED,
    STATUS_NO_SHOW,
)

# The one status that holds a provider's time; the partial unique index uses it.
ACTIVE_STATUS_SQL = "status = 'booked'"


class Clinic(Base):
    """The clinic's public facts (one row, id 1)."""

    __tablename__ = "clinic"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(200), nullable=False)
    address = Column(String(300), nullable=False)
    phone = Column(String(40), nullable=False)


class OpeningHours(Base):
    """One open interval of the clinic on a weekday (0 = Monday); no rows means closed."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        UniqueConstraint("weekday", "opens_at", name="uq_opening_hours_weekday_opens_at"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("closes_at > opens_at", name="interval_order"),
    )

    id = Column(Integer, primary_key=True)
    weekday = Column(SmallInteger, nullable=False)
    opens_at = Column(Time, nullable=False)
    closes_at = Column(Time, nullable=False)


class ClinicClosure(Base):
    """A date the whole clinic is closed (a holiday), whatever the weekly hours say."""

    __tablename__ = "clinic_closures"

    day = Column(Date, primary_key=True)
    reason = Column(String(200), nullable=True)


class Provider(Base):
    """A clinician patients can book; ``id`` is the stable slug actions use (``patel``)."""

    __tablename__ = "providers"

    id = Column(String(40), primary_key=True)
    display_name = Column(String(120), nullable=False)
    short_name = Column(String(80), nullable=False)
    title = Column(String(40), nullable=False)
    specialty = Column(String(80), nullable=False)
    active = Column(Boolean, nullable=False, default=True, server_default=true())
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")

    schedule_blocks = relationship(
        "ScheduleBlock", back_populates="provider", cascade="all, delete-orphan", lazy="selectin"
    )


class VisitType(Base):
    """A kind of visit with its length; ``code`` is the stable key actions use."""

    __tablename__ = "visit_types"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="positive_duration"),
        CheckConstraint("self_pay_price_cents IS NULL OR self_pay_price_cents >= 0", name="price"),
    )

    code = Column(String(40), primary_key=True)
    display_name = Column(String(80), nullable=False)
    duration_minutes = Column(Integer, nullable=False)
    self_pay_price_cents = Column(Integer, nullable=True)
    active = Column(Boolean, nullable=False, default=True, server_default=true())
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")


class ProviderVisitType(Base):
    """Which provider sees patients for which visit type."""

    __tablename__ = "provider_visit_types"

    provider_id = Column(String(40), ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True)
    visit_type_code = Column(String(40), ForeignKey("visit_types.code", ondelete="CASCADE"), primary_key=True)


class ScheduleBlock(Base):
    """One working interval of a provider on a weekday (two blocks around lunch, say)."""

    __tablename__ = "provider_schedules"
    __table_args__ = (
        UniqueConstraint("provider_id", "weekday", "starts_at", name="uq_provider_schedules_block"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("ends_at > starts_at", name="interval_order"),
    )

    id = Column(Integer, primary_key=True)
    provider_id = Column(String(40), ForeignKey("providers.id", ondelete="CASCADE"), nullable=False)
    weekday = Column(SmallInteger, nullable=False)
    starts_at = Column(Time, nullable=False)
    ends_at = Column(Time, nullable=False)

    provider = relationship("Provider", back_populates="schedule_blocks")


class Appointment(Base):
    """A patient's booked (or formerly booked) visit with a provider."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('booked', 'cancelled', 'rescheduled', 'completed', 'no_show')",
            name="status_values",
        ),
        CheckConstraint("end_at > start_at", name="interval_order"),
        Index("ix_appointments_provider_start", "provider_id", "start_at"),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        # Second guard behind the provider row lock: one active booking per
        # provider and start time, whatever code path writes the row.
        Index(
            "uq_appointments_provider_start_booked",
            "provider_id",
            "start_at",
            unique=True,
            sqlite_where=text(ACTIVE_STATUS_SQL),
            postgresql_where=text(ACTIVE_STATUS_SQL),
        ),
    )

    id = Column(String(16), primary_key=True)
    patient_id = Column(String(40), nullable=False)
    provider_id = Column(String(40), ForeignKey("providers.id"), nullable=False)
    visit_type_code = Column(String(40), ForeignKey("visit_types.code"), nullable=False)
    start_at = Column(UtcDateTime, nullable=False)
    end_at = Column(UtcDateTime, nullable=False)
    status = Column(String(20), nullable=False, default=STATUS_BOOKED, server_default=STATUS_BOOKED)
    reason = Column(String(500), nullable=True)
    channel = Column(String(40), nullable=False, default="unknown", server_default="unknown")
    created_at = Column(UtcDateTime, nullable=False)
    updated_at = Column(UtcDateTime, nullable=False)
    cancelled_at = Column(UtcDateTime, nullable=True)
    rescheduled_from_id = Column(String(16), ForeignKey("appointments.id"), nullable=True)

    provider = relationship("Provider", lazy="joined")
    visit_type = relationship("VisitType", lazy="joined")
