"""Staff handoff: work items of kind ``handoff`` and the conversation a request came from.

A chat handed to the front desk is a work item (kind ``handoff``, its short
summary in ``note``); callback and handoff items keep the conversation id so
staff can open the transcript.

Revision ID: 0003s
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003s"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``conversation_id`` and allow the ``handoff`` kind."""
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(length=128), nullable=True))
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback', 'handoff')")
        batch.create_check_constraint(
            op.f("ck_work_items_handoff_fields"),
            "kind <> 'handoff' OR (conversation_id IS NOT NULL AND note IS NOT NULL)",
        )
    op.create_index("ix_work_items_conversation", "work_items", ["conversation_id"])


def downgrade() -> None:
    """Drop handoff items (they cannot exist without the kind) and the column."""
    op.drop_index("ix_work_items_conversation", table_name="work_items")
    op.execute("DELETE FROM work_items WHERE kind = 'handoff'")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_constraint(op.f("ck_work_items_handoff_fields"), type_="check")
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback')")
        batch.drop_column("conversation_id")
