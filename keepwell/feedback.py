"""Product feedback customers give in conversations."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Feedback

MAX_FEEDBACK_CHARS = 2000


@dataclass(frozen=True)
class FeedbackView:
    id: int
    conversation_id: str
    customer_id: str | None
    text: str
    created_at: datetime


def record_feedback(session: Session, conversation_id: str, customer_id: str | None, text: str) -> FeedbackView:
    """Store one piece of feedback.

    Raises:
        ValueError: the text is empty or longer than MAX_FEEDBACK_CHARS.
    """
    text = text.strip()
    if not text:
        raise ValueError("feedback is empty")
    if len(text) > MAX_FEEDBACK_CHARS:
        raise ValueError(f"feedback is longer than {MAX_FEEDBACK_CHARS} characters")
    item = Feedback(conversation_id=conversation_id, customer_id=customer_id, text=text)
    session.add(item)
    session.flush()
    return FeedbackView(item.id, item.conversation_id, item.customer_id, item.text, item.created_at)


def list_feedback(session: Session, limit: int = 100) -> list[FeedbackView]:
    query = select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)
    return [FeedbackView(f.id, f.conversation_id, f.customer_id, f.text, f.created_at) for f in session.scalars(query)]
