"""api/services/handoff_webhooks.py: the gateway's sender posts a handoff notification another process queued at its
next look, one this gateway queued at once when woken, and after a failed round waits before looking again."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine, select

from api.services.handoff_webhooks import HandoffWebhookSender
from keepwell import conversations as log
from keepwell import handoffs, webhooks
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import WebhookDelivery
from keepwell.settings import CoreSettings
from tests.webhook_receiver import receiving

pytestmark = pytest.mark.anyio
POLICY = webhooks.WebhookPolicy(timeout_s=2.0, attempts=2, backoff_s=0.01)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _hand_over(engine: Engine, url: str) -> None:
    """What the action server does in its own process: the handoff and its notification, committed together."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    with session_scope(other) as session:
        conversation = log.start_conversation(session, None, "website")
        settings = CoreSettings(demo_mode=True, handoff_webhook_url=url)
        handoffs.request_handoff(session, conversation.id, None, "a person please", [], settings=settings)
    other.dispose()


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out waiting"
        await anyio.sleep(0.02)
    return time.monotonic() - started


async def test_a_notification_queued_elsewhere_is_posted_at_the_next_look(engine: Engine) -> None:
    with receiving() as hook:
        sender = HandoffWebhookSender(engine, POLICY, poll_s=0.1)
        sender.start()
        try:
            _hand_over(engine, hook.url)
            await _until(lambda: len(hook.requests) == 1)
        finally:
            await sender.stop()
    with session_scope(engine) as session:
        assert session.scalars(select(WebhookDelivery.status)).all() == ["delivered"]


async def test_a_wake_posts_at_once_and_a_failed_round_waits_unless_woken(engine: Engine) -> None:
    with receiving(statuses=[503, 503]) as hook:
        # Looks only every minute (and a minute after a failure): whatever is posted sooner was woken.
        sender = HandoffWebhookSender(engine, POLICY, poll_s=60.0, retry_after_s=60.0)
        sender.start()
        try:
            await anyio.sleep(0.2)  # the first look found nothing
            _hand_over(engine, hook.url)
            await anyio.to_thread.run_sync(sender.wake)  # from another thread, as a synchronous route does
            await _until(lambda: len(hook.requests) == 2)  # one failed round: 503 twice
            await anyio.sleep(0.5)
            assert len(hook.requests) == 2, "a receiver that is down is not hammered"

            _hand_over(engine, hook.url)  # a new handoff wakes it: its own round goes out (and succeeds)
            sender.wake()
            await _until(lambda: len(hook.requests) == 3)
        finally:
            await sender.stop()
    _assert_statuses(engine, ["failed", "delivered"])


def _assert_statuses(engine: Engine, expected: list[str]) -> None:
    with session_scope(engine) as session:
        assert session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)).all() == expected
