"""Emergency flags: work items of kind ``emergency`` for staff to follow up.

The assistant answers an emergency at once (911, or 988 for a crisis) and flags
the conversation for staff: the category in ``reason`` (medical or crisis), the
red-flag rule ids in ``note``, the conversation id for the transcript.

Revision ID: 0004
Revises: 0003s
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Allow the ``emergency`` kind, with a conversation and a category."""
    with op.batch_alter_table("work_items") as batch:
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(
            op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback', 'handoff', 'emergency')"
        )
        batch.create_check_constraint(
            op.f("ck_work_items_emergency_fields"),
            "kind <> 'emergency' OR (conversation_id IS NOT NULL AND reason IN ('medical', 'crisis'))",
        )


def downgrade() -> None:
    """Drop emergency flags (they cannot exist without the kind) and the constraint."""
    op.execute("DELETE FROM work_items WHERE kind = 'emergency'")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_constraint(op.f("ck_work_items_emergency_fields"), type_="check")
        batch.drop_constraint(op.f("ck_work_items_kind_values"), type_="check")
        batch.create_check_constraint(op.f("ck_work_items_kind_values"), "kind IN ('refill', 'callback', 'handoff')")
