"""Retention: conversations whose last activity is older than KEEPWELL_RETENTION_DAYS are deleted with everything
that belongs to them (messages, flags, handoffs, feedback, and their events in Rasa's tracker store), a batch at a
time so a first run over years of history neither holds a long lock nor loads it all. 0 days keeps everything.

A conversation a person is handling (an open handoff) is kept whatever its age: someone is still answering it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from keepwell.db import session_scope
from keepwell.models import Base, Conversation, Handoff
from keepwell.privacy import scope as scopes
from keepwell.privacy import tracker

BATCH = 500


@dataclass
class RetentionRun:
    """How a run went: conversations due, deleted (0 on a dry run) and the rows that went with them."""

    cutoff: datetime
    due: int
    deleted: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0
    dry_run: bool = False

    def as_detail(self, days: int) -> dict[str, object]:
        """The run as the audit log records it: counts only."""
        return {
            "days": days,
            "before": self.cutoff.isoformat(),
            "conversations": self.deleted,
            "rows": dict(sorted(self.rows.items())),
            "tracker_events": self.tracker_events,
        }

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        rows = ", ".join(f"{count} {table}" for table, count in sorted(self.rows.items())) or "no rows"
        return (
            f"Retention (last activity before {self.cutoff:%Y-%m-%d %H:%M} UTC): {self.due} conversations due, "
            f"{verb} {self.due if self.dry_run else self.deleted}; {rows}; {self.tracker_events} tracker events."
        )


def cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _due(moment: datetime) -> ColumnElement[bool]:
    """Last activity before `moment`, and no person handling it."""
    person_handling = select(Handoff.id).where(Handoff.conversation_id == Conversation.id, Handoff.status == "open")
    return (Conversation.last_message_at < moment) & ~person_handling.exists()


def _rows_of(session: Session, conversation_ids: Any) -> dict[str, int]:
    """Rows per table that name one of these conversations (what a dry run reports)."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        column = table.c.id if table.name == "conversations" else table.c.get(scopes.CONVERSATION_COLUMN)
        if column is None or (table.name, column.name) in scopes.RETENTION_DETACHED or table.name in scopes.KEPT:
            continue
        if count := session.scalar(select(func.count()).select_from(table).where(column.in_(conversation_ids))):
            counts[table.name] = count
    return counts


def count_due(session: Session, before: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Conversation).where(_due(before))) or 0


def run(
    engine: Engine,
    tracker_engine: Engine,
    days: int,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionRun:
    """Delete (or, on a dry run, count) the conversations older than `days` at `now`, committing each batch.

    Args:
        progress: called with (done, due) after each batch.
    """
    if days <= 0:
        raise ValueError("retention needs a number of days above 0 (0 keeps everything)")
    before = cutoff(now, days)
    with session_scope(engine) as session:
        due = count_due(session, before)
        report = RetentionRun(cutoff=before, due=due, dry_run=dry_run)
        if dry_run:
            due_ids = select(Conversation.id).where(_due(before)).scalar_subquery()
            report.rows = _rows_of(session, due_ids)
            ids = session.scalars(select(Conversation.id).where(_due(before)))
            report.tracker_events = tracker.count_events(tracker_engine, ids)
            return report
    while report.deleted < due:
        with session_scope(engine) as session:
            query = select(Conversation.id).where(_due(before)).order_by(Conversation.last_message_at).limit(batch)
            ids = list(session.scalars(query))
            if not ids:
                break
            # Tracker first: if the app database then fails, the conversations are still found next time.
            report.tracker_events += tracker.delete_events(tracker_engine, ids)
            found = scopes.find(session, scopes.Scope(conversation_ids=ids, detached=scopes.RETENTION_DETACHED))
            for table, count in scopes.delete_rows(session, found).items():
                report.rows[table] = report.rows.get(table, 0) + count
        report.deleted += len(ids)
        if progress is not None:
            progress(min(report.deleted, due), due)
    return report
