"""Webhook calls made by playbooks and handoffs: one row per delivery, so a failed call is visible and never silent."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookDelivery(Base):
    """One event a playbook or a handoff sends to a webhook, its attempts and how the last one went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What raised it, e.g. "playbook:turned-red:cus_001:2025-06-01:webhook": a re-run sends nothing new.
        UniqueConstraint("event_key"),
        CheckConstraint(f"status IN ({', '.join(repr(status) for status in DELIVERY_STATUSES)})", name="status"),
        # The console's failed and pending deliveries.
        Index("ix_webhook_deliveries_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(200))
    # What raised it: the playbook's id, or "handoff" for a handoff's notification.
    playbook: Mapped[str] = mapped_column(String(64))
    # None for a handoff of an anonymous visitor (or of an id that names no account).
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # The conversation a handoff's notification is about, so erasure and retention find it with the conversation.
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    url: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # one of DELIVERY_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Held by the sender working on it until then, so several senders (gateway replicas) never post it twice; a
    # sender that died loses it once this passes.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
