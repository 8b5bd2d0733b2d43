"""The offer funnel: every time an offer was shown to an account, clicked in the widget, or accepted."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow

OFFER_EVENTS = ("shown", "clicked", "accepted")


class OfferEvent(Base):
    """One step of the funnel for one offer of the catalogue (`offer_id` is its id in the YAML)."""

    __tablename__ = "offer_events"
    __table_args__ = (
        CheckConstraint(f"event IN ({', '.join(repr(event) for event in OFFER_EVENTS)})", name="event"),
        # "Never the same offer twice within N days": the account's latest showing of an offer.
        Index("ix_offer_events_account_id_offer_id_at", "account_id", "offer_id", "at"),
        # The funnel: counts per offer and step.
        Index("ix_offer_events_offer_id_event", "offer_id", "event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    offer_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))  # one of OFFER_EVENTS
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Where it happened; not a foreign key, so the funnel outlives an erased conversation.
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
