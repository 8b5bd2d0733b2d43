"""Erasing one customer everywhere (the right to erasure), by the id the chat knows them by: the `sub` of their
identity token, which is what `conversations.customer_id` holds.

What goes depends on what the id names (the product's decision, README "Privacy"):

- an **account** (a `customers` row, the usual case: Keepwell identifies customers by account): everything about
  it: its conversations and their messages, flags, handoffs, feedback, and the account with its contacts,
  subscriptions, usage, health snapshots, churn signals, tasks, tickets, surveys, offer events and webhook calls;
- a **person** (a contact whose external id or email it is, for hosts that identify people): the contact, what
  they said in tickets and surveys, and the conversations under that id; the account stays;
- anything else (a visitor id): the conversations under that id.

Saved inbox views whose filter names the customer are deleted (a view of an erased customer shows nothing; its
query would keep their id or name). Training examples taken from the customer's messages go with the conversations;
the caller then rewrites the training file made from them (`keepwell.conversations.training.write_nlu_file`).

Rasa's tracker store loses the conversations' events first (a failure after that leaves the app database as it
was, and running the erasure again finishes it). The audit log keeps its entries but loses the customer: values
naming them become "[erased]". The erasure's own audit entry names a keyed hash of the id, never the id, so
"was this customer erased?" can be answered without keeping who they were. The cached vectors of their messages
(`message_vectors`, kept by the unanswered-questions page) and the marks of those a CSM handled go with the messages
(foreign keys to them, so the scope walk finds them); the knowledge base embeds articles only.
Erasing twice is harmless: the second finds nothing.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import Engine, Text, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from keepwell.identity import is_customer_id
from keepwell.models import AuditEvent, Contact, Conversation, Customer, SavedView
from keepwell.privacy import scope as scopes
from keepwell.privacy import tracker

ERASED = "[erased]"
# Names shorter than this are not searched for in the audit log: "Al" would scrub half of it.
_MIN_NEEDLE = 3


class ErasureError(ValueError):
    """The id given cannot name a customer; the message is safe to show."""


@dataclass
class ErasureReport:
    """What an erasure removed; counts only, so it can go into the audit log."""

    subject: str  # keyed hash of the customer id
    kind: str  # account | person | visitor
    conversations: int
    rows: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0
    audit_entries_scrubbed: int = 0

    @property
    def found_anything(self) -> bool:
        return bool(self.rows) or self.tracker_events > 0 or self.audit_entries_scrubbed > 0

    def as_detail(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "conversations": self.conversations,
            "rows": dict(sorted(self.rows.items())),
            "tracker_events": self.tracker_events,
            "audit_entries_scrubbed": self.audit_entries_scrubbed,
        }


def subject_ref(customer_id: str, key: str) -> str:
    """A keyed hash naming an erased customer in the audit log: the same id gives the same reference, and the
    reference does not give the id back (no table of hashed ids can be built without the key)."""
    digest = hmac.new(key.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
    return f"subject:{digest[:24]}"


def erase_customer(session: Session, tracker_engine: Engine, customer_id: str, key: str) -> ErasureReport:
    """Erase everything about `customer_id` (see the module's docstring); the caller commits.

    Args:
        tracker_engine: Rasa's tracker store; its events are deleted (and committed) before anything else.
        key: the secret the audit reference is keyed with (the deployment's internal secret).

    Raises:
        ErasureError: `customer_id` is not a well-formed customer id.
    """
    customer_id = customer_id.strip()
    if not is_customer_id(customer_id):
        raise ErasureError("Enter a customer id: 1 to 64 letters, digits or _ . : @ -")
    account = session.get(Customer, customer_id)
    person = or_(Contact.external_id == customer_id, func.lower(Contact.email) == customer_id.lower())
    contact_ids = list(session.scalars(select(Contact.id).where(person)))
    # The people whose traces go: the person named, or every person of the account named.
    people = Contact.account_id == account.id if account is not None else Contact.id.in_(contact_ids)
    needles = {customer_id} | ({account.name} if account is not None else set())
    # A person may have chatted under their external id or their email, in whatever case the host sent it.
    identities = {customer_id}
    for external_id, name, email in session.execute(
        select(Contact.external_id, Contact.name, Contact.email).where(people)
    ):
        identities.update(value for value in (external_id, email) if value)
        needles.update(value for value in (name, email) if value)  # external ids are often bare numbers
    conversation_ids = list(
        session.scalars(select(Conversation.id).where(Conversation.customer_id.in_(sorted(identities))))
    )
    kind = "account" if account is not None else "person" if contact_ids else "visitor"

    tracker_events = tracker.delete_events(tracker_engine, conversation_ids)
    found = scopes.find(
        session,
        scopes.Scope(
            conversation_ids=conversation_ids,
            account_id=account.id if account is not None else None,
            contact_ids=contact_ids,
        ),
    )
    rows = scopes.delete_rows(session, found)
    if views := drop_saved_views(session, needles | identities):
        rows["saved_views"] = views
    scrubbed = scrub_audit(session, needles, subject_ref(customer_id, key))
    return ErasureReport(
        subject=subject_ref(customer_id, key),
        kind=kind,
        conversations=len(conversation_ids),
        rows=rows,
        tracker_events=tracker_events,
        audit_entries_scrubbed=scrubbed,
    )


def drop_saved_views(session: Session, needles: set[str]) -> int:
    """Delete the saved inbox views whose query names one of `needles` (as typed or URL-encoded); returns how many."""
    spellings = {
        spelling
        for needle in needles
        if len(needle) >= _MIN_NEEDLE
        for spelling in (needle.lower(), quote_plus(needle).lower())
    }
    if not spellings:
        return 0
    query = func.lower(SavedView.query)
    matching = or_(*(query.contains(spelling, autoescape=True) for spelling in spellings))
    return session.execute(delete(SavedView).where(matching)).rowcount or 0


def scrub_audit(session: Session, needles: set[str], reference: str) -> int:
    """Replace, in every audit entry, each value that mentions one of `needles` by "[erased]" (and a target that is
    one of them by `reference`); returns how many entries changed."""
    needles = {needle for needle in needles if len(needle) >= _MIN_NEEDLE}
    if not needles:
        return 0
    lowered = [needle.lower() for needle in needles]
    detail_text = func.lower(cast(AuditEvent.detail, Text))
    # JSON is stored with non-ASCII characters escaped; search for both spellings.
    spellings = {spelling for needle in lowered for spelling in (needle, json.dumps(needle)[1:-1])}
    candidates = select(AuditEvent).where(
        or_(
            AuditEvent.target_id.in_(needles),
            *(detail_text.contains(spelling, autoescape=True) for spelling in spellings),
        )
    )
    changed = 0
    for event in session.scalars(candidates):
        detail = _scrubbed(event.detail or {}, lowered)
        target = reference if event.target_id in needles else event.target_id
        if detail != event.detail or target != event.target_id:
            event.detail, event.target_id = detail, target
            changed += 1
    session.flush()
    return changed


def _scrubbed(value: Any, needles: list[str]) -> Any:
    if isinstance(value, dict):
        return {key: _scrubbed(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, needles) for item in value]
    if isinstance(value, str) and any(needle in value.lower() for needle in needles):
        return ERASED
    return value
