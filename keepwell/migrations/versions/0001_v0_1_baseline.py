"""v0.1 baseline: the schema every installation of v0.1 has, exactly as `create_all` of the v0.1 models made it.

The tables are written out here (not taken from keepwell.models) and created from a MetaData without a naming
convention, so constraints keep the names v0.1 gave them: none on SQLite, the database's defaults on PostgreSQL
(customers_pkey, usage_snapshots_customer_id_fkey, csm_users_username_key ...). Revision 0002 renames them.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _v0_1() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("company_size", sa.String(32), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("mrr", sa.Float, nullable=False),
        sa.Column("seats_purchased", sa.Integer, nullable=False),
        sa.Column("seats_used", sa.Integer, nullable=False),
        sa.Column("signup_date", sa.Date, nullable=False),
        sa.Column("renewal_date", sa.Date, nullable=False),
    )
    sa.Table(
        "usage_snapshots",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id", sa.String(64), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("logins", sa.Integer, nullable=False),
        sa.Column("active_users", sa.Integer, nullable=False),
        sa.Column("feature_adoption", sa.Float, nullable=False),
        sa.Column("support_tickets", sa.Integer, nullable=False),
        sa.Column("nps", sa.Integer, nullable=True),
        sa.Column("csat", sa.Float, nullable=True),
    )
    sa.Table(
        "conversations",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "handoffs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(100), nullable=True),
    )
    sa.Table(
        "feedback",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "csm_users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
    )
    return metadata


def upgrade() -> None:
    _v0_1().create_all(op.get_bind())


def downgrade() -> None:
    _v0_1().drop_all(op.get_bind())
