"""keepwell/playbooks.py and keepwell/webhooks.py: triggers, CSM tasks raised once, webhook calls retried with
backoff against a real local HTTP server, failures stored and logged; YAML errors name file and line."""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import playbooks, signals, staff, webhooks
from keepwell.models import CSMTask, Customer, HealthSnapshot, WebhookDelivery
from keepwell.settings import CoreSettings

TODAY = date(2025, 6, 1)
SECRET = "a-webhook-secret-of-some-length"
FAST = webhooks.WebhookPolicy(timeout_s=2.0, attempts=3, backoff_s=0.01, secret=SECRET)


class _Receiver:
    """A webhook receiver on 127.0.0.1 that answers `failures` 503s, then 200s (or `status` every time)."""

    def __init__(self, failures: int = 0, status: int = 200) -> None:
        self.failures, self.status = failures, status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.times: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                receiver.times.append(time.monotonic())
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else receiver.status)
                self.end_headers()
                self.wfile.write(b"busy" if failing else b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., _Receiver]]:
    started: list[_Receiver] = []

    def start(**kwargs: Any) -> _Receiver:
        started.append(_Receiver(**kwargs))
        return started[-1]

    yield start
    for one in started:
        one.close()


@pytest.fixture
def owner(db: Session) -> int:
    return staff.create(db, "owner@demo.test", "a long enough password 123", role="csm").id


@pytest.fixture
def customer(db: Session, owner: int) -> Callable[..., Customer]:
    def _add(customer_id: str, **overrides: Any) -> Customer:
        fields: dict[str, Any] = {
            "name": f"Account {customer_id}", "plan": "growth", "company_size": "mid", "lifecycle_stage": "mature",
            "mrr": 4800.0, "seats_purchased": 20, "seats_used": 18, "signup_date": date(2024, 1, 1),
            "renewal_date": date(2026, 1, 1), "owner_csm_id": owner,
        }  # fmt: skip
        fields.update(overrides)
        row = Customer(id=customer_id, **fields)
        db.add(row)
        db.flush()
        return row

    return _add


def _health(db: Session, account_id: str, *bands_oldest_first: str) -> None:
    for n, band in enumerate(reversed(bands_oldest_first)):
        score = {"green": 80, "yellow": 55, "red": 25}[band]
        db.add(HealthSnapshot(account_id=account_id, as_of=TODAY - timedelta(days=7 * n), scorecard="default",
                              score=score, band=band))  # fmt: skip
    db.flush()


def _config(text: str, tmp_path: Path) -> playbooks.Playbooks:
    path = tmp_path / "playbooks.yml"
    path.write_text(text)
    return playbooks.load(path)


def _settings(**overrides: Any) -> CoreSettings:
    return CoreSettings(demo_mode=True, **overrides)  # type: ignore[call-arg]


TURNED_RED = """
playbooks:
  - id: turned-red
    trigger: {type: turned_red}
    actions:
      - {type: create_task, title: "{account_name} turned red ({score}/100)", detail: "MRR ${mrr}", due_in_days: 2}
      - {type: webhook, url: URL}
"""


def test_turning_red_raises_one_task_for_the_owner_and_one_signed_webhook_call(
    db: Session, customer, owner: int, receiver, tmp_path: Path
) -> None:
    hook = receiver()
    config = _config(TURNED_RED.replace("URL", hook.url), tmp_path)
    customer("cus_fell")
    _health(db, "cus_fell", "green", "yellow", "red")  # yellow -> red: turned red
    customer("cus_always_red")
    _health(db, "cus_always_red", "red", "red")  # red before too: nothing new
    customer("cus_recovered")
    _health(db, "cus_recovered", "red", "yellow")
    customer("cus_first_red")
    _health(db, "cus_first_red", "red")  # a single snapshot: no change to see

    summary = playbooks.run(db, TODAY, config, _settings(), FAST)

    [task] = db.scalars(select(CSMTask)).all()
    assert (task.account_id, task.owner_id, task.title) == ("cus_fell", owner, "Account cus_fell turned red (25/100)")
    assert task.detail == "MRR $4,800" and task.due_on == TODAY + timedelta(days=2)
    assert task.source == "playbook:turned-red" and task.source_key == f"playbook:turned-red:cus_fell:{TODAY}"
    [(headers, body)] = hook.requests
    payload = json.loads(body)
    assert payload["event"] == "turned_red" and payload["account"]["id"] == "cus_fell"
    assert payload["account"]["owner"] == "owner@demo.test" and payload["task"]["key"] == task.source_key
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Keepwell-Signature"] == expected
    assert headers["X-Keepwell-Delivery"] == f"playbook:turned-red:cus_fell:{TODAY}:webhook"
    assert (summary.events, summary.tasks_created, summary.calls.delivered) == (1, 1, 1)

    again = playbooks.run(db, TODAY, config, _settings(), FAST)
    assert (again.tasks_created, again.deliveries_created, len(hook.requests)) == (0, 0, 1)
    assert len(db.scalars(select(CSMTask)).all()) == 1


def test_a_webhook_failing_twice_is_retried_with_backoff_and_delivered(
    db: Session, customer, receiver, tmp_path: Path
) -> None:
    hook = receiver(failures=2)
    customer("cus_fell")
    _health(db, "cus_fell", "green", "red")
    backoff = webhooks.WebhookPolicy(timeout_s=2.0, attempts=3, backoff_s=0.2)
    summary = playbooks.run(db, TODAY, _config(TURNED_RED.replace("URL", hook.url), tmp_path), _settings(), backoff)
    [delivery] = db.scalars(select(WebhookDelivery)).all()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.last_error is None and delivery.delivered_at is not None
    assert len(hook.requests) == 3 and len({h["X-Keepwell-Delivery"] for h, _ in hook.requests}) == 1
    assert summary.calls.delivered == 1 and summary.calls.failed == 0
    # Exponential backoff: 0.2 s before the second attempt, 0.4 s before the third (at least; never less).
    first_wait, second_wait = hook.times[1] - hook.times[0], hook.times[2] - hook.times[1]
    assert first_wait >= 0.2 and second_wait >= 0.4


def test_a_webhook_that_always_fails_is_stored_failed_and_logged_then_tried_again_next_run(
    db: Session, customer, receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hook = receiver(failures=1000)
    customer("cus_a")
    _health(db, "cus_a", "green", "red")
    customer("cus_b")
    _health(db, "cus_b", "yellow", "red")
    config = _config(TURNED_RED.replace("URL", hook.url), tmp_path)
    with caplog.at_level(logging.WARNING, logger="keepwell.webhooks"):
        summary = playbooks.run(db, TODAY, config, _settings(), FAST)
    first, second = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.account_id)).all()
    assert (first.status, first.attempts, first.last_status_code) == ("failed", 3, 503)
    assert first.last_error == "HTTP 503: busy"
    # The URL just failed a whole round: the second call waits for the next run instead of sleeping through its own.
    assert (second.status, second.attempts) == ("pending", 0) and "next run" in (second.last_error or "")
    assert (summary.calls.failed, summary.calls.waiting, len(hook.requests)) == (1, 1, 3)
    assert any("failed after 3 attempts" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2
    assert all("/hook" not in r.getMessage() for r in caplog.records)  # a URL's path may hold a secret: host only
    # The tasks are there whatever the webhook does.
    assert len(db.scalars(select(CSMTask)).all()) == 2

    hook.failures = 0  # the receiver is back
    later = playbooks.run(db, TODAY, config, _settings(), FAST)
    db.expire_all()
    assert {d.status for d in db.scalars(select(WebhookDelivery))} == {"delivered"}
    assert later.calls.delivered == 2 and later.tasks_created == 0


def test_a_refusal_is_not_retried_and_an_unreachable_receiver_is(db: Session, customer, receiver, tmp_path) -> None:
    hook = receiver(status=400)
    customer("cus_a")
    _health(db, "cus_a", "green", "red")
    playbooks.run(db, TODAY, _config(TURNED_RED.replace("URL", hook.url), tmp_path), _settings(), FAST)
    [refused] = db.scalars(select(WebhookDelivery)).all()
    assert (refused.status, refused.attempts, refused.last_status_code) == ("failed", 1, 400)

    closed = receiver()
    closed.close()  # nothing listens there any more
    customer("cus_b")
    _health(db, "cus_b", "green", "red")
    playbooks.run(db, TODAY, _config(TURNED_RED.replace("URL", closed.url), tmp_path), _settings(), FAST)
    unreachable = db.scalars(select(WebhookDelivery).where(WebhookDelivery.account_id == "cus_b")).one()
    assert (unreachable.status, unreachable.attempts, unreachable.last_status_code) == ("failed", 3, None)
    assert "ConnectError" in (unreachable.last_error or "")


def test_signal_and_renewal_triggers_and_the_settings_webhook_url(db: Session, customer, receiver, tmp_path) -> None:
    hook = receiver()
    config = _config(
        """
playbooks:
  - id: leaving
    trigger: {type: signal_opened, signals: [cancellation_request]}
    actions:
      - {type: create_task, title: "{signal}: {account_name}", detail: "{evidence}", due_in_days: 1}
      - {type: webhook}
  - id: renewal-30
    trigger: {type: renewal_within, days: 30}
    actions:
      - {type: create_task, title: "Renewal of {account_name} in {days_to_renewal} days"}
""",
        tmp_path,
    )
    customer("cus_leaving")
    signal_id, _ = signals.open_cancellation_request(db, "cus_leaving", "cancelling", "we want to cancel", "conv-1")
    signals.open_signal(db, "cus_leaving", signals.IDLE_SEATS, {"summary": "2 of 20 seats used"})  # not listed
    customer("cus_renewing", renewal_date=TODAY + timedelta(days=30))
    customer("cus_later", renewal_date=TODAY + timedelta(days=31))

    playbooks.run(db, TODAY, config, _settings(webhook_url=hook.url), FAST)

    tasks = {t.account_id: t for t in db.scalars(select(CSMTask))}
    assert set(tasks) == {"cus_leaving", "cus_renewing"}
    assert tasks["cus_leaving"].title == "Asked to cancel or downgrade in chat: Account cus_leaving"
    assert tasks["cus_leaving"].detail == "asked about cancelling in chat: “we want to cancel”"
    assert tasks["cus_leaving"].signal_id == signal_id
    assert tasks["cus_renewing"].title == "Renewal of Account cus_renewing in 30 days"
    [(_headers, body)] = hook.requests
    assert json.loads(body)["signal"]["kind"] == "cancellation_request"


def test_without_any_webhook_url_the_action_is_off_and_tasks_still_come(db: Session, customer, tmp_path) -> None:
    customer("cus_a")
    _health(db, "cus_a", "green", "red")
    config = _config(TURNED_RED.replace("url: URL", "note: x").replace(", note: x", ""), tmp_path)
    summary = playbooks.run(db, TODAY, config, _settings(), FAST)
    assert summary.tasks_created == 1 and summary.deliveries_created == 0


def test_the_bundled_playbooks_load() -> None:
    ids = [playbook.id for playbook in playbooks.load(playbooks.DEFAULT_PLAYBOOKS_PATH).playbooks]
    assert "turned-red" in ids and len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "playbooks:\n  - id: a\n    trigger: {type: renewal_within, days: 0}\n"
            "    actions: [{type: create_task, title: x}]\n",
            3,
            "playbook #1 (a) trigger.renewal_within.days: Input should be greater than or equal to 1",
        ),
        (
            "playbooks:\n  - id: a\n    trigger: {type: turned_red}\n    actions:\n      - type: create_task\n"
            "        title: '{account} is red'\n",
            6,
            "unknown template fields ['account']",
        ),
        (
            "playbooks:\n  - id: a\n    trigger:\n      type: signal_opened\n      signals: [bored]\n"
            "    actions: [{type: webhook}]\n",
            5,
            "unknown signal kinds ['bored']",
        ),
        (
            "playbooks:\n  - id: a\n    trigger: {type: turned_blue}\n    actions: [{type: webhook}]\n",
            3,
            "trigger: Input tag 'turned_blue' found using 'type' does not match any of the expected tags",
        ),
        (
            "playbooks:\n  - id: a\n    trigger: {type: turned_red}\n    actions: [{type: webhook, url: 'ftp://x'}]\n",
            4,
            "String should match pattern",
        ),
    ],
)
def test_a_bad_playbooks_file_names_the_file_and_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "playbooks.yml"
    path.write_text(text)
    with pytest.raises(playbooks.PlaybookError) as error:
        playbooks.load(path)
    assert f"{path}:{line}:" in str(error.value) and message in str(error.value)


def test_duplicate_ids_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "playbooks.yml"
    one = "  - id: a\n    trigger: {type: turned_red}\n    actions: [{type: webhook}]\n"
    path.write_text("playbooks:\n" + one + one)
    with pytest.raises(playbooks.PlaybookError, match="duplicate playbook ids"):
        playbooks.load(path)
    path.write_text("playbooks: [\n")
    with pytest.raises(playbooks.PlaybookError, match="is not valid YAML"):
        playbooks.load(path)
