"""One chat turn: check identity, bind the conversation, relay to Rasa (or hold for a person), shape the reply."""

from typing import Any

from sqlalchemy.orm import Session

from api.schemas import ButtonPublic, ChatIn, ChatPublic, MessagePublic, SourcePublic
from api.services.conversations import authorize, record_turn
from api.services.rasa import RasaClient
from keepwell import handoffs, identity

HANDOFF_NOTICE = (
    "You're connected to our customer success team. A person has your conversation and will reply here; "
    "the assistant stays quiet until then."
)


class IdentityRejected(Exception):
    """A customer id came without a valid signature."""


def verified_customer(chat: ChatIn, secret: str) -> str | None:
    """The signed-in customer's id, None for an anonymous visitor.

    Raises:
        IdentityRejected: a customer id with a missing or wrong signature.
    """
    if chat.customer_id is None:
        return None
    if not identity.verify(chat.customer_id, chat.signature, secret):
        raise IdentityRejected()
    return chat.customer_id


def message_metadata(customer_id: str | None, signature: str | None) -> dict[str, Any]:
    """What the action server gets: the identity and its signature, which the actions verify again."""
    if customer_id is None:
        return {"customer": None}
    return {"customer": {"id": customer_id, "signature": signature}}


async def handle_turn(session: Session, rasa: RasaClient, chat: ChatIn, customer_id: str | None) -> ChatPublic:
    """Run one turn; the conversation is stored only once Rasa has answered, so a failed turn leaves nothing.

    No transaction stays open while Rasa works: its actions write to the same database (with SQLite, a
    pending write here would lock them out).
    """
    conversation = authorize(session, chat.conversation_id, customer_id)
    held = not conversation.is_new and handoffs.is_active(session, conversation.id)
    session.rollback()  # end the read transaction before waiting on Rasa
    metadata = message_metadata(customer_id, chat.signature if customer_id else None)
    if held:
        # A person has the conversation: log the message for them; the bot neither reads nor answers it.
        await rasa.log_held_message(conversation.id, chat.message, metadata)
        messages = [MessagePublic(text=HANDOFF_NOTICE)]
    else:
        messages = shape_messages(await rasa.send(conversation.id, chat.message, metadata))
    record_turn(session, conversation, customer_id)
    session.commit()
    return ChatPublic(conversation_id=conversation.id, messages=messages)


def shape_messages(raw: list[dict[str, Any]]) -> list[MessagePublic]:
    """Turn Rasa REST-channel output into API messages.

    Rasa sends a bot message's `custom` payload as a separate item after its text, so sources found in a
    custom item are attached to the text message before it.
    """
    messages: list[MessagePublic] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
        raw_sources = custom.get("sources") if isinstance(custom.get("sources"), list) else []
        sources = [
            SourcePublic(title=str(s.get("title", "")), url=str(s.get("url", "")))
            for s in raw_sources
            if isinstance(s, dict) and s.get("url")
        ]
        text = item.get("text") or custom.get("text")
        if text:
            raw_buttons = item.get("buttons") or custom.get("buttons")
            buttons = [
                ButtonPublic(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                for b in (raw_buttons if isinstance(raw_buttons, list) else [])
                if isinstance(b, dict)
            ]
            messages.append(MessagePublic(text=str(text), buttons=buttons, sources=sources))
        elif sources and messages:
            messages[-1].sources.extend(sources)
    return messages
