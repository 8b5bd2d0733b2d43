"""Read-only view of conversation logs kept in Rasa's SQL tracker store (the `events` table Rasa writes)."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, func, inspect, select

_metadata = MetaData()
# Mirrors rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6); Rasa owns and creates this table.
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    started_at: datetime
    last_at: datetime
    user_messages: int
    fallbacks: int


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of a transcript: what the user said and what the bot understood, or what the bot answered."""

    kind: str  # user | bot
    at: datetime
    text: str
    intent: str | None = None
    confidence: float | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)


def _when(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(timestamp or 0.0, tz=UTC)


class ConversationLog:
    """Reads conversations and transcripts from the tracker store database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _has_events(self) -> bool:
        # Rasa creates the table on its first start; before that there is simply nothing to show.
        return inspect(self._engine).has_table("events")

    def list_conversations(self, limit: int = 50, offset: int = 0) -> list[ConversationSummary]:
        """Conversations with at least one user message, most recent first."""
        if not self._has_events():
            return []
        user_count = func.sum(func.cast(events.c.type_name == "user", Integer))
        fallback_count = func.sum(func.cast(events.c.intent_name == "nlu_fallback", Integer))
        query = (
            select(
                events.c.sender_id,
                func.min(events.c.timestamp),
                func.max(events.c.timestamp),
                user_count,
                fallback_count,
            )
            .group_by(events.c.sender_id)
            .having(user_count > 0)
            .order_by(func.max(events.c.timestamp).desc())
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            ConversationSummary(sender, _when(first), _when(last), int(users or 0), int(fallbacks or 0))
            for sender, first, last, users, fallbacks in rows
        ]

    def transcript(self, conversation_id: str) -> list[TranscriptEntry]:
        """Every user and bot message of a conversation, in order, with intent and confidence per user message."""
        if not self._has_events():
            return []
        query = (
            select(events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == conversation_id, events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [_entry(type_name, timestamp, json.loads(data or "{}")) for type_name, timestamp, data in rows]


def _entry(type_name: str, timestamp: float | None, data: dict[str, Any]) -> TranscriptEntry:
    if type_name == "user":
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        return TranscriptEntry(
            kind="user",
            at=_when(timestamp),
            text=data.get("text") or "",
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
        )
    payload = data.get("data") or {}
    custom = payload.get("custom") or {}
    return TranscriptEntry(
        kind="bot",
        at=_when(timestamp),
        text=data.get("text") or custom.get("text") or "",
        buttons=[{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in payload.get("buttons") or []],
        sources=[{"title": s.get("title", ""), "url": s.get("url", "")} for s in custom.get("sources") or []],
    )
