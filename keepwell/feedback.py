"""Product feedback customers give in conversations, told apart from problems reported in a feedback's words."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Feedback
from keepwell.text import plain_quotes

MAX_FEEDBACK_CHARS = 2000

# Something broke, went missing or stopped: "great job breaking the slack integration", "brilliant, the import wiped
# half my tasks". However it is worded (praise in sarcasm, a complaint), that is a problem to troubleshoot and maybe
# hand to a person, not an idea for the product team. The words say what happened to the product, not what it should
# do: "restore deleted tasks" or "which automations failed" in a request is an idea.
_BREAKAGE = re.compile(
    r"\b(broke|broken|breaking|wiped|erased|disappeared|vanished|gone missing|got deleted|(was|were) deleted|"
    r"deleted (all|half|most|some|my|our)|crash(es|ed|ing)|froze|freezes|freezing|hangs|buggy|a bug|"
    r"(keeps?|kept) (failing|crashing|freezing)|failed|fails|stopped (working|syncing|posting|loading)|"
    r"(isn'?t|is not|aren'?t|are not|doesn'?t|does not|won'?t|will not|never) (work|load|sync|save|open)\w*|"
    r"locked out|can'?t (log|sign) in|charged twice|double charged|overcharged)\b",
    re.IGNORECASE,
)
# A request or an idea ("please add…", "would be great to see which automations failed"), or a problem denied
# ("no bugs so far"): feedback.
_IDEA = re.compile(
    r"\b(add|adding|please (let|make|show|build)|would (be|love)|it'?d be|feature request|suggestion|idea|wish|"
    r"could you|can you (add|make)|should (show|let|be able)|option to|way to|no (bugs|crashes|problems|issues)|"
    r"never (crashes|fails|breaks))\b",
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
    text = plain_quotes(text)
    return bool(_BREAKAGE.search(text)) and not _IDEA.search(text)


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
