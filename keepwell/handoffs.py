"""Handoffs to a person: while one is open in a conversation, the bot stays silent there."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import Handoff, utcnow


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


def _view(handoff: Handoff) -> HandoffView:
    return HandoffView(
        id=handoff.id,
        conversation_id=handoff.conversation_id,
        customer_id=handoff.customer_id,
        reason=handoff.reason,
        status=handoff.status,
        transcript=list(handoff.transcript or []),
        created_at=handoff.created_at,
        released_at=handoff.released_at,
        released_by=handoff.released_by,
    )


def request_handoff(
    session: Session, conversation_id: str, customer_id: str | None, reason: str, transcript: list[dict[str, Any]]
) -> HandoffView:
    """Open a handoff for the conversation, or return the one already open (asking twice changes nothing)."""
    existing = _open(session, conversation_id)
    if existing is not None:
        return _view(existing)
    handoff = Handoff(
        conversation_id=conversation_id, customer_id=customer_id, reason=reason, transcript=transcript, status="open"
    )
    session.add(handoff)
    session.flush()
    return _view(handoff)


def _open(session: Session, conversation_id: str) -> Handoff | None:
    query = select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "open")
    return session.scalars(query).first()


def is_active(session: Session, conversation_id: str) -> bool:
    return _open(session, conversation_id) is not None


def release(session: Session, handoff_id: int, released_by: str) -> HandoffView | None:
    """Give the conversation back to the bot. Returns None when there is no such handoff."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    if handoff.status == "open":
        handoff.status = "released"
        handoff.released_at = utcnow()
        handoff.released_by = released_by
    return _view(handoff)


def list_handoffs(session: Session, status: str | None = None, limit: int = 100) -> list[HandoffView]:
    query = select(Handoff).order_by(Handoff.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(Handoff.status == status)
    return [_view(h) for h in session.scalars(query)]


def for_conversations(session: Session, conversation_ids: list[str]) -> dict[str, HandoffView]:
    """The latest handoff of each given conversation."""
    query = select(Handoff).where(Handoff.conversation_id.in_(conversation_ids)).order_by(Handoff.created_at)
    return {h.conversation_id: _view(h) for h in session.scalars(query)}
