"""keepwell/handoff_webhook.py (with keepwell/handoffs.py and keepwell/webhooks.py), on SQLite and PostgreSQL: a
handoff that opens or changes hands queues its notification in its own transaction; a real receiver on 127.0.0.1
gets a signed Slack-compatible body without the customer's words; retries, refusals, anonymous visitors, and two
senders racing for the same rows."""

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from keepwell import handoff_webhook, handoffs, staff, webhooks
from keepwell.db import make_engine, session_factory
from keepwell.models import WebhookDelivery, utcnow
from keepwell.settings import CoreSettings
from keepwell.staff import StaffView
from tests.webhook_receiver import Receiver, receiving

SECRET = "a-webhook-secret-of-some-length"
PUBLIC = "https://chat.example.test"
FAST = webhooks.WebhookPolicy(timeout_s=2.0, attempts=3, backoff_s=0.01, secret=SECRET)
WORDS = "my card 4111 1111 1111 1111 was charged twice, call me on +44 20 7946 0000"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as hook:
        yield hook


def _settings(url: str | None) -> CoreSettings:
    return CoreSettings(demo_mode=True, handoff_webhook_url=url, public_url=PUBLIC + "/", webhook_secret=SECRET)


def _open(db: Session, conversation_id: str, customer_id: str | None, settings: CoreSettings) -> handoffs.HandoffView:
    transcript = [{"role": "user", "text": WORDS, "intent": "request_human"}]
    handoff = handoffs.request_handoff(db, conversation_id, customer_id, WORDS, transcript, settings=settings)
    db.commit()
    return handoff


def _deliveries(db: Session) -> list[WebhookDelivery]:
    db.expire_all()
    return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_opened_handoff_is_posted_signed_with_slack_text_fields_and_a_console_link(
    db: Session, conversation: Callable[..., str], csm: StaffView, receiver: Receiver
) -> None:
    conversation_id = conversation("cus_1", owner=csm, name="Bluefin <!channel> & Co")
    handoff = _open(db, conversation_id, "cus_1", _settings(receiver.url))
    [queued] = _deliveries(db)
    assert (queued.status, queued.playbook, queued.account_id, queued.conversation_id) == (
        "pending", "handoff", "cus_1", conversation_id,
    )  # fmt: skip
    assert receiver.requests == [], "queued with the handoff, never sent inside its transaction"

    stats = handoff_webhook.send_due(db, FAST)

    assert (stats.delivered, stats.failed) == (1, 0)
    assert receiver.signed_correctly(SECRET)
    assert receiver.delivery_keys == [f"handoff:{handoff.id}:opened"]
    [body] = receiver.bodies
    link = f"{PUBLIC}/console/conversations/{conversation_id}"
    assert body["text"] == (
        f"*New handoff* · Asked for a person · Bluefin &lt;!channel&gt; &amp; Co · in Ada Lovelace's queue · "
        f"<{link}|Open the conversation>"
    )
    assert {k: v for k, v in body.items() if k not in ("text", "occurred_at")} == {
        "event": "handoff.opened", "handoff_id": handoff.id, "conversation_id": conversation_id,
        "reason": "asked_for_person", "reason_label": "Asked for a person", "account_id": "cus_1",
        "customer": "Bluefin <!channel> & Co", "assigned_to": {"id": csm.id, "name": "Ada Lovelace"}, "url": link,
    }  # fmt: skip
    raw = receiver.requests[0][1].decode()
    assert "4111" not in raw and "7946" not in raw, "the customer's words stay in the console"
    [sent] = _deliveries(db)
    assert (sent.status, sent.attempts, sent.last_status_code, sent.lease_until) == ("delivered", 1, 200, None)


@pytest.mark.parametrize(("customer_id", "label"), [(None, "Anonymous visitor"), ("someone@example.test", None)])
def test_a_handoff_without_an_account_is_delivered_with_no_account(
    db: Session, conversation: Callable[..., str], receiver: Receiver, customer_id: str | None, label: str | None
) -> None:
    """A visitor, or an id naming no account (a host may identify people by email): NULL account, and the id is
    never posted."""
    conversation_id = conversation(customer_id, name="")
    _open(db, conversation_id, customer_id, _settings(receiver.url))
    [queued] = _deliveries(db)
    assert queued.account_id is None

    assert handoff_webhook.send_due(db, FAST).delivered == 1

    [body] = receiver.bodies
    assert body["account_id"] is None and body["assigned_to"] is None
    assert body["customer"] == (label or handoff_webhook.UNKNOWN_ACCOUNT)
    assert "in the shared queue" in body["text"]
    assert "someone@example.test" not in receiver.requests[0][1].decode()
    assert _deliveries(db)[0].status == "delivered"


def test_the_notification_is_written_with_the_handoff_or_not_at_all(
    db: Session, conversation: Callable[..., str], receiver: Receiver
) -> None:
    conversation_id = conversation()
    handoffs.request_handoff(db, conversation_id, None, "help", [], settings=_settings(receiver.url))
    db.rollback()
    assert _deliveries(db) == [] and not handoffs.is_active(db, conversation_id)


def test_nothing_is_queued_when_the_webhook_is_off(db: Session, conversation: Callable[..., str]) -> None:
    _open(db, conversation(), None, _settings(None))
    assert _deliveries(db) == []


def test_a_take_over_and_a_first_reply_from_the_shared_queue_notify_the_new_assignee(
    db: Session, conversation: Callable[..., str], csm: StaffView, receiver: Receiver
) -> None:
    settings = _settings(receiver.url)
    grace = staff.create(db, "grace@example.test", "a long enough password", display_name="Grace Hopper")
    shared = _open(db, conversation(), None, settings)
    owned = _open(db, conversation("cus_1", owner=csm), "cus_1", settings)

    handoffs.reply(db, shared.id, grace, "Hello, Grace here.", settings)  # from the shared queue: assigned
    handoffs.reply(db, shared.id, grace, "Still here.", settings)  # already hers: nothing new
    handoffs.take_over(db, owned.id, grace, settings)
    handoffs.take_over(db, owned.id, grace, settings)  # hers already: nothing new
    db.commit()
    assert handoff_webhook.send_due(db, FAST).delivered == 4

    events = [(body["event"], body["handoff_id"], (body["assigned_to"] or {}).get("name")) for body in receiver.bodies]
    assert events == [
        ("handoff.opened", shared.id, None),
        ("handoff.opened", owned.id, "Ada Lovelace"),
        ("handoff.assigned", shared.id, "Grace Hopper"),
        ("handoff.assigned", owned.id, "Grace Hopper"),
    ]
    assert receiver.bodies[3]["text"].startswith("*Handoff taken* · Asked for a person · Bluefin · now with Grace")


def test_a_500_is_retried_within_the_round_and_a_400_is_not_retried_later(
    db: Session, conversation: Callable[..., str]
) -> None:
    with receiving(statuses=[500]) as flaky, receiving(status=400) as refusing, receiving(status=503) as down:
        for hook in (flaky, refusing, down):
            _open(db, conversation(), None, _settings(hook.url))
        stats = handoff_webhook.send_due(db, FAST)
        assert (stats.delivered, stats.failed) == (1, 2)
        retried, refused, failed = _deliveries(db)
        assert (retried.status, retried.attempts, retried.last_status_code) == ("delivered", 2, 200)
        assert (refused.status, refused.attempts, refused.last_error) == ("failed", 1, "HTTP 400: nope")
        assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 3, 503)

        # Right after the round nothing is due; a minute later the 503 is, never the refusal; after an hour, nothing.
        now = utcnow()
        assert handoff_webhook.due(db, now) == []
        assert handoff_webhook.due(db, now + timedelta(seconds=61)) == [failed.id]
        assert handoff_webhook.due(db, now + timedelta(hours=2)) == []
        down.status = 200  # the receiver is back
        assert handoff_webhook.send_due(db, FAST, now + timedelta(seconds=61)).delivered == 1
        assert [d.status for d in _deliveries(db)] == ["delivered", "failed", "delivered"]
        assert len(refusing.requests) == 1


def test_a_held_delivery_waits_for_its_lease_to_run_out(db: Session, conversation: Callable[..., str]) -> None:
    """A sender that died while posting: nobody else takes the row until its lease passes."""
    _open(db, conversation(), None, _settings("http://127.0.0.1:9/hook"))
    [row] = _deliveries(db)
    now = utcnow()
    row.lease_until = now + timedelta(seconds=30)
    db.commit()
    assert handoff_webhook.due(db, now) == []
    assert webhooks.deliver(db, [row.id], FAST).taken == 1
    assert handoff_webhook.due(db, now + timedelta(seconds=31)) == [row.id]


def test_two_senders_racing_post_each_notification_once(
    migrated: Engine, conversation: Callable[..., str], db: Session
) -> None:
    """Two gateway replicas sweep the same rows at the same moment (each with its own engine, as two processes)."""
    with receiving(delay_s=0.05) as hook:
        for _ in range(8):
            _open(db, conversation(), None, _settings(hook.url))
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def sender() -> None:
            engine = make_engine(migrated.url.render_as_string(hide_password=False))
            try:
                with session_factory(engine)() as session:
                    barrier.wait()
                    results.append(handoff_webhook.send_due(session, FAST))
            finally:
                engine.dispose()

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert len(results) == 2
        assert sorted(hook.delivery_keys) == sorted(set(hook.delivery_keys)) and len(hook.delivery_keys) == 8
        assert sum(r.delivered for r in results) == 8 and all(r.delivered for r in results), "both did a share"
        assert {d.status for d in _deliveries(db)} == {"delivered"}
