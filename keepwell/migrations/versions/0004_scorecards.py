"""Scorecards and segments: the segments a recompute derives for each account (ARR band, touch model) and the trend
of each health snapshot against the one before.

What existing rows become: customers get no ARR band or touch model until the next `python -m keepwell recompute`;
existing health snapshots have no trend (the next recompute's snapshot compares itself with them).

Downgrade drops the three columns.

Revision ID: 0004_scorecards
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_scorecards"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("arr_band", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("touch_model", sa.String(length=16), nullable=True))
    with op.batch_alter_table("health_snapshots") as batch_op:
        batch_op.add_column(sa.Column("trend", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_snapshots") as batch_op:
        batch_op.drop_column("trend")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("touch_model")
        batch_op.drop_column("arr_band")
