"""The conversation log's records: conversations, the identity each belongs to, their messages as views, and what
the assistant understood of each customer message. `keepwell.conversations.outcomes` moves messages to their outcome."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keepwell.models import Conversation, Handoff, Message

ROLE_CUSTOMER, ROLE_BOT, ROLE_AGENT, ROLE_SYSTEM = "customer", "bot", "agent", "system"

# Customer messages.
PENDING = "pending"  # committed; the assistant has it and the customer is waiting
ANSWERED = "answered"  # the bot answered within the deadline
UNANSWERED = "unanswered"  # the customer got the notice; the bot answers once it can
ANSWERED_LATE = "answered_late"  # answered after the notice
HELD = "held"  # a person has the conversation; the bot never saw it
EXPIRED = "expired"  # too old for a late answer: left to a person (its flag stays open)
AWAITING_ANSWER = (PENDING, UNANSWERED)
# Replies.
SENT = "sent"  # returned in the HTTP answer to the customer message
LATE = "late"  # delivered afterwards, through the history and the live stream

ASSISTANT_UNAVAILABLE = "assistant_unavailable"


class ConversationNotFound(Exception):
    pass


class ConversationForbidden(Exception):
    pass


class MessageIdConflict(Exception):
    """The client reused a message id for a different text."""


@dataclass(frozen=True)
class ConversationRef:
    id: str
    customer_id: str | None
    is_new: bool
    with_person: bool = False  # a handoff is open: a person answers, the assistant stays quiet


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: str
    role: str
    text: str
    state: str
    created_at: datetime
    client_message_id: str | None = None
    reply_to_id: int | None = None
    attempts: int = 0
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    author_name: str | None = None  # a person's message: the name the customer sees
    kind: str | None = None  # "csat": the CSAT question the widget shows as a form


@dataclass(frozen=True)
class Reply:
    """A message to send to the customer (from the bot, or the gateway's own notice)."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    role: str = ROLE_BOT


@dataclass(frozen=True)
class Accepted:
    message: MessageView
    duplicate: bool  # the client sent this message before: no new turn


@dataclass(frozen=True)
class TurnInfo:
    """What the assistant understood of one customer message and what it did (read from Rasa's tracker)."""

    message_id: int
    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]]
    actions: list[str]
    slots: dict[str, Any] = field(default_factory=dict)  # the slots the turn set, name -> value


def new_conversation_id() -> str:
    """An unguessable 32-character URL-safe token (192 bits)."""
    return secrets.token_urlsafe(24)


def open_conversation(session: Session, conversation_id: str | None, customer_id: str | None) -> ConversationRef:
    """A new conversation for this identity, or one the same identity started, and whether a person has it. Reads
    only, in one statement (it is on every chat turn's path).

    Raises:
        ConversationNotFound: the id is well formed but unknown.
        ConversationForbidden: the conversation belongs to another identity (or to a signed-in customer while this
            request is anonymous, or the reverse).
    """
    if conversation_id is None:
        return ConversationRef(new_conversation_id(), customer_id, is_new=True)
    with_person = (
        select(Handoff.id).where(Handoff.conversation_id == Conversation.id, Handoff.status == "open").exists()
    )
    found = session.execute(
        select(Conversation.customer_id, with_person).where(Conversation.id == conversation_id)
    ).first()
    if found is None:
        raise ConversationNotFound(conversation_id)
    owner_id, handed_over = found
    if not secrets.compare_digest(owner_id or "", customer_id or ""):
        raise ConversationForbidden(conversation_id)
    return ConversationRef(conversation_id, owner_id, is_new=False, with_person=bool(handed_over))


def start_conversation(session: Session, customer_id: str | None, channel: str) -> ConversationRef:
    """A new, empty conversation bound to this identity (the caller commits).

    Clients that want even their first message to be safely resent start the conversation first: a message id is
    unique within its conversation, so a retry must name the conversation.
    """
    conversation = Conversation(id=new_conversation_id(), customer_id=customer_id, channel=channel)
    session.add(conversation)
    return ConversationRef(conversation.id, customer_id, is_new=False)


def get_message(session: Session, message_id: int) -> MessageView | None:
    message = session.get(Message, message_id)
    return view_of(message) if message is not None else None


def replies_to(session: Session, message_id: int) -> list[MessageView]:
    """Everything sent in answer to a customer message, in order (a notice, then a late answer, ...)."""
    query = select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)
    return [view_of(m) for m in session.scalars(query)]


def messages(session: Session, conversation_id: str, *, after_id: int = 0, limit: int = 200) -> list[MessageView]:
    """The conversation's messages with an id above `after_id`, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return [view_of(m) for m in session.scalars(query)]


def owner(session: Session, conversation_id: str) -> str | None:
    """The customer id a conversation is bound to (None: an anonymous visitor).

    Raises:
        ConversationNotFound: no such conversation.
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation.customer_id


def rasa_cursor(session: Session, conversation_id: str) -> int:
    conversation = session.get(Conversation, conversation_id)
    return conversation.rasa_event_cursor if conversation is not None else 0


def advance_rasa_cursor(session: Session, conversation_id: str, cursor: int) -> None:
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.rasa_event_cursor < cursor)
        .values(rasa_event_cursor=cursor)
    )


def annotate(session: Session, turns: Sequence[TurnInfo]) -> None:
    """Record what the assistant understood and did for each turn (the caller commits)."""
    for turn in turns:
        _annotate_one(session, turn)


def _annotate_one(session: Session, turn: TurnInfo) -> None:
    session.execute(
        update(Message)
        .where(Message.id == turn.message_id, Message.role == ROLE_CUSTOMER)
        .values(
            intent=turn.intent,
            confidence=turn.confidence,
            entities=turn.entities,
            actions=turn.actions,
            slots=turn.slots or None,
        )
    )


def load(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id, populate_existing=True)
    if message is None:
        raise LookupError(f"message {message_id} does not exist")
    return message


def view_of(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        conversation_id=message.conversation_id,
        role=message.role,
        text=message.text,
        state=message.state,
        created_at=message.created_at,
        client_message_id=message.client_message_id,
        reply_to_id=message.reply_to_id,
        attempts=message.attempts or 0,
        buttons=list(message.buttons or []),
        sources=list(message.sources or []),
        intent=message.intent,
        confidence=message.confidence,
        entities=list(message.entities or []),
        actions=list(message.actions or []),
        slots=dict(message.slots or {}),
        author_name=message.author_name,
        kind=message.kind,
    )
