"""Channels: SMS opt-outs (numbers as keyed hashes) and inbound deliveries already answered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the channel tables."""
    op.create_table(
        "sms_opt_outs",
        sa.Column("number_key", sa.String(length=64), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number_key", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("delivery_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_deliveries")),
        sa.UniqueConstraint("channel", "delivery_key", name="uq_channel_deliveries_channel_key"),
    )
    op.create_index("ix_channel_deliveries_received_at", "channel_deliveries", ["received_at"])


def downgrade() -> None:
    """Drop the channel tables (opt-outs are lost: re-import them before going back)."""
    op.drop_index("ix_channel_deliveries_received_at", table_name="channel_deliveries")
    op.drop_table("channel_deliveries")
    op.drop_table("sms_opt_outs")
