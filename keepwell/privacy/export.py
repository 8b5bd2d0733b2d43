"""Exporting conversations from the message log as CSV (one row per message) or JSON (one object per conversation
with its messages), streamed: conversations are read a batch at a time, each batch in its own short transaction,
so an export of any size holds a few hundred conversations in memory and no lock for long.

Which conversations: an `ExportFilter` (dates of creation, channel, customer), an explicit list of conversation ids,
or the console inbox's filters (`keepwell.conversations.filters`): exactly the conversations the inbox lists for
them. Any size streams: each batch is read by keyset pagination, the filter evaluated again per batch.
"""

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from keepwell.conversations.filters import InboxFilter
from keepwell.conversations.filters import conditions as inbox_conditions
from keepwell.db import session_scope
from keepwell.models import Conversation, Message, as_utc

CHANNELS = ("website", "in_app", "api")
COLUMNS = ("conversation_id", "channel", "customer_id", "time", "role", "author", "text", "intent", "confidence")
BATCH = 200
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ASSISTANT = "Keepwell assistant"


class ExportError(ValueError):
    """A filter that cannot be exported; the message is safe to show."""


@dataclass(frozen=True)
class ExportFilter:
    """Conversations created on `since` .. `until` (inclusive days, UTC), on a channel, of a customer; or, when
    `conversation_ids` is set, exactly those; or, when `inbox` is set, those the inbox lists for its filters (the
    other fields still narrow them)."""

    since: date | None = None
    until: date | None = None
    channel: str | None = None
    customer_id: str | None = None
    conversation_ids: Sequence[str] | None = None
    inbox: InboxFilter | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ExportError("The start date is after the end date.")
        if self.channel is not None and self.channel not in CHANNELS:
            raise ExportError(f"Channel must be one of {', '.join(CHANNELS)}.")

    def describe(self) -> dict[str, Any]:
        """The filter as the audit log records it."""
        described: dict[str, Any] = {
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
            "channel": self.channel,
            "customer_id": self.customer_id,
        }
        if self.conversation_ids is not None:
            described["conversations"] = len(self.conversation_ids)
        if self.inbox is not None:
            described["inbox"] = self.inbox.query_string()  # "" is the whole inbox
        return {key: value for key, value in described.items() if value is not None}

    def where(self, query: Select[Any], session: Session) -> Select[Any]:
        """`query` (over `Conversation`) narrowed to the selection; the session says which SQL dialect to write."""
        if self.inbox is not None:
            query = query.where(*inbox_conditions(session, self.inbox))
        if self.since:
            query = query.where(Conversation.created_at >= datetime.combine(self.since, time.min, UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time.min, UTC)  # "to" is inclusive
            query = query.where(Conversation.created_at < end)
        if self.channel:
            query = query.where(Conversation.channel == self.channel)
        if self.customer_id:
            query = query.where(Conversation.customer_id == self.customer_id)
        if self.conversation_ids is not None:
            query = query.where(Conversation.id.in_(list(self.conversation_ids)))
        return query


def count(session: Session, selection: ExportFilter) -> tuple[int, int]:
    """How many conversations and messages the filter selects."""
    conversations = session.scalar(selection.where(select(func.count()).select_from(Conversation), session)) or 0
    # The ids as a sub-query of their own: the inbox's conditions hold sub-queries on messages, which must not be
    # correlated with the messages counted here.
    selected = selection.where(select(Conversation.id), session)
    messages = session.scalar(select(func.count(Message.id)).where(Message.conversation_id.in_(selected))) or 0
    return conversations, messages


# Only what an export shows: loading whole rows would decode every message's JSON columns for nothing.
_CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.channel,
    Conversation.customer_id,
    Conversation.created_at,
    Conversation.last_message_at,
)
_MESSAGE_COLUMNS = (
    Message.conversation_id,
    Message.id,
    Message.created_at,
    Message.role,
    Message.author_name,
    Message.text,
    Message.intent,
    Message.confidence,
)


def _conversations(engine: Engine, selection: ExportFilter, batch: int) -> Iterator[list[Row[Any]]]:
    """The selected conversations, oldest first, a batch at a time (keyset pagination on creation time and id)."""
    after: tuple[datetime, str] | None = None
    while True:
        with session_scope(engine) as session:
            query = selection.where(select(*_CONVERSATION_COLUMNS), session)
            query = query.order_by(Conversation.created_at, Conversation.id).limit(batch)
            if after is not None:
                moment, last_id = after
                later = and_(Conversation.created_at == moment, Conversation.id > last_id)
                query = query.where(or_(Conversation.created_at > moment, later))
            rows = list(session.execute(query))
        if not rows:
            return
        after = (rows[-1].created_at, rows[-1].id)
        yield rows


def _messages(engine: Engine, conversation_ids: list[str]) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = {conversation_id: [] for conversation_id in conversation_ids}
    query = select(*_MESSAGE_COLUMNS).where(Message.conversation_id.in_(conversation_ids)).order_by(Message.id)
    with session_scope(engine) as session:
        for message in session.execute(query):
            found[message.conversation_id].append(message)
    return found


def records(engine: Engine, selection: ExportFilter, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Each selected conversation with its messages, as plain data."""
    for conversations in _conversations(engine, selection, batch):
        by_conversation = _messages(engine, [c.id for c in conversations])
        for conversation in conversations:
            yield {
                "id": conversation.id,
                "channel": conversation.channel,
                "customer_id": conversation.customer_id,
                "created_at": as_utc(conversation.created_at).isoformat(),
                "last_message_at": as_utc(conversation.last_message_at).isoformat(),
                "messages": [_message(conversation.customer_id, m) for m in by_conversation[conversation.id]],
            }


def _message(customer_id: str | None, message: Row[Any]) -> dict[str, Any]:
    if message.role == "customer":
        author = customer_id or "visitor"
    elif message.role == "bot":
        author = _ASSISTANT
    else:
        author = message.author_name or message.role
    return {
        "id": message.id,
        "time": as_utc(message.created_at).isoformat(),
        "role": message.role,
        "author": author,
        "text": message.text,
        "intent": message.intent,
        "confidence": message.confidence,
    }


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_chunks(engine: Engine, selection: ExportFilter, batch: int = BATCH) -> Iterator[str]:
    """The export as CSV text, a header then a chunk per batch of conversations (one row per message)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for conversation in records(engine, selection, batch):
        for message in conversation["messages"]:
            row = (
                conversation["id"],
                conversation["channel"],
                conversation["customer_id"],
                message["time"],
                message["role"],
                message["author"],
                message["text"],
                message["intent"],
                "" if message["confidence"] is None else f"{message['confidence']:.4f}",
            )
            writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(engine: Engine, selection: ExportFilter, batch: int = BATCH) -> Iterator[str]:
    """The export as one JSON document, `{"conversations": [...]}`, a conversation at a time."""
    yield '{"conversations": ['
    first = True
    for conversation in records(engine, selection, batch):
        yield ("" if first else ",\n") + json.dumps(conversation, ensure_ascii=False)
        first = False
    yield "]}\n"
