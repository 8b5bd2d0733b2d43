"""Unanswered questions: the vector of each not-understood customer message (so the console clusters them without
encoding them again on every page view) and which of them a CSM has handled, and how."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow


class MessageVector(Base):
    """A customer message embedded by `model` (float32 bytes, unit length). A message has one vector: encoding with
    another model replaces it. Erasure and retention delete it with the message (the foreign key)."""

    __tablename__ = "message_vectors"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class HandledQuestion(Base):
    """A not-understood customer message a CSM dealt with from the unanswered-questions page: `kind` article (`target`
    is the article's category/slug) or intent (`target` is the intent). Handled messages leave the clusters."""

    __tablename__ = "handled_questions"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # article | intent
    target: Mapped[str] = mapped_column(String(200))
    handled_by: Mapped[str] = mapped_column(String(100))
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
