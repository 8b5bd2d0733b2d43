"""The "assistant unavailable" handoff: a customer message the assistant never answered, and that is now too old for
a late answer (`KEEPWELL_LATE_ANSWER_MAX_AGE_S`), is handed to a person.

Until then the customer has had one honest notice (the assistant will answer here, or a person will) and the
redelivery worker retries. At that age a late answer would arrive out of context, so the message is left to a
person: the conversation is handed over with the reason `assistant_unavailable`, into the owner's queue (the shared
one for visitors) with the transcript from the conversation log, and the webhook is notified like any handoff. The
customer hears nothing more for that message: its one notice already said a person may answer. Their next message
is held for the person and answered with the handoff notice, and a late answer the assistant still produces is
dropped (keepwell/conversations/outcomes.py `answer`), so the bot never talks over the person.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import conversations as log
from keepwell import handoffs
from keepwell.models import Message, as_utc
from keepwell.settings import CoreSettings

# How much of the conversation the handoff keeps (the console's transcript page reads the whole log).
TRANSCRIPT_LINES = 50
MAX_REASON_CHARS = 500  # as the action server keeps the customer's words
_ROLES = {log.ROLE_CUSTOMER: "user", log.ROLE_AGENT: "agent"}  # anything else is the assistant's side


def hand_over(session: Session, message_id: int, settings: CoreSettings | None = None) -> handoffs.HandoffView:
    """Open the handoff for an unanswered message (or return the one already open in its conversation); the
    caller commits. The reason is the customer's unanswered question."""
    message = log.load(session, message_id)
    return handoffs.request_handoff(
        session,
        message.conversation_id,
        log.owner(session, message.conversation_id),
        message.text[:MAX_REASON_CHARS],
        _transcript(session, message.conversation_id),
        kind=handoffs.ASSISTANT_UNAVAILABLE,
        settings=settings,
    )


def _transcript(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The latest lines of the conversation log, in the shape the action server records a transcript in."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(TRANSCRIPT_LINES)
    )
    lines = []
    for message in reversed(list(session.scalars(query))):
        line: dict[str, Any] = {
            "role": _ROLES.get(message.role, "bot"),
            "text": message.text,
            "at": as_utc(message.created_at).timestamp(),
        }
        if message.role == log.ROLE_CUSTOMER:
            line.update(intent=message.intent, confidence=message.confidence)
        lines.append(line)
    return lines
