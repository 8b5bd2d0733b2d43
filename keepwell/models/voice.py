"""The voice of the customer outside the chat: support tickets and survey answers (CSAT, NPS)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base


class SupportTicket(Base):
    """A support ticket an account opened in the company's help desk."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        UniqueConstraint("external_id"),
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closes_after_opening"),
        # Ticket load of an account over a window (churn signal "ticket surge", the scorecard's support measure).
        Index("ix_support_tickets_account_id_opened_at", "account_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(100))  # the help desk's ticket id
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")  # low | normal | high | urgent
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SurveyAnswer(Base):
    """One answer to a satisfaction survey: CSAT on a 1-5 scale or NPS ("how likely to recommend") on 0-10."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("external_id"),
        CheckConstraint("kind IN ('csat', 'nps')", name="kind"),
        CheckConstraint(
            "(kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'nps' AND score BETWEEN 0 AND 10)", name="score_range"
        ),
        # CSAT and NPS of a set of accounts over a period.
        Index("ix_survey_answers_account_id_kind_answered_at", "account_id", "kind", "answered_at"),
        Index("ix_survey_answers_kind_answered_at", "kind", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(100))  # the survey tool's answer id
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps
    score: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
