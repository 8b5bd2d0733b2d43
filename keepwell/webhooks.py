"""Delivering playbook and handoff events to webhooks: signed JSON posts, retried with exponential backoff
(tenacity), every attempt's outcome stored on the `webhook_deliveries` row and failures logged, never silent.

What is retried: a connection error, a timeout, 429 and any 5xx. Another 4xx means the receiver refuses this request
as it is, so the delivery fails at once. A delivery that used up its attempts is `failed` and is tried again (a new
round of attempts) by the next playbook run, and a handoff's by the gateway's sender (keepwell/handoff_webhook.py);
within one run, once a URL has failed a whole round, the other deliveries to it wait for the next run (`pending`,
with the reason) instead of each sleeping through its own backoff.

A sender holds each delivery while it posts it (`lease_until`, taken by a guarded UPDATE), so two senders (gateway
replicas, or a playbook run beside them) never post the same one twice; a sender that dies loses it when the lease
runs out.

The receiver can check where a call came from: `X-Keepwell-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw
body under `KEEPWELL_WEBHOOK_SECRET` (absent when no secret is set), and `X-Keepwell-Delivery` is the event key,
the same on every retry, so a receiver can drop a repeat.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from keepwell.models import WebhookDelivery, as_utc, utcnow
from keepwell.settings import CoreSettings, get_core_settings

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
# The longest wait between two attempts, whatever the backoff setting.
MAX_WAIT_S = 30.0
# Added to the longest a round of attempts can take, for the lease a sender holds a delivery with.
_LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class WebhookPolicy:
    """How calls are made: timeout, attempts per round, the first backoff (doubling after), the signing secret."""

    timeout_s: float = 5.0
    attempts: int = 4
    backoff_s: float = 0.5
    secret: str | None = None

    @classmethod
    def from_settings(cls, settings: CoreSettings | None = None) -> "WebhookPolicy":
        s = settings or get_core_settings()
        return cls(
            timeout_s=s.webhook_timeout_s,
            attempts=s.webhook_attempts,
            backoff_s=s.webhook_backoff_s,
            secret=s.webhook_secret,
        )

    @property
    def lease_s(self) -> float:
        """How long a sender holds a delivery: the longest round of attempts (every call timing out, every backoff
        slept) and a margin, so the lease never runs out while the sender still works on it."""
        waits = sum(min(self.backoff_s * 2**n, MAX_WAIT_S) for n in range(self.attempts - 1))
        return self.attempts * self.timeout_s + waits + _LEASE_MARGIN_S


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed: int = 0
    waiting: int = 0  # not attempted this run: their URL had just failed
    taken: int = 0  # held by another sender at the time (or delivered by it meanwhile)
    failed_ids: list[int] = field(default_factory=list)


class _Retryable(Exception):
    """A failure worth another attempt: the network, a timeout, 429 or 5xx."""


class _Refused(Exception):
    """The receiver refused the request (a 4xx other than 429): retrying the same body will not help."""


def _host(url: str) -> str:
    """Where a URL points, for the log: many webhook URLs carry their own secret in the path (Slack's do)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def signature(body: bytes, secret: str) -> str:
    """The value of X-Keepwell-Signature for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(session: Session, delivery_ids: Iterable[int], policy: WebhookPolicy | None = None) -> DeliveryStats:
    """Send the given deliveries (pending or failed ones; delivered ones are skipped), committing each outcome.

    Each row is claimed (leased) and committed before its call, and its outcome committed after, so no database
    transaction stays open across network waits and no other sender posts it meanwhile.
    """
    policy = policy or WebhookPolicy.from_settings()
    stats = DeliveryStats()
    failing_urls: set[str] = set()
    ids = list(delivery_ids)
    if not ids:
        return stats
    session.commit()  # nothing of ours may hold a transaction (and on SQLite the write lock) during the calls
    with httpx.Client(timeout=policy.timeout_s, follow_redirects=False) as client:
        for delivery_id in ids:
            if not _claim(session, delivery_id, policy.lease_s):
                stats.taken += 1
                continue
            delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
            if delivery is None:
                continue
            if delivery.url in failing_urls:
                delivery.last_error = "not attempted: this URL failed earlier in the same run; next run tries again"
                stats.waiting += 1
            elif _send(client, delivery, policy):
                stats.delivered += 1
            else:
                stats.failed += 1
                stats.failed_ids.append(delivery.id)
                failing_urls.add(delivery.url)
            delivery.lease_until = None
            session.commit()
    return stats


def _claim(session: Session, delivery_id: int, lease_s: float) -> bool:
    """Hold a delivery not delivered yet that no other sender holds; committed at once so the others see it."""
    now = utcnow()
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status != "delivered",
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
        )
        .values(lease_until=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def due(session: Session, key_prefix: str = "") -> list[int]:
    """Deliveries not delivered yet (pending or failed) whose event key starts with `key_prefix`, oldest first."""
    query = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status != "delivered", WebhookDelivery.event_key.startswith(key_prefix))
        .order_by(WebhookDelivery.id)
    )
    return list(session.scalars(query))


def _send(client: httpx.Client, delivery: WebhookDelivery, policy: WebhookPolicy) -> bool:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", "X-Keepwell-Delivery": delivery.event_key,
               "X-Keepwell-Event": str(delivery.payload.get("event", ""))}  # fmt: skip
    if policy.secret:
        headers["X-Keepwell-Signature"] = signature(body, policy.secret)

    def attempt() -> None:
        delivery.attempts += 1
        delivery.last_attempt_at = utcnow()
        try:
            response = client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.last_status_code = None
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        delivery.last_status_code = response.status_code
        if response.is_success:
            return
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(error)
        raise _Refused(error)

    def log_retry(state: RetryCallState) -> None:
        logger.warning(
            "webhook %s for %s: attempt %d failed (%s); retrying",
            _host(delivery.url),
            delivery.event_key,
            state.attempt_number,
            state.outcome.exception() if state.outcome else "?",
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.backoff_s, max=MAX_WAIT_S),
        retry=retry_if_exception_type(_Retryable),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        retrying(attempt)
    except (_Retryable, _Refused) as exc:
        delivery.status = "failed"
        delivery.last_error = str(exc)[:MAX_ERROR_CHARS]
        logger.error(
            "webhook delivery %s to %s failed after %d attempts: %s",
            delivery.event_key,
            _host(delivery.url),
            delivery.attempts,
            delivery.last_error,
        )
        return False
    delivery.status = "delivered"
    delivery.delivered_at = utcnow()
    delivery.last_error = None
    return True


@dataclass(frozen=True)
class DeliveryView:
    id: int
    playbook: str
    account_id: str | None
    conversation_id: str | None
    url: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None


def undelivered(session: Session, limit: int = 200) -> list[DeliveryView]:
    """Failed and pending deliveries, newest first: what the console shows so no failure goes unseen."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status != "delivered")
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return [
        DeliveryView(
            id=d.id,
            playbook=d.playbook,
            account_id=d.account_id,
            conversation_id=d.conversation_id,
            url=d.url,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=as_utc(d.created_at),
            last_attempt_at=as_utc(d.last_attempt_at) if d.last_attempt_at else None,
        )
        for d in session.scalars(query)
    ]
