"""The app schema of release v0.1, frozen: what `create_all` of the v0.1 models (keepwell/models.py before
migrations) made in every installation. Written out as Core tables so it never follows the current models."""

from sqlalchemy import JSON, Column, Date, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()  # no naming convention: v0.1's constraints were unnamed

customers = Table(
    "customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("plan", String(32), nullable=False),
    Column("company_size", String(32), nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("mrr", Float, nullable=False),
    Column("seats_purchased", Integer, nullable=False),
    Column("seats_used", Integer, nullable=False),
    Column("signup_date", Date, nullable=False),
    Column("renewal_date", Date, nullable=False),
)

usage_snapshots = Table(
    "usage_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("period_end", Date, nullable=False),
    Column("logins", Integer, nullable=False),
    Column("active_users", Integer, nullable=False),
    Column("feature_adoption", Float, nullable=False),
    Column("support_tickets", Integer, nullable=False),
    Column("nps", Integer, nullable=True),
    Column("csat", Float, nullable=True),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_message_at", DateTime(timezone=True), nullable=False),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), nullable=False, index=True),
    Column("customer_id", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("transcript", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("released_by", String(100), nullable=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), nullable=False, index=True),
    Column("customer_id", String(64), nullable=True),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

csm_users = Table(
    "csm_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
)
