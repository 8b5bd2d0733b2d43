"""What the console shows of one conversation's transcript: every message with what the assistant understood and
did, and the flags CSMs should look at (the list of conversations is `inbox`)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.conversations.records import MessageView, view_of
from keepwell.models import Conversation, ConversationFlag, Message

# Below this NLU confidence a customer message counts as not understood (with Rasa's own fallback intent).
LOW_CONFIDENCE = 0.6
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Flag:
    id: int
    message_id: int | None
    reason: str
    detail: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class Transcript:
    conversation_id: str
    customer_id: str | None
    channel: str
    messages: list[MessageView]
    flags: list[Flag]


def transcript(session: Session, conversation_id: str) -> Transcript | None:
    """Every message of a conversation in order, with its flags; None when the conversation does not exist."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    rows = session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
    flag_rows = session.scalars(
        select(ConversationFlag)
        .where(ConversationFlag.conversation_id == conversation_id)
        .order_by(ConversationFlag.id)
    )
    return Transcript(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        channel=conversation.channel,
        messages=[view_of(row) for row in rows],
        flags=[
            Flag(f.id, f.message_id, f.reason, f.detail, f.created_at, f.resolved_at, f.resolved_by) for f in flag_rows
        ],
    )
