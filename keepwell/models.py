"""ORM tables for the customer-success domain. Services return plain dataclasses, never these objects."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


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


class Conversation(Base):
    """A chat conversation and the identity that started it; the id is an unguessable token."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Handoff(Base):
    """A request for a person; while open, the bot stays silent in that conversation."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | released
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Feedback(Base):
    """Product feedback a customer gave in a conversation."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CSMUser(Base):
    """A customer-success manager who can log in to the console."""

    __tablename__ = "csm_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
