"""Conversation log, console accounts and audit; the models' constraint names on v0.1's tables.

New tables: messages and conversation_flags (the gateway's conversation log), console_sessions (server-side console
sessions), audit_events (who did what). New columns on conversations (channel, rasa_event_cursor) and csm_users
(display_name, role, active, created_at, last_login_at, sessions_valid_after).

What existing rows become:
- conversations: channel "website" (v0.1 had only the website widget); rasa_event_cursor 0 (the log reads only the
  Rasa events that carry one of its message ids, so a v0.1 conversation's old events add nothing).
- csm_users: every v0.1 account becomes an active **admin**. v0.1 had a single console login (the configured
  KEEPWELL_CSM_USERNAME) with every power the console had; as a plain CSM, nobody could manage accounts from the
  console after the upgrade. display_name is empty (the console then shows the email); created_at is the time of
  the upgrade (v0.1 did not record it); last_login_at and sessions_valid_after are empty. The password hash is kept
  as it is, so the same password still signs in. Usernames are trimmed and lower-cased, because sign-in now looks
  up the normalised email, unless that would collide with another account (then it is left alone).
- The new columns get server defaults only to fill the existing rows; the defaults are dropped afterwards, so the
  schema is exactly what the models declare (the application sets the values of new rows).

Constraint names: v0.1 created its constraints unnamed (SQLite keeps no name; PostgreSQL made up customers_pkey,
usage_snapshots_customer_id_fkey, csm_users_username_key ...). They get the names of the models' naming convention
(pk_customers, fk_usage_snapshots_customer_id_customers, uq_csm_users_username), so later migrations can name them
on every database and every installation has the same schema. PostgreSQL renames them in place; SQLite copies each
table ("move and copy" batch mode with the naming convention; keepwell.db.upgrade turns foreign keys off for it,
since dropping a parent table with them on would cascade to its children).

Downgrade drops what this revision added; constraints keep their new names (v0.1's code never refers to them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# keepwell/models/base.py's convention as of this revision (frozen here: a later change must not alter this step).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
V0_1_TABLES = ("customers", "usage_snapshots", "conversations", "handoffs", "feedback", "csm_users")
# v0.1's foreign keys and unique constraints (by table and columns) and the names the convention gives them.
FOREIGN_KEYS = {("usage_snapshots", ("customer_id",)): "fk_usage_snapshots_customer_id_customers"}
UNIQUES = {("csm_users", ("username",)): "uq_csm_users_username"}

CONVERSATION_COLUMNS = {
    "channel": (sa.String(16), sa.text("'website'")),
    "rasa_event_cursor": (sa.Integer(), sa.text("0")),
}
ACCOUNT_COLUMNS = {
    "display_name": (sa.String(100), sa.text("''")),
    "role": (sa.String(16), sa.text("'admin'")),  # see the docstring: v0.1's single login administered everything
    "active": (sa.Boolean(), sa.true()),
    "created_at": (sa.DateTime(timezone=True), sa.text("CURRENT_TIMESTAMP")),
}
ACCOUNT_OPTIONAL_COLUMNS = ("last_login_at", "sessions_valid_after")


def upgrade() -> None:
    _name_v0_1_constraints()
    _add_filled_columns("conversations", CONVERSATION_COLUMNS)
    _add_filled_columns("csm_users", ACCOUNT_COLUMNS)
    with op.batch_alter_table("csm_users") as batch_op:
        for name in ACCOUNT_OPTIONAL_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    _normalise_usernames()
    _create_log_tables()
    _create_staff_tables()


def downgrade() -> None:
    for table in ("audit_events", "console_sessions", "conversation_flags", "messages"):
        op.drop_table(table)
    with op.batch_alter_table("csm_users") as batch_op:
        for name in (*ACCOUNT_COLUMNS, *ACCOUNT_OPTIONAL_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("conversations") as batch_op:
        for name in CONVERSATION_COLUMNS:
            batch_op.drop_column(name)


def _name_v0_1_constraints() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in V0_1_TABLES:
            # An empty batch that always recreates: the copy gets conventional names for the unnamed constraints.
            with op.batch_alter_table(table, recreate="always", naming_convention=NAMING_CONVENTION):
                pass
        return
    inspector = sa.inspect(bind)
    quote = bind.dialect.identifier_preparer.quote
    for table in V0_1_TABLES:
        renames = [(inspector.get_pk_constraint(table)["name"], f"pk_{table}")]
        renames += [
            (fk["name"], FOREIGN_KEYS.get((table, tuple(fk["constrained_columns"]))))
            for fk in inspector.get_foreign_keys(table)
        ]
        renames += [
            (uq["name"], UNIQUES.get((table, tuple(uq["column_names"]))))
            for uq in inspector.get_unique_constraints(table)
        ]
        for old, new in renames:
            if new is not None and old != new:  # a constraint v0.1 did not make is not ours to rename
                op.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(old)} TO {quote(new)}")


def _add_filled_columns(table: str, columns: dict[str, tuple[sa.types.TypeEngine, sa.ColumnElement]]) -> None:
    """Add NOT NULL columns whose server defaults fill the existing rows, then drop the defaults."""
    with op.batch_alter_table(table) as batch_op:
        for name, (type_, default) in columns.items():
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    with op.batch_alter_table(table) as batch_op:
        for name, (type_, _default) in columns.items():
            batch_op.alter_column(name, existing_type=type_, existing_nullable=False, server_default=None)


def _normalise_usernames() -> None:
    users = sa.table("csm_users", sa.column("id", sa.Integer()), sa.column("username", sa.String(100)))
    other = users.alias("other")
    normalised = sa.func.lower(sa.func.trim(users.c.username))
    op.execute(
        users.update()
        .where(users.c.username != normalised)
        .where(
            ~sa.exists().where(sa.func.lower(sa.func.trim(other.c.username)) == normalised, other.c.id != users.c.id)
        )
        .values(username=normalised)
    )


def _create_log_tables() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("client_message_id", sa.String(length=64), nullable=True),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["csm_users.id"], name=op.f("fk_messages_author_id_csm_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"], ["messages.id"], name=op.f("fk_messages_reply_to_id_messages"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "conversation_id", "client_message_id", name=op.f("uq_messages_conversation_id_client_message_id")
        ),
    )
    op.create_index(op.f("ix_messages_conversation_id"), "messages", ["conversation_id"])
    op.create_index(op.f("ix_messages_intent"), "messages", ["intent"])
    op.create_index("ix_messages_state_next_attempt_at", "messages", ["state", "next_attempt_at"])

    op.create_table(
        "conversation_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_flags_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_conversation_flags_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_flags")),
    )
    op.create_index(op.f("ix_conversation_flags_conversation_id"), "conversation_flags", ["conversation_id"])


def _create_staff_tables() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_expires_at"), "console_sessions", ["expires_at"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["csm_users.id"], name=op.f("fk_audit_events_actor_id_csm_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"])
    op.create_index(op.f("ix_audit_events_actor"), "audit_events", ["actor"])
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
