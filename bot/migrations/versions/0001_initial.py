"""Initial clinic schema: clinic facts, providers, visit types, schedules,
appointments, patients and the record id counter.

Moments are naive UTC ``DATETIME``/``TIMESTAMP`` columns (``bot.db.UtcDateTime``
in the models); schedule and opening times are clinic-local ``TIME`` values.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_BOOKING = sa.text("status = 'booked'")


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_clinic_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
    )
    op.create_table(
        "clinic_closures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_clinic_closures")),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_opening_hours_interval_order")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_opening_hours_weekday_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
        sa.UniqueConstraint("weekday", "opens_at", name="uq_opening_hours_weekday_opens_at"),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("short_name", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("specialty", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.create_table(
        "visit_types",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("self_pay_price_cents", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_visit_types_positive_duration")),
        sa.CheckConstraint(
            "self_pay_price_cents IS NULL OR self_pay_price_cents >= 0", name=op.f("ck_visit_types_price")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_visit_types")),
    )
    op.create_table(
        "provider_visit_types",
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("visit_type_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_visit_types_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_type_code"],
            ["visit_types.code"],
            name=op.f("fk_provider_visit_types_visit_type_code_visit_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "visit_type_code", name=op.f("pk_provider_visit_types")),
    )
    op.create_table(
        "provider_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_provider_schedules_interval_order")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_provider_schedules_weekday_range")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_schedules_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_schedules")),
        sa.UniqueConstraint("provider_id", "weekday", "starts_at", name="uq_provider_schedules_block"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("visit_type_code", sa.String(length=40), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="booked", nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=40), server_default="unknown", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("rescheduled_from_id", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'rescheduled', 'completed', 'no_show')",
            name=op.f("ck_appointments_status_values"),
        ),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_appointments_interval_order")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_appointments_provider_id_providers")),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["appointments.id"],
            name=op.f("fk_appointments_rescheduled_from_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_type_code"], ["visit_types.code"], name=op.f("fk_appointments_visit_type_code_visit_types")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index("ix_appointments_patient_start", "appointments", ["patient_id", "start_at"])
    op.create_index("ix_appointments_provider_start", "appointments", ["provider_id", "start_at"])
    op.create_index(
        "uq_appointments_provider_start_booked",
        "appointments",
        ["provider_id", "start_at"],
        unique=True,
        sqlite_where=ACTIVE_BOOKING,
        postgresql_where=ACTIVE_BOOKING,
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index("ix_patients_mobile", "patients", ["mobile"])
    op.create_index("uq_patients_identity", "patients", ["name_key", "date_of_birth"], unique=True)
    counters = op.create_table(
        "record_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_record_counters")),
    )
    # Patient record ids start at P-1001.
    op.bulk_insert(counters, [{"name": "patient", "last_value": 1000}])


def downgrade() -> None:
    """Drop every table of the first release."""
    op.drop_table("record_counters")
    op.drop_index("uq_patients_identity", table_name="patients")
    op.drop_index("ix_patients_mobile", table_name="patients")
    op.drop_table("patients")
    op.drop_index("uq_appointments_provider_start_booked", table_name="appointments")
    op.drop_index("ix_appointments_provider_start", table_name="appointments")
    op.drop_index("ix_appointments_patient_start", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("provider_schedules")
    op.drop_table("provider_visit_types")
    op.drop_table("visit_types")
    op.drop_table("providers")
    op.drop_table("opening_hours")
    op.drop_table("clinic_closures")
    op.drop_table("clinic")
