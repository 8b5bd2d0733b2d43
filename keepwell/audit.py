"""The audit log: who did what to what, when and from where, for sign-ins and every console or CLI change.

Actions are dotted names (`auth.sign_in`, `user.create`, ...). `detail` holds small facts about the change (a new
role, a failure reason); passwords, tokens and session ids never go into it, and keys that look like secrets are
refused outright.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from keepwell.models import AuditEvent, utcnow
from keepwell.paging import Paged
from keepwell.staff import StaffView, as_utc

# The actions the console and the CLI record, in the order the audit page offers them as a filter.
ACTIONS = (
    "auth.sign_in",
    "auth.sign_in_failed",
    "auth.sign_out",
    "handoff.release",
    "handoff.reply",
    "handoff.take_over",
    "handoff.close",
    "conversation.view",
    "conversation.tag_add",
    "conversation.tag_remove",
    "conversation.note_add",
    "conversation.review",
    "training_example.add",
    "training_example.export",
    "inbox_view.save",
    "inbox_view.delete",
    "task.complete",
    "signal.resolve",
    "flag.resolve",
    "user.create",
    "user.role_change",
    "user.deactivate",
    "user.reactivate",
    "user.password_reset",
    "session.revoke_all",
    "api_key.create",
    "api_key.revoke",
    "data.import",
    "conversation.export",
    "customer.erase",
    "retention.run",
    "article.create",
    "article.update",
    "article.retire",
    "article.restore",
    "article.reindex",
)
CLI = "cli"
SYSTEM = "system"
_SECRET_WORDS = ("password", "token", "secret", "session_id", "csrf", "cookie")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: dict[str, Any]
    ip: str | None


@dataclass(frozen=True)
class AuditPage(Paged):
    """One page of entries, newest first, and how many match the filters in all."""

    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


def record(
    session: Session,
    actor: StaffView | str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction (it is written when the caller commits).

    Args:
        actor: the console account that acted, or a name such as "cli" or "system" (or the email a failed
            sign-in was attempted for).
        detail: small JSON-able facts; a key naming a password, token or secret raises ValueError.
    """
    detail = dict(detail or {})
    leaked = [key for key in detail if any(word in key.lower() for word in _SECRET_WORDS)]
    if leaked:
        raise ValueError(f"audit detail must not carry secrets: {', '.join(sorted(leaked))}")
    if isinstance(actor, StaffView):
        actor_name, actor_id = actor.username, actor.id
    else:
        actor_name, actor_id = actor, None
    event = AuditEvent(
        at=utcnow(),
        actor=actor_name[:100],
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        detail=detail,
        ip=ip[:64] if ip else None,
    )
    session.add(event)
    session.flush()
    return _entry(event)


def list_events(
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Entries matching every given filter, newest first.

    Args:
        actor: exact actor name (case-insensitive), e.g. an email, "cli" or "system".
        action: an exact action, or a group ending in "." (e.g. "user." for every account change).
        since: inclusive lower bound on the time; until: exclusive upper bound.
        target_type: exact kind of target ("user", "handoff", "conversation", ...); target_id: its exact id.
    """
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    filters = _Filters(actor, action, since, until, target_type, target_id)
    query = filters.apply(select(AuditEvent))
    total = session.scalar(filters.apply(select(func.count()).select_from(AuditEvent))) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(page_size).offset((page - 1) * page_size)
    )
    return AuditPage([_entry(event) for event in rows], total, page, page_size)


def actors(session: Session, limit: int = 500) -> list[str]:
    """The distinct actor names in the log (for the filter's suggestions)."""
    query = select(AuditEvent.actor).distinct().order_by(AuditEvent.actor).limit(limit)
    return list(session.scalars(query))


def target_types(session: Session) -> list[str]:
    """The distinct kinds of target in the log (for the filter's choices)."""
    query = select(AuditEvent.target_type).where(AuditEvent.target_type.is_not(None)).distinct()
    return sorted(value for value in session.scalars(query) if value)


@dataclass(frozen=True)
class _Filters:
    actor: str | None
    action: str | None
    since: datetime | None
    until: datetime | None
    target_type: str | None
    target_id: str | None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor) == self.actor.strip().lower())
        if self.action:
            if self.action.endswith("."):
                query = query.where(AuditEvent.action.startswith(self.action, autoescape=True))
            else:
                query = query.where(AuditEvent.action == self.action)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at < self.until)
        if self.target_type:
            query = query.where(AuditEvent.target_type == self.target_type)
        if self.target_id:
            query = query.where(AuditEvent.target_id == self.target_id.strip())
        return query


def _entry(event: AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=event.id,
        at=as_utc(event.at),
        actor=event.actor,
        actor_id=event.actor_id,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        detail=dict(event.detail or {}),
        ip=event.ip,
    )
