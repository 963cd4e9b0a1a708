"""Outreach: the outbox of texts the clinic sends first, the waitlist, texting consent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the outreach tables, add consent to patients and the ``outreach`` work item kind."""
    op.create_table(
        "outreach_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reminders_json", sa.Text(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=False),
        sa.Column("quiet_end", sa.Time(), nullable=False),
        sa.Column("follow_up_offer_at", sa.Time(), nullable=True),
        sa.Column("notes_ready_at", sa.Time(), nullable=True),
        sa.Column("waitlist_offers", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_outreach_policy_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_policy")),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=True),
        sa.Column("visit_type_code", sa.String(length=40), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="waiting", nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("booked_appointment_id", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'booked', 'left', 'expired')", name=op.f("ck_waitlist_entries_status_values")
        ),
        sa.CheckConstraint("to_date >= from_date", name=op.f("ck_waitlist_entries_date_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index("ix_waitlist_status_joined", "waitlist_entries", ["status", "joined_at"])
    op.create_index("ix_waitlist_patient", "waitlist_entries", ["patient_id"])
    op.create_table(
        "freed_slots",
        sa.Column("appointment_id", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("visit_type_code", sa.String(length=40), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("offers", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_freed_slots")),
    )
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("freed_appointment_id", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("visit_type_code", sa.String(length=40), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("appointment_id", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'gone', 'declined')", name=op.f("ck_waitlist_offers_status_values")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entries.id"],
            name=op.f("fk_waitlist_offers_entry_id_waitlist_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offers")),
        sa.UniqueConstraint("entry_id", "provider_id", "start_at", name="uq_waitlist_offers_entry_slot"),
    )
    op.create_index("ix_waitlist_offers_slot", "waitlist_offers", ["provider_id", "start_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=16), nullable=True),
        sa.Column("visit_id", sa.String(length=16), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="planned", nullable=False),
        sa.Column("status_reason", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempt_started_at", sa.DateTime(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("number_key", sa.String(length=64), nullable=True),
        sa.Column("provider_sids", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("recalled_at", sa.DateTime(), nullable=True),
        sa.Column("answer", sa.String(length=10), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("work_item_id", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reminder', 'waitlist_offer', 'follow_up', 'notes_ready')", name=op.f("ck_outbox_kind_values")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'sending', 'sent', 'dropped', 'skipped', 'failed')",
            name=op.f("ck_outbox_status_values"),
        ),
        sa.CheckConstraint(
            "answer IS NULL OR answer IN ('confirmed', 'moved', 'cancelled', 'accepted', 'declined', 'gone')",
            name=op.f("ck_outbox_answer_values"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["waitlist_offers.id"], name=op.f("fk_outbox_offer_id_waitlist_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_status_send_at", "outbox", ["status", "send_at"])
    op.create_index("ix_outbox_appointment", "outbox", ["appointment_id"])
    op.create_index("ix_outbox_number_sent", "outbox", ["number_key", "sent_at"])
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("sms_consent_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("work_items") as batch:
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(
            op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback', 'handoff', 'emergency', 'outreach')"
        )
        batch.create_check_constraint(op.f("ck_work_items_outreach_fields"), "kind <> 'outreach' OR note IS NOT NULL")


def downgrade() -> None:
    """Drop outreach: its tables, consent, and its work items."""
    op.execute("DELETE FROM work_items WHERE kind = 'outreach'")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_constraint(op.f("ck_work_items_outreach_fields"), type_="check")
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(
            op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback', 'handoff', 'emergency')"
        )
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("sms_consent_at")
    op.drop_table("outbox")
    op.drop_table("waitlist_offers")
    op.drop_table("freed_slots")
    op.drop_table("waitlist_entries")
    op.drop_table("outreach_policy")
