"""Feedback customers give in conversations: product feedback (an idea, praise or a complaint) and an answer of the
assistant they say did not help. Each piece has a polarity; the flagged queue shows the negative ones. A problem
reported in feedback's words is told apart, to be troubleshot (and recorded as negative)."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Feedback
from keepwell.models.conversations import FEEDBACK_POLARITIES
from keepwell.text import plain_quotes

MAX_FEEDBACK_CHARS = 2000
NEGATIVE, NEUTRAL, POSITIVE = FEEDBACK_POLARITIES

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
_REQUEST_WORDS = (
    r"add|adding|please (let|make|show|build)|would (be|love)|it'?d be|feature request|suggestion|idea|wish|"
    r"could you|can you (add|make)|should (show|let|be able)|option to|way to"
)
_IDEA = re.compile(
    rf"\b({_REQUEST_WORDS}|no (bugs|crashes|problems|issues)|never (crashes|fails|breaks))\b", re.IGNORECASE
)
_REQUEST = re.compile(rf"\b({_REQUEST_WORDS})\b", re.IGNORECASE)


# A complaint about how the product is or behaves, or about the help given: a CSM should know the customer is unhappy.
# An idea for something new is not a complaint, however it is worded ("I wish the reports loaded faster").
_COMPLAINT = re.compile(
    r"\b(don'?t like|do not like|dislike|hate|confus\w*|frustrat\w*|annoy\w*|disappoint\w*|useless|pointless|"
    r"terrible|awful|horrible|bad|worse|worst|step backwards?|clunky|slow|sluggish|laggy|noisy|too (many|much|"
    r"expensive|complicated|hard)|hard to (find|use|understand)|(didn'?t|doesn'?t|did not|does not) help|"
    r"not helpful|unhelpful|no help|waste of|please fix|(doesn'?t|does not|can'?t|cannot) (find|show|undo|do)|"
    r"ridiculous|unacceptable)\b",
    re.IGNORECASE,
)
_PRAISE = re.compile(
    r"\b(love|loving|great|awesome|amazing|excellent|fantastic|brilliant|smooth|nice|helpful|thanks?|thank you|"
    r"well done|good job|impressive|perfect|better|easy|intuitive)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FeedbackView:
    id: int
    conversation_id: str
    customer_id: str | None
    text: str
    created_at: datetime
    polarity: str  # negative | neutral | positive
    article_id: str | None  # the answer it is about (an article of the help centre), if any


def reports_a_problem(text: str) -> bool:
    """Whether a message said as feedback reports something broken (troubleshooting, not product feedback)."""
    text = plain_quotes(text)
    return bool(_BREAKAGE.search(text)) and not _IDEA.search(text)


def polarity_of(text: str) -> str:
    """Whether feedback is negative (something broke, a complaint, help that did not help), positive (praise) or
    neutral (an idea or a request): "please add dark mode" is neutral, "the board gets slow" negative."""
    text = plain_quotes(text)
    if reports_a_problem(text) or _COMPLAINT.search(text):
        return NEGATIVE
    if _REQUEST.search(text):  # "it would be great if ..." asks for something; it does not praise
        return NEUTRAL
    return POSITIVE if _PRAISE.search(text) else NEUTRAL


def record_feedback(
    session: Session,
    conversation_id: str,
    customer_id: str | None,
    text: str,
    *,
    polarity: str | None = None,
    article_id: str | None = None,
) -> FeedbackView:
    """Store one piece of feedback.

    Args:
        polarity: what the caller knows it is (a customer saying an answer did not help); else read off the words.
        article_id: the answer it is about.

    Raises:
        ValueError: the text is empty or longer than MAX_FEEDBACK_CHARS, or an unknown polarity.
    """
    text = text.strip()
    if not text:
        raise ValueError("feedback is empty")
    if len(text) > MAX_FEEDBACK_CHARS:
        raise ValueError(f"feedback is longer than {MAX_FEEDBACK_CHARS} characters")
    if polarity is not None and polarity not in FEEDBACK_POLARITIES:
        raise ValueError(f"polarity must be one of {', '.join(FEEDBACK_POLARITIES)}")
    item = Feedback(
        conversation_id=conversation_id,
        customer_id=customer_id,
        text=text,
        polarity=polarity or polarity_of(text),
        article_id=(article_id or None) and article_id[:200],
    )
    session.add(item)
    session.flush()
    return _view(item)


def _view(f: Feedback) -> FeedbackView:
    return FeedbackView(f.id, f.conversation_id, f.customer_id, f.text, f.created_at, f.polarity, f.article_id)


def list_feedback(session: Session, limit: int = 100) -> list[FeedbackView]:
    query = select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)
    return [_view(f) for f in session.scalars(query)]
