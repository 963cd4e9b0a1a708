"""Records: insurance carriers and their aliases, coverage (versioned), intake
submissions (versioned) and drafts, visits with after-visit summaries, staff
work items and the audit log.

Patient-owned tables reference ``patients.id`` with ``ON DELETE CASCADE``;
the audit log has no foreign key so it outlives what it describes. Lists and
answers are JSON in ``TEXT`` columns. Moments are naive UTC like 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_COVERAGE = sa.text("active")


def _patient_fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["patient_id"], ["patients.id"], name=op.f(f"fk_{table}_patient_id_patients"), ondelete=ondelete
    )


def upgrade() -> None:
    """Create the records tables."""
    op.create_table(
        "insurance_carriers",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_insurance_carriers")),
    )
    op.create_table(
        "insurance_carrier_aliases",
        sa.Column("alias", sa.String(length=120), nullable=False),
        sa.Column("carrier_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_code"],
            ["insurance_carriers.code"],
            name=op.f("fk_insurance_carrier_aliases_carrier_code_insurance_carriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_insurance_carrier_aliases")),
    )
    op.create_table(
        "intake_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("answers_json", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_intake_submissions_version_positive")),
        _patient_fk("intake_submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_submissions")),
        sa.UniqueConstraint("patient_id", "version", name="uq_intake_submissions_patient_version"),
    )
    op.create_table(
        "intake_drafts",
        sa.Column("patient_id", sa.String(length=16), nullable=False),
        sa.Column("answers_json", sa.Text(), nullable=False),
        sa.Column("current_step", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _patient_fk("intake_drafts"),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_intake_drafts")),
    )
    op.create_table(
        "coverages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("carrier_code", sa.String(length=40), nullable=True),
        sa.Column("carrier_name", sa.String(length=120), nullable=False),
        sa.Column("plan_name", sa.String(length=120), nullable=True),
        sa.Column("member_id", sa.String(length=40), nullable=True),
        sa.Column("subscriber_name", sa.String(length=200), nullable=True),
        sa.Column("relationship", sa.String(length=10), nullable=False),
        sa.Column("primary_care_copay_cents", sa.Integer(), nullable=True),
        sa.Column("specialist_copay_cents", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("intake_submission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(primary_care_copay_cents IS NULL OR primary_care_copay_cents >= 0)"
            " AND (specialist_copay_cents IS NULL OR specialist_copay_cents >= 0)",
            name=op.f("ck_coverages_copays"),
        ),
        sa.CheckConstraint(
            "relationship IN ('self', 'spouse', 'child', 'other')", name=op.f("ck_coverages_relationship_values")
        ),
        sa.CheckConstraint("source IN ('seed', 'intake', 'staff')", name=op.f("ck_coverages_source_values")),
        sa.ForeignKeyConstraint(
            ["carrier_code"], ["insurance_carriers.code"], name=op.f("fk_coverages_carrier_code_insurance_carriers")
        ),
        sa.ForeignKeyConstraint(
            ["intake_submission_id"],
            ["intake_submissions.id"],
            name=op.f("fk_coverages_intake_submission_id_intake_submissions"),
            ondelete="SET NULL",
        ),
        _patient_fk("coverages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverages")),
        sa.UniqueConstraint("patient_id", "version", name="uq_coverages_patient_version"),
    )
    op.create_index(
        "uq_coverages_patient_active",
        "coverages",
        ["patient_id"],
        unique=True,
        sqlite_where=ACTIVE_COVERAGE,
        postgresql_where=ACTIVE_COVERAGE,
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.String(length=16), nullable=False),
        sa.Column("appointment_id", sa.String(length=16), nullable=True),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("provider_name", sa.String(length=120), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("diagnosis_plain", sa.String(length=300), nullable=False),
        sa.Column("instructions_json", sa.Text(), nullable=False),
        sa.Column("medications_json", sa.Text(), nullable=False),
        sa.Column("follow_up_text", sa.String(length=300), nullable=True),
        sa.Column("follow_up_due_in_days", sa.Integer(), nullable=True),
        sa.Column("pending_results_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "follow_up_due_in_days IS NULL OR follow_up_due_in_days >= 0", name=op.f("ck_visits_follow_up_days")
        ),
        _patient_fk("visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index("ix_visits_patient_date", "visits", ["patient_id", "visit_date"])
    op.create_table(
        "work_items",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("patient_id", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("medication", sa.String(length=200), nullable=True),
        sa.Column("pharmacy", sa.String(length=200), nullable=True),
        sa.Column("caller_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("best_time", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind <> 'callback' OR (caller_name IS NOT NULL AND phone IS NOT NULL AND reason IS NOT NULL)",
            name=op.f("ck_work_items_callback_fields"),
        ),
        sa.CheckConstraint("kind IN ('refill', 'callback')", name=op.f("ck_work_items_kind_values")),
        sa.CheckConstraint(
            "kind <> 'refill' OR (patient_id IS NOT NULL AND medication IS NOT NULL)",
            name=op.f("ck_work_items_refill_fields"),
        ),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_work_items_status_values")),
        _patient_fk("work_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    op.create_index("ix_work_items_patient", "work_items", ["patient_id"])
    op.create_index("ix_work_items_status_created", "work_items", ["status", "created_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("patient_id", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_occurred", "audit_log", ["occurred_at"])
    op.create_index("ix_audit_log_patient_occurred", "audit_log", ["patient_id", "occurred_at"])


def downgrade() -> None:
    """Drop the records tables (their data is lost)."""
    op.drop_index("ix_audit_log_patient_occurred", table_name="audit_log")
    op.drop_index("ix_audit_log_occurred", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_work_items_status_created", table_name="work_items")
    op.drop_index("ix_work_items_patient", table_name="work_items")
    op.drop_table("work_items")
    op.drop_index("ix_visits_patient_date", table_name="visits")
    op.drop_table("visits")
    op.drop_index("uq_coverages_patient_active", table_name="coverages")
    op.drop_table("coverages")
    op.drop_table("intake_drafts")
    op.drop_table("intake_submissions")
    op.drop_table("insurance_carrier_aliases")
    op.drop_table("insurance_carriers")
