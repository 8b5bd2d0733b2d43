"""The conversation log the gateway owns: conversations, every message in and out, flags for CSMs; handoffs and
feedback that actions record in a conversation."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow


REVIEW_STATUSES = ("new", "needs_review", "reviewed")
FEEDBACK_POLARITIES = ("negative", "neutral", "positive")


class Conversation(Base):
    """A chat conversation and the identity that started it; the id is an unguessable token."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(f"review_status IN ({', '.join(repr(s) for s in REVIEW_STATUSES)})", name="review_status"),
        # The inbox (newest first, and by review status) and retention (by last activity).
        Index("ix_conversations_last_message_at", "last_message_at"),
        Index("ix_conversations_review_status_last_message_at", "review_status", "last_message_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="website")  # website | in_app | api
    # Indexed for analytics, which counts conversations by the day they started over a period.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Id of the last Rasa tracker-store event already read into this log (what NLU understood, actions run).
    rasa_event_cursor: Mapped[int] = mapped_column(Integer, default=0)
    # Conversation review in the console: new -> needs_review -> reviewed (any order), who set it last and when.
    review_status: Mapped[str] = mapped_column(String(16), default="new")
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Message(Base):
    """One message in or out of a conversation: the record the console, the widget's history and exports read.

    `state` follows a customer message from acceptance to its one outcome:
    pending (committed, with the assistant) -> answered | unanswered (the customer got the notice) ->
    answered_late | expired (left to a person); held (a person has the conversation; the bot never sees it).
    Replies (`reply_to_id` set) are `sent` in the HTTP answer or `late` (delivered by history and the live stream).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_message_id"),
        Index("ix_messages_state_next_attempt_at", "state", "next_attempt_at"),
        # The inbox: a conversation's customer messages (length, lowest confidence) without reading the others.
        Index("ix_messages_conversation_id_role_confidence", "conversation_id", "role", "confidence"),
        # The inbox's intent and fallback filters read the conversations from the index alone.
        Index("ix_messages_intent_conversation_id", "intent", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system
    text: Mapped[str] = mapped_column(Text)
    # Indexed for analytics (fallbacks, intents and articles over a period) on a log that grows without bound.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(16))
    # The widget's own id for a customer message: a retry with the same id is the same message.
    client_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Indexed: deleting a message (erasure, retention) looks up the replies to it, as does the delivery path.
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # A person's message (agent role): which console user wrote it, and the name the customer saw (kept as it was
    # when sent, even if the account is renamed or deleted).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True)
    author_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # What the widget does with a message beyond showing it: "csat" asks the customer to rate the help they got.
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)

    # Delivery bookkeeping of customer messages: redelivery attempts, when the next is due, and until when one
    # gateway holds the message (another replica, or the same after a restart, takes it over once this passes).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    # What the assistant understood of a customer message and did about it (from Rasa's tracker).
    intent: Mapped[str | None] = mapped_column(String(100), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    entities: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    actions: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The slots the turn set, name -> value (from the tracker's slot events).
    slots: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    # What a reply offered: quick-reply buttons and the knowledge-base sources it cited.
    buttons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    sources: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class ConversationFlag(Base):
    """Something a CSM should look at in a conversation (for now: the assistant could not answer in time)."""

    __tablename__ = "conversation_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(64))  # assistant_unavailable | ...
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # a username, or "assistant"


class Handoff(Base):
    """A request for a person; while open, the bot stays silent in that conversation and a CSM answers there."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint("csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat_range"),
        # The console's queue: open handoffs, newest first.
        Index("ix_handoffs_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)  # the customer's own words that led to it
    # Why, as a category: asked_for_person | frustration | churn_moment | assistant_unavailable | ...
    kind: Mapped[str] = mapped_column(String(32), default="asked_for_person")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | released | closed
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The CSM whose queue it is in: the account's owner; None is the shared queue (anonymous or unowned).
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The first reply of a person, and how long the customer waited for it (seconds since the request).
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The customer's answer to the CSAT question asked at closing (kept here, not in survey_answers: that table
    # needs an account, and anonymous visitors are handed over too).
    csat_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    csat_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    csat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Feedback(Base):
    """Feedback a customer gave in a conversation: on the product, or on an answer of the assistant."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(f"polarity IN ({', '.join(repr(p) for p in FEEDBACK_POLARITIES)})", name="polarity"),
        # The flagged queue: conversations with negative feedback.
        Index("ix_feedback_polarity_conversation_id", "polarity", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # negative (a complaint, something broken, an answer that did not help) | neutral (an idea) | positive (praise).
    polarity: Mapped[str] = mapped_column(String(16), default="neutral", server_default="neutral")
    # The answer the feedback is about: the help-centre article it came from ("that didn't help").
    article_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
