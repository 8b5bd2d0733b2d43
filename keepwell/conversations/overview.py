"""What the console shows of the conversation log: the list of conversations, and one conversation's transcript
with what the assistant understood and did, and the flags CSMs should look at."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from keepwell.conversations.records import ROLE_CUSTOMER, MessageView, view_of
from keepwell.models import Conversation, ConversationFlag, Message

# Below this NLU confidence a customer message counts as not understood (with Rasa's own fallback intent).
LOW_CONFIDENCE = 0.6
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    customer_id: str | None
    channel: str
    started_at: datetime
    last_at: datetime
    customer_messages: int
    not_understood: int  # fallbacks and low-confidence turns
    open_flags: int


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


def list_conversations(session: Session, *, limit: int = 50, offset: int = 0) -> list[ConversationSummary]:
    """Conversations with at least one customer message, the most recently active first."""
    is_customer = Message.role == ROLE_CUSTOMER
    not_understood = is_customer & ((Message.intent == FALLBACK_INTENT) | (Message.confidence < LOW_CONFIDENCE))
    counts = (
        select(
            Message.conversation_id.label("conversation_id"),
            func.sum(func.cast(is_customer, Integer)).label("customer_messages"),
            func.sum(func.cast(not_understood, Integer)).label("not_understood"),
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    flags = (
        select(ConversationFlag.conversation_id, func.count().label("open_flags"))
        .where(ConversationFlag.resolved_at.is_(None))
        .group_by(ConversationFlag.conversation_id)
        .subquery()
    )
    query = (
        select(Conversation, counts.c.customer_messages, counts.c.not_understood, flags.c.open_flags)
        .join(counts, counts.c.conversation_id == Conversation.id)
        .outerjoin(flags, flags.c.conversation_id == Conversation.id)
        .where(counts.c.customer_messages > 0)
        .order_by(Conversation.last_message_at.desc(), Conversation.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        ConversationSummary(
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            channel=conversation.channel,
            started_at=conversation.created_at,
            last_at=conversation.last_message_at,
            customer_messages=int(customer_messages or 0),
            not_understood=int(low or 0),
            open_flags=int(open_flags or 0),
        )
        for conversation, customer_messages, low, open_flags in session.execute(query)
    ]


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
