"""Log messages as the public API shows them."""

from api.schemas import ButtonPublic, MessagePublic, SourcePublic
from keepwell.conversations import MessageView
from keepwell.models import as_utc


def public_message(message: MessageView) -> MessagePublic:
    """What the customer may see of a message: never what the bot understood or did (that is for CSMs)."""
    return MessagePublic(
        id=message.id,
        role=message.role,  # type: ignore[arg-type]
        text=message.text,
        created_at=as_utc(message.created_at),
        state=message.state,
        message_id=message.client_message_id,
        reply_to=message.reply_to_id,
        buttons=[ButtonPublic(title=b["title"], payload=b["payload"]) for b in message.buttons],
        sources=[SourcePublic(title=s.get("title", ""), url=s["url"]) for s in message.sources],
        author=message.author_name if message.role == "agent" else None,
        kind="csat" if message.kind == "csat" else None,
    )
