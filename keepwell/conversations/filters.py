"""The inbox's filters: what a CSM can ask for, read from a URL's query parameters (so a filtered view is a link and a
saved view is its query string), checked with a message that names the field, and turned into SQL conditions that
work on SQLite and PostgreSQL alike."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, column, exists, func, not_, or_, select, table
from sqlalchemy.orm import Session

from keepwell.conversations.overview import FALLBACK_INTENT
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.models import MESSAGES_FTS, Conversation, ConversationTag, Customer, Handoff, HealthSnapshot, Message
from keepwell.models.conversations import REVIEW_STATUSES
from keepwell.models.success import HEALTH_BANDS
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS

CHANNELS = ("website", "in_app", "other")  # "other": any channel but the first two (the API, imports ...)
YES_NO = ("yes", "no")
CSAT_CHOICES = ("given", "none", "1", "2", "3", "4", "5")
MAX_TEXT = 200
MAX_WORDS = 6  # full-text search: each word must appear somewhere in the conversation
MAX_MESSAGES = 10_000
_INTENT = re.compile(r"^[A-Za-z0-9_./-]{1,100}$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")


class InvalidFilter(ValueError):
    """A filter value that cannot be used; the message names the field and says what it accepts."""


@dataclass(frozen=True)
class InboxFilter:
    """Every filter the inbox combines (all must hold); an empty value or None does not filter."""

    q: str = ""  # words searched in every message's text
    date_from: date | None = None  # active on or after this day (UTC)
    date_to: date | None = None  # active on or before this day (UTC)
    channel: str = ""
    customer: str = ""  # an account id, or part of its name
    segment: str = ""  # a plan, company size or lifecycle stage
    band: str = ""  # health band of the account's latest snapshot
    owner: str = ""  # the owner CSM's id, or "none" (accounts without an owner)
    intent: str = ""  # some customer message was understood as this intent
    confidence_below: float | None = None  # the lowest confidence of a customer message is below this
    fallback: str = ""  # yes | no: some customer message fell back
    handoff: str = ""  # yes | no: a person was asked for
    csat: str = ""  # given | none | 1..5
    tag: str = ""
    review: str = ""  # new | needs_review | reviewed
    min_messages: int | None = None  # customer messages in the conversation
    max_messages: int | None = None

    def query_string(self) -> str:
        """The filters as a canonical query string (the inbox's URL and a saved view's content)."""
        pairs = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == "":
                continue
            pairs.append(
                (_PARAM_OF.get(field.name, field.name), value.isoformat() if isinstance(value, date) else value)
            )
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return bool(self.query_string())


_PARAM_OF = {"date_from": "from", "date_to": "to"}
PARAMS = tuple(_PARAM_OF.get(f.name, f.name) for f in fields(InboxFilter))


def parse(params: Iterable[tuple[str, str]]) -> InboxFilter:
    """The filter a URL's query parameters ask for; parameters other than the filters' (page, view) are ignored.

    Raises:
        InvalidFilter: a value out of its range or vocabulary, with the field named.
    """
    raw: dict[str, str] = {}
    for key, value in params:
        if key in PARAMS and value.strip():
            raw[key] = value.strip()
    found: dict[str, object] = {}
    found["q"] = _text(raw, "q")
    found["customer"] = _text(raw, "customer")
    found["date_from"], found["date_to"] = _day(raw, "from"), _day(raw, "to")
    if found["date_from"] and found["date_to"] and found["date_from"] > found["date_to"]:  # type: ignore[operator]
        raise InvalidFilter("from: the first day comes after the last day")
    found["channel"] = _choice(raw, "channel", CHANNELS)
    found["segment"] = _choice(raw, "segment", (*PLANS, *COMPANY_SIZES, *LIFECYCLE_STAGES))
    found["band"] = _choice(raw, "band", HEALTH_BANDS)
    owner = raw.get("owner", "")
    if owner and owner != "none" and not (owner.isdigit() and 0 < int(owner) < 2**31):
        raise InvalidFilter("owner: a CSM's id, or none")
    found["owner"] = owner
    intent = raw.get("intent", "")
    if intent and not _INTENT.match(intent):
        raise InvalidFilter("intent: an intent name (letters, digits and _ . / -, at most 100)")
    found["intent"] = intent
    found["confidence_below"] = _number(raw, "confidence_below")
    found["fallback"] = _choice(raw, "fallback", YES_NO)
    found["handoff"] = _choice(raw, "handoff", YES_NO)
    found["csat"] = _choice(raw, "csat", CSAT_CHOICES)
    tag = normalise_tag(raw.get("tag", ""))
    if tag and not _TAG.match(tag):
        raise InvalidFilter("tag: letters, digits, spaces, _ and -, at most 40")
    found["tag"] = tag
    found["review"] = _choice(raw, "review", REVIEW_STATUSES)
    found["min_messages"], found["max_messages"] = _count(raw, "min_messages"), _count(raw, "max_messages")
    low, high = found["min_messages"], found["max_messages"]
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        raise InvalidFilter("min_messages: the minimum is above the maximum")
    return InboxFilter(**found)  # type: ignore[arg-type]


def normalise_tag(tag: str) -> str:
    return " ".join(tag.lower().split())


def _text(raw: dict[str, str], key: str) -> str:
    value = " ".join(raw.get(key, "").split())
    if len(value) > MAX_TEXT:
        raise InvalidFilter(f"{key}: at most {MAX_TEXT} characters")
    return value


def _day(raw: dict[str, str], key: str) -> date | None:
    if key not in raw:
        return None
    try:
        return date.fromisoformat(raw[key])
    except ValueError:
        raise InvalidFilter(f"{key}: a day as YYYY-MM-DD") from None


def _choice(raw: dict[str, str], key: str, allowed: Iterable[str]) -> str:
    value = raw.get(key, "")
    allowed = tuple(allowed)
    if value and value not in allowed:
        raise InvalidFilter(f"{key}: one of {', '.join(allowed)}")
    return value


def _number(raw: dict[str, str], key: str) -> float | None:
    if key not in raw:
        return None
    try:
        value = float(raw[key])
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise InvalidFilter(f"{key}: a confidence above 0 and at most 1, such as 0.6")
    return value


def _count(raw: dict[str, str], key: str) -> int | None:
    if key not in raw:
        return None
    if not raw[key].isdigit() or int(raw[key]) > MAX_MESSAGES:
        raise InvalidFilter(f"{key}: a whole number of customer messages from 0 to {MAX_MESSAGES:,}")
    return int(raw[key])


def conditions(session: Session, inbox: InboxFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on `Conversation` for every filter set, plus "has a customer message" (the inbox lists
    conversations someone wrote in). Sub-queries go through indexed columns; only the text search reads every
    message, once per word."""
    c = Conversation
    customer_messages = select(func.count(Message.id)).where(
        Message.conversation_id == c.id, Message.role == ROLE_CUSTOMER
    )
    found: list[ColumnElement[bool]] = [exists().where(Message.conversation_id == c.id, Message.role == ROLE_CUSTOMER)]
    if inbox.date_from:
        found.append(c.last_message_at >= datetime.combine(inbox.date_from, time(), UTC))
    if inbox.date_to:
        found.append(c.created_at < datetime.combine(inbox.date_to + timedelta(days=1), time(), UTC))
    if inbox.channel == "other":
        found.append(c.channel.not_in(CHANNELS[:2]))
    elif inbox.channel:
        found.append(c.channel == inbox.channel)
    accounts = _account_conditions(inbox)
    if accounts:
        found.append(c.customer_id.in_(select(Customer.id).where(*accounts)))
    if inbox.customer:
        named = select(Customer.id).where(func.lower(Customer.name).contains(inbox.customer.lower(), autoescape=True))
        found.append(or_(c.customer_id == inbox.customer, c.customer_id.in_(named)))
    if inbox.intent:
        found.append(c.id.in_(select(Message.conversation_id).where(Message.intent == inbox.intent)))
    if inbox.confidence_below is not None:
        low = select(Message.conversation_id).where(
            Message.role == ROLE_CUSTOMER, Message.confidence < inbox.confidence_below
        )
        found.append(c.id.in_(low))
    if inbox.fallback:
        fell_back = c.id.in_(select(Message.conversation_id).where(Message.intent == FALLBACK_INTENT))
        found.append(fell_back if inbox.fallback == "yes" else not_(fell_back))
    if inbox.handoff:
        handed = c.id.in_(select(Handoff.conversation_id))
        found.append(handed if inbox.handoff == "yes" else not_(handed))
    if inbox.csat:
        rated = select(Handoff.conversation_id).where(Handoff.csat_score.is_not(None))
        if inbox.csat == "none":
            found.append(not_(c.id.in_(rated)))
        elif inbox.csat == "given":
            found.append(c.id.in_(rated))
        else:
            found.append(c.id.in_(rated.where(Handoff.csat_score == int(inbox.csat))))
    if inbox.tag:
        found.append(c.id.in_(select(ConversationTag.conversation_id).where(ConversationTag.tag == inbox.tag)))
    if inbox.review:
        found.append(c.review_status == inbox.review)
    if inbox.min_messages is not None:
        found.append(customer_messages.scalar_subquery() >= inbox.min_messages)
    if inbox.max_messages is not None:
        found.append(customer_messages.scalar_subquery() <= inbox.max_messages)
    found.extend(_text_search(session, inbox.q))
    return found


def _account_conditions(inbox: InboxFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if inbox.segment in PLANS:
        found.append(Customer.plan == inbox.segment)
    elif inbox.segment in COMPANY_SIZES:
        found.append(Customer.company_size == inbox.segment)
    elif inbox.segment in LIFECYCLE_STAGES:
        found.append(Customer.lifecycle_stage == inbox.segment)
    if inbox.owner == "none":
        found.append(Customer.owner_csm_id.is_(None))
    elif inbox.owner:
        found.append(Customer.owner_csm_id == int(inbox.owner))
    if inbox.band:
        latest = (
            select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
            .group_by(HealthSnapshot.account_id)
            .subquery()
        )
        in_band = (
            select(HealthSnapshot.account_id)
            .join(
                latest, and_(latest.c.account_id == HealthSnapshot.account_id, latest.c.as_of == HealthSnapshot.as_of)
            )
            .where(HealthSnapshot.band == inbox.band)
        )
        found.append(Customer.id.in_(in_band))
    return found


def _text_search(session: Session, q: str) -> list[ColumnElement[bool]]:
    """Each word must appear in some message of the conversation, case-insensitively. On SQLite through the FTS5
    index (a word matches words it begins: "invit" finds "invite"); on PostgreSQL with ILIKE (anywhere in a word)."""
    words = [word for word in q.split() if any(ch.isalnum() for ch in word)][:MAX_WORDS]
    if session.get_bind().dialect.name == "sqlite":
        fts = table(MESSAGES_FTS, column("rowid"), column(MESSAGES_FTS))
        return [
            Conversation.id.in_(
                select(Message.conversation_id).where(
                    Message.id.in_(select(fts.c.rowid).where(fts.c[MESSAGES_FTS].op("MATCH")(_fts_prefix(word))))
                )
            )
            for word in words
        ]
    return [
        Conversation.id.in_(select(Message.conversation_id).where(Message.text.icontains(word, autoescape=True)))
        for word in words
    ]


def _fts_prefix(word: str) -> str:
    """An FTS5 query for the word as typed (a quoted phrase: no operator syntax) matching as a prefix."""
    return '"' + word.replace('"', '""') + '"*'
