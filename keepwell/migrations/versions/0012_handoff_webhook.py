"""Handoff webhook: handoffs notify a webhook (e.g. a Slack channel) through webhook_deliveries. An anonymous
visitor's handoff has no account, so `account_id` becomes nullable; `conversation_id` ties a handoff's delivery to
its conversation (erasure and retention take it with the conversation); `lease_until` lets one sender among several
gateway replicas hold a delivery while it posts it.

What existing rows become: nothing changes (playbook deliveries keep their account; the new columns are NULL).
Downgrade deletes the deliveries without an account (handoff notifications of visitors), which the old schema
cannot hold, then drops the columns.

Revision ID: 0012_handoff_webhook
Revises: 0011_subscription_add_ons
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_handoff_webhook"
# The head of main when this was written; the lead re-chains the helpers' migrations at merge.
down_revision: str | None = "0011_subscription_add_ons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("account_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM webhook_deliveries WHERE account_id IS NULL")
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_conversation_id"))
        batch_op.alter_column("account_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("conversation_id")
