"""keepwell/db.py and the services over it, on SQLite and on a real PostgreSQL (the scale-out path)."""

from collections import OrderedDict
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from keepwell import accounts, db, demo_data, feedback, handoffs, health
from keepwell import conversations as log
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import Customer


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        db = make_engine(f"sqlite:///{tmp_path / 'nested' / 'keepwell.db'}")
    else:
        db = request.getfixturevalue("postgres_engine")
    upgrade(db)
    return db


def test_seeded_accounts_score_the_same_on_every_database(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert demo_data.seed(session) >= 60
    with session_scope(engine) as session:
        every = accounts.list_accounts(session)
        bands = {health.score(a).band for a in every}
        assert bands == {"green", "yellow", "red"}
        assert accounts.get_account(session, every[0].id) == every[0]


def test_a_failed_transaction_leaves_nothing_half_written(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        demo_data.seed(session)
        raise RuntimeError("crash mid-way")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_handoff_feedback_and_conversation_binding(engine: Engine) -> None:
    with session_scope(engine) as session:
        conversation = log.open_conversation(session, None, "cus_001")
        log.accept(session, conversation, "hello", None)
        handoff = handoffs.request_handoff(session, conversation.id, "cus_001", "billing question", [])
        feedback.record_feedback(session, conversation.id, "cus_001", "dark mode please")
    with session_scope(engine) as session:
        assert handoffs.is_active(session, conversation.id)
        with pytest.raises(log.ConversationForbidden):
            log.open_conversation(session, conversation.id, None)
        released = handoffs.release(session, handoff.id, "csm@demo.test")
        assert released is not None and released.status == "released"
    with session_scope(engine) as session:
        assert not handoffs.is_active(session, conversation.id)
        assert [f.text for f in feedback.list_feedback(session)] == ["dark mode please"]


def test_the_shared_engine_is_one_per_url_and_an_evicted_one_is_disposed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "_ENGINES_KEPT", 2)
    monkeypatch.setattr(db, "_engines", OrderedDict())
    first_url, second_url, third_url = (f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c"))
    first = db.get_engine(first_url)
    assert db.get_engine(first_url) is first
    with first.connect() as connection:  # leaves a pooled connection behind
        connection.execute(text("SELECT 1"))
    assert first.pool.checkedin() == 1
    db.get_engine(second_url)
    db.get_engine(third_url)  # three URLs, two kept: the least recently used one goes, its connections closed
    assert first.pool.checkedin() == 0
    assert db.get_engine(first_url) is not first

    db.dispose_engine(third_url)
    assert third_url not in db._engines
