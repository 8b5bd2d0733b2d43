"""Product feedback customers give in conversations, told apart from problems reported in a feedback's words."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Feedback

MAX_FEEDBACK_CHARS = 2000

# Something broke, went missing or stopped: "great job breaking the slack integration", "brilliant, the import wiped
# half my tasks". However it is worded (praise in sarcasm, a complaint), that is a problem to troubleshoot and maybe
# hand to a person, not an idea for the product team.
_BREAKAGE = re.compile(
    r"\b(broke|broken|breaking|breaks|wiped|erased|deleted|disappeared|vanished|gone missing|"
    r"crash\w*|froze|freez\w*|hangs|bug|bugs|buggy|fail\w*|stopped (working|syncing|posting|loading)|"
    r"(not|isn'?t|aren'?t|doesn'?t|don'?t|won'?t|never) (work|working|load|loading|sync|syncing|save|saving|open)\w*|"
    r"locked out|can'?t (log|sign) in|charged twice|double charged|overcharged)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FeedbackView:
    id: int
    conversation_id: str
    customer_id: str | None
    text: str
    created_at: datetime


def reports_a_problem(text: str) -> bool:
    """Whether a message said as feedback reports something broken (troubleshooting, not product feedback)."""
    return bool(_BREAKAGE.search(text.replace("\u2019", "'")))


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
