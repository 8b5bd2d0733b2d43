"""Live handoff: a handoff gets its kind of reason, the CSM it is assigned to, its first reply and waiting time, its
closing and the customer's CSAT answer; a message gets the display name of the person who wrote it and its kind (a
CSAT question). Existing handoffs become "asked for a person" and stay unassigned (the shared queue).

Revision ID: 0007_live_handoff
Revises: 0006_api_keys
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_live_handoff"
# The head of main when this was written; the lead re-chains the helpers' migrations at merge.
down_revision: str | None = "0006_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch_op:
        # Added with a server default so existing rows get a value, then the default is dropped (the model sets it).
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=False, server_default="asked_for_person"))
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("wait_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("csat_score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("csat_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("csat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_handoffs_assigned_to_id_csm_users"),
            "csm_users",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_handoffs_assigned_to_id"), ["assigned_to_id"], unique=False)
        batch_op.create_index("ix_handoffs_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_check_constraint(
            batch_op.f("ck_handoffs_csat_range"), "csat_score IS NULL OR csat_score BETWEEN 1 AND 5"
        )
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), existing_nullable=False, server_default=None)
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("author_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("kind")
        batch_op.drop_column("author_name")
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_handoffs_csat_range"), type_="check")
        batch_op.drop_index("ix_handoffs_status_created_at")
        batch_op.drop_index(batch_op.f("ix_handoffs_assigned_to_id"))
        batch_op.drop_constraint(batch_op.f("fk_handoffs_assigned_to_id_csm_users"), type_="foreignkey")
        for column in (
            "csat_at", "csat_comment", "csat_score", "closed_by", "closed_at", "wait_s", "first_reply_at",
            "assigned_to_id", "kind",
        ):  # fmt: skip
            batch_op.drop_column(column)
