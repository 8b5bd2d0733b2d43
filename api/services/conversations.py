"""Who may continue a conversation: each conversation id is bound to the identity that started it."""

import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from keepwell.models import Conversation, utcnow


class ConversationNotFound(Exception):
    pass


class ConversationForbidden(Exception):
    pass


@dataclass(frozen=True)
class ConversationRef:
    id: str
    is_new: bool


def new_conversation_id() -> str:
    """An unguessable 32-character URL-safe token (192 bits)."""
    return secrets.token_urlsafe(24)


def authorize(session: Session, conversation_id: str | None, customer_id: str | None) -> ConversationRef:
    """A new conversation for this identity, or one the same identity started. Reads only.

    Raises:
        ConversationNotFound: the id is well formed but unknown.
        ConversationForbidden: the conversation belongs to another identity (or to a signed-in customer
            while this request is anonymous, or the reverse).
    """
    if conversation_id is None:
        return ConversationRef(new_conversation_id(), is_new=True)
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    if not secrets.compare_digest(conversation.customer_id or "", customer_id or ""):
        raise ConversationForbidden(conversation_id)
    return ConversationRef(conversation.id, is_new=False)


def record_turn(session: Session, conversation: ConversationRef, customer_id: str | None) -> None:
    """Store a new conversation with its owner, or note the time of the latest message."""
    if conversation.is_new:
        session.add(Conversation(id=conversation.id, customer_id=customer_id))
    else:
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(last_message_at=utcnow()))
