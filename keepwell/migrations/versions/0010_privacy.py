"""Privacy: indexes that keep erasure and retention fast on a large log. Deleting a message makes the database look
for replies to it and flags on it (foreign keys); without an index on those columns every deleted message scanned
the whole table (an erasure of 100 conversations took 25 s over 100,000 messages on SQLite). Erasure and retention
detach offer events from deleted conversations (retention's index on last activity comes with 0008).

Revision ID: 0010_privacy
Revises: 0009_analytics
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_privacy"
down_revision: str | None = "0009_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_messages_reply_to_id", "messages", "reply_to_id"),
    ("ix_conversation_flags_message_id", "conversation_flags", "message_id"),
    ("ix_offer_events_conversation_id", "offer_events", "conversation_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
