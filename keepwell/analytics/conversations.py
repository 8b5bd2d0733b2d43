"""What the conversation log says about a period: conversations per day and channel, how many a person had to
take (containment), how often the assistant did not understand, and what customers asked about most.

A conversation counts on the day it started, and only once a customer wrote in it (the widget opens one before the
first message). A customer message counts on the day it was written, and only once NLU read it (`intent` set:
messages held for a person during a handoff never reach the assistant).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, case, exists, func, select
from sqlalchemy.orm import Session

from keepwell.analytics._sql import as_date, utc_day
from keepwell.analytics.period import ReportPeriod
from keepwell.conversations.overview import FALLBACK_INTENT, LOW_CONFIDENCE
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.models import Conversation, Handoff, Message

CHANNELS = ("website", "in_app", "api")
CHANNEL_LABELS = {"website": "Website", "in_app": "In-app", "api": "Other (API)"}
TOP = 10


@dataclass(frozen=True)
class DayVolume:
    day: date
    by_channel: dict[str, int]  # every channel of CHANNELS (and any other seen), 0 when none

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


@dataclass(frozen=True)
class DayContainment:
    """Conversations that started on `day`, and those of them a person was asked to take."""

    day: date
    conversations: int
    handed_over: int

    @property
    def contained(self) -> int:
        return self.conversations - self.handed_over

    @property
    def containment(self) -> float | None:
        """Share resolved without a person; None on a day without conversations."""
        return self.contained / self.conversations if self.conversations else None


@dataclass(frozen=True)
class DayFallback:
    """Customer messages NLU read on `day`, and those it did not understand (fallback or low confidence)."""

    day: date
    messages: int
    not_understood: int

    @property
    def rate(self) -> float | None:
        return self.not_understood / self.messages if self.messages else None


@dataclass(frozen=True)
class Count:
    key: str
    count: int


def _has_customer_message() -> object:
    return exists().where(Message.conversation_id == Conversation.id, Message.role == ROLE_CUSTOMER)


def _in_period(column: object, period: ReportPeriod) -> list[object]:
    return [column >= period.start, column < period.end]  # type: ignore[operator]


def volume(session: Session, period: ReportPeriod) -> list[DayVolume]:
    """Conversations started per day and channel; every day of the period is present."""
    day = utc_day(session, Conversation.created_at)
    rows = session.execute(
        select(day, Conversation.channel, func.count())
        .where(*_in_period(Conversation.created_at, period), _has_customer_message())
        .group_by(day, Conversation.channel)
    ).all()
    channels = list(CHANNELS) + sorted({channel for _, channel, _ in rows} - set(CHANNELS))
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for value, channel, count in rows:
        counts[as_date(value)][channel] = int(count)
    return [DayVolume(d, {c: counts[d].get(c, 0) for c in channels}) for d in period.days]


def containment(session: Session, period: ReportPeriod) -> list[DayContainment]:
    """Per day, conversations started and those with a handoff (any outcome: asking for a person is the miss)."""
    day = utc_day(session, Conversation.created_at)
    handed = exists().where(Handoff.conversation_id == Conversation.id)
    rows = session.execute(
        select(day, func.count(), func.sum(case((handed, 1), else_=0)))
        .where(*_in_period(Conversation.created_at, period), _has_customer_message())
        .group_by(day)
    ).all()
    found = {as_date(value): (int(total), int(taken or 0)) for value, total, taken in rows}
    return [DayContainment(d, *found.get(d, (0, 0))) for d in period.days]


def fallbacks(session: Session, period: ReportPeriod) -> list[DayFallback]:
    """Per day, customer messages NLU read and those it did not understand."""
    day = utc_day(session, Message.created_at)
    missed = (Message.intent == FALLBACK_INTENT) | (Message.confidence < LOW_CONFIDENCE)
    rows = session.execute(
        select(day, func.count(), func.sum(case((missed, 1), else_=0)).cast(Integer))
        .where(*_in_period(Message.created_at, period), Message.role == ROLE_CUSTOMER, Message.intent.is_not(None))
        .group_by(day)
    ).all()
    found = {as_date(value): (int(total), int(low or 0)) for value, total, low in rows}
    return [DayFallback(d, *found.get(d, (0, 0))) for d in period.days]


def top_intents(session: Session, period: ReportPeriod, limit: int = TOP) -> list[Count]:
    """The intents of the period's customer messages, most frequent first (ties by name)."""
    count = func.count().label("count")
    rows = session.execute(
        select(Message.intent, count)
        .where(*_in_period(Message.created_at, period), Message.role == ROLE_CUSTOMER, Message.intent.is_not(None))
        .group_by(Message.intent)
        .order_by(count.desc(), Message.intent)
        .limit(limit)
    ).all()
    return [Count(str(intent), int(n)) for intent, n in rows]
