"""Conversation review: tags, private notes and a review status on conversations, each CSM's saved inbox views,
training examples taken from customer messages, the slots a turn set, and the indexes the inbox filters on; on
SQLite, a full-text (FTS5) index of the messages, filled from those already logged. Existing conversations start as
"new"; existing messages have no slots recorded.

Revision ID: 0008_conversation_review
Revises: 0007_live_handoff
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite's full-text index of the messages, as keepwell/models/search.py makes it for `create_all` (written out here so
# this revision never changes with that module; tests/keepwell/models/test_search.py checks they agree).
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
)
REBUILD = "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"
SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)

revision: str = "0008_conversation_review"
# The head of main when this was written; the lead re-chains the helpers' migrations at merge.
down_revision: str | None = "0007_live_handoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("predicted_intent", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_examples")),
        sa.UniqueConstraint("text", name=op.f("uq_training_examples_text")),
    )
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_examples_intent"), ["intent"], unique=False)

    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["csm_users.id"], name=op.f("fk_conversation_notes_author_id_csm_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_notes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_notes_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "conversation_tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_tags")),
        sa.UniqueConstraint("conversation_id", "tag", name=op.f("uq_conversation_tags_conversation_id_tag")),
    )
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_tags_tag_conversation_id", ["tag", "conversation_id"], unique=False)

    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["csm_users.id"], name=op.f("fk_saved_views_owner_id_csm_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_saved_views_owner_id_name")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_views_owner_id"), ["owner_id"], unique=False)

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        # Added with a server default so existing rows get a value, then the default is dropped (the model sets it).
        batch_op.add_column(sa.Column("review_status", sa.String(length=16), nullable=False, server_default="new"))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_conversations_last_message_at", ["last_message_at"], unique=False)
        batch_op.create_index(
            "ix_conversations_review_status_last_message_at", ["review_status", "last_message_at"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_conversations_review_status"), "review_status IN ('new', 'needs_review', 'reviewed')"
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "review_status", existing_type=sa.String(length=16), existing_nullable=False, server_default=None
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slots", sa.JSON(), nullable=True))
        batch_op.create_index(
            "ix_messages_conversation_id_role_confidence", ["conversation_id", "role", "confidence"], unique=False
        )
        # Replaced by one that also holds the conversation, so the inbox's intent filter never reads the table.
        batch_op.drop_index("ix_messages_intent")
        batch_op.create_index("ix_messages_intent_conversation_id", ["intent", "conversation_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # Full-text search of the inbox (keepwell/models/search.py), filled from the messages already logged.
        for statement in (*SQLITE_FTS_DDL, REBUILD):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_intent_conversation_id")
        batch_op.create_index("ix_messages_intent", ["intent"], unique=False)
        batch_op.drop_index("ix_messages_conversation_id_role_confidence")
        batch_op.drop_column("slots")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_conversations_review_status"), type_="check")
        batch_op.drop_index("ix_conversations_review_status_last_message_at")
        batch_op.drop_index("ix_conversations_last_message_at")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("review_status")

    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_views_owner_id"))

    op.drop_table("saved_views")
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_tags_tag_conversation_id")

    op.drop_table("conversation_tags")
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_notes_conversation_id"))

    op.drop_table("conversation_notes")
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_examples_intent"))

    op.drop_table("training_examples")
