"""Unanswered questions: cached vectors of not-understood customer messages (one per message, with its model), and
the messages a CSM handled from a cluster (turned into an article or training examples).

Revision ID: 0014_unanswered
Revises: 0013_feedback_polarity
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_unanswered"
down_revision: str | None = "0013_feedback_polarity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_vectors",
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "handled_questions",
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("handled_by", sa.String(length=100), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handled_questions_handled_at", "handled_questions", ["handled_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_handled_questions_handled_at", table_name="handled_questions")
    op.drop_table("handled_questions")
    op.drop_table("message_vectors")
