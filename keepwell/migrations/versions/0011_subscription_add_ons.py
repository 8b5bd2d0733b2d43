"""Subscription add-ons: the add-ons a term includes, so the assistant never offers an account what it already
pays for. Existing terms include none (they were imported before the column existed).

Revision ID: 0011_subscription_add_ons
Revises: 0010_privacy
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_subscription_add_ons"
down_revision: str | None = "0010_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The default fills the rows there are; new rows always give the list (the model's default), as the other JSON
    # columns do, so it is dropped again (PostgreSQL cannot compare a json default when Alembic checks the schema).
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("add_ons", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("add_ons", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("add_ons")
