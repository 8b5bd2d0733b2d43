"""Customer accounts of the SaaS product Keepwell supports, and their usage over time."""

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keepwell.models.base import Base


class Customer(Base):
    """A customer account (a company) of the SaaS product Keepwell supports."""

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

    usage: Mapped[list["UsageSnapshot"]] = relationship(
        back_populates="customer", order_by="UsageSnapshot.period_end", cascade="all, delete-orphan"
    )


class UsageSnapshot(Base):
    """Usage over the 30 days ending at `period_end`; one row per period keeps history for trends."""

    __tablename__ = "usage_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    period_end: Mapped[date] = mapped_column(Date)
    logins: Mapped[int] = mapped_column(Integer)  # sign-ins across the account in the period
    active_users: Mapped[int] = mapped_column(Integer)  # distinct users active in the period
    feature_adoption: Mapped[float] = mapped_column(Float)  # share (0..1) of the key features in use
    support_tickets: Mapped[int] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)  # latest NPS answer, 0..10
    csat: Mapped[float | None] = mapped_column(Float, nullable=True)  # mean CSAT answer, 1..5

    customer: Mapped[Customer] = relationship(back_populates="usage")
