"""The conversation inbox: conversations matching a combination of filters (`filters`), newest activity first, a
page at a time, with how many match in all. The page's details (counts, tags, handoff, account) are read for its
rows only, so a page costs the same with 100 conversations or 100,000."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from keepwell.conversations.filters import InboxFilter, conditions
from keepwell.conversations.overview import FALLBACK_INTENT, LOW_CONFIDENCE
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.models import Conversation, ConversationFlag, ConversationTag, CSMUser, Customer, Handoff, Message, as_utc
from keepwell.paging import Paged

PAGE_SIZE = 25
MAX_PAGE = 10_000
PREVIEW_CHARS = 120


@dataclass(frozen=True)
class InboxRow:
    conversation_id: str
    customer_id: str | None
    customer_name: str | None  # None: an anonymous visitor (or an account no longer in the book)
    channel: str
    started_at: datetime
    last_at: datetime
    preview: str  # the customer's first message, shortened
    customer_messages: int
    not_understood: int  # fallbacks and low-confidence customer messages
    lowest_confidence: float | None
    open_flags: int
    tags: list[str]
    review_status: str
    handoff_status: str | None  # the latest handoff's: open | released | closed
    csat: int | None


@dataclass(frozen=True)
class InboxPage(Paged):
    rows: list[InboxRow]
    total: int  # conversations matching the filters, on every page
    page: int
    page_size: int


def search(session: Session, inbox: InboxFilter, page: int = 1, page_size: int = PAGE_SIZE) -> InboxPage:
    """One page of the conversations matching every filter, the most recently active first."""
    page = min(max(1, page), MAX_PAGE)
    where = conditions(session, inbox)
    total = session.scalar(select(func.count()).select_from(Conversation).where(*where)) or 0
    query = (
        select(Conversation)
        .where(*where)
        .order_by(Conversation.last_message_at.desc(), Conversation.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    conversations = list(session.scalars(query))
    return InboxPage(_rows(session, conversations), total, page, page_size)


def _rows(session: Session, conversations: list[Conversation]) -> list[InboxRow]:
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    is_customer = Message.role == ROLE_CUSTOMER
    low = is_customer & ((Message.intent == FALLBACK_INTENT) | (Message.confidence < LOW_CONFIDENCE))
    stats = {
        conversation_id: (int(count or 0), int(missed or 0), lowest, first_id)
        for conversation_id, count, missed, lowest, first_id in session.execute(
            select(
                Message.conversation_id,
                func.count(Message.id),
                func.sum(func.cast(low, Integer)),
                func.min(Message.confidence),
                func.min(Message.id),
            )
            .where(Message.conversation_id.in_(ids), is_customer)
            .group_by(Message.conversation_id)
        )
    }
    first_ids = [s[3] for s in stats.values()]
    previews = dict(
        session.execute(select(Message.conversation_id, Message.text).where(Message.id.in_(first_ids))).all()
    )
    flags = dict(
        session.execute(
            select(ConversationFlag.conversation_id, func.count())
            .where(ConversationFlag.conversation_id.in_(ids), ConversationFlag.resolved_at.is_(None))
            .group_by(ConversationFlag.conversation_id)
        ).all()
    )
    tags: dict[str, list[str]] = {}
    for conversation_id, tag in session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(ConversationTag.tag)
    ):
        tags.setdefault(conversation_id, []).append(tag)
    handoffs: dict[str, tuple[str, int | None]] = {}
    for conversation_id, status, csat in session.execute(
        select(Handoff.conversation_id, Handoff.status, Handoff.csat_score)
        .where(Handoff.conversation_id.in_(ids))
        .order_by(Handoff.created_at, Handoff.id)
    ):
        handoffs[conversation_id] = (status, csat)  # the latest wins
    customer_ids = {c.customer_id for c in conversations if c.customer_id}
    names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all())
    rows = []
    for c in conversations:
        count, missed, lowest, _ = stats.get(c.id, (0, 0, None, None))
        preview = " ".join((previews.get(c.id) or "").split())
        status, csat = handoffs.get(c.id, (None, None))
        rows.append(
            InboxRow(
                conversation_id=c.id,
                customer_id=c.customer_id,
                customer_name=names.get(c.customer_id) if c.customer_id else None,
                channel=c.channel,
                started_at=as_utc(c.created_at),
                last_at=as_utc(c.last_message_at),
                preview=preview if len(preview) <= PREVIEW_CHARS else preview[: PREVIEW_CHARS - 1] + "…",
                customer_messages=count,
                not_understood=missed,
                lowest_confidence=lowest,
                open_flags=int(flags.get(c.id, 0)),
                tags=tags.get(c.id, []),
                review_status=c.review_status,
                handoff_status=status,
                csat=csat,
            )
        )
    return rows


@dataclass(frozen=True)
class Choices:
    """What the filter form offers: the CSMs who own accounts and the tags in use."""

    owners: list[tuple[int, str]]
    tags: list[str]


def choices(session: Session, max_tags: int = 200) -> Choices:
    owners = [
        (user_id, display_name or username)
        for user_id, display_name, username in session.execute(
            select(CSMUser.id, CSMUser.display_name, CSMUser.username)
            .where(CSMUser.id.in_(select(Customer.owner_csm_id).distinct()))
            .order_by(CSMUser.display_name, CSMUser.username)
        )
    ]
    tags = list(session.scalars(select(ConversationTag.tag).distinct().order_by(ConversationTag.tag).limit(max_tags)))
    return Choices(owners, tags)
