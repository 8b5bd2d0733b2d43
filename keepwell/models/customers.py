"""Customer accounts of the SaaS product Keepwell supports, the people in them, and their usage over time."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keepwell.models.base import Base, utcnow


class Customer(Base):
    """A customer account (a company) of the SaaS product Keepwell supports; `id` is its natural external id.

    The plan, MRR, seat and date columns are the account's *current* terms, which the bot and the console read;
    `subscriptions` hold the terms over time, which the KPIs read. Whatever changes a subscription (an import, the
    ingest API) updates both.
    """

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32))  # free | starter | growth | enterprise
    company_size: Mapped[str] = mapped_column(String(32))  # small | mid | large
    lifecycle_stage: Mapped[str] = mapped_column(String(32))  # onboarding | adoption | mature | renewal
    mrr: Mapped[float] = mapped_column(Float)  # monthly recurring revenue, USD
    seats_purchased: Mapped[int] = mapped_column(Integer)
    seats_used: Mapped[int] = mapped_column(Integer)
    signup_date: Mapped[date] = mapped_column(Date)
    renewal_date: Mapped[date] = mapped_column(Date)
    # The CSM who owns the account: playbook tasks go to them. Unassigned when the account is new or its CSM left.
    owner_csm_id: Mapped[int | None] = mapped_column(
        ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    # Segments `python -m keepwell recompute` derives by the rules of keepwell/segments.yml (it also rewrites
    # lifecycle_stage); empty until the first recompute.
    arr_band: Mapped[str | None] = mapped_column(String(32), nullable=True)
    touch_model: Mapped[str | None] = mapped_column(String(16), nullable=True)  # high-touch | low-touch | tech-touch

    usage: Mapped[list["UsageSnapshot"]] = relationship(
        back_populates="customer", order_by="UsageSnapshot.period_end", cascade="all, delete-orphan"
    )


class Contact(Base):
    """A person at a customer account (champion, admin, billing contact, user); survey answers and tickets name one."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The id the company's own systems give the person (or their email): what makes a re-import idempotent.
    external_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(32), default="user")  # champion | admin | billing | user ...
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsageSnapshot(Base):
    """Usage over the `period_days` days ending at `period_end`; one row per account and period keeps the history
    trends are drawn from (a re-import of the same period replaces the row)."""

    __tablename__ = "usage_snapshots"
    __table_args__ = (UniqueConstraint("customer_id", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    period_end: Mapped[date] = mapped_column(Date)
    period_days: Mapped[int] = mapped_column(Integer, default=30)  # 30 (monthly) or 7 (weekly) snapshots
    logins: Mapped[int] = mapped_column(Integer)  # sign-ins across the account in the period
    active_users: Mapped[int] = mapped_column(Integer)  # distinct users active in the period
    feature_adoption: Mapped[float] = mapped_column(Float)  # share (0..1) of the key features in use
    # Per feature key, the users who used it in the period (0: not used); None when the product does not report it.
    features: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    support_tickets: Mapped[int] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)  # latest NPS answer, 0..10
    csat: Mapped[float | None] = mapped_column(Float, nullable=True)  # mean CSAT answer, 1..5

    customer: Mapped[Customer] = relationship(back_populates="usage")

