"""api/services/redelivery.py: the worker sweeps after an answer only while messages wait for a late answer."""

from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from api.services.live import LiveSignals
from api.services.redelivery import Redelivery
from api.services.turns import NOTICE, Turns
from api.settings import Settings
from keepwell import conversations as log
from keepwell.bootstrap import prepare
from keepwell.db import get_engine, session_scope
from keepwell.models import utcnow
from tests.api.fakes import FakeRasa

pytestmark = pytest.mark.anyio


async def test_an_answer_wakes_the_worker_only_while_messages_wait(tmp_path: Path) -> None:
    # A long interval: every sweep seen below comes from the start, a wake, or the test itself.
    settings = Settings(data_dir=tmp_path, redelivery_interval_s=30, action_server_url="http://127.0.0.1:9")
    prepare(settings)
    engine = get_engine(settings.resolved_database_url)
    rasa, live = FakeRasa(), LiveSignals()
    turns = Turns(engine, rasa, None, live, settings)
    redelivery = Redelivery(engine, turns, rasa, live, settings)
    sweeps = 0
    sweep = redelivery.sweep

    async def counted() -> int:
        nonlocal sweeps
        sweeps += 1
        return await sweep()

    redelivery.sweep = counted  # type: ignore[method-assign]
    redelivery.start()
    try:
        await anyio.sleep(0.2)
        assert (sweeps, redelivery.has_backlog) == (1, False)
        turns.on_answer()  # what an answer does: nothing waits, so no sweep
        await anyio.sleep(0.2)
        assert sweeps == 1

        with session_scope(engine) as session:  # a message got the notice and waits out its backoff
            accepted = log.accept(session, log.open_conversation(session, None, None), "hello?", None, lease_s=30)
            log.give_notice(session, accepted.message.id, NOTICE)
            log.retry_later(session, accepted.message.id, utcnow() + timedelta(minutes=5))
        await redelivery.sweep()
        assert redelivery.has_backlog and sweeps == 2
        turns.on_answer()  # the assistant answers again: the worker looks at once
        await anyio.sleep(0.2)
        assert sweeps == 3
    finally:
        await redelivery.stop()
        engine.dispose()
