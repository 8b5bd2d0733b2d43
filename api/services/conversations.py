"""Who may continue a conversation: each conversation id is bound to the identity that started it."""

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from keepwell.models import Conversation, utcnow


class ConversationNotFound(Exception):
    pass


class ConversationForbidden(Exception):
    pass


@dataclass(frozen=True)
class ConversationRef:
    id: str
    customer_id: str | None


def new_conversation_id() -> str:
    """An unguessable 32-character URL-safe token (192 bits)."""
    return secrets.token_urlsafe(24)


def open_conversation(session: Session, conversation_id: str | None, customer_id: str | None) -> ConversationRef:
    """Start a conversation for this identity, or continue one that the same identity started.

    Raises:
        ConversationNotFound: the id is well formed but unknown.
        ConversationForbidden: the conversation belongs to another identity (or to a signed-in customer
            while this request is anonymous, or the reverse).
    """
    if conversation_id is None:
        conversation = Conversation(id=new_conversation_id(), customer_id=customer_id)
        session.add(conversation)
        session.flush()
        return ConversationRef(conversation.id, customer_id)

    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    if not secrets.compare_digest(conversation.customer_id or "", customer_id or ""):
        raise ConversationForbidden(conversation_id)
    conversation.last_message_at = utcnow()
    return ConversationRef(conversation.id, conversation.customer_id)
