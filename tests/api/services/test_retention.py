"""api/services/retention.py: the gateway's daily run deletes what is past KEEPWELL_RETENTION_DAYS and audits it as
the system; with retention off it never starts."""

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from api.services.retention import RetentionWorker
from keepwell import audit
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import Conversation, utcnow


def test_a_run_deletes_and_audits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        for conversation_id, days in (("old", 31), ("new", 29)):
            at = utcnow() - timedelta(days=days)
            session.add(Conversation(id=conversation_id, created_at=at, last_message_at=at))
    worker = RetentionWorker(engine, make_engine(f"sqlite:///{tmp_path / 'conversations.db'}"), days=30)

    run = worker.run_once()

    assert run.deleted == 1
    with session_scope(engine) as session:
        assert session.scalars(select(Conversation.id)).all() == ["new"]
        [entry] = audit.list_events(session, action="retention.run").items
        assert (entry.actor, entry.detail["conversations"]) == ("system", 1)
    assert worker.run_once().deleted == 0
    with session_scope(engine) as session:
        assert audit.list_events(session, action="retention.run").total == 1  # an empty run is not logged
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
    engine.dispose()


def test_the_loop_runs_after_its_delay_and_stops(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    runs: list[int] = []

    async def scenario() -> None:
        worker = RetentionWorker(engine, engine, days=30, first_run_after_s=0.0, every_s=3600)
        worker.run_once = lambda: runs.append(1)  # type: ignore[method-assign,assignment,return-value]
        worker.start()
        for _ in range(100):
            if runs:
                break
            await asyncio.sleep(0.01)
        await worker.stop()
        off = RetentionWorker(engine, engine, days=0)
        off.start()
        assert not off.enabled and off._task is None
        await off.stop()

    asyncio.run(scenario())
    assert runs == [1]
    engine.dispose()
