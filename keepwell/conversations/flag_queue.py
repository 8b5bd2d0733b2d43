"""The flagged queue: conversations a CSM should look at, each with its reasons in plain words, the most valuable
accounts first (ARR, then health with red first, then the newest activity), a page at a time.

Reasons are computed from what is stored, so nothing new has to write them:
- an open `ConversationFlag` (a churn moment, the assistant unavailable, and what the assistant noticed while it
  talked: a repeated question, a frustrated customer, unhelpful answers; `keepwell.escalation.FLAGGED`);
- customer messages the assistant did not understand (`nlu_fallback` or confidence below `LOW_CONFIDENCE`);
- negative feedback the customer left in the conversation (a complaint, or "that didn't help" after an answer);
- a handoff, and a CSAT of 2 or less at its close;
- the account's latest health snapshot is red (while the conversation has activity the CSM has not reviewed).

Resolving (no migration): the conversation's open flags get `resolved_at`/`resolved_by`, and one more flag row with
reason `queue_resolved` is written already resolved, its `created_at` the resolve time and its `detail` the CSM's
note. Computed reasons count only what happened after the latest such row, so an old fallback stays hidden while a
new one brings the conversation back. The route audits it as `flag.resolve`.

Filters (`flag_filters`): one reason (only that branch of the union is read) and "mine" (the signed-in CSM's accounts
or handoffs); the total follows them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Subquery, and_, case, cast, func, literal, or_, select, union
from sqlalchemy.orm import Session

from keepwell.conversations import flag_filters as ff
from keepwell.conversations.flag_filters import QueueFilter
from keepwell.conversations.overview import FALLBACK_INTENT, LOW_CONFIDENCE
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.feedback import NEGATIVE
from keepwell.models import (
    Conversation,
    ConversationFlag,
    Customer,
    Feedback,
    Handoff,
    HealthSnapshot,
    Message,
    as_utc,
    utcnow,
)
from keepwell.paging import Paged

PAGE_SIZE = 25
MAX_PAGE = 10_000
QUEUE_RESOLVED = "queue_resolved"
LOW_CSAT = 2
MAX_NOTE_CHARS = 500
QUOTE_CHARS = 80


class FlagNotFound(LookupError):
    """The conversation is not in the log."""


@dataclass(frozen=True)
class Reason:
    kind: str  # a stored flag's reason (churn_moment, repeated_question ...) or a computed one (flag_filters.REASONS)
    why: str


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    customer_id: str | None
    customer_name: str | None  # None: an anonymous visitor
    arr: float
    health_band: str | None
    health_score: int | None
    last_at: datetime
    reasons: list[Reason]


@dataclass(frozen=True)
class QueuePage(Paged):
    entries: list[QueueEntry]
    total: int
    page: int
    page_size: int


def _watermarks() -> Subquery:
    """Per conversation, when the queue entry was last resolved."""
    return (
        select(
            ConversationFlag.conversation_id.label("conversation_id"), func.max(ConversationFlag.created_at).label("at")
        )
        .where(ConversationFlag.reason == QUEUE_RESOLVED)
        .group_by(ConversationFlag.conversation_id)
        .subquery("watermarks")
    )


def _latest_health() -> Subquery:
    """Each account's latest snapshot (band and score)."""
    newest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
        .group_by(HealthSnapshot.account_id)
        .subquery("newest")
    )
    return (
        select(HealthSnapshot.account_id, HealthSnapshot.band, HealthSnapshot.score)
        .join(newest, and_(newest.c.account_id == HealthSnapshot.account_id, newest.c.as_of == HealthSnapshot.as_of))
        .subquery("health")
    )


def _after(column: Any, marks: Subquery) -> ColumnElement[bool]:
    return or_(marks.c.at.is_(None), column > marks.c.at)


def _flagged_ids(marks: Subquery, health: Subquery, reason: str = "") -> Subquery:
    """The union of conversation ids with at least one reason to look (with `reason`, that one only)."""
    branches: list[Select[Any]] = []
    if not reason or reason in ff.FLAG_REASONS:
        flags = select(ConversationFlag.conversation_id).where(
            ConversationFlag.resolved_at.is_(None), ConversationFlag.reason != QUEUE_RESOLVED
        )
        branches.append(flags.where(ConversationFlag.reason == reason) if reason else flags)
    if reason in ("", ff.NOT_UNDERSTOOD):
        branches.append(
            select(Message.conversation_id)
            .outerjoin(marks, marks.c.conversation_id == Message.conversation_id)
            .where(not_understood(), _after(Message.created_at, marks))
        )
    if reason in ("", ff.NEGATIVE_FEEDBACK):
        branches.append(
            select(Feedback.conversation_id)
            .outerjoin(marks, marks.c.conversation_id == Feedback.conversation_id)
            .where(Feedback.polarity == NEGATIVE, _after(Feedback.created_at, marks))
        )
    handed = _after(Handoff.created_at, marks)
    low_csat = and_(Handoff.csat_score <= LOW_CSAT, _after(Handoff.csat_at, marks))
    if reason in ("", ff.HANDOFF, ff.LOW_CSAT):
        when = {"": or_(handed, low_csat), ff.HANDOFF: handed, ff.LOW_CSAT: low_csat}[reason]
        branches.append(
            select(Handoff.conversation_id)
            .outerjoin(marks, marks.c.conversation_id == Handoff.conversation_id)
            .where(when)
        )
    if reason in ("", ff.RED_HEALTH):
        branches.append(
            select(Conversation.id)
            .join(health, health.c.account_id == Conversation.customer_id)
            .outerjoin(marks, marks.c.conversation_id == Conversation.id)
            .where(health.c.band == "red", _after(Conversation.last_message_at, marks))
        )
    if len(branches) == 1:
        return branches[0].distinct().subquery("flagged")
    return union(*branches).subquery("flagged")


def _mine(me: int) -> ColumnElement[bool]:
    """Conversations of accounts `me` owns, or with a handoff assigned to them."""
    assigned = select(Handoff.conversation_id).where(Handoff.assigned_to_id == me)
    return or_(Customer.owner_csm_id == me, Conversation.id.in_(assigned))


def not_understood() -> ColumnElement[bool]:
    """A customer message the assistant did not understand: its fallback intent, or confidence below LOW_CONFIDENCE."""
    return and_(
        Message.role == ROLE_CUSTOMER, or_(Message.intent == FALLBACK_INTENT, Message.confidence < LOW_CONFIDENCE)
    )


def queue(
    session: Session,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    chosen: QueueFilter = QueueFilter(),  # noqa: B008 -- frozen, so a shared default is safe
    me: int | None = None,
) -> QueuePage:
    """One page of the flagged conversations: highest ARR first, then red before yellow before green, then newest.

    Args:
        chosen: the filters; `mine` needs `me`, the signed-in CSM's id.
    """
    if chosen.mine and me is None:
        raise ValueError("the 'mine' filter needs the CSM's id")
    page = min(max(1, page), MAX_PAGE)
    marks, health = _watermarks(), _latest_health()
    flagged = _flagged_ids(marks, health, chosen.reason)
    conversation_id = flagged.c[0]
    where = [_mine(me)] if chosen.mine and me is not None else []
    arr = func.coalesce(cast(Customer.mrr, Float), literal(0.0)) * 12
    band_rank = case(
        (health.c.band == "red", 0), (health.c.band == "yellow", 1), (health.c.band == "green", 2), else_=3
    )
    rows = session.execute(
        # The total rides on the page's own query (one pass over the union instead of two).
        select(Conversation, Customer.name, arr.label("arr"), health.c.band, health.c.score, func.count().over())
        .join(flagged, conversation_id == Conversation.id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(health, health.c.account_id == Conversation.customer_id)
        .where(*where)
        .order_by(arr.desc(), band_rank, Conversation.last_message_at.desc(), Conversation.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    if rows:
        total = rows[0][-1]
    else:  # past the last page
        counted = select(func.count()).select_from(flagged).join(Conversation, conversation_id == Conversation.id)
        if where:
            counted = counted.outerjoin(Customer, Customer.id == Conversation.customer_id).where(*where)
        total = session.scalar(counted) or 0
    reasons = _reasons(session, [row[0] for row in rows], marks, health)
    entries = [
        QueueEntry(
            conversation_id=c.id,
            customer_id=c.customer_id,
            customer_name=name,
            arr=float(arr_value or 0.0),
            health_band=band,
            health_score=score,
            last_at=as_utc(c.last_message_at),
            reasons=reasons.get(c.id, []),
        )
        for c, name, arr_value, band, score, _ in rows
    ]
    return QueuePage(entries, int(total), page, page_size)


def _quote(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def _reasons(
    session: Session, conversations: list[Conversation], marks: Subquery, health: Subquery
) -> dict[str, list[Reason]]:
    ids = [c.id for c in conversations]
    found: dict[str, list[Reason]] = {i: [] for i in ids}
    if not ids:
        return found
    for cid, reason, detail in session.execute(
        select(ConversationFlag.conversation_id, ConversationFlag.reason, ConversationFlag.detail)
        .where(
            ConversationFlag.conversation_id.in_(ids),
            ConversationFlag.resolved_at.is_(None),
            ConversationFlag.reason != QUEUE_RESOLVED,
        )
        .order_by(ConversationFlag.created_at, ConversationFlag.id)
    ):
        label = ff.REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())
        found[cid].append(Reason(reason, f"{label}: '{_quote(detail)}'" if detail else label))
    for cid, count in session.execute(
        select(Message.conversation_id, func.count())
        .outerjoin(marks, marks.c.conversation_id == Message.conversation_id)
        .where(Message.conversation_id.in_(ids), not_understood(), _after(Message.created_at, marks))
        .group_by(Message.conversation_id)
    ):
        found[cid].append(
            Reason(ff.NOT_UNDERSTOOD, f"Fallback or low confidence on {count} message{'s' * (count != 1)}")
        )
    for cid, text, article_id in session.execute(
        select(Feedback.conversation_id, Feedback.text, Feedback.article_id)
        .outerjoin(marks, marks.c.conversation_id == Feedback.conversation_id)
        .where(Feedback.conversation_id.in_(ids), Feedback.polarity == NEGATIVE, _after(Feedback.created_at, marks))
        .order_by(Feedback.created_at, Feedback.id)
    ):
        about = f" on the answer from {article_id}" if article_id else ""
        found[cid].append(Reason(ff.NEGATIVE_FEEDBACK, f"Negative feedback{about}: '{_quote(text)}'"))
    for cid, kind, created_new, score, comment, csat_new in session.execute(
        select(
            Handoff.conversation_id,
            Handoff.kind,
            _after(Handoff.created_at, marks),
            Handoff.csat_score,
            Handoff.csat_comment,
            _after(Handoff.csat_at, marks),
        )
        .outerjoin(marks, marks.c.conversation_id == Handoff.conversation_id)
        .where(Handoff.conversation_id.in_(ids))
        .order_by(Handoff.created_at, Handoff.id)
    ):
        if created_new:
            found[cid].append(Reason(ff.HANDOFF, f"Handed to a person ({kind.replace('_', ' ')})"))
        if score is not None and score <= LOW_CSAT and csat_new:
            found[cid].append(
                Reason(ff.LOW_CSAT, f"CSAT {score}/5: '{_quote(comment)}'" if comment else f"CSAT {score}/5")
            )
    for cid, score in session.execute(
        select(Conversation.id, health.c.score)
        .join(health, health.c.account_id == Conversation.customer_id)
        .outerjoin(marks, marks.c.conversation_id == Conversation.id)
        .where(Conversation.id.in_(ids), health.c.band == "red", _after(Conversation.last_message_at, marks))
    ):
        found[cid].append(Reason(ff.RED_HEALTH, f"Account is red ({score}/100)"))
    return found


def resolve(session: Session, conversation_id: str, username: str, note: str = "") -> int:
    """Take the conversation off the queue: its open flags are resolved and computed reasons up to now are hidden.
    Returns how many stored flags were resolved. Raises FlagNotFound for a conversation the log does not hold.
    The caller audits and commits."""
    if session.get(Conversation, conversation_id) is None:
        raise FlagNotFound(conversation_id)
    now = utcnow()
    open_flags = session.scalars(
        select(ConversationFlag).where(
            ConversationFlag.conversation_id == conversation_id, ConversationFlag.resolved_at.is_(None)
        )
    ).all()
    for flag in open_flags:
        flag.resolved_at, flag.resolved_by = now, username
    session.add(
        ConversationFlag(
            conversation_id=conversation_id,
            reason=QUEUE_RESOLVED,
            detail=note.strip()[:MAX_NOTE_CHARS],
            created_at=now,
            resolved_at=now,
            resolved_by=username,
        )
    )
    session.flush()
    return len(open_flags)
