"""Feedback polarity: each piece of feedback is negative, neutral or positive, and may name the answer it is about.
The flagged queue shows only negative feedback (before, every piece counted as negative).

Existing rows are classified by the words, with the rules of `keepwell.feedback.polarity_of` as they are when the
migration runs: they were product feedback (the assistant did not record problems said as feedback), so ideas become
neutral, praise positive and complaints negative, and the queue keeps showing the complaints. Rows are read and
written in batches. The downgrade drops the columns (the polarity is lost; the rows stay).

Revision ID: 0013_feedback_polarity
Revises: 0012_handoff_webhook
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_feedback_polarity"
# The head of main when this was written; the lead re-chains the helpers' migrations at merge.
down_revision: str | None = "0012_handoff_webhook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
_feedback = sa.table("feedback", sa.column("id", sa.Integer), sa.column("text", sa.Text), sa.column("polarity"))


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("polarity", sa.String(length=16), nullable=False, server_default="neutral"))
        batch_op.add_column(sa.Column("article_id", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_feedback_polarity"), "polarity IN ('negative', 'neutral', 'positive')"
        )
        batch_op.create_index("ix_feedback_polarity_conversation_id", ["polarity", "conversation_id"], unique=False)
    _classify_existing()


def _classify_existing() -> None:
    connection = op.get_bind()
    if connection.execute(sa.select(_feedback.c.id).limit(1)).first() is None:
        return  # a new database: the classifier is not even imported
    from keepwell.feedback import NEUTRAL, polarity_of  # only when there are rows to classify

    after = 0
    while True:
        rows = connection.execute(
            sa.select(_feedback.c.id, _feedback.c.text)
            .where(_feedback.c.id > after)
            .order_by(_feedback.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, text in rows:
            polarity = polarity_of(text or "")
            if polarity != NEUTRAL:
                connection.execute(sa.update(_feedback).where(_feedback.c.id == row_id).values(polarity=polarity))
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_polarity_conversation_id")
        batch_op.drop_constraint(batch_op.f("ck_feedback_polarity"), type_="check")
        batch_op.drop_column("article_id")
        batch_op.drop_column("polarity")
