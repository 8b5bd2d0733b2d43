"""What the assistant understood and did in each turn, read from Rasa's SQL tracker store into the message log.

Rasa keeps the dialogue state; the gateway keeps the record. After a turn the gateway reads the turn's events (the
user event with intent, confidence and entities, then the actions run) and annotates the customer message they
belong to (and the slots it set), which it finds by the `keepwell.message_id` it put in the message metadata.
"""

import json
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, inspect, select

from keepwell.conversations import TurnInfo

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
# Bookkeeping actions Rasa runs on every turn: not what a CSM means by "what the bot did".
_ROUTINE_ACTIONS = frozenset({"action_listen", "action_session_start", "action_extract_slots"})


class TrackerEvents:
    """Reads one conversation's new turns from the tracker store database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._table_seen = False

    def _has_events(self) -> bool:
        # Rasa creates the table on its first start; until then there is nothing to read.
        if not self._table_seen:
            self._table_seen = inspect(self._engine).has_table("events")
        return self._table_seen

    def turns_since(self, conversation_id: str, cursor: int) -> tuple[int, list[TurnInfo]]:
        """The turns logged after event id `cursor`, and the new cursor."""
        if not self._has_events():
            return cursor, []
        query = (
            select(events.c.id, events.c.type_name, events.c.action_name, events.c.data)
            .where(events.c.sender_id == conversation_id, events.c.id > cursor)
            .where(events.c.type_name.in_(("user", "action", "slot")))
            .order_by(events.c.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        turns: list[TurnInfo] = []
        current: TurnInfo | None = None
        for event_id, type_name, action_name, data in rows:
            cursor = max(cursor, event_id)
            if type_name == "user":
                current = _turn(_json(data))
                if current is not None:
                    turns.append(current)
            elif type_name == "slot":
                if current is not None:
                    event = _json(data)
                    if isinstance(event.get("name"), str):
                        current.slots[event["name"]] = event.get("value")
            elif current is not None and action_name and action_name not in _ROUTINE_ACTIONS:
                current.actions.append(action_name)
        return cursor, turns

    def answer_of(self, conversation_id: str, message_id: int) -> list[dict[str, Any]] | None:
        """What the bot said in the last turn Rasa finished for this message, in the REST channel's shape; None when
        Rasa has no such turn or the turn said nothing (a failed action): then the message should be sent again.

        Rasa saves a turn's events when the turn ends, so a user event carrying this message id means the turn ran
        to its end (perhaps after the gateway stopped waiting). Sending the message again would run it twice.
        """
        if not self._has_events():
            return None
        query = (
            select(events.c.type_name, events.c.data)
            .where(events.c.sender_id == conversation_id, events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        latest: list[dict[str, Any]] | None = None  # the bot's output after the latest turn of this message
        in_turn = False
        for type_name, data in rows:
            event = _json(data)
            if type_name == "user":
                in_turn = _message_id(event) == message_id
                if in_turn:
                    latest = []
            elif in_turn and latest is not None:
                latest.extend(_rest_output(event))
        return latest or None


def _rest_output(bot_event: dict[str, Any]) -> list[dict[str, Any]]:
    """A bot event as the REST channel sends it: the text with its buttons, then the custom payload."""
    data = bot_event.get("data") if isinstance(bot_event.get("data"), dict) else {}
    output: list[dict[str, Any]] = []
    if bot_event.get("text"):
        output.append({"text": bot_event["text"], "buttons": data.get("buttons") or []})
    if isinstance(data.get("custom"), dict):
        output.append({"custom": data["custom"]})
    return output


def _message_id(event: dict[str, Any]) -> int | None:
    keepwell = (event.get("metadata") or {}).get("keepwell") or {}
    message_id = keepwell.get("message_id") if isinstance(keepwell, dict) else None
    return message_id if isinstance(message_id, int) else None


def _json(data: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(data or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _turn(event: dict[str, Any]) -> TurnInfo | None:
    """The annotation of the customer message this user event carried; None for messages the gateway did not log."""
    message_id = _message_id(event)
    if message_id is None:
        return None
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    confidence = intent.get("confidence")
    entities = [
        {"entity": str(e.get("entity")), "value": e.get("value")}
        for e in parse.get("entities") or []
        if isinstance(e, dict) and e.get("entity")
    ]
    return TurnInfo(
        message_id=message_id,
        intent=intent.get("name") if isinstance(intent.get("name"), str) else None,
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        entities=entities,
        actions=[],
    )
