"""Handoffs to a person: while one is open in a conversation, the bot stays silent there and a CSM answers.

A handoff lands in the queue of the account's owner CSM (the shared queue for anonymous visitors and unowned
accounts). Only the CSM it is assigned to replies or closes it; another CSM takes it over first (the console audits
that). Replies go to the conversation log as the `agent` role with the CSM's display name; closing asks the customer
the CSAT question, whose answer is kept on the handoff. Opening, taking over and assigning queue a webhook
notification (keepwell/handoff_webhook.py) in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keepwell import escalation, handoff_webhook
from keepwell.conversations import ROLE_AGENT, ROLE_SYSTEM, SENT, MessageView, view_of
from keepwell.models import Conversation, CSMUser, Customer, Handoff, Message, as_utc, utcnow
from keepwell.settings import CoreSettings
from keepwell.staff import StaffView

OPEN, RELEASED, CLOSED = "open", "released", "closed"

ASKED_FOR_PERSON = "asked_for_person"
OFFER_ACCEPTED = "offer_accepted"
ASSISTANT_UNAVAILABLE = "assistant_unavailable"
KIND_LABELS = {
    ASKED_FOR_PERSON: "Asked for a person",
    OFFER_ACCEPTED: "Accepted the assistant's offer of a person",
    ASSISTANT_UNAVAILABLE: "Assistant unavailable",
    **escalation.REASON_LABELS,
}
_CHURN_INTENTS = frozenset({"request_cancellation", "request_refund"})

MAX_REPLY_CHARS = 2000  # as long as a customer message may be
KIND_CSAT = "csat"
CSAT_QUESTION = (
    "Thanks for talking with us. How satisfied are you with the help you got today? "
    "Rate it from 1 (very unsatisfied) to 5 (very satisfied); a comment is welcome too."
)


class HandoffError(Exception):
    """A handoff action that cannot be done; the message says why, in words for the CSM or the customer."""


class HandoffNotFound(HandoffError):
    pass


class NotOpen(HandoffError):
    """The handoff was released or closed already."""


class AssignedElsewhere(HandoffError):
    """Another CSM has the handoff: take it over first."""


class InvalidText(HandoffError):
    pass


@dataclass(frozen=True)
class HandoffView:
    id: int
    conversation_id: str
    customer_id: str | None
    reason: str
    status: str
    transcript: list[dict[str, Any]]
    created_at: datetime
    released_at: datetime | None
    released_by: str | None
    kind: str = ASKED_FOR_PERSON
    assigned_to_id: int | None = None
    assigned_to_name: str | None = None
    first_reply_at: datetime | None = None
    wait_s: float | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    csat_score: int | None = None
    csat_comment: str | None = None
    csat_at: datetime | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _view(handoff: Handoff, assigned_to_name: str | None = None) -> HandoffView:
    return HandoffView(
        id=handoff.id,
        conversation_id=handoff.conversation_id,
        customer_id=handoff.customer_id,
        reason=handoff.reason,
        status=handoff.status,
        transcript=list(handoff.transcript or []),
        created_at=as_utc(handoff.created_at),
        released_at=_utc(handoff.released_at),
        released_by=handoff.released_by,
        kind=handoff.kind or ASKED_FOR_PERSON,
        assigned_to_id=handoff.assigned_to_id,
        assigned_to_name=assigned_to_name,
        first_reply_at=_utc(handoff.first_reply_at),
        wait_s=handoff.wait_s,
        closed_at=_utc(handoff.closed_at),
        closed_by=handoff.closed_by,
        csat_score=handoff.csat_score,
        csat_comment=handoff.csat_comment,
        csat_at=_utc(handoff.csat_at),
    )


def views(session: Session, handoffs: list[Handoff]) -> list[HandoffView]:
    """Views with the assignees' names, read in one query."""
    ids = {h.assigned_to_id for h in handoffs if h.assigned_to_id is not None}
    names: dict[int, str] = {}
    if ids:
        for user_id, display_name, username in session.execute(
            select(CSMUser.id, CSMUser.display_name, CSMUser.username).where(CSMUser.id.in_(ids))
        ):
            names[user_id] = display_name or username
    return [_view(h, names.get(h.assigned_to_id) if h.assigned_to_id else None) for h in handoffs]


def reason_kind(transcript: list[dict[str, Any]]) -> str:
    """Why a person was needed, as a category, from the transcript the action recorded (user lines carry intents).

    The last user line is the request itself: an explicit request for a person, or a "yes" to the assistant's offer
    (then the line before says what prompted the offer). Frustration wins: it is what the CSM must know first.
    """
    users = [line for line in transcript if line.get("role") == "user"]
    if not users:
        return ASKED_FOR_PERSON
    last = users[-1]
    if escalation.is_frustrated(str(last.get("text") or "")):
        return escalation.FRUSTRATION
    if last.get("intent") != "affirm" or len(users) < 2:
        return ASKED_FOR_PERSON
    before = users[-2]
    if before.get("intent") in _CHURN_INTENTS:
        return escalation.CHURN_MOMENT
    if escalation.is_frustrated(str(before.get("text") or "")):
        return escalation.FRUSTRATION
    if before.get("intent") == "report_problem":
        return escalation.PROBLEM_REPORTED
    return OFFER_ACCEPTED


def request_handoff(
    session: Session,
    conversation_id: str,
    customer_id: str | None,
    reason: str,
    transcript: list[dict[str, Any]],
    kind: str | None = None,
    settings: CoreSettings | None = None,
) -> HandoffView:
    """Open a handoff for the conversation, or return the one already open (asking twice changes nothing).

    It is assigned to the account's owner CSM, or to nobody (the shared queue) for an anonymous visitor or an
    account without an owner. A new one queues its webhook notification (`settings`: whose webhook URL).
    """
    existing = _open(session, conversation_id)
    if existing is not None:
        return views(session, [existing])[0]
    owner = session.scalar(select(Customer.owner_csm_id).where(Customer.id == customer_id)) if customer_id else None
    handoff = Handoff(
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason=reason,
        kind=kind or reason_kind(transcript),
        transcript=transcript,
        status=OPEN,
        assigned_to_id=owner,
    )
    session.add(handoff)
    session.flush()
    view = views(session, [handoff])[0]
    handoff_webhook.queue(session, view, handoff_webhook.OPENED, settings)
    return view


def _open(session: Session, conversation_id: str) -> Handoff | None:
    query = select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == OPEN)
    return session.scalars(query).first()


def is_active(session: Session, conversation_id: str) -> bool:
    return _open(session, conversation_id) is not None


def person_is_answering(session: Session, conversation_id: str) -> bool:
    """Whether a CSM has already replied in the conversation's open handoff (the customer needs no more notices)."""
    query = select(Handoff.id).where(
        Handoff.conversation_id == conversation_id, Handoff.status == OPEN, Handoff.first_reply_at.is_not(None)
    )
    return session.scalars(query).first() is not None


def get(session: Session, handoff_id: int) -> HandoffView | None:
    handoff = session.get(Handoff, handoff_id)
    return views(session, [handoff])[0] if handoff is not None else None


def _locked(session: Session, handoff_id: int) -> Handoff:
    """The handoff, locked until the caller commits, so two CSMs acting at once are serialised and the second sees
    what the first did.

    The lock is taken by an UPDATE that changes nothing, as the transaction's first statement: PostgreSQL locks the
    row; SQLite takes its write lock before reading, so the read that follows is never an outdated snapshot (a
    transaction that read first and writes later would fail with "database is locked" instead of waiting).
    """
    session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id)
        .values(assigned_to_id=Handoff.assigned_to_id)
        .execution_options(synchronize_session=False)
    )
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    if handoff is None:
        raise HandoffNotFound("There is no such handoff.")
    return handoff


def _must_hold(handoff: Handoff, staff: StaffView) -> bool:
    """Only the assignee acts on an open handoff; one in the shared queue goes to whoever acts first (True then)."""
    if handoff.status != OPEN:
        raise NotOpen("This handoff is no longer open: the conversation is back with the assistant.")
    if handoff.assigned_to_id is not None and handoff.assigned_to_id != staff.id:
        raise AssignedElsewhere("This conversation is assigned to another CSM. Take it over to reply.")
    assigned = handoff.assigned_to_id is None
    handoff.assigned_to_id = staff.id
    return assigned


def release(session: Session, handoff_id: int, released_by: str) -> HandoffView | None:
    """Give the conversation back to the bot. Returns None when there is no such handoff."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    if handoff.status == OPEN:
        handoff.status = RELEASED
        handoff.released_at = utcnow()
        handoff.released_by = released_by
    return views(session, [handoff])[0]


def take_over(
    session: Session, handoff_id: int, staff: StaffView, settings: CoreSettings | None = None
) -> tuple[HandoffView, int | None]:
    """Assign an open handoff to `staff` (queuing the notification when it changes hands). Returns it and whom it
    was assigned to before (None: the shared queue).

    Raises:
        HandoffNotFound, NotOpen.
    """
    handoff = _locked(session, handoff_id)
    if handoff.status != OPEN:
        raise NotOpen("This handoff is no longer open: the conversation is back with the assistant.")
    previous = handoff.assigned_to_id
    handoff.assigned_to_id = staff.id
    session.flush()
    view = views(session, [handoff])[0]
    if previous != staff.id:
        handoff_webhook.queue(session, view, handoff_webhook.ASSIGNED, settings)
    return view, previous


def _clean_reply(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidText("Write a reply first.")
    if len(cleaned) > MAX_REPLY_CHARS:
        raise InvalidText(f"A reply can be at most {MAX_REPLY_CHARS} characters ({len(cleaned)} given).")
    return cleaned


def _add_message(
    session: Session, conversation_id: str, role: str, text: str, author: StaffView | None, kind: str | None
) -> MessageView:
    now = utcnow()
    # Touch the conversation first: its row lock orders concurrent writers, so message ids commit in order and a
    # live stream reading "after id N" never skips one (as the gateway's own replies do).
    touched = session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(last_message_at=now)
    ).rowcount
    if not touched:
        raise HandoffNotFound("The conversation of this handoff is not in the conversation log.")
    message = Message(
        conversation_id=conversation_id,
        role=role,
        text=text,
        state=SENT,
        created_at=now,
        author_id=author.id if author else None,
        author_name=author.label if author else None,
        kind=kind,
    )
    session.add(message)
    session.flush()
    return view_of(message)


def reply(
    session: Session, handoff_id: int, staff: StaffView, text: str, settings: CoreSettings | None = None
) -> tuple[MessageView, HandoffView]:
    """Write a CSM's reply to the conversation log (role `agent`, with their display name); the first reply records
    the customer's waiting time, and one from the shared queue assigns the handoff (notified like a take-over).
    The caller commits, then wakes the conversation's live stream.

    Raises:
        HandoffNotFound, NotOpen, AssignedElsewhere, InvalidText.
    """
    cleaned = _clean_reply(text)
    handoff = _locked(session, handoff_id)
    assigned = _must_hold(handoff, staff)
    message = _add_message(session, handoff.conversation_id, ROLE_AGENT, cleaned, staff, None)
    if handoff.first_reply_at is None:
        handoff.first_reply_at = message.created_at
        handoff.wait_s = round((as_utc(message.created_at) - as_utc(handoff.created_at)).total_seconds(), 3)
    session.flush()
    view = views(session, [handoff])[0]
    if assigned:
        handoff_webhook.queue(session, view, handoff_webhook.ASSIGNED, settings)
    return message, view


def close(session: Session, handoff_id: int, staff: StaffView) -> tuple[HandoffView, MessageView]:
    """Close an open handoff and ask the customer the CSAT question (a system message the widget shows as a form).
    The caller resumes the assistant, commits, then wakes the live stream.

    Raises:
        HandoffNotFound, NotOpen, AssignedElsewhere.
    """
    handoff = _locked(session, handoff_id)
    _must_hold(handoff, staff)
    handoff.status = CLOSED
    handoff.closed_at = utcnow()
    handoff.closed_by = staff.username
    question = _add_message(session, handoff.conversation_id, ROLE_SYSTEM, CSAT_QUESTION, None, KIND_CSAT)
    session.flush()
    return views(session, [handoff])[0], question


def list_handoffs(
    session: Session, status: str | None = None, limit: int = 100, oldest_first: bool = False
) -> list[HandoffView]:
    """Newest first; `oldest_first` for a queue, where the customer who has waited longest comes first."""
    order = (Handoff.created_at, Handoff.id) if oldest_first else (Handoff.created_at.desc(), Handoff.id.desc())
    query = select(Handoff).order_by(*order).limit(limit)
    if status is not None:
        query = query.where(Handoff.status == status)
    return views(session, list(session.scalars(query)))


def for_conversations(session: Session, conversation_ids: list[str]) -> dict[str, HandoffView]:
    """The latest handoff of each given conversation."""
    query = (
        select(Handoff).where(Handoff.conversation_id.in_(conversation_ids)).order_by(Handoff.created_at, Handoff.id)
    )
    return {h.conversation_id: h for h in views(session, list(session.scalars(query)))}


def for_customer(session: Session, customer_id: str, limit: int = 100) -> list[HandoffView]:
    """The account's handoffs, newest first."""
    query = (
        select(Handoff)
        .where(Handoff.customer_id == customer_id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(limit)
    )
    return views(session, list(session.scalars(query)))
