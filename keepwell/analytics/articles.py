"""The knowledge-base articles the assistant served in a period (the sources its answers cited, from
`messages.sources`), and the articles served in a conversation before a person was asked for: the answers that did
not settle the question. Counted in SQL from the JSON arrays on both databases (`_sql.cited_sources`)."""

from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from keepwell.analytics._sql import cited_sources
from keepwell.analytics.period import ReportPeriod
from keepwell.conversations.records import ROLE_BOT
from keepwell.models import Handoff, Message

TOP = 10


@dataclass(frozen=True)
class ArticleCount:
    url: str
    title: str
    count: int  # answers citing it, or handoffs it came before
    conversations: int


def served(session: Session, period: ReportPeriod, limit: int = TOP) -> list[ArticleCount]:
    """Articles cited by the assistant's answers in the period, most cited first (an answer citing two sections of
    one article counts once per section, as the customer saw two links)."""
    elements, url, title = cited_sources(session)
    times = func.count().label("times")
    rows = session.execute(
        select(url, func.max(title), times, func.count(distinct(Message.conversation_id)))
        .select_from(Message)
        .join(elements, url.is_not(None))  # an ON clause is needed; the lateral reference does the joining
        .where(Message.role == ROLE_BOT, Message.created_at >= period.start, Message.created_at < period.end)
        .group_by(url)
        .order_by(times.desc(), url)
        .limit(limit)
    ).all()
    return [ArticleCount(str(u), str(t or u), int(n), int(c)) for u, t, n, c in rows]


def before_handoff(session: Session, period: ReportPeriod, limit: int = TOP) -> list[ArticleCount]:
    """Articles the assistant cited in a conversation before a handoff requested in the period, by the number of
    handoffs they came before (an article cited twice before one handoff counts once)."""
    elements, url, title = cited_sources(session)
    handoffs = func.count(distinct(Handoff.id)).label("handoffs")
    rows = session.execute(
        select(url, func.max(title), handoffs, func.count(distinct(Handoff.conversation_id)))
        .select_from(Message)
        .join(elements, url.is_not(None))
        .join(Handoff, Handoff.conversation_id == Message.conversation_id)
        .where(
            Message.role == ROLE_BOT,
            Message.created_at <= Handoff.created_at,
            Handoff.created_at >= period.start,
            Handoff.created_at < period.end,
        )
        .group_by(url)
        .order_by(handoffs.desc(), url)
        .limit(limit)
    ).all()
    return [ArticleCount(str(u), str(t or u), int(n), int(c)) for u, t, n, c in rows]
