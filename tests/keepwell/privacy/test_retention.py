"""keepwell/privacy/retention.py: conversations past the retention period (by last activity, at an explicit time)
go with their messages, flags, handoffs, feedback and tracker events; newer ones, and one a person is handling,
stay; a dry run deletes nothing; the run goes in batches."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from keepwell.models import Conversation, Feedback, Handoff, Message, OfferEvent, TrainingExample
from keepwell.privacy import retention
from tests.api.conftest import TrackerEvents
from tests.keepwell.privacy.test_erasure import _conversation, _customer

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _seed(session: Session, tracker: TrackerEvents) -> None:
    _customer(session, "cus_1", "Keeper Mills")
    ages = {"old-1": 200, "old-2": 91, "edge": 90, "new": 3, "old-handled": 300}
    for conversation_id, days in ages.items():
        _conversation(session, tracker, conversation_id, "cus_1", f"said in {conversation_id}")
        last = NOW - timedelta(days=days, seconds=-1 if days == 90 else 0)
        session.get(Conversation, conversation_id).last_message_at = last  # type: ignore[union-attr]
    # A person still has this one: kept whatever its age.
    session.execute(Handoff.__table__.update().where(Handoff.conversation_id != "old-handled").values(status="closed"))
    session.add(OfferEvent(account_id="cus_1", offer_id="annual", event="shown", conversation_id="old-1"))
    session.commit()


def _left(session: Session) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(Conversation.id)))


def test_a_run_deletes_what_is_past_retention_in_batches(engine: Engine, session: Session, tmp_path: Path) -> None:
    tracker = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    _seed(session, tracker)
    progress: list[tuple[int, int]] = []

    run = retention.run(engine, tracker._engine, 90, NOW, batch=1, progress=lambda *p: progress.append(p))

    assert (run.due, run.deleted) == (2, 2)
    assert progress == [(1, 2), (2, 2)]
    assert _left(session) == ["edge", "new", "old-handled"]
    assert run.rows["messages"] == 4 and run.rows["handoffs"] == 2 and run.rows["feedback"] == 2
    assert run.rows["conversation_flags"] == 2 and run.tracker_events == 2 * 5
    assert session.scalar(select(func.count()).select_from(Message)) == 6
    assert session.scalar(select(func.count()).select_from(Feedback)) == 3
    # The funnel keeps counting the showing; it no longer points at the deleted conversation.
    assert session.scalars(select(OfferEvent.conversation_id)).all() == [None]
    # A CSM's training examples are kept for the model; those of the conversations that went are detached.
    examples = dict(session.execute(select(TrainingExample.text, TrainingExample.conversation_id)).all())
    kept = {"edge": "edge", "new": "new", "old-handled": "old-handled", "old-1": None, "old-2": None}
    assert examples == {f"said in {name}": conversation for name, conversation in kept.items()}
    with tracker._engine.connect() as connection:
        senders = {row[0] for row in connection.exec_driver_sql("SELECT DISTINCT sender_id FROM events")}
    assert senders == {"edge", "new", "old-handled"}
    assert "2 conversations due, deleted 2" in str(run)
    again = retention.run(engine, tracker._engine, 90, NOW)
    assert (again.due, again.deleted) == (0, 0)
    tracker.close()


def test_a_dry_run_counts_and_deletes_nothing(engine: Engine, session: Session, tmp_path: Path) -> None:
    tracker = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    _seed(session, tracker)

    run = retention.run(engine, tracker._engine, 90, NOW, dry_run=True)

    assert run.due == 2 and run.rows["messages"] == 4 and run.rows["conversations"] == 2 and run.tracker_events == 10
    assert "would delete 2" in str(run)
    assert len(_left(session)) == 5
    tracker.close()


def test_zero_days_is_refused() -> None:
    with pytest.raises(ValueError, match="above 0"):
        retention.run(None, None, 0, NOW)  # type: ignore[arg-type]
