"""Customer-success engine: contacts, subscriptions, support tickets, survey answers, onboarding steps, offer events,
health snapshots, churn signals and CSM tasks; an owner CSM for accounts; weekly and per-feature usage.

The `customers` table stays the account table (its id is the account's natural external id): the bot, the console
and the API keep reading its columns, which now hold the account's *current* terms, while `subscriptions` hold the
terms over time for the KPIs.

What existing rows become:
- customers: no owner CSM yet (owner_csm_id empty); every other column unchanged.
- subscriptions: each customer gets one term copied from its columns: external id `migrated:<customer id>`, its
  plan, MRR and seats, started on its signup date, renewing on its renewal date, status active, billing current.
  v0.1 and 0.2 kept no history, so the term starts at signup: MRR before the upgrade reads as today's MRR.
- usage_snapshots: period_days 30 (every snapshot so far covered 30 days), features empty. An account and period
  now have one row (so a re-import replaces it instead of adding one); where two rows shared an account and
  period_end, the older one (lower id) is deleted: readers already took the later insert (keepwell.accounts).
- The new tables start empty.

Downgrade drops the new tables and columns; the duplicate usage rows deleted on the way up do not come back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The subscription columns each customer's migrated term fills, in the order of _carry_subscriptions' select.
CARRIED_COLUMNS = (
    "external_id", "account_id", "plan", "mrr", "seats_purchased", "seats_used", "started_on", "renews_on", "status",
    "billing_state",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "churn_signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_churn_signals_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_churn_signals")),
    )
    with op.batch_alter_table("churn_signals") as batch_op:
        batch_op.create_index(
            "ix_churn_signals_account_id_kind",
            ["account_id", "kind"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.create_index("ix_churn_signals_opened_at", ["opened_at"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_contacts_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("external_id", name=op.f("uq_contacts_external_id")),
    )
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_email"), ["email"], unique=False)

    op.create_table(
        "health_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scorecard", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("band IN ('green', 'yellow', 'red')", name=op.f("ck_health_snapshots_band")),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_health_snapshots_score_range")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_health_snapshots_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_snapshots")),
        sa.UniqueConstraint("account_id", "as_of", name=op.f("uq_health_snapshots_account_id_as_of")),
    )
    with op.batch_alter_table("health_snapshots") as batch_op:
        batch_op.create_index("ix_health_snapshots_as_of_band", ["as_of", "band"], unique=False)

    op.create_table(
        "offer_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("event IN ('shown', 'clicked', 'accepted')", name=op.f("ck_offer_events_event")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_offer_events_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_events")),
    )
    with op.batch_alter_table("offer_events") as batch_op:
        batch_op.create_index("ix_offer_events_account_id_offer_id_at", ["account_id", "offer_id", "at"], unique=False)
        batch_op.create_index("ix_offer_events_offer_id_event", ["offer_id", "event"], unique=False)

    op.create_table(
        "onboarding_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("help_url", sa.String(length=300), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_onboarding_steps_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_steps")),
        sa.UniqueConstraint("account_id", "step_key", name=op.f("uq_onboarding_steps_account_id_step_key")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("mrr", sa.Float(), nullable=False),
        sa.Column("seats_purchased", sa.Integer(), nullable=False),
        sa.Column("seats_used", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("renews_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("billing_state", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "billing_state IN ('current', 'past_due', 'unpaid')", name=op.f("ck_subscriptions_billing_state")
        ),
        sa.CheckConstraint(
            "status IN ('trialing', 'active', 'canceled', 'superseded')", name=op.f("ck_subscriptions_status")
        ),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name=op.f("ck_subscriptions_ends_after_start")
        ),
        sa.CheckConstraint("mrr >= 0", name=op.f("ck_subscriptions_mrr_not_negative")),
        sa.CheckConstraint(
            "seats_purchased >= 0 AND seats_used >= 0", name=op.f("ck_subscriptions_seats_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_subscriptions_account_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_subscriptions_external_id")),
    )
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.create_index("ix_subscriptions_account_id_started_on", ["account_id", "started_on"], unique=False)

    op.create_table(
        "csm_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("signal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done', 'dismissed')", name=op.f("ck_csm_tasks_status")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_csm_tasks_account_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["csm_users.id"], name=op.f("fk_csm_tasks_owner_id_csm_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["churn_signals.id"], name=op.f("fk_csm_tasks_signal_id_churn_signals"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csm_tasks")),
        sa.UniqueConstraint("source_key", name=op.f("uq_csm_tasks_source_key")),
    )
    with op.batch_alter_table("csm_tasks") as batch_op:
        batch_op.create_index("ix_csm_tasks_account_id_status", ["account_id", "status"], unique=False)
        batch_op.create_index("ix_csm_tasks_owner_id_status", ["owner_id", "status"], unique=False)

    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "closed_at IS NULL OR closed_at >= opened_at", name=op.f("ck_support_tickets_closes_after_opening")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_support_tickets_account_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_support_tickets_contact_id_contacts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
        sa.UniqueConstraint("external_id", name=op.f("uq_support_tickets_external_id")),
    )
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.create_index("ix_support_tickets_account_id_opened_at", ["account_id", "opened_at"], unique=False)

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'nps' AND score BETWEEN 0 AND 10)",
            name=op.f("ck_survey_answers_score_range"),
        ),
        sa.CheckConstraint("kind IN ('csat', 'nps')", name=op.f("ck_survey_answers_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customers.id"], name=op.f("fk_survey_answers_account_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_survey_answers_contact_id_contacts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_survey_answers_external_id")),
    )
    with op.batch_alter_table("survey_answers") as batch_op:
        batch_op.create_index(
            "ix_survey_answers_account_id_kind_answered_at", ["account_id", "kind", "answered_at"], unique=False
        )
        batch_op.create_index("ix_survey_answers_kind_answered_at", ["kind", "answered_at"], unique=False)

    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("owner_csm_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_owner_csm_id"), ["owner_csm_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_owner_csm_id_csm_users"),
            "csm_users",
            ["owner_csm_id"],
            ["id"],
            ondelete="SET NULL",
        )

    _drop_duplicate_usage()
    with op.batch_alter_table("usage_snapshots") as batch_op:
        batch_op.add_column(sa.Column("period_days", sa.Integer(), nullable=False, server_default=sa.text("30")))
        batch_op.add_column(sa.Column("features", sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_usage_snapshots_customer_id_period_end"), ["customer_id", "period_end"]
        )
    with op.batch_alter_table("usage_snapshots") as batch_op:
        batch_op.alter_column("period_days", existing_type=sa.Integer(), existing_nullable=False, server_default=None)
    _carry_subscriptions()


def _drop_duplicate_usage() -> None:
    usage = sa.table(
        "usage_snapshots",
        sa.column("id", sa.Integer()),
        sa.column("customer_id", sa.String(64)),
        sa.column("period_end", sa.Date()),
    )
    later = usage.alias("later")
    op.execute(
        usage.delete().where(
            sa.exists().where(
                later.c.customer_id == usage.c.customer_id,
                later.c.period_end == usage.c.period_end,
                later.c.id > usage.c.id,
            )
        )
    )


def _carry_subscriptions() -> None:
    """One active term per customer, copied from its columns (see the docstring)."""
    customers = sa.table(
        "customers",
        *(sa.column(name) for name in ("id", "plan", "mrr", "seats_purchased", "seats_used")),
        sa.column("signup_date", sa.Date()),
        sa.column("renewal_date", sa.Date()),
    )
    subscriptions = sa.table("subscriptions", *(sa.column(name) for name in CARRIED_COLUMNS))
    op.execute(
        subscriptions.insert().from_select(
            list(CARRIED_COLUMNS),
            sa.select(
                sa.literal("migrated:", sa.String()) + sa.cast(customers.c.id, sa.String()),
                customers.c.id,
                customers.c.plan,
                customers.c.mrr,
                customers.c.seats_purchased,
                customers.c.seats_used,
                customers.c.signup_date,
                customers.c.renewal_date,
                sa.literal("active", sa.String()),
                sa.literal("current", sa.String()),
            ),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("usage_snapshots") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_usage_snapshots_customer_id_period_end"), type_="unique")
        batch_op.drop_column("features")
        batch_op.drop_column("period_days")

    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customers_owner_csm_id_csm_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_customers_owner_csm_id"))
        batch_op.drop_column("owner_csm_id")

    with op.batch_alter_table("survey_answers") as batch_op:
        batch_op.drop_index("ix_survey_answers_kind_answered_at")
        batch_op.drop_index("ix_survey_answers_account_id_kind_answered_at")

    op.drop_table("survey_answers")
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.drop_index("ix_support_tickets_account_id_opened_at")

    op.drop_table("support_tickets")
    with op.batch_alter_table("csm_tasks") as batch_op:
        batch_op.drop_index("ix_csm_tasks_owner_id_status")
        batch_op.drop_index("ix_csm_tasks_account_id_status")

    op.drop_table("csm_tasks")
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_account_id_started_on")

    op.drop_table("subscriptions")
    op.drop_table("onboarding_steps")
    with op.batch_alter_table("offer_events") as batch_op:
        batch_op.drop_index("ix_offer_events_offer_id_event")
        batch_op.drop_index("ix_offer_events_account_id_offer_id_at")

    op.drop_table("offer_events")
    with op.batch_alter_table("health_snapshots") as batch_op:
        batch_op.drop_index("ix_health_snapshots_as_of_band")

    op.drop_table("health_snapshots")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("churn_signals") as batch_op:
        batch_op.drop_index("ix_churn_signals_opened_at")
        batch_op.drop_index(
            "ix_churn_signals_account_id_kind",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )

    op.drop_table("churn_signals")
