"""Telling CSMs outside the console about handoffs: a handoff that opens, and one taken over or assigned, is posted to
`KEEPWELL_HANDOFF_WEBHOOK_URL` (off when unset) through the playbooks' delivery machinery (keepwell/webhooks.py:
signed, retried, every attempt on a `webhook_deliveries` row).

The delivery row is written in the transaction that opens or assigns the handoff, never sent there: the customer's
message (or the CSM's click) must not wait on a webhook. The gateway's sender (api/services/handoff_webhooks.py)
posts pending rows in the background; each sender leases a row before posting it, so replicas never double-send.

The body works as a Slack incoming webhook (`text`, Slack's mrkdwn) and carries structured fields for any other
receiver. A channel sees what a CSM needs to pick the conversation up: why, which account (or "Anonymous visitor"),
whose queue, and a link to the console; never what the customer wrote, nor an id that may be a person's email.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from keepwell import webhooks
from keepwell.models import Customer, WebhookDelivery, utcnow
from keepwell.settings import CoreSettings, get_core_settings

if TYPE_CHECKING:  # keepwell.handoffs imports this module
    from keepwell.handoffs import HandoffView

OPENED, ASSIGNED = "handoff.opened", "handoff.assigned"
SOURCE = "handoff"  # the delivery's `playbook` column: what raised it
KEY_PREFIX = "handoff:"
ANONYMOUS = "Anonymous visitor"
UNKNOWN_ACCOUNT = "Signed-in customer without an account on record"

# A failed notification (network, timeout, 429, 5xx) is tried again this long after its last round, for this long
# after the handoff; a refused one (another 4xx) is not: the same body would be refused again. Both stay visible
# on the console's success desk.
RETRY_FAILED_AFTER_S = 60.0
GIVE_UP_AFTER_S = 3600.0


def queue(
    session: Session, handoff: "HandoffView", event: str, settings: CoreSettings | None = None
) -> WebhookDelivery | None:
    """Add the notification of `event` for the handoff to the caller's transaction; None when the webhook is off."""
    settings = settings or get_core_settings()
    if not settings.handoff_webhook_url:
        return None
    now = utcnow()
    account = session.get(Customer, handoff.customer_id) if handoff.customer_id else None
    key = f"{KEY_PREFIX}{handoff.id}:opened"
    if event == ASSIGNED:  # a handoff can change hands many times, even back to the same CSM
        key = f"{KEY_PREFIX}{handoff.id}:assigned:{handoff.assigned_to_id}:{int(now.timestamp() * 1000)}"
    delivery = WebhookDelivery(
        event_key=key,
        playbook=SOURCE,
        account_id=account.id if account else None,
        conversation_id=handoff.conversation_id,
        url=settings.handoff_webhook_url,
        payload=payload(handoff, event, account.name if account else None, settings.public_url, now),
        status="pending",
        attempts=0,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def payload(
    handoff: "HandoffView", event: str, account_name: str | None, public_url: str | None, at: datetime
) -> dict[str, Any]:
    """The JSON body: Slack's `text`, and the same facts as fields."""
    if handoff.customer_id is None:
        customer = ANONYMOUS
    else:
        customer = account_name or UNKNOWN_ACCOUNT
    url = f"{public_url}/console/conversations/{quote(handoff.conversation_id, safe='')}" if public_url else None
    assignee = {"id": handoff.assigned_to_id, "name": handoff.assigned_to_name} if handoff.assigned_to_id else None
    return {
        "text": _text(event, handoff.kind_label, customer, assignee["name"] if assignee else None, url),
        "event": event,
        "handoff_id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "reason": handoff.kind,
        "reason_label": handoff.kind_label,
        "account_id": handoff.customer_id if account_name is not None else None,
        "customer": customer,
        "assigned_to": assignee,
        "url": url,
        "occurred_at": at.isoformat(),
    }


def _text(event: str, reason: str, customer: str, assignee: str | None, url: str | None) -> str:
    if event == OPENED:
        head = "*New handoff*"
        where = f"in {_escape(assignee)}'s queue" if assignee else "in the shared queue"
    else:
        head = "*Handoff taken*"
        where = f"now with {_escape(assignee or 'nobody')}"
    link = f"<{url}|Open the conversation>" if url else "open Handoffs in the Keepwell console"
    return f"{head} · {_escape(reason)} · {_escape(customer)} · {where} · {link}"


def _escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions such as <!channel>): an account name must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def due(
    session: Session,
    now: datetime,
    *,
    retry_after_s: float = RETRY_FAILED_AFTER_S,
    give_up_after_s: float = GIVE_UP_AFTER_S,
    limit: int = 50,
) -> list[int]:
    """Handoff notifications to post now, oldest first: the pending ones, and the failed ones worth another round;
    none another sender holds."""
    d = WebhookDelivery
    retryable = and_(
        d.status == "failed",
        or_(d.last_status_code.is_(None), d.last_status_code == 429, d.last_status_code >= 500),
        d.last_attempt_at < now - timedelta(seconds=retry_after_s),
        d.created_at > now - timedelta(seconds=give_up_after_s),
    )
    query = (
        select(d.id)
        .where(
            d.event_key.startswith(KEY_PREFIX),
            or_(d.lease_until.is_(None), d.lease_until < now),
            or_(d.status == "pending", retryable),
        )
        .order_by(d.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def send_due(session: Session, policy: webhooks.WebhookPolicy, now: datetime | None = None) -> webhooks.DeliveryStats:
    """Post the handoff notifications that are due (keepwell/webhooks.py leases, sends and records each)."""
    return webhooks.deliver(session, due(session, now or utcnow()), policy)
