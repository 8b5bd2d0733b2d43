"""The CSAT survey after a person helped: closing a handoff asks the question (`handoffs.close`), and the customer's
answer (1-5 and an optional comment) is kept on that handoff, once."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import handoffs
from keepwell.handoffs import HandoffError, HandoffView
from keepwell.models import Handoff, utcnow

MAX_CSAT_COMMENT_CHARS = 1000


class NoSurvey(HandoffError):
    """No CSAT question waits for an answer in this conversation."""


def answer_csat(session: Session, conversation_id: str, score: int, comment: str | None) -> HandoffView:
    """Store the customer's answer to the CSAT question of the conversation's latest closed handoff (once).

    Raises:
        NoSurvey: no closed handoff waits for an answer (none, or already answered).
        InvalidText: the score is not 1-5 or the comment is too long.
    """
    if not 1 <= score <= 5:
        raise handoffs.InvalidText("The rating is a whole number from 1 to 5.")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_CSAT_COMMENT_CHARS:
        raise handoffs.InvalidText(f"The comment can be at most {MAX_CSAT_COMMENT_CHARS} characters.")
    query = (
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status == handoffs.CLOSED)
        .order_by(Handoff.closed_at.desc(), Handoff.id.desc())
        .limit(1)
        .with_for_update()
    )
    handoff = session.scalars(query).first()
    if handoff is None or handoff.csat_score is not None:
        raise NoSurvey("There is no question to answer in this conversation, or it was answered already.")
    handoff.csat_score = score
    handoff.csat_comment = comment
    handoff.csat_at = utcnow()
    session.flush()
    return handoffs.views(session, [handoff])[0]
