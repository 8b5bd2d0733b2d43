"""Flags on a conversation for the CSMs: why a person should look at it (a churn moment, a frustrated customer ...).

The redelivery path raises its own "assistant unavailable" flags in `outcomes`; these are the ones the assistant
raises while it talks. A reason is flagged once per conversation while its flag is open: a customer who says twice
that they want to cancel is one alert, not two.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Conversation, ConversationFlag, Message

MAX_DETAIL_CHARS = 500


def raise_flag(session: Session, conversation_id: str, reason: str, detail: str, message_id: int | None = None) -> bool:
    """Flag the conversation for `reason` unless an open flag for it exists; True when a new flag was raised.
    A conversation the log does not hold (a message that reached Rasa without the gateway) is not flagged; a message
    id it does not hold in that conversation is left out (the flag is still raised). The caller commits."""
    if session.get(Conversation, conversation_id) is None:
        return False
    open_flag = select(ConversationFlag.id).where(
        ConversationFlag.conversation_id == conversation_id,
        ConversationFlag.reason == reason,
        ConversationFlag.resolved_at.is_(None),
    )
    if session.scalar(open_flag.limit(1)) is not None:
        return False
    if message_id is not None:
        message = session.get(Message, message_id)
        message_id = message_id if message is not None and message.conversation_id == conversation_id else None
    session.add(
        ConversationFlag(
            conversation_id=conversation_id, message_id=message_id, reason=reason, detail=detail[:MAX_DETAIL_CHARS]
        )
    )
    return True
