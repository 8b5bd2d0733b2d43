"""Rasa's SQL tracker store as far as privacy needs it: a conversation's events are the rows whose `sender_id` is
its id (the gateway talks to Rasa with the conversation id as sender, api/services/tracker_events.py). Rasa owns and
creates the table; until it has, there is nothing to delete."""

from collections.abc import Iterable

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, delete, func, inspect, select

from keepwell.batches import chunked

_metadata = MetaData()
# The two columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent this module reads.
events = Table("events", _metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255)))


def _has_events(engine: Engine) -> bool:
    return inspect(engine).has_table("events")


def count_events(engine: Engine, sender_ids: Iterable[str]) -> int:
    """How many tracker events these conversations have."""
    if not _has_events(engine):
        return 0
    total = 0
    with engine.connect() as connection:
        for chunk in chunked(sender_ids):
            total += connection.scalar(select(func.count()).where(events.c.sender_id.in_(chunk))) or 0
    return total


def delete_events(engine: Engine, sender_ids: Iterable[str]) -> int:
    """Delete every tracker event of these conversations (in one transaction); returns how many went."""
    if not _has_events(engine):
        return 0
    deleted = 0
    with engine.begin() as connection:
        for chunk in chunked(sender_ids):
            deleted += connection.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount or 0
    return deleted
