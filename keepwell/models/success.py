"""The customer-success team's view of an account: its onboarding checklist, health-score history, churn signals
and the CSM tasks raised about it."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow

HEALTH_BANDS = ("green", "yellow", "red")
TASK_STATUSES = ("open", "done", "dismissed")


class OnboardingStep(Base):
    """One step of an account's onboarding checklist and when it was completed (None: still to do)."""

    __tablename__ = "onboarding_steps"
    __table_args__ = (UniqueConstraint("account_id", "step_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(64))  # e.g. invite-team, connect-crm
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)  # order in the checklist, first step lowest
    help_url: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the manual page for the step
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class HealthSnapshot(Base):
    """An account's health score as computed on one day: one row per account and day, so a recompute on the same
    day replaces it and the previous day's row gives the trend."""

    __tablename__ = "health_snapshots"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint(f"band IN ({', '.join(repr(band) for band in HEALTH_BANDS)})", name="band"),
        # Accounts by band on a day (the book's red accounts).
        Index("ix_health_snapshots_as_of_band", "as_of", "band"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    scorecard: Mapped[str] = mapped_column(String(64))  # the scorecard that scored it
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(8))
    # Against the account's previous snapshot: up | down | flat (within the scorecards' tolerance); None for the first.
    trend: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Per measure: its value, points and (renormalised) weight; measures without data are absent.
    measures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The measures that lift and drag the score, in plain words, strongest first.
    drivers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChurnSignal(Base):
    """A sign that an account may leave (usage drop, ticket surge, detractor NPS, idle seats, red near renewal,
    a cancellation request in chat) with the numbers that raised it. Open until resolved; an account has at most one
    open signal of each kind, so a recompute that finds it again changes nothing."""

    __tablename__ = "churn_signals"
    __table_args__ = (
        Index(
            "ix_churn_signals_account_id_kind",
            "account_id",
            "kind",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_churn_signals_opened_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # usage_drop | ticket_surge | detractor_nps | idle_seats | red_near_renewal | cancellation_request
    # (not a CHECK: the signal catalogue grows without a migration)
    kind: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # a username, or "system"
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)


class CSMTask(Base):
    """Something a CSM should do about an account, raised by a playbook or by hand."""

    __tablename__ = "csm_tasks"
    __table_args__ = (
        UniqueConstraint("source_key"),
        CheckConstraint(f"status IN ({', '.join(repr(status) for status in TASK_STATUSES)})", name="status"),
        Index("ix_csm_tasks_owner_id_status", "owner_id", "status"),
        Index("ix_csm_tasks_account_id_status", "account_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # one of TASK_STATUSES
    source: Mapped[str] = mapped_column(String(64), default="manual")  # "manual" or "playbook:<id>"
    # What raised it, e.g. "playbook:turned-red:cus_001:2025-06-01": a playbook run that finds the task already
    # raised adds nothing. None for tasks made by hand.
    source_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("churn_signals.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
